"""DNS block and allow lists at SMTP time (issue 15 §4), asked of a private DNS server
(python3-dnslib, tests/peers/dns_zone.py): a listed client is refused with 550 5.7.1 naming
the list and nothing is stored; an allow-listed client passes; a lightly weighted listing
sends the mail to Junk with X-Spam-Status/X-Spam-Flag; a forged X-Spam-Status is dropped."""

from __future__ import annotations

import smtplib

import pytest

from harness import cli_bytes, mailbox_listing, metric_sum, provision, smtplib_client
from peers.dns_zone import ZoneServer

LOCAL = "example.test"
LISTED = "127.0.0.7"      # on block.example
ALLOWED = "127.0.0.8"     # on block.example and on allow.example
LIGHT = "127.0.0.9"       # on light.example only (weight 0.5: Junk)
CLEAN = "127.0.0.10"      # on no list


def reversed_name(ip: str, zone: str) -> str:
    return ".".join(reversed(ip.split("."))) + "." + zone


ZONE = {
    reversed_name(LISTED, "block.example"): [("A", "127.0.0.2")],
    reversed_name(ALLOWED, "block.example"): [("A", "127.0.0.2")],
    reversed_name(ALLOWED, "allow.example"): [("A", "127.0.0.5")],
    reversed_name(LIGHT, "light.example"): [("A", "127.0.0.3")],
    # A list refusing the query (Spamhaus-style 127.255.255.x) is no listing.
    reversed_name(CLEAN, "block.example"): [("A", "127.255.255.254")],
}


@pytest.fixture
def mta(start_server):
    with ZoneServer(ZONE) as dns:
        server = start_server(
            dns={"servers": [dns.address], "timeout_seconds": 2},
            filter={"dnsbl": ["block.example", {"zone": "light.example", "weight": 0.5}],
                    "dnswl": ["allow.example"]})
        provision(server, users=["alice"])
        yield server


def message(subject: str, extra: str = "") -> bytes:
    return (f"From: someone@sender.example\r\nTo: alice@{LOCAL}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '.')}@sender.example>\r\n{extra}\r\nHello.\r\n").encode()


def send(server, source_ip: str, data: bytes):
    host, port = server.address("smtp")
    client = smtplib.SMTP(host, port, local_hostname="mx.sender.example", timeout=30, source_address=(source_ip, 0))
    try:
        client.ehlo()
        assert client.mail("someone@sender.example")[0] == 250
        assert client.rcpt(f"alice@{LOCAL}")[0] == 250
        try:
            return client.data(data)
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


def test_listed_client_is_refused_naming_the_list_and_nothing_is_stored(mta):
    code, reply = send(mta, LISTED, message("listed"))
    assert code == 550, reply
    assert b"5.7.1" in reply and b"block.example" in reply and LISTED.encode() in reply
    assert stored(mta, "INBOX") == []
    assert metric_sum(mta, "postamt_filter_verdicts_total", filter="dnsbl", action="reject") >= 1


def test_allow_listed_client_passes_despite_a_block_listing(mta):
    code, reply = send(mta, ALLOWED, message("allowed"))
    assert code == 250, reply
    [delivered] = stored(mta, "INBOX")
    assert b"X-Spam-Status: No, score=-9.00" in delivered


def test_light_listing_goes_to_junk_with_the_flag(mta):
    code, reply = send(mta, LIGHT, message("light"))
    assert code == 250, reply
    assert stored(mta, "INBOX") == []
    [junked] = stored(mta, "Junk")
    assert b"X-Spam-Flag: YES" in junked
    assert b"X-Spam-Status: Yes, score=0.50, filter=dnsbl" in junked
    assert b"light.example=127.0.0.3" in junked


def test_unlisted_client_passes_and_forged_verdicts_are_dropped(mta):
    code, reply = send(mta, CLEAN, message("clean", "X-Spam-Status: No, score=-100\r\nX-Spam-Flag: NO\r\n"))
    assert code == 250, reply
    [delivered] = stored(mta, "INBOX")
    head = delivered.split(b"\r\n\r\n", 1)[0]
    assert head.count(b"X-Spam-Status:") == 1
    assert b"score=-100" not in head and b"X-Spam-Flag" not in head
    assert b"X-Spam-Status: No\r\n" in head


def test_submission_is_not_filtered(mta):
    client = smtplib_client(mta, "submissions")
    try:
        client.login(f"alice@{LOCAL}", "pw-alice")
        client.sendmail(f"alice@{LOCAL}", [f"alice@{LOCAL}"],
                        f"From: alice@{LOCAL}\r\nTo: alice@{LOCAL}\r\nSubject: internal\r\n\r\nHi.\r\n".encode())
    finally:
        client.close()
    [delivered] = stored(mta, "INBOX")
    assert b"X-Spam-Status" not in delivered
