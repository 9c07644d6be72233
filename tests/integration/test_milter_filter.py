"""Milters at SMTP time (issue 15 §3), [[filter.milter]], all through SMTP to the built
server on loopback: a real OpenDKIM (Debian opendkim, private instance, tests/peers/milters)
signing mail whose stored copy dkimpy verifies; scripted pymilter milters
(tests/peers/scripted_milter) rejecting, deferring, giving their own reply, changing header
fields, one after another; an unreachable milter failing open (counted in /metrics) or
closed (451)."""

from __future__ import annotations

import smtplib

import pytest

from harness import metric_sum, provision, stored_messages
from peers.base import PeerError, free_port
from peers.milters import OpenDkimPeer, milters_unavailable
from peers.scripted_milter import ScriptedMilter, pymilter_unavailable

LOCAL = "example.test"
ALICE = f"alice@{LOCAL}"


def message(subject: str, sender: str = "someone@sender.example", extra: str = "") -> bytes:
    return (f"From: {sender}\r\nTo: {ALICE}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '.')}@sender.example>\r\n{extra}\r\n"
            "Hello.\r\nA second line.\r\n").encode()


def send(server, data: bytes, sender: str = "someone@sender.example"):
    host, port = server.address("smtp")
    client = smtplib.SMTP(host, port, local_hostname="mx.sender.example", timeout=60)
    try:
        client.ehlo()
        assert client.mail(sender)[0] == 250
        assert client.rcpt(ALICE)[0] == 250
        try:
            return client.data(data)
        except smtplib.SMTPDataError as error:
            return error.smtp_code, error.smtp_error
    finally:
        client.close()


def start(start_server, *milters: dict):
    server = start_server(filter={"milter": list(milters)})
    provision(server, users=["alice"])
    return server


@pytest.fixture
def scripted():
    problem = pymilter_unavailable()
    if problem:
        pytest.skip(problem)
    started = []

    def make(behaviour: str) -> ScriptedMilter:
        milter = ScriptedMilter(behaviour).start()
        started.append(milter)
        return milter
    yield make
    for milter in started:
        milter.stop()


def test_opendkim_signs_and_the_stored_message_verifies(start_server):
    problem = milters_unavailable()
    if problem:
        pytest.skip(problem)
    import dkim
    with OpenDkimPeer("127.0.0.1", authserv_id="mx.example.test", sign=("signer.example", "sel")) as opendkim:
        server = start(start_server, {"name": "opendkim", "address": opendkim.socket})
        code, reply = send(server, message("signed", sender="news@signer.example"), sender="news@signer.example")
        assert code == 250, reply
        stored = stored_messages(server, ALICE)
        assert len(stored) == 1
        assert b"DKIM-Signature:" in stored[0], stored[0][:2000]

        def dnsfunc(name, timeout=5):
            assert name in (b"sel._domainkey.signer.example.", "sel._domainkey.signer.example."), name
            return opendkim.dkim_txt.encode()
        assert dkim.verify(stored[0], dnsfunc=dnsfunc), stored[0][:3000]


@pytest.mark.parametrize("behaviour,expected_code,expected_text", [
    ("reject", 550, b"5.7.1"),
    ("discard", 550, b"5.7.1"),
    ("tempfail", 451, b"4.7.1"),
    ("replycode", 550, b"5.7.1 custom text"),
])
def test_refusals_store_nothing(start_server, scripted, behaviour, expected_code, expected_text):
    milter = scripted(behaviour)
    server = start(start_server, {"name": "scripted", "address": milter.address})
    code, reply = send(server, message(behaviour))
    assert code == expected_code, reply
    assert expected_text in reply, reply
    assert stored_messages(server, ALICE) == []
    assert "eom headers=" in milter.log(), milter.log()


def test_header_changes_are_stored(start_server, scripted):
    milter = scripted("headers")
    server = start(start_server, {"name": "scripted", "address": milter.address})
    code, reply = send(server, message("original", extra="X-Remove-Me: bye\r\nX-Keep: stays\r\n"))
    assert code == 250, reply
    [stored] = stored_messages(server, ALICE)
    head = stored.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nX-Milter-Added: yes  with two spaces\r\n" in head + b"\r\n", head
    assert b"Subject: changed by milter\r\n" in head + b"\r\n", head
    assert b"Subject: original" not in head
    assert b"X-Remove-Me" not in head
    assert b"X-Keep: stays" in head
    # The macros and the header fields the milter saw (value without the leading space).
    log = milter.log()
    assert "('Subject', 'original')" in log and "client_addr='127.0.0.1'" in log, log


def test_two_milters_apply_in_order(start_server, scripted):
    first, second = scripted("tag:first"), scripted("tag:second")
    server = start(start_server, {"name": "one", "address": first.address},
                   {"name": "two", "address": second.address})
    code, reply = send(server, message("ordered"))
    assert code == 250, reply
    [stored] = stored_messages(server, ALICE)
    head = stored.split(b"\r\n\r\n", 1)[0]
    assert head.index(b"X-Milter-Order: first") < head.index(b"X-Milter-Order: second"), head


def test_quarantine_goes_to_junk(start_server, scripted):
    milter = scripted("quarantine")
    server = start(start_server, {"name": "scripted", "address": milter.address})
    code, reply = send(server, message("quarantined"))
    assert code == 250, reply
    assert stored_messages(server, ALICE) == []   # not in INBOX: in Junk


def test_unreachable_milter_fails_open_and_is_counted(start_server):
    server = start(start_server, {"name": "gone", "address": f"inet:127.0.0.1:{free_port()}",
                                  "timeout_seconds": 5})
    code, reply = send(server, message("fail open"))
    assert code == 250, reply
    assert len(stored_messages(server, ALICE)) == 1
    assert metric_sum(server, "postamt_filter_failures_total", filter="milter:gone", reason="connect") >= 1


def test_unreachable_milter_fails_closed_with_451(start_server):
    server = start(start_server, {"name": "gone", "address": f"inet:127.0.0.1:{free_port()}",
                                  "fail_closed": True})
    code, reply = send(server, message("fail closed"))
    assert code == 451, reply
    assert stored_messages(server, ALICE) == []
