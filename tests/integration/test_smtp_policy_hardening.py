"""Issue 13's SMTP policy items against the built server, driven by smtplib:
ENVID/ORCPT refused at MAIL/RCPT (RFC 3461 §4), <Postmaster> without a domain (RFC 5321
§4.5.1), what an authenticated submission client may put in From: and MAIL FROM:<>,
AUTH before STARTTLS, and log lines an operator can trace a message with."""

from __future__ import annotations

import re
import smtplib

import pytest

from harness import (
    check_store,
    message,
    provision,
    queued_id,
    send_transaction,
    smtp_command,
    smtp_session,
    smtplib_client,
    split_trace,
    stored_messages,
)

TLS_ONLY = {"allow_plaintext_without_tls": False, "failure_delay_ms": 50}


def log_lines(server, event: str) -> list[str]:
    return [line for line in server.log_text().splitlines() if f" {event} " in line + " "]


def log_fields(line: str) -> dict[str, str]:
    return {k: v.strip('"') for k, v in re.findall(r'(\w+)=("[^"]*"|\S*)', line)}


# --------------------------------------------------------------------------------------
# ENVID and ORCPT (RFC 3461 §4)
# --------------------------------------------------------------------------------------

def test_envid_and_orcpt_are_refused_at_mail_and_rcpt(server):
    provision(server, ["alice"])
    client = smtplib_client(server, "smtp")
    for envid in ("a+0D+0ARSET", "x" * 101, "bad+ZZ", "caf+C3+A9"):
        code, reply = client.mail("sender@example.org", [f"ENVID={envid}"])
        assert (code, reply[:5]) == (501, b"5.5.4"), (envid, code, reply)
    code, reply = client.mail("sender@example.org", ["FOO=bar"])
    assert (code, reply[:5]) == (555, b"5.5.4"), (code, reply)
    client.quit()
    # A new session: ten errors in a row would end this one (421).
    client = smtplib_client(server, "smtp")
    assert client.mail("sender@example.org", ["ENVID=QQ314159", "RET=HDRS"])[0] == 250
    for orcpt in ("rfc822;a+0D+0AQUIT@example.test", "rfc822;" + "a" * 494, "rfc822;",
                  "rfc822;j+C3+B6rg@example.test", "utf-8;a+00@example.test"):
        code, reply = client.rcpt("alice@example.test", [f"ORCPT={orcpt}"])
        assert (code, reply[:5]) == (501, b"5.5.4"), (orcpt, code, reply)
    # Valid ones pass and reach the message: refused at RCPT, nothing to refuse after DATA.
    assert client.rcpt("alice@example.test", ["NOTIFY=FAILURE", "ORCPT=rfc822;alice+40example.test"])[0] == 250
    code, reply = client.data(message("dsn params"))
    assert code == 250, reply
    client.quit()
    assert len(stored_messages(server, "alice@example.test")) == 1


# --------------------------------------------------------------------------------------
# <Postmaster> (RFC 5321 §4.5.1)
# --------------------------------------------------------------------------------------

def test_postmaster_without_domain_reaches_the_primary_domains_postmaster(server):
    """The server's host name (mail.example.test) is not a local domain: <Postmaster>
    goes to postmaster@ of its nearest parent that is, example.test, in any case."""
    provision(server, ["alice"], aliases={"postmaster@example.test": ["alice@example.test"]})
    client = smtplib_client(server, "smtp")
    sent = []
    for spelling in ("postmaster", "Postmaster", "POSTMASTER"):
        content = message(f"to {spelling}", to=spelling)
        code, reply = send_transaction(client, "sender@example.org", [f"<{spelling}>"], content)
        assert code == 250, (spelling, code, reply)
        sent.append(content)
    client.quit()
    stored = [split_trace(m) for m in stored_messages(server, "alice@example.test")]
    assert [d.content for d in stored] == sent
    assert all("for <postmaster@example.test>" in d.received for d in stored), stored[0].received


