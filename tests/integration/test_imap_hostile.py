"""Hostile IMAP input: unterminated and huge literals, deep nesting, invalid sequence sets,
commands out of state, over-long lines, garbage. After each the server must still serve a
new connection, and the sanitizer build must stay silent (the fixtures check the log).
"""

from __future__ import annotations

import socket

import pytest

from harness import (
    imap_command,
    imap_connect,
    imap_login,
    imap_ok,
    imap_response,
    imap_status_word,
    message,
    provision,
)

ALICE = "alice@example.test"


def still_serves(server) -> None:
    """A fresh connection logs in and lists."""
    client = imap_login(server)
    imap_ok(client, 'LIST "" "*"')
    imap_ok(client, "LOGOUT")
    client.close()


def answers_until(client, tag: str, timeout: float = 10.0) -> tuple[list[bytes], bytes | None]:
    """Responses up to the tagged one; (responses, None) when the server closed instead."""
    seen = []
    try:
        while True:
            response = imap_response(client, timeout)
            if not response:
                return seen, None
            response = response.rstrip(b"\r\n")
            if response.startswith(tag.encode() + b" "):
                return seen, response
            seen.append(response)
    except (ConnectionResetError, BrokenPipeError):
        return seen, None


@pytest.fixture
def hostile(server):
    provision(server, ["alice"])
    client = imap_login(server)
    literal = message("hostile")
    imap_ok(client, b"APPEND INBOX {%d+}\r\n" % len(literal) + literal)
    imap_ok(client, "SELECT INBOX")
    yield server, client
    client.close()
    still_serves(server)


def test_unterminated_literal_then_disconnect(server):
    provision(server, ["alice"])
    client = imap_login(server)
    client.send(b"A1 APPEND INBOX {5000}\r\n")
    assert client.text_line().startswith("+")
    client.send(b"only a part of it")
    client.close()
    client = imap_login(server)
    client.send(b"A2 LOGIN {10}\r\n")  # while authenticated: refused or continued
    client.close()
    client = imap_connect(server)
    client.send(b"A3 LOGIN {100+}\r\nabc")
    client.close()
    still_serves(server)


@pytest.mark.parametrize("size", [b"999999999999", b"18446744073709551615", b"18446744073709551616",
                                  b"99999999999999999999999999"])
def test_huge_literal_announcements(hostile, size):
    server, client = hostile
    client.send(b"H1 APPEND INBOX {" + size + b"}\r\n")
    seen, done = answers_until(client, "H1")
    assert not any(r.startswith(b"+") for r in seen), "a literal over APPENDLIMIT must not be invited"
    assert done is None or imap_status_word(done) in ("NO", "BAD"), done
    if done is not None:
        imap_ok(client, "NOOP")
    # Elsewhere than APPEND, too.
    fresh = imap_login(server)
    fresh.send(b"H2 SEARCH {" + size + b"}\r\n")
    seen, done = answers_until(fresh, "H2")
    assert not any(r.startswith(b"+") for r in seen)
    assert done is None or imap_status_word(done) in ("NO", "BAD"), done
    fresh.close()
    # And non-synchronising: the server must not wait for a terabyte.
    fresh = imap_login(server)
    fresh.send(b"H3 APPEND INBOX {" + size + b"+}\r\nabc\r\n")
    seen, done = answers_until(fresh, "H3")
    assert done is None or imap_status_word(done) in ("NO", "BAD"), done
    fresh.close()


def refusal(client, tag: str, timeout: float = 10.0) -> bytes | None:
    """The answer to a command that may be refused before its tag was read (an over-long
    line): the tagged response, an untagged BAD, or None when the server closed."""
    try:
        while True:
            response = imap_response(client, timeout)
            if not response:
                return None
            response = response.rstrip(b"\r\n")
            if response.startswith(tag.encode() + b" ") or response.startswith(b"* BAD") \
                    or response.startswith(b"* BYE"):
                return response
    except (ConnectionResetError, BrokenPipeError):
        return None


def test_deeply_nested_search(hostile):
    server, client = hostile
    # A little nesting is ordinary SEARCH syntax.
    imap_ok(client, "SEARCH " + "(" * 10 + "ALL" + ")" * 10)
    for depth in (1000, 3000, 100000):
        client.send(b"N1 SEARCH " + b"(" * depth + b"ALL" + b")" * depth + b"\r\n")
        answer = refusal(client, "N1")
        # Bounded: refused (or answered), never a crash or a stack overflow.
        assert answer is not None, "the server closed instead of answering"
        assert answer.startswith((b"N1 OK", b"N1 NO", b"N1 BAD", b"* BAD")), answer
    imap_ok(client, "NOOP")


