"""Submission (587 STARTTLS, 465 implicit TLS) with AUTH, and the port-25 role's policy:
who may send as whom, who may relay, and what an unknown recipient gets."""

from __future__ import annotations

import base64
import smtplib
import time

import pytest

from harness import (
    check_store,
    message,
    metric_sum,
    parse_received,
    provision,
    queued_id,
    send_transaction,
    smtp_command,
    smtp_reply,
    smtp_session,
    smtplib_client,
    split_trace,
    sqlite_rows,
    stored_messages,
)

# What the tests below configure: AUTH only over TLS, and quick failure answers.
TLS_ONLY = {"allow_plaintext_without_tls": False, "failure_delay_ms": 50}


def plain(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def auth_mechanisms(client: smtplib.SMTP) -> list[str]:
    return client.esmtp_features.get("auth", "").split()


def login(client: smtplib.SMTP, mechanism: str, user: str, password: str) -> tuple[int, bytes]:
    """AUTH with exactly this mechanism (smtplib.login would pick one itself)."""
    client.user, client.password = user, password
    authobject = {"PLAIN": client.auth_plain, "LOGIN": client.auth_login}[mechanism]
    # initial_response_ok=False for LOGIN: the full 334 challenge dialogue.
    return client.auth(mechanism, authobject, initial_response_ok=(mechanism == "PLAIN"))


def queue_rows(server) -> list[tuple[str, str, str]]:
    """(address, state, sender) of every queued recipient. The scheduler may have tried one
    already (no DNS answers in these tests): "deferred" is reported as "queued"."""
    return [(r[0], "queued" if r[1] == "deferred" else r[1], r[2]) for r in sqlite_rows(
        server.data_dir / "index.sqlite3",
        "SELECT r.address, r.state, m.sender FROM queue_recipients r "
        "JOIN queue_messages m ON m.id = r.message_id ORDER BY r.id")]


# --------------------------------------------------------------------------------------
# AUTH over TLS
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_auth_after_starttls_on_submission(start_server, mechanism):
    server = start_server(auth=TLS_ONLY)
    passwords = provision(server, ["alice", "bob"])
    client = smtplib_client(server, "submission")
    # Before TLS: AUTH is not offered, and refused when tried.
    assert not client.has_extn("auth"), client.esmtp_features
    code, reply = client.docmd("AUTH", "PLAIN " + plain("alice@example.test", passwords["alice@example.test"]))
    assert code >= 500 and code != 535, (code, reply)
    client.starttls()
    client.ehlo()
    assert auth_mechanisms(client) == ["PLAIN", "LOGIN"], client.esmtp_features
    code, reply = login(client, mechanism, "alice@example.test", passwords["alice@example.test"])
    assert (code, reply[:5]) == (235, b"2.7.0"), (code, reply)
    # Authenticated once: a second AUTH is a bad sequence (RFC 4954 §4).
    assert client.docmd("AUTH", "PLAIN " + plain("bob@example.test", "x"))[0] == 503
    sent = message(f"auth {mechanism}", sender="alice@example.test", to="bob@example.test")
    code, reply = send_transaction(client, "alice@example.test", ["bob@example.test"], sent)
    assert code == 250, reply
    client.quit()
    delivered = split_trace(stored_messages(server, "bob@example.test")[0])
    assert delivered.content == sent
    fields = parse_received(delivered.received)
    assert fields["protocol"] == "ESMTPSA" and "(authenticated as alice@example.test)" in fields["rest"]


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_auth_on_implicit_tls_submissions(start_server, mechanism):
    server = start_server(auth=TLS_ONLY)
    passwords = provision(server, ["alice", "bob"])
    client = smtplib_client(server, "submissions")
    assert not client.has_extn("starttls"), "STARTTLS offered inside implicit TLS"
    assert auth_mechanisms(client) == ["PLAIN", "LOGIN"], client.esmtp_features
    code, _ = login(client, mechanism, "alice@example.test", passwords["alice@example.test"])
    assert code == 235
    sent = message(f"submissions {mechanism}", sender="alice@example.test", to="bob@example.test")
    assert send_transaction(client, "alice@example.test", ["bob@example.test"], sent)[0] == 250
    client.quit()
    delivered = split_trace(stored_messages(server, "bob@example.test")[0])
    assert delivered.content == sent
    assert parse_received(delivered.received)["protocol"] == "ESMTPSA"


def test_auth_refused_without_tls_on_submission(start_server):
    server = start_server(auth=TLS_ONLY)
    passwords = provision(server, ["alice"])
    client = smtp_session(server, "submission")
    ehlo = smtp_command(client, "EHLO client.example.test", "250 ")
    assert not any(line[4:].startswith("AUTH") for line in ehlo.lines), ehlo
    assert any(line[4:] == "STARTTLS" for line in ehlo.lines), ehlo
    for command in ("AUTH PLAIN " + plain("alice@example.test", passwords["alice@example.test"]),
                    "AUTH LOGIN"):
        reply = smtp_command(client, command)
        assert reply.code >= 500 and reply.code != 535, reply   # refused, not even tried
    # Nothing sent in the clear authenticated the session.
    smtp_command(client, "MAIL FROM:<alice@example.test>", "530 5.7.0")
    smtp_command(client, "QUIT", "221 ")
    client.close()


def test_smtp_port_offers_no_auth(server):
    provision(server, ["alice"])
    client = smtplib_client(server, "smtp", starttls=True)
    assert not client.has_extn("auth"), client.esmtp_features
    code, _ = client.docmd("AUTH", "PLAIN " + plain("alice@example.test", "pw-alice"))
    assert code == 503, code
    client.quit()


# --------------------------------------------------------------------------------------
# Submission policy: AUTH first, own addresses only
# --------------------------------------------------------------------------------------

def test_mail_before_auth_is_refused_on_submission(server):
    provision(server, ["alice"])
    for protocol in ("submission", "submissions"):
        client = smtp_session(server, protocol)
        smtp_command(client, "MAIL FROM:<alice@example.test>", "530 5.7.0")
        smtp_command(client, "RCPT TO:<alice@example.test>", "503 5.5.1")
        smtp_command(client, "QUIT", "221 ")
        client.close()


def test_sender_must_be_owned_by_the_authenticated_user(server):
    passwords = provision(server, ["alice", "bob"],
                          aliases={"sales@example.test": ["alice@example.test", "bob@example.test"],
                                   "bobs@example.test": ["bob@example.test"]})
    client = smtplib_client(server, "submission", starttls=True)
    assert client.login("alice@example.test", passwords["alice@example.test"])[0] == 235
    for sender in ("bob@example.test", "stranger@example.org", "bobs@example.test",
                   "alice@example.org"):
        code, reply = client.mail(sender)
        assert (code, reply[:5]) == (553, b"5.7.1"), (sender, code, reply)
    # Her own address (domains are case-insensitive), an alias that delivers to her:
    # accepted. The null sender is not (smtp.allow_null_sender_submission is off).
    sent = {}
    for sender in ("alice@example.test", "alice@Example.TEST", "sales@example.test"):
        mail = message(f"from {sender}", sender=sender, to="bob@example.test")
        code, reply = send_transaction(client, sender, ["bob@example.test"], mail)
        assert code == 250, (sender, reply)
        sent[sender] = mail
    code, reply = client.mail("")
    assert (code, reply[:5]) == (550, b"5.7.1"), (code, reply)
    client.quit()
    stored = [split_trace(m) for m in stored_messages(server, "bob@example.test")]
    assert [d.content for d in stored] == list(sent.values())
    # Return-Path: the envelope sender (its domain may be written in lower case).
    assert [d.return_path.lower() for d in stored] == [a.lower() for a in sent]
    assert metric_sum(server, "postamt_smtp_senders_refused_total") == 5


def test_sender_check_folds_local_part_case_like_delivery(server):
    """The store folds the local part's case (accounts.address is COLLATE NOCASE): mail to
    ALICE@example.test lands in alice's INBOX. Then ALICE@example.test is her address as a
    sender too (Postfix's smtpd_sender_login_maps lookups fold case the same way)."""
    passwords = provision(server, ["alice", "bob"])
    client = smtplib_client(server, "submission", starttls=True)
    client.login("alice@example.test", passwords["alice@example.test"])
    code, reply = send_transaction(client, "alice@example.test",
                                   ["ALICE@example.test"],
                                   message("case", sender="alice@example.test", to="ALICE@example.test"))
    assert code == 250, reply
    assert len(stored_messages(server, "alice@example.test")) == 1, "ALICE@ is delivered to alice"
    code, reply = client.mail("ALICE@example.test")
    assert code == 250, f"MAIL FROM:<ALICE@example.test> as alice: {code} {reply!r}"
    client.quit()


def test_wrong_password_and_lockout(start_server):
    server = start_server(auth={"failure_delay_ms": 300, "max_failures_per_ip": 3})
    passwords = provision(server, ["alice"])
    right = plain("alice@example.test", passwords["alice@example.test"])
    client = smtp_session(server, "submission")
    for attempt in range(3):
        started = time.monotonic()
        wrong = plain("alice@example.test", f"not-the-password-{attempt}")  # a repeat counts once
        reply = smtp_command(client, "AUTH PLAIN " + wrong)
        elapsed = time.monotonic() - started
        assert reply.lines == ["535 5.7.8 Authentication credentials invalid"], (attempt, reply)
        assert elapsed >= 0.28, f"a failed AUTH was answered after {elapsed:.3f}s (delay 300 ms)"
    # After max_failures_per_ip failures the IP is locked out: even the right password
    # gets a temporary refusal.
    reply = smtp_command(client, "AUTH PLAIN " + right)
    assert reply.code == 454 and reply.lines[0].startswith("454 4.7.0"), reply
    smtp_command(client, "MAIL FROM:<alice@example.test>", "530 5.7.0")
    client.close()
    # A new connection from the same IP is locked out too; another IP is not.
    again = smtp_session(server, "submission")
    assert smtp_command(again, "AUTH PLAIN " + right).code == 454
    again.close()
    other = smtp_session(server, "submission", source_ip="127.0.0.2")
    smtp_command(other, "AUTH PLAIN " + plain("nobody@example.test", "x"), "535 5.7.8")
    smtp_command(other, "AUTH PLAIN " + right, "235 2.7.0")
    smtp_command(other, "MAIL FROM:<alice@example.test>", "250 2.1.0")
    other.close()
    assert metric_sum(server, "postamt_smtp_auth_failures_total") >= 5


def test_auth_login_dialogue_and_cancel(server):
    passwords = provision(server, ["alice"])
    client = smtp_session(server, "submission")
    reply = smtp_command(client, "AUTH LOGIN", "334 ")
    assert base64.b64decode(reply.text).lower().startswith(b"username"), reply
    smtp_command(client, "*", "501 ")                      # client cancels (RFC 4954 §4)
    smtp_command(client, "AUTH LOGIN", "334 ")
    smtp_command(client, base64.b64encode(b"alice@example.test").decode(), "334 ")
    smtp_command(client, base64.b64encode(passwords["alice@example.test"].encode()).decode(),
                 "235 2.7.0")
    client.close()


# --------------------------------------------------------------------------------------
# Port 25 role: unknown users, relaying
# --------------------------------------------------------------------------------------

def test_unknown_local_user_gets_550_at_rcpt(server):
    provision(server, ["alice"])
    client = smtp_session(server)
    smtp_command(client, "MAIL FROM:<sender@example.org>", "250 ")
    reply = smtp_command(client, "RCPT TO:<nobody@example.test>")
    assert reply.lines[0].startswith("550 5.1.1"), reply
    smtp_command(client, "DATA", "554 ")
    smtp_command(client, "QUIT", "221 ")
    client.close()
    assert metric_sum(server, "postamt_smtp_recipients_total", result="unknown_user") == 1


def test_relay_from_an_unauthenticated_client_is_refused(server):
    provision(server, ["alice"])
    client = smtp_session(server)
    smtp_command(client, "MAIL FROM:<sender@example.org>", "250 ")
    for recipient in ("victim@foreign.example", "alice@example.test.foreign.example",
                      "victim%foreign.example@example.test", "@example.test:victim@foreign.example"):
        reply = smtp_command(client, f"RCPT TO:<{recipient}>")
        assert reply.code >= 500, (recipient, reply)
        if recipient == "victim@foreign.example":
            assert reply.lines[0].startswith("554 5.7.1"), reply
    smtp_command(client, "QUIT", "221 ")
    client.close()
    assert queue_rows(server) == []


def test_relay_networks_may_relay(start_server):
    server = start_server(smtp={"relay_networks": ["127.0.0.2/32"]})
    provision(server, ["alice"])
    # 127.0.0.1 is outside the relay network: refused.
    client = smtp_session(server)
    smtp_command(client, "MAIL FROM:<sender@example.org>", "250 ")
    smtp_command(client, "RCPT TO:<victim@foreign.example>", "554 5.7.1")
    client.close()
    # 127.0.0.2 is inside: the foreign recipient is queued, the local one delivered.
    client = smtp_session(server, source_ip="127.0.0.2")
    smtp_command(client, "MAIL FROM:<sender@example.org>", "250 ")
    smtp_command(client, "RCPT TO:<someone@foreign.example>", "250 2.1.5")
    smtp_command(client, "RCPT TO:<alice@example.test>", "250 2.1.5")
    smtp_command(client, "DATA", "354 ")
    client.send(message("relayed", to="someone@foreign.example") + b".\r\n")
    assert smtp_reply(client).lines[0].startswith("250 2.0.0 Ok: queued as")
    client.close()
    assert queue_rows(server) == [("someone@foreign.example", "queued", "sender@example.org")]
    assert len(stored_messages(server, "alice@example.test")) == 1
    check_store(server)


def test_relay_networks_127_0_0_0_8(start_server):
    server = start_server(smtp={"relay_networks": ["127.0.0.0/8"]})
    client = smtplib_client(server, "smtp")
    code, reply = send_transaction(client, "sender@example.org", ["a@foreign.example", "b@other.example"],
                                   message("relay", to="a@foreign.example"))
    assert code == 250, reply
    client.quit()
    assert queue_rows(server) == [("a@foreign.example", "queued", "sender@example.org"),
                                  ("b@other.example", "queued", "sender@example.org")]


def test_authenticated_submission_may_send_to_remote_domains(server):
    passwords = provision(server, ["alice"])
    client = smtplib_client(server, "submission", starttls=True)
    client.login("alice@example.test", passwords["alice@example.test"])
    sent = message("outbound", sender="alice@example.test", to="friend@remote.example")
    code, reply = send_transaction(client, "alice@example.test", ["friend@remote.example"], sent)
    assert code == 250, reply
    transaction = queued_id(reply)
    client.quit()
    assert queue_rows(server) == [("friend@remote.example", "queued", "alice@example.test")]
    blob_id = sqlite_rows(server.data_dir / "index.sqlite3", "SELECT blob_id FROM queue_messages")[0][0]
    queued = (server.data_dir / "blobs" / blob_id[:2] / blob_id).read_bytes()
    delivered = split_trace(queued)
    assert delivered.content == sent
    fields = parse_received(delivered.received)
    assert fields["id"] == transaction and fields["protocol"] == "ESMTPSA"
    check_store(server)
