"""Slow SMTP clients (issue 13 §2): a client that trickles a command line or a message,
a byte at a time just inside the idle timeout, is closed once it exceeds
smtp.command_timeout_seconds for a line, or runs behind smtp.data_min_rate in its data
(smtp.data_timeout_seconds at most); idle time between commands is not counted."""

from __future__ import annotations

import time

from harness import message, provision, smtp_command, smtp_reply, smtp_session

SHORT = {"command_timeout_seconds": 2, "data_timeout_seconds": 60, "data_min_rate": 1000}


def trickle_until_closed(client, data: bytes, interval: float, limit: float) -> tuple[float, bytes]:
    """Sends one octet per interval until the server answers; returns (seconds, answer)."""
    started = time.monotonic()
    for octet in data:
        try:
            client.sock.sendall(bytes([octet]))
        except OSError:
            break
        if client.nothing_within(interval) != b"":
            break
        assert time.monotonic() - started < limit, "the server kept the trickling client"
    return time.monotonic() - started, smtp_reply(client, timeout=10).lines[0].encode()


def test_trickled_command_line_is_cut_off(start_server):
    server = start_server(smtp=SHORT)
    provision(server, ["alice"])
    client = smtp_session(server)
    # Idle between commands is the idle timeout's business, not the command bound's.
    time.sleep(3)
    smtp_command(client, "NOOP", "250 ")
    seconds, answer = trickle_until_closed(client, b"MAIL FROM:<someone@example.org>\r\n" * 10,
                                           interval=0.4, limit=8)
    assert answer.startswith(b"421 4.4.2") and b"Command too slow" in answer, answer
    assert 1.5 < seconds < 6, seconds
    assert client.closed_within(5)
    assert "phase=command" in server.log_text()


def test_trickled_message_data_is_cut_off_but_a_fast_one_is_not(start_server):
    server = start_server(smtp=SHORT)
    provision(server, ["alice"])
    client = smtp_session(server)
    # A megabyte sent at once buys far more than its few seconds.
    smtp_command(client, "MAIL FROM:<sender@example.org>", "250 ")
    smtp_command(client, "RCPT TO:<alice@example.test>", "250 ")
    smtp_command(client, "DATA", "354 ")
    client.send(message("fast", body=(b"x" * 998 + b"\r\n") * 1000) + b".\r\n")
    assert smtp_reply(client, timeout=30).code == 250

    smtp_command(client, "MAIL FROM:<sender@example.org>", "250 ")
    smtp_command(client, "RCPT TO:<alice@example.test>", "250 ")
    smtp_command(client, "DATA", "354 ")
    seconds, answer = trickle_until_closed(client, message("slow") * 10, interval=0.4, limit=8)
    assert answer.startswith(b"421 4.4.2") and b"Message data too slow" in answer, answer
    assert 1.5 < seconds < 6, seconds
    assert client.closed_within(5)
    assert "phase=data" in server.log_text()