def test_postmaster_of_a_server_without_a_matching_domain_uses_the_first(start_server):
    server = start_server(server={"hostname": "mx.elsewhere.test"})
    provision(server, ["bob"], domain="first.test",
              aliases={"postmaster@first.test": ["bob@first.test"]})
    provision_more = server.cli("domain", "add", "second.test")
    assert provision_more.returncode == 0, provision_more.stderr
    client = smtplib_client(server, "smtp")
    code, reply = send_transaction(client, "sender@example.org", ["<postmaster>"], message("pm", to="postmaster"))
    assert code == 250, reply
    client.quit()
    assert len(stored_messages(server, "bob@first.test")) == 1


# --------------------------------------------------------------------------------------
# Submission: From header, null sender, AUTH before STARTTLS
# --------------------------------------------------------------------------------------

def test_from_header_must_belong_to_the_authenticated_account(start_server):
    server = start_server(extra_text='[smtp.send_as]\n"alice@example.test" = ["partner.example"]\n')
    passwords = provision(server, ["alice", "bob"],
                          aliases={"sales@example.test": ["alice@example.test"]})
    client = smtplib_client(server, "submission", starttls=True)
    assert client.login("alice@example.test", passwords["alice@example.test"])[0] == 235
    accepted = []
    for author in ("alice@example.test", "Alice@EXAMPLE.test", "sales@example.test", "anyone@partner.example"):
        content = message(f"from {author}", sender=author, to="bob@example.test")
        code, reply = send_transaction(client, "alice@example.test", ["bob@example.test"], content)
        assert code == 250, (author, code, reply)
        accepted.append(content)
    for author in ("bob@example.test", "ceo@example.org", "alice@partner.example.evil"):
        content = message(f"forged {author}", sender=author, to="bob@example.test")
        code, reply = send_transaction(client, "alice@example.test", ["bob@example.test"], content)
        assert (code, reply[:5]) == (550, b"5.7.1"), (author, code, reply)
        assert author.encode() in reply and b"not one the authenticated user" in reply, reply
    # A second From field, or a second author in one field, is checked too.
    two_fields = b"From: <bob@example.test>\r\n" + message("two From fields", sender="alice@example.test")
    code, reply = send_transaction(client, "alice@example.test", ["bob@example.test"], two_fields)
    assert (code, reply[:5]) == (550, b"5.7.1"), (code, reply)
    two_authors = b"From: alice@example.test, Bob <bob@example.test>\r\nSubject: two\r\n\r\nhi\r\n"
    code, reply = send_transaction(client, "alice@example.test", ["bob@example.test"], two_authors)
    assert (code, reply[:5]) == (550, b"5.7.1"), (code, reply)
    client.quit()
    assert [split_trace(m).content for m in stored_messages(server, "bob@example.test")] == accepted
    assert len(log_lines(server, "smtp.message_refused")) == 5
    check_store(server)


def test_from_header_check_can_be_turned_off(start_server):
    server = start_server(smtp={"enforce_from_header": False})
    passwords = provision(server, ["alice", "bob"])
    client = smtplib_client(server, "submission", starttls=True)
    client.login("alice@example.test", passwords["alice@example.test"])
    code, reply = send_transaction(client, "alice@example.test", ["bob@example.test"],
                                   message("someone else", sender="list@example.org", to="bob@example.test"))
    assert code == 250, reply
    client.quit()


