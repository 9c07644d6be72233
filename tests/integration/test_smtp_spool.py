"""SMTP message data streamed to a spool file (issue 13 §2): a session keeps at most
smtp.spool_memory_limit octets of message in memory, the rest goes to a mode-0600 file
in data/blobs/tmp that becomes the blob by a rename. Open transactions cannot pin the
server's memory, large messages arrive intact, and a refused or broken-off message
leaves no file behind."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import stat
import threading
import time

import pytest

from harness import (
    check_store,
    imaplib_login,
    mailbox_listing,
    message,
    provision,
    release_binary_path,
    smtp_command,
    smtp_reply,
    smtp_session,
    split_trace,
    stored_messages,
    wait_for,
)

MIB = 1024 * 1024
CONNECTIONS = 50
MESSAGE_BYTES = 18 * MIB
RSS_BOUND_KIB = 64 * 1024


def payload(size: int) -> bytes:
    """size octets of 76-character base64 lines (CRLF), the body of an attachment."""
    line_count = size // 78 + 1
    raw = base64.b64encode(os.urandom(line_count * 57))
    lines = [raw[i:i + 76] for i in range(0, line_count * 76, 76)]
    return (b"\r\n".join(lines) + b"\r\n")[:size - 2] + b"\r\n"


def spool_files(server) -> list[str]:
    return sorted(os.listdir(server.data_dir / "blobs" / "tmp"))


def blob_files(server) -> list[str]:
    root = server.data_dir / "blobs"
    return sorted(f"{d}/{f}" for d in os.listdir(root) if len(d) == 2 for f in os.listdir(root / d))


@pytest.mark.slow
def test_open_transactions_do_not_pin_memory_and_arrive_intact(start_server):
    """50 connections each hold an 18 MB transaction open (the data sent, the final dot
    not yet): the release server's RSS grows by less than 64 MiB. Then every one ends its
    data, gets 250, and IMAP returns each message byte for byte (SHA-256 compared)."""
    binary = release_binary_path()
    if binary is None:
        pytest.skip("POSTAMT_RELEASE_BINARY is not set (memory bounds are measured on the release build)")
    server = start_server(binary=binary, smtp={"max_message_size": 32 * MIB}, log={"level": "info"})
    provision(server, ["alice"])
    body = payload(MESSAGE_BYTES)
    baseline = max(server.rss_kib() for _ in range(3))

    clients = []
    for _ in range(CONNECTIONS):
        client = smtp_session(server, timeout=120)
        smtp_command(client, "MAIL FROM:<sender@example.org>", "250 ")
        smtp_command(client, "RCPT TO:<alice@example.test>", "250 ")
        smtp_command(client, "DATA", "354 ")
        clients.append(client)

    expected: dict[str, int] = {}
    heads = []
    for n in range(CONNECTIONS):
        head = message(f"spooled {n}", body=b"", to="alice@example.test")
        heads.append(head)
        expected[hashlib.sha256(head + body).hexdigest()] = n

    errors: list[str] = []

    def send(n: int) -> None:
        try:
            sock = clients[n].sock
            sock.sendall(heads[n])
            view = memoryview(body)
            for at in range(0, len(body), 256 * 1024):
                sock.sendall(view[at:at + 256 * 1024])
        except OSError as e:
            errors.append(f"connection {n}: {e!r}")

    threads = [threading.Thread(target=send, args=(n,), daemon=True) for n in range(CONNECTIONS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    peak = baseline
    while any(t.is_alive() for t in threads) and time.monotonic() - started < 180:
        peak = max(peak, server.rss_kib())
        time.sleep(0.05)
    for thread in threads:
        thread.join(timeout=5)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads), "sending stalled"
    # Everything sent, nothing ended: wait until the server has read it all (its spool
    # files hold every message), measuring all the while.
    spooled_target = CONNECTIONS * MESSAGE_BYTES

    def spooled_bytes() -> int:
        tmp = server.data_dir / "blobs" / "tmp"
        total = 0
        for name in os.listdir(tmp):
            try:
                total += os.stat(tmp / name).st_size
            except FileNotFoundError:
                pass
        return total

    def all_read() -> bool:
        nonlocal peak
        peak = max(peak, server.rss_kib())
        # Up to spool_memory_limit of each message may still wait in memory.
        return spooled_bytes() >= spooled_target - CONNECTIONS * 300 * 1024

    wait_for(all_read, timeout=120, interval=0.1)
    held = max(server.rss_kib() for _ in range(3))
    peak = max(peak, held)
    growth = peak - baseline
    print(f"{CONNECTIONS} open {MESSAGE_BYTES // MIB} MB transactions: baseline {baseline} KiB, "
          f"peak {peak} KiB, growth {growth} KiB, sent in {time.monotonic() - started:.1f}s")
    assert growth < RSS_BOUND_KIB, f"RSS grew by {growth} KiB with {CONNECTIONS} open transactions"
    # The spool files are the owner's only (umask or not).
    for name in spool_files(server):
        mode = stat.S_IMODE(os.stat(server.data_dir / "blobs" / "tmp" / name).st_mode)
        assert mode == 0o600, f"spool file {name} has mode {mode:o}"

    phase = time.monotonic()
    for client in clients:
        client.send(b".\r\n")
    for n, client in enumerate(clients):
        reply = smtp_reply(client, timeout=120)
        assert reply.code == 250, (n, reply)
        smtp_command(client, "QUIT", "221 ")
        client.close()
    assert spool_files(server) == [], "a delivered message left its spool file behind"
    print(f"delivered in {time.monotonic() - phase:.1f}s")
    phase = time.monotonic()

    # Every message, from its blob file: named by its SHA-256, holding what was sent.
    listing = mailbox_listing(server, "alice@example.test")
    assert len(listing) == CONNECTIONS
    found = {}
    for entry in listing:
        stored = (server.data_dir / "blobs" / entry.blob_id[:2] / entry.blob_id).read_bytes()
        assert hashlib.sha256(stored).hexdigest() == entry.blob_id
        digest = hashlib.sha256(split_trace(stored).content).hexdigest()
        assert digest in expected, f"UID {entry.uid}: {len(stored)} octets that match no message sent"
        found[entry.uid] = digest
    assert sorted(expected[d] for d in found.values()) == list(range(CONNECTIONS))
    # And as an IMAP client sees them (a sample: FETCH of 18 MB literals is not quick).
    imap = imaplib_login(server, timeout=120)
    typ, data = imap.select("INBOX", readonly=True)
    assert typ == "OK" and int(data[0]) == CONNECTIONS, data
    for uid in (listing[0].uid, listing[-1].uid):
        typ, data = imap.uid("FETCH", str(uid), "(BODY.PEEK[])")
        assert typ == "OK", data
        assert hashlib.sha256(split_trace(data[0][1]).content).hexdigest() == found[uid], f"UID {uid}"
    imap.logout()
    print(f"checked in {time.monotonic() - phase:.1f}s")


def test_spooled_message_is_stored_like_one_kept_in_memory(start_server):
    """With a 4 KiB memory limit a 1 MB message goes through the spool file: it is stored
    with the same trace fields, and the same bytes, as a small one kept in memory."""
    server = start_server(smtp={"spool_memory_limit": 4096})
    provision(server, ["alice"])
    client = smtp_session(server)
    sent = []
    for subject, size in (("small", 100), ("large", MIB)):
        content = message(subject, body=payload(size))
        smtp_command(client, "MAIL FROM:<sender@example.org>", "250 ")
        smtp_command(client, "RCPT TO:<alice@example.test>", "250 ")
        smtp_command(client, "DATA", "354 ")
        client.send(content + b".\r\n")
        assert smtp_reply(client).code == 250
        sent.append(content)
    smtp_command(client, "QUIT", "221 ")
    client.close()
    stored = [split_trace(m) for m in stored_messages(server, "alice@example.test")]
    assert [d.content for d in stored] == sent
    assert [d.return_path for d in stored] == ["sender@example.org"] * 2
    assert "spooled=no" in server.log_text() and "spooled=yes" in server.log_text()
    assert spool_files(server) == []
    check_store(server)


def test_refused_or_broken_off_messages_leave_no_spool_file(start_server):
    """Each way a spooled message can fail — refused at the end of its data (a mail loop),
    too big, the connection dropped in the middle, a BDAT transaction reset — leaves
    data/blobs/tmp and the blob files as they were."""
    server = start_server(smtp={"spool_memory_limit": 4096, "max_message_size": 2 * MIB})
    provision(server, ["alice"])
    blobs_before = blob_files(server)
    body = payload(MIB)

    client = smtp_session(server)
    # Refused at the end of DATA: 101 Received fields (RFC 5321 §6.3).
    hops = b"".join(b"Received: from hop%d.example.org; Fri, 27 Nov 2026 10:00:00 +0000\r\n" % n
                    for n in range(101))
    smtp_command(client, "MAIL FROM:<sender@example.org>", "250 ")
    smtp_command(client, "RCPT TO:<alice@example.test>", "250 ")
    smtp_command(client, "DATA", "354 ")
    client.send(hops + message("loop", body=body) + b".\r\n")
    reply = smtp_reply(client, timeout=30)
    assert reply.lines[0].startswith("554 5.4.6"), reply
    # Too big: refused once the data ends.
    smtp_command(client, "MAIL FROM:<sender@example.org>", "250 ")
    smtp_command(client, "RCPT TO:<alice@example.test>", "250 ")
    smtp_command(client, "DATA", "354 ")
    client.send(message("too big", body=body + body + body) + b".\r\n")
    reply = smtp_reply(client, timeout=30)
    assert reply.lines[0].startswith("552 5.3.4"), reply
    # BDAT chunks, then RSET: the transaction and its spool file are gone.
    smtp_command(client, "MAIL FROM:<sender@example.org>", "250 ")
    smtp_command(client, "RCPT TO:<alice@example.test>", "250 ")
    chunk = message("chunked", body=body)
    client.send(b"BDAT %d\r\n" % len(chunk) + chunk)
    assert smtp_reply(client, timeout=30).code == 250
    assert len(spool_files(server)) == 1, "a spilled BDAT message is in a spool file"
    smtp_command(client, "RSET", "250 ")
    assert spool_files(server) == []
    smtp_command(client, "QUIT", "221 ")
    client.close()

    # Broken off in the middle of the data.
    dropped = smtp_session(server)
    smtp_command(dropped, "MAIL FROM:<sender@example.org>", "250 ")
    smtp_command(dropped, "RCPT TO:<alice@example.test>", "250 ")
    smtp_command(dropped, "DATA", "354 ")
    dropped.send(message("dropped", body=body))
    wait_for(lambda: len(spool_files(server)) == 1, timeout=10)
    dropped.sock.shutdown(socket.SHUT_RDWR)
    dropped.close()
    wait_for(lambda: spool_files(server) == [], timeout=10)

    assert blob_files(server) == blobs_before
    assert stored_messages(server, "alice@example.test") == []
    log = server.log_text()
    assert "smtp.mail_loop" in log and "reason=" in log
    check_store(server)
