"""Durability: SIGKILL under load loses no acknowledged message and duplicates none.

20 parallel senders push small messages with unique Message-IDs; the server is SIGKILLed
in the middle; after a restart on the same data directory every message that got 250 is
stored exactly once, no message is stored twice, and the store is consistent (`debug
check-store`: every row has its blob, no blob file without a row -- the server collects
orphans at start).

Load: the release build (POSTAMT_RELEASE_BINARY) when set, 2,000 messages, the kill after
~500 acknowledgements; otherwise the ASan build with 600 messages and the kill after ~150
(the ASan build is several times slower, and the point -- acknowledged means durable -- is
the same). The restarted server and the CLI are of the same build.
"""

from __future__ import annotations

import re
import smtplib
import threading
import time
from collections import Counter

import pytest

from harness import (
    check_store,
    mailbox_listing,
    provision,
    release_binary_path,
    split_trace,
    stored_message,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

SENDERS = 20
TEST_BUDGET = 120.0  # seconds for the whole test


def test_sigkill_under_load_loses_nothing_acknowledged(start_server, tmp_path, postamt_binary):
    started = time.monotonic()
    release = release_binary_path()
    if release is not None and release.exists():
        binary, total, kill_after = release, 2000, 500
    else:
        binary, total, kill_after = postamt_binary, 600, 150
    directory = tmp_path / "durable"
    server = start_server(directory=directory, binary=binary,
                          limits={"max_connections_per_ip": 200}, log={"level": "info"})
    provision(server, ["alice"])
    host, port = server.address("smtp")

    lock = threading.Lock()
    acked: set[str] = set()        # got 250 after the data
    attempted: set[str] = set()    # the data was sent (or being sent): may or may not be stored
    errors: list[str] = []
    stop = threading.Event()

    def sender(worker: int) -> None:
        try:
            client = smtplib.SMTP(host, port, local_hostname=f"sender{worker}.example.test", timeout=30)
            client.ehlo()
        except OSError as e:
            errors.append(f"sender {worker}: connect: {e!r}")
            return
        for n in range(worker, total, SENDERS):
            if stop.is_set():
                break
            msgid = f"<durable-{n}@example.test>"
            body = (f"From: <sender{worker}@example.org>\r\nTo: <alice@example.test>\r\n"
                    f"Subject: durable {n}\r\nMessage-ID: {msgid}\r\n\r\n"
                    f"Message number {n} from sender {worker}.\r\n").encode()
            with lock:
                attempted.add(msgid)
            try:
                refused = client.sendmail(f"sender{worker}@example.org", ["alice@example.test"], body)
            except (smtplib.SMTPException, OSError):
                break  # the server died: this one's fate is unknown
            if refused:
                errors.append(f"{msgid}: refused {refused}")
                break
            with lock:
                acked.add(msgid)
        try:
            client.close()
        except OSError:
            pass

    threads = [threading.Thread(target=sender, args=(w,), daemon=True) for w in range(SENDERS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while True:
        with lock:
            count = len(acked)
        if count >= kill_after:
            break
        assert time.monotonic() < deadline, f"only {count} acknowledgements within 60 s; {errors}"
        assert any(t.is_alive() for t in threads), f"senders ended early at {count} acks: {errors}"
        time.sleep(0.005)
    server.crash()  # SIGKILL, in the middle of the load
    stop.set()
    for thread in threads:
        thread.join(timeout=40)
    assert not any(t.is_alive() for t in threads), "a sender hung after the kill"
    assert not errors, errors
    acked_at_kill = set(acked)
    unknown = attempted - acked_at_kill
    assert len(acked_at_kill) < total, "the kill came after the last message: it proved nothing"
    print(f"{binary.name}: {len(acked_at_kill)} acknowledged, {len(unknown)} in flight at the kill")

    # Restart on the same data directory (new ports are fine); it collects orphan blobs.
    restarted = start_server(directory=directory, binary=binary,
                             limits={"max_connections_per_ip": 200}, log={"level": "info"})
    listing = mailbox_listing(restarted, "alice@example.test")
    found: Counter[str] = Counter()
    blobs = restarted.data_dir / "blobs"
    for entry in listing:
        # The blob as stored (read directly: one CLI call per message would take minutes
        # with the ASan build; `debug check-store` below verifies every blob's size and
        # hash against the index, and a sample is read through `debug message`).
        content = (blobs / entry.blob_id[:2] / entry.blob_id).read_bytes()
        assert len(content) == entry.size, entry
        match = re.search(rb"^Message-ID: (<durable-\d+@example\.test>)\r$", split_trace(content).content, re.M)
        assert match, content[:300]
        found[match.group(1).decode()] += 1
    for entry in listing[:: max(1, len(listing) // 5)]:
        assert stored_message(restarted, "alice@example.test", entry.uid) == \
            (blobs / entry.blob_id[:2] / entry.blob_id).read_bytes()

    duplicates = sorted(m for m, c in found.items() if c > 1)
    lost = sorted(acked_at_kill - set(found))
    strangers = sorted(set(found) - attempted)
    assert not lost, f"{len(lost)} acknowledged messages lost, e.g. {lost[:5]}"
    assert not duplicates, f"{len(duplicates)} messages stored twice, e.g. {duplicates[:5]}"
    assert not strangers, strangers
    in_flight_stored = len(set(found) & unknown)
    print(f"stored {len(found)}: all {len(acked_at_kill)} acknowledged, {in_flight_stored} of "
          f"{len(unknown)} in flight")
    check_store(restarted)
    if "store.gc" in restarted.log_text():
        print([line for line in restarted.log_text().splitlines() if "store.gc" in line])
    assert time.monotonic() - started < TEST_BUDGET, f"took {time.monotonic() - started:.0f}s"
