"""Helpers shared by the security event and ban tests (issue 15 §7, §8)."""
from __future__ import annotations

import json
import smtplib
import socket

from harness import PostamtServer, wait_for

ATTACKER = "127.0.0.11"
BANNED_GREETING = {"smtp": "554 5.7.1", "submission": "554 5.7.1", "imap": "* BYE", "pop3": "-ERR"}
GREETING = {"smtp": "220", "submission": "220", "imap": "* OK", "pop3": "+OK"}


def events(server: PostamtServer, *args: str) -> list[dict]:
    done = server.cli("security", "events", "--json", *args)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def kinds_for(server: PostamtServer, ip: str) -> list[str]:
    return [e["kind"] for e in events(server, "--ip", ip)]


def first_line(server: PostamtServer, protocol: str, source_ip: str) -> str:
    """The first line the server sends a client from source_ip ("" when it just closes)."""
    try:
        client = server.connect(protocol, source_ip=source_ip)
    except OSError:  # an implicit-TLS port closes before the handshake
        return ""
    try:
        return client.text_line()
    except (ConnectionError, socket.timeout, EOFError, OSError):
        return ""
    finally:
        client.close()


def banned_everywhere(server: PostamtServer, source_ip: str) -> bool:
    for protocol, prefix in BANNED_GREETING.items():
        line = first_line(server, protocol, source_ip)
        if not line.startswith(prefix) or line.startswith(GREETING[protocol]):
            return False
    return True


def admitted_everywhere(server: PostamtServer, source_ip: str) -> bool:
    return all(first_line(server, p, source_ip).startswith(g) for p, g in GREETING.items())


def failed_imap_logins(server: PostamtServer, source_ip: str, count: int) -> None:
    """count failed IMAP LOGINs on one connection from source_ip, each a distinct user and password."""
    client = server.connect("imap", source_ip=source_ip)
    assert client.text_line().startswith("* OK")
    for n in range(count):
        client.send(f"a{n} LOGIN guess{n}@example.test wrong-{n}\r\n")
        while True:
            line = client.text_line()
            if line.startswith(f"a{n} "):
                assert line.startswith(f"a{n} NO"), line
                break
    client.close()


def failed_smtp_auth(server: PostamtServer, source_ip: str, count: int) -> None:
    host, port = server.address("submission")
    client = smtplib.SMTP(host, port, source_address=(source_ip, 0), timeout=30)
    client.ehlo("attacker.example.test")
    for n in range(count):
        try:
            client.login(f"smtp-guess{n}@example.test", f"smtp-wrong-{n}")
        except smtplib.SMTPAuthenticationError:
            continue
        raise AssertionError("a wrong password logged in")
    client.close()


def wait_for_kind(server: PostamtServer, ip: str, kind: str, timeout: float = 8) -> None:
    wait_for(lambda: kind in kinds_for(server, ip), timeout, interval=0.25)
