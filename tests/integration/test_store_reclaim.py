"""Blobs reclaimed while running, never early (issue 13, section 1).

A blob whose last reference goes -- an EXPUNGE, a message refused after its file was
written (here: over quota at the end of DATA, and an APPEND over quota) -- is removed while
the server runs, after the commit that dropped the reference; 1,000 refused messages leave
the blob directory as it was. A message with the same bytes as one being reclaimed is
never lost (the put holds its blob; the reclaimer fences what it removes).
"""

from __future__ import annotations

import smtplib
import threading
from pathlib import Path

import pytest

from harness import (
    check_store,
    imaplib_login,
    mailbox_listing,
    metric_sum,
    provision,
    wait_for,
)

pytestmark = [pytest.mark.timeout(240)]


def blob_files(data_dir: Path) -> set[str]:
    root = data_dir / "blobs"
    return {p.name for p in root.glob("??/*") if p.is_file()}


def test_a_thousand_refused_messages_leave_no_blob(start_server):
    server = start_server(limits={"max_connections_per_ip": 50}, log={"level": "info"})
    provision(server, ["alice"])
    assert server.cli("user", "quota", "alice@example.test", "2000").returncode == 0
    before = blob_files(server.data_dir)
    reclaimed_before = metric_sum(server, "postamt_blobs_reclaimed_total")
    host, port = server.address("smtp")
    total, workers = 1000, 4
    replies: list[tuple[int, bytes]] = []
    errors: list[str] = []

    def sender(worker: int) -> None:
        client = smtplib.SMTP(host, port, local_hostname="refused.example.test", timeout=60)
        try:
            client.ehlo()
            for n in range(worker, total, workers):
                body = (f"Subject: refused {n}\r\nMessage-ID: <refused-{n}@example.org>\r\n\r\n"
                        + f"over quota {n}\r\n" * 300).encode()
                code, reply = client.mail("sender@example.org")
                assert code == 250, reply
                code, reply = client.rcpt("alice@example.test")
                assert code == 250, reply
                replies.append(client.data(body))
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append(repr(e))
        finally:
            client.close()

    threads = [threading.Thread(target=sender, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=200)
    assert not errors, errors[:3]
    assert len(replies) == total
    assert all(code == 552 and b"5.2.2" in reply for code, reply in replies), replies[:3]
    # Each was written, refused by the store's quota check, and reclaimed while running.
    wait_for(lambda: blob_files(server.data_dir) == before, 30, interval=0.2,
             message="the refused messages' blob files to go")
    assert metric_sum(server, "postamt_blobs_reclaimed_total") - reclaimed_before >= total
    assert not list((server.data_dir / "blobs" / "tmp").iterdir())

    # An APPEND over quota: refused, its file reclaimed too.
    client = imaplib_login(server)
    try:
        typ, data = client.append("INBOX", None, None, b"Subject: big\r\n\r\n" + b"x" * 5000 + b"\r\n")
        assert typ == "NO" and b"OVERQUOTA" in data[0], (typ, data)
    finally:
        client.logout()
    wait_for(lambda: blob_files(server.data_dir) == before, 10, interval=0.1,
             message="the refused APPEND's blob file to go")
    check_store(server)


def test_expunged_messages_blobs_go_while_running(start_server):
    server = start_server()
    provision(server, ["alice"])
    client = imaplib_login(server)
    try:
        for n in range(6):
            typ, _ = client.append("INBOX", None, None, f"Subject: m{n}\r\n\r\nbody {n}\r\n".encode())
            assert typ == "OK"
        listing = mailbox_listing(server, "alice@example.test")
        assert len(listing) == 6
        assert {m.blob_id for m in listing} <= blob_files(server.data_dir)
        client.select("INBOX")
        typ, _ = client.uid("STORE", "1:3", "+FLAGS.SILENT", r"(\Deleted)")
        assert typ == "OK"
        typ, _ = client.expunge()
        assert typ == "OK"
    finally:
        client.logout()
    gone = {m.blob_id for m in listing if m.uid <= 3}
    kept = {m.blob_id for m in listing if m.uid > 3}
    wait_for(lambda: not (gone & blob_files(server.data_dir)), 10, interval=0.05,
             message="the expunged messages' blob files to go")
    assert kept <= blob_files(server.data_dir)
    check_store(server)


def test_identical_content_delivered_during_reclaim_is_never_lost(start_server):
    """Three clients each append the very same bytes to a mailbox of their own, read the copy
    back and expunge it, again and again: the blob's reference count keeps falling to zero
    (each EXPUNGE wakes the reclaimer) while another client's delivery of the same bytes is
    in flight and finds the file already on disk. Every copy must read back whole."""
    server = start_server()
    provision(server, ["alice"])
    # Large enough that parsing it (between the put and the commit) takes a while.
    content = (b"Subject: same\r\nMessage-ID: <same@example.org>\r\n\r\n"
               + b"the same bytes every time\r\n" * 8000)
    rounds, workers = 100, 4
    setup = imaplib_login(server)
    for n in range(workers):
        assert setup.create(f"C{n}")[0] == "OK"
    setup.logout()
    errors: list[str] = []

    def churn(n: int) -> None:
        client = imaplib_login(server)
        try:
            assert client.select(f"C{n}")[0] == "OK"
            for round_ in range(rounds):
                assert client.append(f"C{n}", None, None, content)[0] == "OK"
                typ, data = client.fetch("1:*", "(BODY.PEEK[])")
                bodies = [part[1] for part in data if isinstance(part, tuple)] if typ == "OK" else []
                if bodies != [content]:
                    errors.append(f"C{n} round {round_}: read back {typ} {data!r:.200}")
                    return
                assert client.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")[0] == "OK"
                assert client.expunge()[0] == "OK"
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append(f"C{n}: {e!r}")
        finally:
            client.logout()

    threads = [threading.Thread(target=churn, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=200)
    assert not errors, errors
    assert metric_sum(server, "postamt_blobs_reclaimed_total") >= 1, "the reclaimer never ran"
    check_store(server)


def test_a_queue_entry_deleted_by_the_cli_has_its_blob_reclaimed_by_the_server(start_server):
    """`postamt queue delete` beside the server drops the entry's reference (it never deletes
    files itself); the running server's reclaimer removes the file."""
    import json

    from harness import smtplib_client

    server = start_server()
    provision(server, ["alice"])
    client = smtplib_client(server, "submission", starttls=True)
    client.login("alice@example.test", "pw-alice")
    assert client.sendmail("alice@example.test", ["someone@remote.example"],
                           b"Subject: outbound\r\n\r\nto a remote recipient\r\n") == {}
    client.quit()
    done = server.cli("queue", "list", "--json")
    assert done.returncode == 0, done.stderr
    entries = json.loads(done.stdout)
    assert len(entries) == 1
    before = blob_files(server.data_dir)
    assert len(before) == 1
    done = server.cli("queue", "delete", str(entries[0]["id"]))
    assert done.returncode == 0, done.stderr
    wait_for(lambda: not blob_files(server.data_dir), 10, interval=0.1,
             message="the deleted queue entry's blob file to go")
    check_store(server)
