"""IMAP memory under hostile load (issue 13 §2): literals before login, big APPENDs, and
FETCH output, measured from /proc against the release binary (POSTAMT_RELEASE_BINARY).

Figures (release build, jemalloc), the bounds asserted below:
  * 100 unauthenticated connections each announcing {52428800+} and sending 1 MiB: each is
    answered BAD and closed at the announcement; RSS grows by < 32 MiB (it held ~1 MiB per
    connection, 100 MiB and more, before the pre-login literal limit).
  * a 20 MB APPEND after login is spooled to data/tmp: anonymous memory (RssAnon) grows by
    < 8 MiB while it arrives and is stored; the message fetched back is identical.
  * FETCH of 250 partials of a 2 MiB message (~250 MiB of answers) to a client that reads
    slowly: RSS grows by < 24 MiB (it rendered everything before writing, 243 MB for a
    similar command, before the answers were streamed).
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import stat
import threading
import time

import pytest

from harness import (
    imap_command,
    imap_connect,
    imap_login,
    imap_ok,
    imap_response,
    imap_status_word,
    message,
    proc_status_kib,
    provision,
    release_binary_path,
    wait_for,
)

MIB = 1024 * 1024
ALICE = "alice@example.test"


def release_server(start_server, **overrides):
    binary = release_binary_path()
    if binary is None:
        pytest.skip("POSTAMT_RELEASE_BINARY is not set: memory bounds are measured on the release build")
    return start_server(binary=binary, **overrides)


class PeakSampler:
    """Samples a /proc/PID/status figure every 10 ms in a thread; .peak is the highest."""

    def __init__(self, pid: int, key: str = "VmRSS"):
        self.pid, self.key = pid, key
        self.peak = proc_status_kib(pid, key)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, proc_status_kib(self.pid, self.key))
            except (FileNotFoundError, ProcessLookupError):
                return
            time.sleep(0.01)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)
        self.peak = max(self.peak, proc_status_kib(self.pid, self.key))


def settled(server, seconds: float = 30) -> None:
    """Waits until RSS has not grown for a second (background work such as the full-text
    indexer done)."""
    deadline = time.monotonic() + seconds
    last = proc_status_kib(server.pid, "VmRSS")
    steady_since = time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - steady_since < 1.0:
        time.sleep(0.1)
        now = proc_status_kib(server.pid, "VmRSS")
        if now > last:
            last, steady_since = now, time.monotonic()


def baseline(server, key: str = "VmRSS") -> int:
    return max(proc_status_kib(server.pid, key) for _ in range(3))


# --------------------------------------------------------------------------------------
# Literals before login (RFC 7888 §4)
# --------------------------------------------------------------------------------------

def test_literals_before_login_are_small(server):
    """A synchronising literal over 8 KiB before login: tagged BAD [TOOBIG] without "+", and
    the session goes on; LOGIN with small literals works; a non-synchronising one over the
    limit: BAD, then the connection is closed (the client is already sending it)."""
    provision(server, ["alice"])
    client = imap_connect(server)
    try:
        client.send(b"a1 LOGIN {52428800}\r\n")
        reply = client.text_line()
        assert reply.startswith("a1 BAD [TOOBIG]"), reply
        client.send(b"a2 LOGIN {8193}\r\n")
        reply = client.text_line()
        assert reply.startswith("a2 BAD [TOOBIG]"), reply
        imap_ok(client, "NOOP")
        # Small literals are what LOGIN and AUTHENTICATE need: they work as before.
        user, password = ALICE.encode(), b"pw-alice"
        client.send(b"a3 LOGIN {%d}\r\n" % len(user))
        assert client.text_line().startswith("+ ")
        client.send(user + b" {%d+}\r\n" % len(password) + password + b"\r\n")
        reply = client.text_line()
        assert reply.startswith("a3 OK "), reply
        # After login the APPENDLIMIT applies, not the pre-login limit.
        literal = message("after login", body=b"x" * 20000 + b"\r\n")
        imap_ok(client, b"APPEND INBOX {%d+}\r\n" % len(literal) + literal)
    finally:
        client.close()

    client = imap_connect(server)
    try:
        client.send(b"b1 LOGIN {52428800+}\r\n" + b"x" * 4096)
        bye = client.text_line()
        assert bye.startswith("* BYE "), bye
        reply = client.text_line()
        assert reply.startswith("b1 BAD [TOOBIG]"), reply
        assert client.closed_within(10), "a non-synchronising literal over the limit left the connection open"
    finally:
        client.close()


def test_hundred_unauthenticated_big_literals_bounded_memory(start_server):
    """100 connections, not logged in, each announce {52428800+} and send 1 MiB of it."""
    server = release_server(start_server, limits={"max_unauthenticated_per_ip": 200})
    clients = [imap_connect(server) for _ in range(100)]
    before = baseline(server)
    chunk = b"x" * (64 * 1024)
    try:
        with PeakSampler(server.pid) as sampler:
            for i, client in enumerate(clients):
                client.send(b"t%d APPEND INBOX {52428800+}\r\n" % i)
            for client in clients:
                try:
                    for _ in range(16):
                        client.sock.sendall(chunk)
                except OSError:
                    pass  # refused and closed: what should happen
        refused = 0
        for i, client in enumerate(clients):
            bye, reply = client.text_line(), client.text_line()  # BYE, then the tagged BAD
            if bye.startswith("* BYE ") and reply.startswith(f"t{i} BAD [TOOBIG]"):
                refused += 1
        assert refused == 100, f"only {refused} of 100 big pre-login literals were refused"
    finally:
        for client in clients:
            client.close()
    growth = sampler.peak - before
    print(f"100 x {{52428800+}} before login: RSS baseline {before} KiB, growth {growth} KiB")
    assert growth < 32 * 1024, f"RSS grew by {growth} KiB for 100 refused literals"
    imap_ok(imap_connect(server), "NOOP")


# --------------------------------------------------------------------------------------
# A big APPEND goes to a file, not memory
# --------------------------------------------------------------------------------------

def big_message(size: int) -> bytes:
    header = (b"From: a@example.org\r\nTo: alice@example.test\r\nSubject: big\r\n"
              b"Message-ID: <big@example.org>\r\n\r\n")
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd\r\n"
    body = line * ((size - len(header)) // len(line) + 1)
    data = header + body
    return data[:size - 2] + b"\r\n"


def fetch_body(client, uid: int, size: int) -> bytes:
    client.send(b"f1 UID FETCH %d (BODY.PEEK[])\r\n" % uid)
    response = imap_response(client, timeout=60)
    tagged = client.text_line(timeout=60)
    assert tagged.startswith("f1 OK"), tagged
    match = re.search(rb"BODY\[\] \{(\d+)\}\r\n", response)
    assert match and int(match.group(1)) == size, response[:200]
    start = match.end()
    return response[start:start + size]


def test_big_append_is_spooled_not_held(start_server):
    server = release_server(start_server)
    provision(server, ["alice"])
    client = imap_login(server)
    content = big_message(20 * 1000 * 1000)
    try:
        imap_ok(client, "NOOP")
        before = baseline(server, "RssAnon")
        with PeakSampler(server.pid, "RssAnon") as sampler:
            client.send(b"a1 APPEND INBOX {%d}\r\n" % len(content))
            assert client.text_line().startswith("+ ")
            view = memoryview(content)
            for offset in range(0, len(content), 256 * 1024):
                client.sock.sendall(view[offset:offset + 256 * 1024])
            client.send(b"\r\n")
            reply = client.text_line(timeout=60)
        assert reply.startswith("a1 OK [APPENDUID "), reply
        growth = sampler.peak - before
        print(f"20 MB APPEND: RssAnon baseline {before} KiB, growth {growth} KiB")
        assert growth < 8 * 1024, f"anonymous memory grew by {growth} KiB for a 20 MB APPEND"
        uid = int(reply.split()[4].rstrip("]"))
        imap_ok(client, "SELECT INBOX")
        fetched = fetch_body(client, uid, len(content))
        assert hashlib.sha256(fetched).hexdigest() == hashlib.sha256(content).hexdigest()
    finally:
        client.close()
    # The spool directory is private and keeps nothing (files are nameless).
    spool = server.data_dir / "tmp"
    assert stat.S_IMODE(os.stat(spool).st_mode) == 0o700
    assert list(spool.iterdir()) == []


def test_spooled_append_refused_midway_leaves_nothing(server):
    """A big literal cut off by the client: no message, no file, the server serves on."""
    provision(server, ["alice"])
    client = imap_login(server)
    try:
        client.send(b"a1 APPEND INBOX {3000000+}\r\n" + b"y" * 1000000)
    finally:
        client.close()
    other = imap_login(server)
    try:
        untagged = imap_ok(other, "SELECT INBOX")
        assert any(line.startswith(b"* 0 EXISTS") for line in untagged), untagged
    finally:
        other.close()
    spool = server.data_dir / "tmp"
    wait_for(lambda: not spool.exists() or list(spool.iterdir()) == [], 10)


# --------------------------------------------------------------------------------------
# FETCH answers are written as they are produced, at the client's pace
# --------------------------------------------------------------------------------------

PARTIALS = 250


def test_fetch_of_many_partials_to_a_slow_reader_bounded_memory(start_server):
    server = release_server(start_server)
    provision(server, ["alice"])
    content = big_message(2 * MIB)
    client = imap_login(server, timeout=120)
    try:
        imap_ok(client, b"APPEND INBOX {%d+}\r\n" % len(content) + content)
        imap_ok(client, "SELECT INBOX")
        windows = [((i * 7919) % (len(content) // 2), len(content) // 2 + i) for i in range(PARTIALS)]
        attributes = " ".join(f"BODY.PEEK[]<{offset}.{length}>" for offset, length in windows)
        settled(server)  # the full-text indexer takes the new message first
        before = baseline(server)
        with PeakSampler(server.pid) as sampler:
            client.send(f"f1 FETCH 1 ({attributes})\r\n")
            time.sleep(2)  # the client does not read: the server must wait, not pile up
            stalled = sampler.peak
            got = read_fetch_partials(client, "f1")
        growth = sampler.peak - before
        print(f"FETCH of {PARTIALS} partials of 2 MiB: RSS baseline {before} KiB, growth while "
              f"stalled {stalled - before} KiB, peak growth {growth} KiB")
        assert growth < 16 * 1024, f"RSS grew by {growth} KiB for one FETCH of {PARTIALS} partials"
        assert len(got) == PARTIALS
        for (offset, length), (origin, data) in zip(windows, got):
            assert origin == offset
            assert data == content[offset:offset + length]
    finally:
        client.close()


def read_fetch_partials(client, tag: str) -> list[tuple[int, bytes]]:
    """Reads one "* 1 FETCH (BODY[]<o> {n}..." response of many partials, slowly at first
    (64 KiB every 10 ms for the first 8 MiB), then the tagged OK."""
    sock = client.sock
    sock.settimeout(60)
    buffer = bytearray(client.buffer)
    client.buffer = b""
    received = 0

    def more():
        nonlocal received
        chunk = sock.recv(64 * 1024 if received < 8 * MIB else 4 * MIB)
        if not chunk:
            raise EOFError("connection closed inside the FETCH response")
        received += len(chunk)
        if received < 8 * MIB:
            time.sleep(0.01)
        buffer.extend(chunk)

    item = re.compile(rb"BODY\[\]<(\d+)> \{(\d+)\}\r\n")
    got = []
    position = 0
    while True:
        match = item.search(buffer, position)
        if match is None:
            end = buffer.find(b"\r\n" + tag.encode() + b" ", position)
            if end >= 0 and buffer.find(b"\r\n", end + 2) > 0:
                tagged = bytes(buffer[end + 2:buffer.find(b"\r\n", end + 2)])
                assert tagged.startswith(tag.encode() + b" OK"), tagged
                return got
            more()
            continue
        start, length = match.end(), int(match.group(2))
        while len(buffer) < start + length:
            more()
        got.append((int(match.group(1)), bytes(buffer[start:start + length])))
        position = start + length
        if position > 16 * MIB:  # keep the client's own memory small
            del buffer[:position]
            position = 0


def test_refused_append_does_not_leak_its_spooled_literal_into_the_next(server):
    """An APPEND whose big literal went to the spool file and whose command is then
    refused (here: a line too long after the literal) must not leave those bytes for the
    next APPEND: the next message is stored exactly as sent."""
    provision(server, ["alice"])
    client = imap_login(server)
    try:
        stale = b"Subject: stale\r\n\r\n" + b"s" * 400_000 + b"\r\n"
        client.send(b"a1 APPEND INBOX {%d+}\r\n" % len(stale) + stale + b" " + b"x" * 20_000 + b"\r\n")
        reply = client.text_line(timeout=30)
        while reply.startswith("* "):
            reply = client.text_line(timeout=30)
        assert reply.startswith("a1 BAD") or reply.startswith("* BAD") or " BAD " in reply, reply
        fresh = b"Subject: fresh\r\n\r\n" + b"f" * 400_000 + b"\r\n"
        client.send(b"a2 APPEND INBOX {%d+}\r\n" % len(fresh) + fresh + b"\r\n")
        reply = client.text_line(timeout=30)
        assert reply.startswith("a2 OK [APPENDUID "), reply
        uid = int(reply.split()[4].rstrip("]"))
        imap_ok(client, "SELECT INBOX")
        assert fetch_body(client, uid, len(fresh)) == fresh
    finally:
        client.close()
