"""The built-in client checks of the SMTP-time pipeline (issue 15 §4), against the built
server with smtplib: greylisting (RFC 6647) defers a new triplet and passes its retry, the
per-address message rate defers beyond the limit, a HELO that claims to be us is refused,
and forward-confirmed reverse DNS (private DNS zone, python3-dnslib) sends mail from a
client without it to Junk."""

from __future__ import annotations

import smtplib
import time

import pytest

from harness import HOSTNAME, cli_bytes, mailbox_listing, provision
from peers.dns_zone import ZoneServer

LOCAL = "example.test"


def attempt(server, source_ip: str = "127.0.0.1", helo: str = "mx.sender.example",
            sender: str = "someone@sender.example", subject: str = "hello"):
    """(code, reply) of the end of DATA, or of MAIL/RCPT when those already refuse."""
    host, port = server.address("smtp")
    client = smtplib.SMTP(host, port, local_hostname=helo, timeout=30, source_address=(source_ip, 0))
    try:
        client.ehlo()
        code, reply = client.mail(sender)
        if code != 250:
            return code, reply
        code, reply = client.rcpt(f"alice@{LOCAL}")
        if code != 250:
            return code, reply
        try:
            return client.data(f"From: {sender}\r\nTo: alice@{LOCAL}\r\nSubject: {subject}\r\n\r\nHi.\r\n".encode())
        except smtplib.SMTPDataError as error:
            return error.smtp_code, error.smtp_error
    finally:
        client.close()


def stored(server, mailbox: str) -> list[bytes]:
    out = []
    for entry in mailbox_listing(server, f"alice@{LOCAL}", mailbox):
        done = cli_bytes(server.config_path, "debug", "message", f"alice@{LOCAL}", str(entry.uid),
                         "--mailbox", mailbox, binary=server.binary)
        assert done.returncode == 0, done.stderr
        out.append(done.stdout)
    return out


def test_greylisting_defers_a_new_triplet_and_passes_its_retry(start_server):
    server = start_server(filter={"greylist": True, "greylist_delay_seconds": 2})
    provision(server, users=["alice"])
    code, reply = attempt(server)
    assert code == 451 and b"4.7.1" in reply and b"Greylisted" in reply, reply
    assert stored(server, "INBOX") == []
    code, reply = attempt(server)  # too early
    assert code == 451, reply
    time.sleep(2.5)
    code, reply = attempt(server)
    assert code == 250, reply
    # The network is allowed now: another sender passes at once.
    code, reply = attempt(server, sender="other@else.example")
    assert code == 250, reply
    # The null sender (bounces) is never greylisted, from anywhere.
    code, reply = attempt(server, source_ip="127.1.0.1", sender="")
    assert code == 250, reply
    assert len(stored(server, "INBOX")) == 3


def test_message_rate_per_address_defers_beyond_the_limit(start_server):
    server = start_server(filter={"max_messages_per_ip_per_hour": 2})
    provision(server, users=["alice"])
    assert attempt(server, source_ip="127.0.0.21")[0] == 250
    assert attempt(server, source_ip="127.0.0.21")[0] == 250
    code, reply = attempt(server, source_ip="127.0.0.21")
    assert code == 451 and b"Too many messages" in reply, reply
    assert attempt(server, source_ip="127.0.0.22")[0] == 250  # another client
    assert len(stored(server, "INBOX")) == 3


def test_helo_claiming_to_be_us_is_refused_and_a_bad_name_goes_to_junk(start_server):
    server = start_server(filter={"helo": "reject"})
    provision(server, users=["alice"])
    code, reply = attempt(server, helo=HOSTNAME)
    assert code == 550 and b"my own name" in reply, reply
    code, reply = attempt(server, helo="pc123")
    assert code == 250, reply
    [junked] = stored(server, "Junk")
    assert b"HELO_NOT_FQDN" in junked and b"X-Spam-Flag: YES" in junked
    code, reply = attempt(server, helo="mx.sender.example", subject="fine")
    assert code == 250, reply
    assert len(stored(server, "INBOX")) == 1


def test_reverse_dns_must_resolve_back_to_the_client(start_server):
    zone = {
        "31.0.0.127.in-addr.arpa": [("PTR", "mx.good.example")],
        "mx.good.example": [("A", "127.0.0.31")],
        "32.0.0.127.in-addr.arpa": [("PTR", "mx.liar.example")],
        "mx.liar.example": [("A", "192.0.2.1")],
    }
    with ZoneServer(zone) as dns:
        server = start_server(dns={"servers": [dns.address], "timeout_seconds": 2}, filter={"reverse_dns": "junk"})
        provision(server, users=["alice"])
        assert attempt(server, source_ip="127.0.0.31", subject="confirmed")[0] == 250
        assert attempt(server, source_ip="127.0.0.32", subject="not confirmed")[0] == 250
        assert attempt(server, source_ip="127.0.0.33", subject="no ptr")[0] == 250
        [inbox] = stored(server, "INBOX")
        assert b"Subject: confirmed" in inbox
        junk = b"".join(stored(server, "Junk"))
        assert b"RDNS_NOT_CONFIRMED" in junk and b"RDNS_NONE" in junk


def test_a_client_that_talks_before_the_greeting_is_turned_away(start_server):
    import socket
    server = start_server(filter={"greet_pause_ms": 800})
    provision(server, users=["alice"])
    host, port = server.address("smtp")
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b"EHLO spam.example\r\nMAIL FROM:<x@spam.example>\r\n")
        reply = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    assert reply.startswith(b"554 5.7.1 "), reply
    assert b"220" not in reply
    # A client that waits for the greeting (every real MTA, smtplib) is served.
    code, reply = attempt(server, subject="patient")
    assert code == 250, reply
    assert len(stored(server, "INBOX")) == 1
