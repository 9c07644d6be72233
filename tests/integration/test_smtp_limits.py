"""SMTP limits and hostile input: SIZE, recipient count, endless lines in DATA, SMTP
smuggling with bare CR/LF, idle timeouts in the middle of a transaction."""

from __future__ import annotations

import threading
import time

import pytest

from harness import (
    HOSTNAME,
    check_store,
    mailbox_listing,
    message,
    provision,
    send_transaction,
    smtp_command,
    smtp_reply,
    smtp_session,
    smtplib_client,
    split_trace,
    stored_messages,
)

MIB = 1024 * 1024


# --------------------------------------------------------------------------------------
# SIZE (RFC 1870) and the recipient limit
# --------------------------------------------------------------------------------------

def test_size_declared_and_actual(start_server):
    limit = 10000
    server = start_server(smtp={"max_message_size": limit})
    provision(server, ["alice"])
    client = smtp_session(server)
    ehlo = smtp_command(client, "EHLO client.example.test", "250 ")
    assert f"SIZE {limit}" in ehlo.text.split("\n"), ehlo
    # Declared too big at MAIL: refused before any data is sent.
    smtp_command(client, f"MAIL FROM:<sender@example.org> SIZE={limit + 1}", "552 5.3.4")
    smtp_command(client, "MAIL FROM:<sender@example.org> SIZE=99999999999999999999", "552 5.3.4")
    # Declared within the limit, but the data is bigger: 552 once the data has ended.
    smtp_command(client, f"MAIL FROM:<sender@example.org> SIZE={limit}", "250 ")
    smtp_command(client, "RCPT TO:<alice@example.test>", "250 ")
    smtp_command(client, "DATA", "354 ")
    big = message("too big", b"x" * 70 + b"\r\n") + (b"y" * 98 + b"\r\n") * (2 * limit // 100)
    assert len(big) > limit
    client.send(big)
    assert client.nothing_within(0.5) == b"", "a reply before the end of data"
    client.send(b".\r\n")
    reply = smtp_reply(client)
    assert reply.lines[0].startswith("552 5.3.4"), reply
    # The session goes on: a message within the limit is accepted.
    small = message("small enough")
    smtp_command(client, "MAIL FROM:<sender@example.org>", "250 ")
    smtp_command(client, "RCPT TO:<alice@example.test>", "250 ")
    smtp_command(client, "DATA", "354 ")
    client.send(small + b".\r\n")
    assert smtp_reply(client).code == 250
    # BDAT over the limit: 552 too, and the chunk's octets are consumed, not run as commands.
    smtp_command(client, "MAIL FROM:<sender@example.org>", "250 ")
    smtp_command(client, "RCPT TO:<alice@example.test>", "250 ")
    chunk = b"QUIT\r\n" * (limit // 6 + 10)
    client.send(f"BDAT {len(chunk)} LAST\r\n".encode() + chunk)
    assert smtp_reply(client).lines[0].startswith("552 5.3.4")
    smtp_command(client, "NOOP", "250 ")
    smtp_command(client, "QUIT", "221 ")
    client.close()
    stored = [split_trace(m).content for m in stored_messages(server, "alice@example.test")]
    assert stored == [small]
    check_store(server)


def test_too_many_recipients(start_server):
    server = start_server(smtp={"max_recipients": 3})
    provision(server, ["r1", "r2", "r3", "r4"])
    client = smtp_session(server)
    smtp_command(client, "MAIL FROM:<sender@example.org>", "250 ")
    for n in (1, 2, 3):
        smtp_command(client, f"RCPT TO:<r{n}@example.test>", "250 ")
    # RFC 5321 §4.5.3.1.10: 452, and the client goes on with the recipients it has.
    smtp_command(client, "RCPT TO:<r4@example.test>", "452 4.5.3")
    smtp_command(client, "DATA", "354 ")
    sent = message("three of four", to="r1@example.test")
    client.send(sent + b".\r\n")
    assert smtp_reply(client).code == 250
    smtp_command(client, "QUIT", "221 ")
    client.close()
    for n in (1, 2, 3):
        assert [split_trace(m).content for m in stored_messages(server, f"r{n}@example.test")] == [sent]
    assert mailbox_listing(server, "r4@example.test") == []


def test_a_looping_message_is_refused_by_its_hop_count(start_server):
    """RFC 5321 §6.3: more than 100 Received fields is a mail loop: 554 5.4.6, nothing stored."""
    server = start_server()
    provision(server, ["bob"])
    client = smtplib_client(server)
    hops = b"".join(b"Received: from hop%d.example.org by hop%d.example.org; Fri, 27 Nov 2026 10:00:00 +0000\r\n"
                    % (n, n + 1) for n in range(101))
    code, reply = send_transaction(client, "sender@example.org", ["bob@example.test"],
                                   hops + message("looping", to="bob@example.test"))
    assert (code, reply[:5]) == (554, b"5.4.6"), (code, reply)
    # Exactly 100 is still a legitimate, if long, path.
    code, reply = send_transaction(client, "sender@example.org", ["bob@example.test"],
                                   hops[hops.index(b"Received", 1):] + message("long path", to="bob@example.test"))
    assert code == 250, (code, reply)
    client.quit()
    assert len(stored_messages(server, "bob@example.test")) == 1


# --------------------------------------------------------------------------------------
# Endless line in DATA
# --------------------------------------------------------------------------------------

@pytest.mark.slow
def test_endless_line_in_data_bounded_memory(start_server):
    """A 20 MiB line without CRLF inside DATA: the server drops the excess as it comes
    (RSS stays bounded), refuses the message when the data ends (550 5.6.0, RFC 5322
    §2.1.1 line limit) and stores nothing. ASan build with an 8 MiB quarantine (see
    test_limits.py for why), bound 32 MiB."""
    server = start_server(extra_asan_options="quarantine_size_mb=8")
    provision(server, ["alice"])
    client = smtp_session(server, timeout=60)
    smtp_command(client, "MAIL FROM:<sender@example.org>", "250 ")
    smtp_command(client, "RCPT TO:<alice@example.test>", "250 ")
    smtp_command(client, "DATA", "354 ")
    client.send(b"Subject: endless\r\n\r\n")
    baseline = max(server.rss_kib() for _ in range(3))
    peak = baseline
    total = 20 * MIB
    state = {"sent": 0, "error": None}

    def stream():
        chunk = b"A" * (64 * 1024)
        try:
            while state["sent"] < total:
                client.sock.sendall(chunk)
                state["sent"] += len(chunk)
        except OSError as e:
            state["error"] = e

    thread = threading.Thread(target=stream, daemon=True)
    started = time.monotonic()
    thread.start()
    while thread.is_alive() and time.monotonic() - started < 90:
        peak = max(peak, server.rss_kib())
        time.sleep(0.02)
    thread.join(timeout=5)
    assert not thread.is_alive(), f"streaming stalled after {state['sent']} bytes"
    assert state["error"] is None, f"the server stopped reading after {state['sent']} bytes: {state['error']!r}"
    peak = max(peak, server.rss_kib())
    client.send(b"\r\n.\r\n")
    reply = smtp_reply(client, timeout=30)
    assert reply.lines[0].startswith("550 5.6.0"), reply
    assert "line" in reply.text.lower(), reply
    smtp_command(client, "NOOP", "250 ")
    smtp_command(client, "QUIT", "221 ")
    client.close()
    growth = peak - baseline
    print(f"DATA endless line: baseline {baseline} KiB, peak {peak} KiB, growth {growth} KiB")
    assert growth < 32 * 1024, f"RSS grew by {growth} KiB while discarding a 20 MiB line"
    assert mailbox_listing(server, "alice@example.test") == []
    check_store(server)


def test_message_line_limit_follows_config(start_server):
    server = start_server(smtp={"max_line_length": 2000})
    provision(server, ["alice"])
    client = smtplib_client(server, "smtp")
    ok = message("long line ok", b"z" * 1998 + b"\r\n")
    assert send_transaction(client, "sender@example.org", ["alice@example.test"], ok)[0] == 250
    too_long = message("long line too long", b"z" * 1999 + b"\r\n")
    code, reply = send_transaction(client, "sender@example.org", ["alice@example.test"], too_long)
    assert (code, reply[:5]) == (550, b"5.6.0"), (code, reply)
    client.quit()
    assert [split_trace(m).content for m in stored_messages(server, "alice@example.test")] == [ok]


def test_over_long_mail_command_after_ehlo(server):
    client = smtp_session(server)
    # Far over what MAIL may have even with every extension: one error, nothing buffered.
    smtp_command(client, "MAIL FROM:<" + "a" * 5000 + "@example.org>", "500 5.5.2")
    smtp_command(client, "MAIL FROM:<sender@example.org>", "250 ")
    smtp_command(client, "QUIT", "221 ")
    client.close()


# --------------------------------------------------------------------------------------
# SMTP smuggling
# --------------------------------------------------------------------------------------

SMUGGLING_ENDS = {
    "LF.LF": b"\n.\n",
    "CR.CR": b"\r.\r",
    "LF.CRLF": b"\n.\r\n",
    "CRLF.LF": b"\r\n.\n",
    "CR.CRLF": b"\r.\r\n",
}


def smuggling_payload(fake_end: bytes) -> bytes:
    return (b"From: <sender@example.org>\r\nTo: <alice@example.test>\r\nSubject: first\r\n\r\n"
            b"The first message." + fake_end +
            b"MAIL FROM:<evil@x.example>\r\n"
            b"RCPT TO:<victim@example.test>\r\n"
            b"DATA\r\n"
            b"From: <ceo@example.test>\r\nSubject: smuggled\r\n\r\nSend money.\r\n"
            b".\r\n")


@pytest.mark.parametrize("normalize", [False, True], ids=["refuse", "normalize"])
def test_smtp_smuggling_is_not_possible(start_server, normalize):
    server = start_server(smtp={"normalize_bare_line_endings": normalize})
    provision(server, ["alice", "victim"])
    for name, fake_end in SMUGGLING_ENDS.items():
        client = smtp_session(server)
        # All in one write, as a smuggling sender (or a sloppy relay in front) would.
        client.send(b"MAIL FROM:<sender@example.org>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n" +
                    smuggling_payload(fake_end))
        replies = [smtp_reply(client) for _ in range(4)]
        assert [r.code for r in replies[:3]] == [250, 250, 354], (name, [str(r) for r in replies])
        final = replies[3]
        if normalize:
            assert final.lines[0].startswith("250 2.0.0 Ok: queued as"), (name, str(final))
        else:
            assert final.lines[0].startswith("550 5.6.0"), (name, str(final))
        # Nothing else: the hidden MAIL/RCPT/DATA were message content, never commands.
        assert client.nothing_within(0.5) == b"", (name, client.buffer)
        smtp_command(client, "QUIT", "221 ")
        client.close()

    assert mailbox_listing(server, "victim@example.test") == [], "a smuggled message was delivered"
    stored = stored_messages(server, "alice@example.test")
    if not normalize:
        assert stored == []
    else:
        assert len(stored) == len(SMUGGLING_ENDS)
        for content in stored:
            body = split_trace(content).content
            # Every line ends in CRLF now, and the smuggled commands are plain text.
            assert body.replace(b"\r\n", b"").find(b"\r") == -1 and body.replace(b"\r\n", b"").find(b"\n") == -1, body
            assert b"MAIL FROM:<evil@x.example>\r\nRCPT TO:<victim@example.test>\r\n" in body, body
            assert body.endswith(b"Send money.\r\n"), body
    check_store(server)


def test_bare_lf_in_commands_is_refused(server):
    """No LF-only framing anywhere: a command ending in a bare LF is an error."""
    client = smtp_session(server)
    client.send(b"NOOP\n")
    reply = smtp_reply(client)
    assert reply.code == 500 and reply.lines[0].startswith("500 5.5.2"), reply
    smtp_command(client, "NOOP", "250 ")
    client.close()


# --------------------------------------------------------------------------------------
# Idle timeout in the middle of a transaction
# --------------------------------------------------------------------------------------

def test_idle_timeout_during_a_transaction(start_server):
    server = start_server(limits={"idle_timeout_seconds": 2})
    provision(server, ["alice"])
    in_envelope = smtp_session(server)
    smtp_command(in_envelope, "MAIL FROM:<sender@example.org>", "250 ")
    in_data = smtp_session(server)
    smtp_command(in_data, "MAIL FROM:<sender@example.org>", "250 ")
    smtp_command(in_data, "RCPT TO:<alice@example.test>", "250 ")
    smtp_command(in_data, "DATA", "354 ")
    in_data.send(b"Subject: never finished\r\n\r\nhalf a messa")
    started = time.monotonic()
    for client in (in_envelope, in_data):
        line = client.text_line(timeout=10)
        assert line == f"421 4.4.2 {HOSTNAME} Idle for too long, closing connection", line
        assert client.closed_within(5)
        client.close()
    assert time.monotonic() - started < 8
    assert mailbox_listing(server, "alice@example.test") == []