def test_many_nots_and_ors(hostile):
    server, client = hostile
    assert imap_ok(client, "SEARCH NOT NOT NOT NOT ALL")
    for data in (b"NOT " * 1000 + b"ALL", b"NOT " * 20000 + b"ALL", b"OR ALL " * 1000 + b"ALL",
                 b"OR " * 1500 + b"ALL " * 1501, b"NOT (" * 500 + b"ALL" + b")" * 500):
        client.send(b"N2 SEARCH " + data + b"\r\n")
        answer = refusal(client, "N2")
        assert answer is not None and answer.startswith((b"N2 OK", b"N2 NO", b"N2 BAD", b"* BAD")), answer
    imap_ok(client, "NOOP")


@pytest.mark.parametrize("sequence", ["0", "1:", "*:x", "0:*", "1,,2", ":", "4294967296",
                                      "1:4294967296", "-1", "1.5", "$$", "", "1:2:3"])
def test_invalid_sequence_sets(hostile, sequence):
    server, client = hostile
    for command in (f"FETCH {sequence} FLAGS", f"UID FETCH {sequence} FLAGS", f"STORE {sequence} +FLAGS (\\Seen)",
                    f"SEARCH {sequence}", f"COPY {sequence} Trash", f"UID EXPUNGE {sequence}"):
        _, done = imap_command(client, command)
        # RFC 9051 §9: seq-number is nz-number or "*"; 0 and the rest are syntax errors.
        assert imap_status_word(done) == "BAD", (command, done)
    imap_ok(client, "NOOP")


def test_huge_but_valid_sequence_sets_are_cheap(hostile):
    server, client = hostile
    # A sequence number beyond EXISTS is a client error (RFC 9051 §9 seq-number: BAD);
    # the same range as UIDs is fine and must not cost a loop over 4 billion numbers.
    _, done = imap_command(client, "FETCH 1:4294967295 UID")
    assert imap_status_word(done) == "BAD", done
    untagged = imap_ok(client, "UID FETCH 1:4294967295 UID")
    assert len([line for line in untagged if b" FETCH " in line]) == 1
    many = ",".join(str(n) for n in range(1, 1500))
    imap_ok(client, f"UID SEARCH UID {many}")
    imap_ok(client, "SEARCH 1:* 1:* 1:* 1:*")


def test_commands_before_authentication(server):
    provision(server, ["alice"])
    client = imap_connect(server)
    for command in ("SELECT INBOX", "FETCH 1 BODY[]", "APPEND INBOX {3}", "UID FETCH 1:* FLAGS",
                    "LIST \"\" *", "IDLE", "EXPUNGE", "GETQUOTAROOT INBOX", "ENABLE QRESYNC"):
        _, done = imap_command(client, command)
        assert imap_status_word(done) in ("BAD", "NO"), (command, done)
    client.close()
    still_serves(server)


def test_too_many_errors_end_the_session(server):
    provision(server, ["alice"])
    client = imap_connect(server)
    closed = False
    for k in range(100):
        try:
            client.send(b"X%d NOSUCHCOMMAND\r\n" % k)
            _, done = answers_until(client, f"X{k}", 5.0)
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        if done is None:
            closed = True
            break
        assert imap_status_word(done) == "BAD"
    assert closed, "a client sending only garbage should be dropped at some point"
    still_serves(server)


def test_over_long_line(hostile):
    server, client = hostile
    client.send(b"L1 NOOP " + b"x" * 100000 + b"\r\n")
    answer = refusal(client, "L1")
    assert answer is None or answer.startswith((b"L1 BAD", b"* BAD", b"* BYE")), answer
    if answer is not None and not answer.startswith(b"* BYE"):
        imap_ok(client, "NOOP")
    # An over-long literal-carrying command line, and an over-long APPEND flag list.
    client.send(b"L2 APPEND INBOX (" + b"\\Seen " * 3000 + b") {5+}\r\nhello\r\n")
    answer = refusal(client, "L2")
    assert answer is not None and answer.startswith((b"L2 BAD", b"L2 NO", b"* BAD")), answer
    imap_ok(client, "NOOP")
    # A line with no end at all: the server does not keep buffering forever.
    fresh = imap_connect(server)
    try:
        for _ in range(64):
            fresh.send(b"y" * 65536)
    except (BrokenPipeError, ConnectionResetError):
        pass
    fresh.close()