@pytest.mark.parametrize("allowed", [False, True])
def test_null_sender_on_submission_is_refused_unless_configured(start_server, allowed):
    server = start_server(smtp={"allow_null_sender_submission": allowed})
    passwords = provision(server, ["alice", "bob"])
    client = smtplib_client(server, "submission", starttls=True)
    client.login("alice@example.test", passwords["alice@example.test"])
    code, reply = client.mail("")
    if allowed:
        assert code == 250, reply
        assert client.rcpt("bob@example.test")[0] == 250
        code, reply = client.data(message("bounce", sender="alice@example.test", to="bob@example.test"))
        assert code == 250, reply
    else:
        assert (code, reply[:5]) == (550, b"5.7.1"), (code, reply)
        assert b"Null sender" in reply
    client.quit()
    # The port-25 role takes bounces as always.
    mx = smtplib_client(server, "smtp")
    assert mx.sendmail("", ["alice@example.test"], message("mx bounce")) == {}
    mx.quit()


def test_auth_before_starttls_asks_for_starttls(start_server):
    server = start_server(auth=TLS_ONLY)
    provision(server, ["alice"])
    client = smtp_session(server, "submission")
    for command in ("AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABwdy1hbGljZQ==", "AUTH LOGIN"):
        reply = smtp_command(client, command)
        assert reply.lines == ["530 5.7.0 Must issue a STARTTLS command first"], reply
    smtp_command(client, "QUIT", "221 ")
    client.close()
    # Over TLS the same AUTH works.
    tls = smtplib_client(server, "submission", starttls=True)
    assert tls.login("alice@example.test", "pw-alice")[0] == 235
    tls.quit()


# --------------------------------------------------------------------------------------
# Logs an operator can trace with
# --------------------------------------------------------------------------------------

def test_accepted_and_refused_lines_in_the_log(start_server):
    server = start_server(log={"level": "info"})
    passwords = provision(server, ["alice", "bob"])
    client = smtplib_client(server, "submission", starttls=True)
    client.login("alice@example.test", passwords["alice@example.test"])
    code, _ = client.mail("alice@example.test")
    assert code == 250
    assert client.rcpt("nobody@example.test")[0] == 550
    assert client.rcpt("bob@example.test")[0] == 250
    assert client.rcpt("carol@remote.example")[0] == 250
    content = message("traced", sender="alice@example.test", to="bob@example.test")
    msgid = re.search(rb"Message-ID: (<[^>]+>)", content).group(1).decode()
    code, reply = client.data(content)
    assert code == 250, reply
    queue_id = queued_id(reply)
    client.quit()

    mx = smtplib_client(server, "smtp")
    mx.mail("sender@example.org")
    assert mx.rcpt("relay@elsewhere.example")[0] == 554
    mx.quit()

    accepted = [log_fields(line) for line in log_lines(server, "smtp.accepted")]
    assert len(accepted) == 1, accepted
    line = accepted[0]
    assert line["id"] == queue_id
    assert line["remote"] == "127.0.0.1"
    assert line["user"] == "alice@example.test"
    assert line["from"] == "alice@example.test"
    assert line["rcpts"] == "bob@example.test,carol@remote.example"
    assert int(line["size"]) == len(content)
    assert line["message_id"] == msgid
    refused = [log_fields(line) for line in log_lines(server, "smtp.rcpt_refused")]
    assert [(r["rcpt"], r["reason"], r["reply"]) for r in refused] == [
        ("nobody@example.test", "user unknown", "550 5.1.1"),
        ("relay@elsewhere.example", "relay denied", "554 5.7.1"),
    ], refused
    assert refused[0]["user"] == "alice@example.test" and refused[1]["remote"] == "127.0.0.1"


def test_unknown_recipient_is_logged_with_its_reason(server):
    """An unknown recipient makes smtplib raise; the log says which and why."""
    provision(server, ["alice"])
    client = smtplib_client(server, "smtp")
    try:
        client.sendmail("sender@example.org", ["ghost@example.test"], message("ghost"))
        raise AssertionError("sendmail to an unknown user succeeded")
    except smtplib.SMTPRecipientsRefused as refused:
        assert refused.recipients["ghost@example.test"][0] == 550
    client.quit()
    assert any("rcpt=ghost@example.test" in line and "user unknown" in line
               for line in log_lines(server, "smtp.rcpt_refused"))
