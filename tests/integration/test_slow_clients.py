"""Slow and idle strangers (issue 13 §2): a connection that trickles a byte before each idle
timeout does not live for ever, and connections that have not logged in cannot take every
place.

  * [limits] command_timeout_seconds: a command (line or literal) must arrive within this
    of its first byte, plus one second per min_transfer_rate bytes received meanwhile;
  * [limits] login_timeout_seconds: IMAP and POP3 close a connection not logged in by then;
  * [limits] max_unauthenticated_per_ip / max_unauthenticated_connections: caps for
    connections not (yet) logged in, below max_connections_per_ip / max_connections.

Short timeouts are configured so that each case takes seconds.
"""

from __future__ import annotations

import threading
import time

import pytest

from harness import imap_command, imap_connect, imap_login, imap_ok, metric_sum, provision

ALICE = "alice@example.test"
SLOW_LIMITS = {"command_timeout_seconds": 2, "min_transfer_rate": 1024, "login_timeout_seconds": 60,
               "idle_timeout_seconds": 30}


def trickle(client, data: bytes, interval: float, seconds: float) -> float:
    """Sends data one byte per interval until the server closes (returns when, in seconds
    from the first byte) or `seconds` pass (returns -1)."""
    started = time.monotonic()
    for i in range(len(data)):
        try:
            client.sock.sendall(data[i:i + 1])
        except OSError:
            return time.monotonic() - started
        if client.closed_within(interval):
            return time.monotonic() - started
        if time.monotonic() - started > seconds:
            return -1
    return -1


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_trickled_command_is_cut_off(start_server, protocol):
    server = start_server(limits=SLOW_LIMITS)
    client = server.connect(protocol)
    client.text_line()  # greeting
    command = b"a1 LOGIN alice@example.test " + b"x" * 100 + b"\r\n" if protocol == "imap" \
        else b"USER alice@example.test" + b"x" * 100 + b"\r\n"
    # One byte every 0.4 s: far inside the 30 s idle timeout, a line never complete.
    after = trickle(client, command, 0.4, 15)
    client.close()
    assert after > 0, "a trickling client was still connected after 15 s"
    assert 1.5 < after < 6, f"cut off after {after:.1f}s with a 2 s command timeout"
    assert server.count_in_log("conn.too_slow") >= 1
    # A whole line at once is not slow, and the session goes on.
    other = server.connect(protocol)
    other.text_line()
    other.send(b"a2 NOOP\r\n" if protocol == "imap" else b"CAPA\r\n")
    assert other.text_line().startswith("a2 OK" if protocol == "imap" else "+OK")
    other.close()


def test_trickled_literal_after_login_is_cut_off_but_a_steady_one_is_not(start_server):
    server = start_server(limits=SLOW_LIMITS)
    provision(server, ["alice"])
    client = imap_login(server)
    try:
        # 300 KiB at about 100 KiB/s takes ~3 s, more than the 2 s command timeout, but
        # the transfer-rate allowance (1 s per 1 KiB) keeps it going.
        body = b"x" * 1000 + b"\r\n"
        literal = b"Subject: steady\r\n\r\n" + body * 300
        client.send(b"a1 APPEND INBOX {%d+}\r\n" % len(literal))
        for offset in range(0, len(literal), 10 * 1024):
            client.send(literal[offset:offset + 10 * 1024])
            time.sleep(0.1)
        client.send(b"\r\n")
        reply = client.text_line(timeout=30)
        assert reply.startswith("a1 OK "), reply
        # The same literal, one byte every 0.3 s: cut off.
        client.send(b"a2 APPEND INBOX {%d+}\r\n" % len(literal))
        after = trickle(client, literal, 0.3, 15)
        assert after > 0, "a trickled APPEND literal was still accepted after 15 s"
        assert after < 6, f"cut off after {after:.1f}s"
    finally:
        client.close()


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_login_timeout_closes_a_chatty_stranger(start_server, protocol):
    """Whole commands, never a login: closed at login_timeout_seconds."""
    server = start_server(limits={"login_timeout_seconds": 3, "idle_timeout_seconds": 30})
    provision(server, ["alice"])
    client = server.connect(protocol)
    client.text_line()
    started = time.monotonic()
    closed_after = None
    for i in range(20):
        try:
            client.send(b"n%d NOOP\r\n" % i if protocol == "imap" else b"CAPA\r\n")
        except OSError:
            closed_after = time.monotonic() - started
            break
        if client.closed_within(0.5):
            closed_after = time.monotonic() - started
            break
    client.close()
    assert closed_after is not None, "a client that never logged in was still connected after 10 s"
    assert 2.5 < closed_after < 6, closed_after
    # Logged in, the same client may stay: the login clock stops at login.
    if protocol == "imap":
        client = imap_login(server)
        time.sleep(4)
        imap_ok(client, "NOOP")
        client.close()
    else:
        client = server.connect(protocol)
        client.text_line()
        client.send(f"USER {ALICE}\r\nPASS pw-alice\r\n")
        client.expect("+OK")
        client.expect("+OK")
        time.sleep(4)
        client.send(b"STAT\r\n")
        client.expect("+OK")
        client.close()


def test_unauthenticated_connections_have_their_own_caps(start_server):
    server = start_server(limits={"max_unauthenticated_per_ip": 3,
                                  "max_unauthenticated_connections": 5,
                                  "max_connections_per_ip": 10})
    provision(server, ["alice"])
    idle = [imap_connect(server) for _ in range(3)]
    # A fourth stranger from the same address is refused ...
    refused = server.connect("imap")
    assert refused.closed_within(5), "a 4th unauthenticated connection from one IP was served"
    refused.close()
    assert metric_sum(server, "postamt_connections_refused_total", limit="unauthenticated_per_ip") >= 1
    # ... until one of them logs in: logged-in connections count only against the
    # ordinary per-IP cap.
    _, done = imap_command(idle[0], f'LOGIN "{ALICE}" "pw-alice"')
    assert b" OK " in done
    fourth = imap_connect(server)
    idle.append(fourth)
    # Other addresses share the total cap for strangers (5): 3 taken by now, two left.
    other_address = [server.connect("imap", source_ip="127.0.0.2") for _ in range(2)]
    for client in other_address:
        client.text_line()
    extra = server.connect("imap", source_ip="127.0.0.3")
    assert extra.closed_within(5), "more unauthenticated connections than the total cap"
    extra.close()
    assert metric_sum(server, "postamt_connections_refused_total", limit="unauthenticated") >= 1
    # The logged-in session is served throughout.
    imap_ok(idle[0], "NOOP")
    for client in idle + other_address:
        client.close()