@pytest.mark.parametrize("garbage", [
    b"\x00\x01\x02\xff\xfe\r\n",
    b"\r\n\r\n\r\n",
    b"* OK hello\r\n",
    b"+ continue\r\n",
    b"A1\r\n",
    b"A1 \r\n",
    b"\"quoted tag\" NOOP\r\n",
    b"A1 FETCH 1 (BODY[HEADER.FIELDS ()])\r\n",
    b"A1 FETCH 1 (BODY[1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26.27.28.29.30.31])\r\n",
    b"A1 FETCH 1 (BODY[]<4294967295.4294967295>)\r\n",
    b"A1 FETCH 1 (BINARY[0])\r\n",
    b"A1 STORE 1 +FLAGS (" + b"\\Seen " * 5000 + b")\r\n",
    b"A1 STORE 1 +FLAGS (" + b"".join(b"k%d " % n for n in range(2000)) + b")\r\n",
    b"A1 SEARCH CHARSET UTF-8 SUBJECT \"\xff\xfe\"\r\n",
    b"A1 SEARCH HEADER\r\n",
    b"A1 SEARCH SINCE 99-Foo-20261\r\n",
    b"A1 LIST \"\" \"" + b"%*" * 500 + b"\"\r\n",
    b"A1 SELECT \"&" + b"A" * 5000 + b"-\"\r\n",
    b"A1 ID (" + b"\"k\" \"v\" " * 500 + b")\r\n",
    b"A1 ENABLE " + b"X " * 2000 + b"\r\n",
    b"A1 APPEND INBOX (\\Seen) \"1-Jan-1970 00:00:00 +9999\" {1+}\r\nx\r\n",
    b"A1 APPEND INBOX ~{3+}\r\na\x00b\r\n",
    b"A1 UID MOVE 1:* \"\"\r\n",
    b"A1 RENAME INBOX INBOX\r\n",
])
def test_garbage_is_answered_not_fatal(hostile, garbage):
    server, client = hostile
    client.send(garbage)
    client.send(b"G9 NOOP\r\n")
    seen, done = answers_until(client, "G9", 20.0)
    if done is not None:
        assert imap_status_word(done) == "OK", (garbage[:80], done)


def test_random_bytes_from_many_clients(server):
    provision(server, ["alice"])
    rng = __import__("random").Random(1234)
    for _ in range(20):
        client = imap_connect(server)
        try:
            for _ in range(10):
                client.send(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))))
            client.send(b"\r\nZ1 LOGOUT\r\n")
            client.closed_within(5.0)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass
        client.close()
    still_serves(server)


def test_idle_done_flood_and_half_close(server):
    provision(server, ["alice"])
    client = imap_login(server)
    imap_ok(client, "SELECT INBOX")
    client.send(b"I1 IDLE\r\n")
    assert client.text_line().startswith("+")
    client.send(b"x" * 20000 + b"\r\n")  # an over-long "DONE" line
    seen, done = answers_until(client, "I1")
    assert done is None or imap_status_word(done) == "BAD"
    client.close()
    client = imap_login(server)
    client.send(b"I2 IDLE\r\n")
    assert client.text_line().startswith("+")
    client.sock.shutdown(socket.SHUT_WR)
    assert client.closed_within(10.0)
    client.close()
    still_serves(server)


def test_continuation_only_for_a_command_that_can_succeed(server):
    """RFC 9051 §7.5 / RFC 7888: "+" invites the literal only when the command so far can
    still succeed; otherwise the literal is refused before the client sends it."""
    provision(server, ["alice"])
    client = imap_connect(server)
    for line, why in ((b"p1 APPEND INBOX {5}\r\n", b"Log in first"),
                      (b"p2 XYZZY {5}\r\n", b"Unknown command"),
                      (b"p3 FETCH 1 {5}\r\n", b"Log in first")):
        client.send(line)
        reply = client.line()
        assert reply.startswith(line.split(b" ")[0] + b" BAD"), (line, reply)
        assert why in reply, reply
    # The refused literals were never sent; the session is still in sync.
    imap_ok(client, "NOOP")
    client.close()

    client = imap_login(server)
    client.send(b"s1 SEARCH TEXT {5}\r\n")
    assert client.line().startswith(b"s1 BAD"), "SEARCH needs a selected mailbox"
    client.send(b"a1 APPEND INBOX {23}\r\n")
    assert client.line().startswith(b"+ "), "an APPEND after login gets its continuation"
    client.send(b"Subject: x\r\n\r\nliteral\r\n\r\n")
    appended = client.line()
    assert appended.startswith(b"a1 OK [APPENDUID "), appended
    imap_ok(client, "NOOP")
    client.close()
    still_serves(server)
