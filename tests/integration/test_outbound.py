"""Outbound delivery (issue 4): the durable queue, MX delivery to real peers, retries,
bounces, the queue CLI and the outbound metrics.

Every test builds its own world with outbound_peers.OutboundLab: a private DNS zone
(python3-dnslib) that the server uses through `[dns] servers`, and receiving peers on
loopback addresses sharing one port (`[outbound] mx_port`): scripted aiosmtpd servers
(SinkPeer) and a private Postfix (PostfixPeer). Mail enters through the submission
listener as alice@example.test, a local user, so bounces land in her INBOX.

The server contract these tests rely on, beyond DESIGN.md:
  [outbound] retry_initial_seconds, retry_max_seconds, max_queue_lifetime_seconds,
             queue_scan_interval_seconds, connect_timeout_seconds, command_timeout_seconds,
             tls = "opportunistic"|"required"|"none", relayhost_user, relayhost_password,
             [outbound.tls_policy] "domain" = policy
  postamt queue list --json -> [{id, sender, size, created_at,
      recipients: [{address, state, attempts, next_attempt_at, last_reply}]}]
  postamt queue flush [ID] | hold ID | release ID | delete ID
  /metrics: postamt_queue_recipients{state}, postamt_outbound_deliveries_total{result},
            postamt_outbound_failures_total{domain}
"""

from __future__ import annotations

import dataclasses
import email
import email.message
import email.policy
import json
import re
import time

import pytest

from harness import (
    HOSTNAME,
    message,
    metric_samples,
    metric_sum,
    metrics_text,
    provision,
    smtplib_client,
    stored_messages,
    wait_for,
)
from outbound_peers import (
    OutboundLab,
    Reply,
    a,
    mx,
    null_mx,
    permanent,
    postfix_received_fields,
    slow,
    temporary,
)

pytestmark = pytest.mark.timeout(170)

ALICE = "alice@example.test"
WAIT = 30.0           # the longest any single wait below lasts
QUIET = 6.0           # how long "nothing happens" is watched


@pytest.fixture
def lab(tmp_path):
    with OutboundLab(tmp_path / "lab") as built:
        yield built


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------

def start(start_server, lab: OutboundLab, tls_policy: dict[str, str] | None = None,
          extra: dict | None = None, directory=None, **outbound):
    """A server whose [dns] and [outbound] point at the lab, with alice provisioned."""
    sections = lab.sections(tls_policy=tls_policy, **outbound)
    for name, keys in (extra or {}).items():
        sections.setdefault(name, {}).update(keys)
    server = start_server(directory=directory, **sections)
    provision(server, ["alice"])
    return server, sections


def submit(server, recipients: list[str], content: bytes, sender: str = ALICE,
           mail_options: list[str] = (), rcpt_options: list[str] = ()) -> None:
    """alice submits on the submission listener (STARTTLS + AUTH); every recipient accepted."""
    client = smtplib_client(server, "submission", starttls=True)
    client.login(ALICE, "pw-alice")
    refused = client.sendmail(sender, recipients, content, mail_options=list(mail_options),
                              rcpt_options=list(rcpt_options))
    assert refused == {}, refused
    client.quit()


def queue_list(server) -> list[dict]:
    done = server.cli("queue", "list", "--json")
    assert done.returncode == 0, f"queue list --json: exit {done.returncode}: {done.stderr}"
    document = json.loads(done.stdout)
    assert isinstance(document, list), document
    return document


def queued_recipient(server, address: str) -> tuple[dict, dict] | None:
    """(message, recipient) of the queue entry for address, or None when none is listed."""
    for entry in queue_list(server):
        for recipient in entry["recipients"]:
            if recipient["address"].lower() == address.lower():
                return entry, recipient
    return None


def wait_for_state(server, address: str, states: set[str], timeout: float = WAIT) -> tuple[dict, dict]:
    last = {}

    def reached():
        found = queued_recipient(server, address)
        last["found"] = found
        return found if found and found[1]["state"] in states else None
    try:
        return wait_for(reached, timeout, interval=0.5, message=f"{address} in state {states}")
    except AssertionError as e:
        raise AssertionError(f"{e}; last listing: {last.get('found')}\n{server.log_tail(40)}") from None


def queue_states(server, address: str) -> list[str]:
    """The states of every queue entry for address (it may be a recipient of several messages)."""
    return [r["state"] for entry in queue_list(server) for r in entry["recipients"]
            if r["address"].lower() == address.lower()]


def assert_not_pending(server, address: str) -> None:
    """Delivered: every entry for address is gone from the queue or listed as delivered."""
    states = queue_states(server, address)
    assert all(state == "delivered" for state in states), states


def wait_until_delivered(server, address: str) -> None:
    wait_for(lambda: all(state == "delivered" for state in queue_states(server, address)), WAIT,
             interval=0.5, message=f"every queue entry for {address} delivered or gone")


def queue_command(server, *args: str) -> None:
    done = server.cli("queue", *args)
    assert done.returncode == 0, f"queue {' '.join(args)}: exit {done.returncode}: {done.stderr}"


def inbox(server, user: str = ALICE) -> list[bytes]:
    return stored_messages(server, user)


def wait_for_inbox(server, count: int = 1, user: str = ALICE) -> list[bytes]:
    return wait_for(lambda: (found := inbox(server, user)) and len(found) >= count and found, WAIT,
                    interval=0.5, message=f"{count} message(s) in {user}'s INBOX")


def metric_at_least(server, name: str, minimum: float, **labels: str) -> float:
    """Waits until the metric's sum over matching samples reaches minimum; returns it."""
    seen = {}

    def reached() -> bool:
        seen["value"] = metric_sum(server, name, **labels)
        return seen["value"] >= minimum
    wait_for(reached, WAIT, interval=0.5, message=f"{name}{labels} >= {minimum}")
    return seen["value"]


def assert_relayed_intact(received_data: bytes, original: bytes) -> None:
    """What the peer got is the submitted message with only trace fields before it."""
    assert received_data.endswith(original), received_data[:600]
    prefix = received_data[:len(received_data) - len(original)]
    # RFC 5321 §4.4: Return-Path is added at final delivery only; a relay never sends one.
    assert not re.search(rb"(?im)^Return-Path:", prefix), prefix
    fields = re.findall(rb"(?m)^([!-9;-~]+):", prefix)
    assert fields and all(f.lower() == b"received" for f in fields), prefix


# --- DSN (RFC 3464) --------------------------------------------------------------------

def parse_dsn(stored: bytes) -> tuple[email.message.EmailMessage, list[email.message.Message]]:
    """A bounce as stored in a local INBOX -> (the message, [per-message block,
    per-recipient block, ...]). Asserts the RFC 3464 shape (the trace fields, if any, are
    skipped here: assert_null_sender checks them)."""
    content = re.sub(rb"\A(?:(?:Return-Path|Received): [^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*)*", b"", stored)
    report = email.message_from_bytes(content, policy=email.policy.default)
    assert report.get_content_type() == "multipart/report", report.get_content_type()
    assert report.get_param("report-type") == "delivery-status", report["Content-Type"]
    assert f"MAILER-DAEMON@{HOSTNAME}".lower() in str(report["From"]).lower(), report["From"]
    assert report["To"] and ALICE in str(report["To"]), report["To"]
    assert report["Date"] and report["Message-ID"], "a DSN is a complete message (Date, Message-ID)"
    parts = report.get_payload()
    assert len(parts) >= 2, [p.get_content_type() for p in parts]
    assert parts[0].get_content_type() == "text/plain", parts[0].get_content_type()
    status = parts[1]
    assert status.get_content_type() == "message/delivery-status", status.get_content_type()
    blocks = status.get_payload()
    assert len(blocks) >= 2, blocks
    assert str(blocks[0]["Reporting-MTA"]).replace(" ", "").lower() == f"dns;{HOSTNAME}", blocks[0]
    return report, blocks


def assert_null_sender(stored: bytes) -> None:
    """A DSN's envelope sender is <> (RFC 3461 §6.2, RFC 5321 §4.5.5); in a mailbox that
    shows as the Return-Path field final delivery adds (RFC 5321 §4.4)."""
    match = re.match(rb"\AReturn-Path: <([^>\r\n]*)>\r\n", stored)
    assert match, f"a message in a mailbox starts with Return-Path (RFC 5321 §4.4): {stored[:200]!r}"
    assert match.group(1) == b"", f"a DSN is sent with the null sender, not <{match.group(1).decode()}>"


def recipient_block(blocks, address: str) -> email.message.Message:
    for block in blocks[1:]:
        if block["Final-Recipient"] and address.lower() in str(block["Final-Recipient"]).lower():
            return block
    raise AssertionError(f"no per-recipient block for {address}: {[dict(b) for b in blocks[1:]]}")


def returned_original(report: email.message.EmailMessage) -> bytes:
    """The third part: the returned message (message/rfc822) or its header (text/rfc822-headers)."""
    parts = report.get_payload()
    assert len(parts) >= 3, "the DSN returns the original message or its header"
    third = parts[2]
    assert third.get_content_type() in ("message/rfc822", "text/rfc822-headers"), third.get_content_type()
    if third.get_content_type() == "message/rfc822":
        return third.get_payload()[0].as_bytes()
    return third.get_payload(decode=True) or third.get_content().encode()


def bounces(server, user: str = ALICE) -> list[bytes]:
    return [m for m in inbox(server, user) if b"multipart/report" in m.split(b"\r\n\r\n", 1)[0]]


# --------------------------------------------------------------------------------------
# Happy paths
# --------------------------------------------------------------------------------------

def test_delivers_to_aiosmtpd_over_starttls(start_server, lab):
    peer = lab.sink("remote.test", starttls=True)
    server, _ = start(start_server, lab)
    first = message("outbound 1", b"Line one.\r\n.A dot line.\r\n..Two dots.\r\nEnd.\r\n",
                    sender=ALICE, to="bob@remote.test")
    second = message("outbound 2", "Grüße, 8-bit.\r\n".encode(), sender=ALICE, to="carol@remote.test",
                     extra=b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n")
    submit(server, ["bob@remote.test", "carol@remote.test"], first)
    submit(server, ["carol@remote.test"], second, mail_options=["BODY=8BITMIME"])

    wait_for(lambda: len(peer.messages_for("bob@remote.test")) >= 1 and
             len(peer.messages_for("carol@remote.test")) >= 2, WAIT, interval=0.2,
             message="both messages at the peer")
    time.sleep(1)  # a duplicate would show up now
    assert len(peer.messages_for("bob@remote.test")) == 1
    assert len(peer.messages_for("carol@remote.test")) == 2
    for received in peer.messages:
        assert received.tls and received.tls_version in ("TLSv1.2", "TLSv1.3"), received
        assert received.ehlo == HOSTNAME, received.ehlo
        assert received.mail_from == ALICE, received.mail_from
        assert received.auth_user is None
        original = second if b"outbound 2" in received.data else first
        assert_relayed_intact(received.data, original)
    eight_bit = next(r for r in peer.messages if b"outbound 2" in r.data)
    assert "BODY=8BITMIME" in eight_bit.mail_options, eight_bit.mail_options
    # Every EHLO (before and after STARTTLS) names the server's hostname.
    assert peer.ehlo_names and set(peer.ehlo_names) == {HOSTNAME}

    for address in ("bob@remote.test", "carol@remote.test"):
        wait_until_delivered(server, address)
    # Counted per recipient or per transaction: at least the two transactions.
    assert metric_at_least(server, "postamt_outbound_deliveries_total", 2, result="delivered") >= 2
    assert metric_samples(metrics_text(server), "postamt_queue_recipients"), "the queue gauge is exported"
    wait_for(lambda: metric_sum(server, "postamt_queue_recipients", state="queued") == 0 and
             metric_sum(server, "postamt_queue_recipients", state="deferred") == 0, WAIT, interval=0.5,
             message="the queue gauges back at 0")
    assert inbox(server) == [], "no bounce for delivered mail"


@pytest.mark.slow
def test_delivers_to_a_private_postfix_with_tls(start_server, lab):
    postfix = lab.postfix("remote.test", ["bob", "carol"])
    server, _ = start(start_server, lab)
    body = (b"Plain line.\r\n.Leading dot.\r\n..Two leading dots.\r\n" + "Grüße 8-bit.\r\n".encode() +
            b"x" * 900 + b"\r\n" + b"Tab\tand trailing space \r\nEnd.\r\n")
    sent = message("to postfix", body, sender=ALICE, to="bob@remote.test",
                   extra=b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n")
    submit(server, ["bob@remote.test", "carol@remote.test"], sent, mail_options=["BODY=8BITMIME"])

    try:
        delivered = {user: postfix.wait_for_messages(user) for user in ("bob", "carol")}
    except AssertionError as e:
        raise AssertionError(f"{e}\n--- postfix log ---\n{postfix.log()[-3000:]}\n"
                             f"--- postamt log ---\n{server.log_tail(40)}") from None
    for user, stored in delivered.items():
        assert len(stored) == 1, (user, len(stored))
        content = stored[0]
        # Maildir stores LF line ends; everything Postamt was given arrives unchanged.
        assert content.endswith(sent.replace(b"\r\n", b"\n")), content[-800:]
        assert content.startswith(f"Return-Path: <{ALICE}>\n".encode()), content[:200]
        received = postfix_received_fields(content)
        assert received, content[:800]
        # The newest Received field is Postfix's: from Postamt, over TLS.
        assert received[0].startswith(f"Received: from {HOSTNAME} "), received[0]
        assert "(using TLSv1." in received[0] and "with ESMTPS" in received[0], received[0]
        assert f"by {postfix.hostname} (Postfix)" in received[0], received[0]
    assert "status=sent" in postfix.log(), postfix.log()[-2000:]
    for address in ("bob@remote.test", "carol@remote.test"):
        wait_until_delivered(server, address)


@pytest.mark.slow
def test_unknown_user_at_postfix_bounces(start_server, lab):
    lab.postfix("remote.test", ["bob"])
    server, _ = start(start_server, lab)
    sent = message("to nobody", sender=ALICE, to="nobody@remote.test")
    submit(server, ["nobody@remote.test"], sent)
    bounce = wait_for_inbox(server)[0]
    report, blocks = parse_dsn(bounce)
    block = recipient_block(blocks, "nobody@remote.test")
    assert str(block["Action"]).strip().lower() == "failed", block
    assert str(block["Status"]).strip() == "5.1.1", block
    assert "550" in str(block["Diagnostic-Code"]) and "smtp" in str(block["Diagnostic-Code"]).lower(), block
    assert_null_sender(bounce)


def test_implicit_mx_uses_the_address_record(start_server, lab):
    """RFC 5321 §5.1: no MX records -> the domain's own A record is the mail host."""
    peer = lab.sink(None, hostname="implicit.test")
    lab.zone.set("implicit.test", a(peer.address))
    server, _ = start(start_server, lab)
    sent = message("implicit mx", sender=ALICE, to="bob@implicit.test")
    submit(server, ["bob@implicit.test"], sent)
    received = peer.wait_for_messages(1)[0]
    assert received.rcpt_tos == ["bob@implicit.test"]
    assert_relayed_intact(received.data, sent)


# --------------------------------------------------------------------------------------
# Temporary failures, retries
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
def test_temporary_failure_is_retried_then_delivered(start_server, lab, stage):
    peer = lab.sink("remote.test", scripts={"bob@remote.test": temporary(stage, times=2)})
    server, _ = start(start_server, lab, retry_initial_seconds=1, retry_max_seconds=2)
    sent = message(f"retry {stage}", sender=ALICE, to="bob@remote.test")
    started = time.monotonic()
    submit(server, ["bob@remote.test"], sent)

    _, recipient = wait_for_state(server, "bob@remote.test", {"deferred"})
    assert recipient["attempts"] >= 1, recipient
    assert "451" in (recipient["last_reply"] or ""), recipient

    received = peer.wait_for_messages(1)[0]
    elapsed = time.monotonic() - started
    assert_relayed_intact(received.data, sent)
    assert peer.replies(stage)[:2] == ["451 4.3.0 Try again later"] * 2, peer.replies(stage)
    # Two retries, each at least the retry delay after the attempt before it.
    attempts = [e.at for e in peer.events if e.stage == stage]
    assert len(attempts) == 3, peer.events
    assert attempts[1] - attempts[0] >= 0.9 and attempts[2] - attempts[1] >= 0.9, attempts
    assert elapsed < WAIT
    time.sleep(1)
    assert len(peer.messages) == 1, "delivered once"
    assert_not_pending(server, "bob@remote.test")
    assert metric_sum(server, "postamt_outbound_deliveries_total", result="deferred") >= 2
    assert inbox(server) == [], "a temporary failure sends no bounce"


def test_connection_refused_is_deferred(start_server, lab):
    lab.dead_mx("remote.test")
    server, _ = start(start_server, lab, retry_initial_seconds=300, retry_max_seconds=600)
    submit(server, ["bob@remote.test"], message("refused", sender=ALICE, to="bob@remote.test"))

    entry, recipient = wait_for_state(server, "bob@remote.test", {"deferred"})
    assert entry["sender"] == ALICE and entry["size"] > 0 and entry["id"] and entry["created_at"], entry
    assert recipient["attempts"] == 1, recipient
    next_attempt = recipient["next_attempt_at"]
    assert next_attempt, recipient
    assert metric_at_least(server, "postamt_queue_recipients", 1, state="deferred") >= 1
    assert metric_sum(server, "postamt_outbound_deliveries_total", result="deferred") >= 1
    assert metric_sum(server, "postamt_outbound_failures_total", domain="remote.test") >= 1
    time.sleep(QUIET)  # no retry before retry_initial_seconds, no bounce
    _, later = queued_recipient(server, "bob@remote.test")
    assert later["state"] == "deferred" and later["attempts"] == 1, later
    assert inbox(server) == []


def test_dns_servfail_is_deferred_and_flush_delivers_once_dns_recovers(start_server, lab):
    peer = lab.sink("remote.test")
    lab.zone.fail("remote.test")
    server, _ = start(start_server, lab, retry_initial_seconds=300, retry_max_seconds=600)
    sent = message("servfail", sender=ALICE, to="bob@remote.test")
    submit(server, ["bob@remote.test"], sent)

    _, recipient = wait_for_state(server, "bob@remote.test", {"deferred"})
    assert recipient["attempts"] >= 1, recipient
    assert ("remote.test", "MX") in lab.zone.queries(), lab.zone.queries()
    assert peer.messages == [] and peer.ehlo_names == []
    assert inbox(server) == [], "SERVFAIL is temporary: no bounce"

    lab.zone.heal("remote.test")
    queue_command(server, "flush")   # retry now, although the next attempt is minutes away
    received = peer.wait_for_messages(1)[0]
    assert_relayed_intact(received.data, sent)
    wait_until_delivered(server, "bob@remote.test")


def test_dns_timeout_is_deferred(start_server, lab):
    lab.sink("remote.test")
    lab.zone.silence("remote.test")
    server, _ = start(start_server, lab, retry_initial_seconds=300, retry_max_seconds=600)
    submit(server, ["bob@remote.test"], message("dns timeout", sender=ALICE, to="bob@remote.test"))
    wait_for_state(server, "bob@remote.test", {"deferred"})
    assert inbox(server) == []


# --------------------------------------------------------------------------------------
# Permanent failures: bounces (RFC 3464)
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
def test_permanent_failure_bounces_into_the_senders_inbox(start_server, lab, stage):
    peer = lab.sink("remote.test", scripts={
        "bob@remote.test": permanent(stage, 550, "5.1.1", "bob does not live here")})
    server, _ = start(start_server, lab)
    sent = message(f"doomed {stage}", b"The body.\r\n", sender=ALICE, to="bob@remote.test")
    recipients = ["bob@remote.test"] if stage == "DATA" else ["bob@remote.test", "carol@remote.test"]
    submit(server, recipients, sent)

    bounce = wait_for_inbox(server)[0]
    report, blocks = parse_dsn(bounce)
    block = recipient_block(blocks, "bob@remote.test")
    assert str(block["Final-Recipient"]).replace(" ", "").lower() == "rfc822;bob@remote.test", block
    assert str(block["Action"]).strip().lower() == "failed", block
    assert str(block["Status"]).strip() == "5.1.1", block
    diagnostic = re.sub(r"\s+", " ", str(block["Diagnostic-Code"]))
    assert diagnostic.lower().startswith("smtp;"), diagnostic
    assert "550" in diagnostic and "bob does not live here" in diagnostic, diagnostic
    assert block["Remote-MTA"] is None or "dns;" in str(block["Remote-MTA"]).replace(" ", "").lower()
    assert b"Subject: doomed " + stage.encode() in returned_original(report)
    assert f"doomed {stage}" in str(report.get_payload()[0].get_content()) or \
        "bob@remote.test" in str(report.get_payload()[0].get_content())

    if stage == "RCPT":
        # The other recipient of the same message was delivered; only bob bounced.
        received = peer.wait_for_messages(1)[0]
        assert received.rcpt_tos == ["carol@remote.test"], received.rcpt_tos
        with pytest.raises(AssertionError):
            recipient_block(blocks, "carol@remote.test")
    found = queued_recipient(server, "bob@remote.test")
    assert found is None or found[1]["state"] == "bounced", found
    assert metric_sum(server, "postamt_outbound_deliveries_total", result="bounced") >= 1
    time.sleep(2)
    assert len(bounces(server)) == 1, "one bounce, not one per attempt"
    assert_null_sender(bounce)


def test_a_bounce_for_forwarded_mail_returns_the_header_only(start_server, lab):
    """Issue 13 §5, backscatter: mail that came in from outside for an alias forwarding to
    a remote address that cannot take it bounces to its (often forged) sender with the
    header only, even with RET=FULL; mail a local user sent out directly still comes back
    whole."""
    lab.zone.set("far.test", null_mx())             # the forwarding target takes no mail
    sender_mx = lab.sink("sender.test")             # where the bounce to the outside sender goes
    server, _ = start(start_server, lab)
    done = server.cli("alias", "add", "forward@example.test", "friend@far.test")
    assert done.returncode == 0, done.stderr

    forwarded = message("forwarded", b"BODY-OF-FORWARDED-MAIL\r\n", sender="someone@sender.test",
                        to="forward@example.test")
    client = smtplib_client(server, "smtp")
    assert client.sendmail("someone@sender.test", ["forward@example.test"], forwarded,
                           mail_options=["RET=FULL"]) == {}
    client.quit()
    bounce = sender_mx.wait_for_messages(1)[0]
    assert bounce.mail_from in ("", "<>") and bounce.rcpt_tos == ["someone@sender.test"], bounce
    report = email.message_from_bytes(bounce.data, policy=email.policy.default)
    assert report.get_content_type() == "multipart/report", report.get_content_type()
    returned = report.get_payload()[2]
    assert returned.get_content_type() == "text/rfc822-headers", returned.get_content_type()
    assert b"Subject: forwarded" in returned_original(report)
    assert b"BODY-OF-FORWARDED-MAIL" not in bounce.data, "the forwarded body must not be reflected"
    block = recipient_block(report.get_payload()[1].get_payload(), "friend@far.test")
    assert "forward@example.test" in str(block["Original-Recipient"]).lower(), block

    # The same failure for mail alice sent herself returns all of it (RET=FULL).
    direct = message("direct", b"BODY-OF-DIRECT-MAIL\r\n", sender=ALICE, to="friend@far.test")
    submit(server, ["friend@far.test"], direct, mail_options=["RET=FULL"])
    own = wait_for_inbox(server)[0]
    own_report, _ = parse_dsn(own)
    assert own_report.get_payload()[2].get_content_type() == "message/rfc822"
    assert b"BODY-OF-DIRECT-MAIL" in returned_original(own_report)


def test_null_mx_bounces_without_connecting(start_server, lab):
    """RFC 7505 §4.1: a null MX means the domain takes no mail: fail at once (5.1.10)."""
    lab.zone.set("nomail.test", null_mx(), a(lab.take_address()))
    server, _ = start(start_server, lab)
    submit(server, ["bob@nomail.test"], message("null mx", sender=ALICE, to="bob@nomail.test"))
    bounce = wait_for_inbox(server)[0]
    report, blocks = parse_dsn(bounce)
    block = recipient_block(blocks, "bob@nomail.test")
    assert str(block["Action"]).strip().lower() == "failed", block
    assert str(block["Status"]).strip() == "5.1.10", block
    found = queued_recipient(server, "bob@nomail.test")
    assert found is None or found[1]["state"] == "bounced", found
    assert_null_sender(bounce)


def test_a_domain_whose_mail_exchangers_have_no_address_bounces(start_server, lab):
    """RFC 5321 §5.1: no usable address for any MX (a name that does not exist, or one
    without A/AAAA records) is reported as an error, not retried for days."""
    lab.zone.set("noaddr.test", mx(10, "ghost.noaddr.test"), mx(20, "bare.noaddr.test"))
    lab.zone.set("bare.noaddr.test", mx(10, "elsewhere.test"))   # exists, but has no A/AAAA
    server, _ = start(start_server, lab)
    submit(server, ["bob@noaddr.test"], message("no address", sender=ALICE, to="bob@noaddr.test"))
    bounce = wait_for_inbox(server)[0]
    _, blocks = parse_dsn(bounce)
    block = recipient_block(blocks, "bob@noaddr.test")
    assert str(block["Action"]).strip().lower() == "failed", block
    assert str(block["Status"]).strip() == "5.4.4", block


def test_mx_pointing_back_at_this_server_bounces_as_a_loop(start_server, lab):
    """RFC 5321 §5.1: our own name among the MX hosts ends the list; nothing left is a loop."""
    backup = lab.sink()   # less preferred than us: must not be used
    lab.zone.set("loop.test", mx(10, HOSTNAME), mx(20, "backup.loop.test"))
    lab.zone.set("backup.loop.test", a(backup.address))
    server, _ = start(start_server, lab)
    submit(server, ["bob@loop.test"], message("loop", sender=ALICE, to="bob@loop.test"))
    bounce = wait_for_inbox(server)[0]
    _, blocks = parse_dsn(bounce)
    block = recipient_block(blocks, "bob@loop.test")
    assert str(block["Status"]).strip() == "5.4.6", block
    assert backup.messages == [] and backup.ehlo_names == [], "a less preferred MX than ourselves is never used"


def test_expired_mail_bounces_after_the_queue_lifetime(start_server, lab):
    lab.dead_mx("remote.test")
    server, _ = start(start_server, lab, retry_initial_seconds=1, retry_max_seconds=2,
                      max_queue_lifetime_seconds=6)
    submit(server, ["bob@remote.test"], message("expiring", sender=ALICE, to="bob@remote.test"))
    wait_for_state(server, "bob@remote.test", {"deferred"})
    bounce = wait_for_inbox(server)[0]
    report, blocks = parse_dsn(bounce)
    block = recipient_block(blocks, "bob@remote.test")
    assert str(block["Action"]).strip().lower() == "failed", block
    assert re.fullmatch(r"[45]\.\d{1,3}\.\d{1,3}", str(block["Status"]).strip()), block
    found = queued_recipient(server, "bob@remote.test")
    assert found is None or (found[1]["state"] == "bounced" and found[1]["attempts"] >= 2), found
    assert_null_sender(bounce)


def test_mail_from_the_null_sender_is_never_bounced(start_server, lab):
    peer = lab.sink("remote.test", scripts={"*": permanent("RCPT", 550, "5.1.1", "no such user")})
    server, _ = start(start_server, lab, extra={"smtp": {"relay_networks": ["127.0.0.0/8"]}})
    client = smtplib_client(server, "smtp")
    assert client.sendmail("<>", ["bob@remote.test"], message("a bounce", sender="mailer-daemon@example.org",
                                                               to="bob@remote.test")) == {}
    client.quit()
    peer.wait_for_event("RCPT")
    time.sleep(QUIET)
    assert inbox(server) == []
    # No new message was queued for the null sender (nor for anyone).
    leftovers = [e for e in queue_list(server) if any(r["state"] != "bounced" for r in e["recipients"])]
    assert leftovers == [], leftovers


# --------------------------------------------------------------------------------------
# MX choice
# --------------------------------------------------------------------------------------

def test_mx_preference_order(start_server, lab):
    backup = lab.sink("remote.test", preference=20, hostname="mx-backup.remote.test")
    primary = lab.sink("remote.test", preference=10, hostname="mx-primary.remote.test")
    server, _ = start(start_server, lab)
    for n in range(3):
        submit(server, [f"user{n}@remote.test"], message(f"pref {n}", sender=ALICE, to=f"user{n}@remote.test"))
    primary.wait_for_messages(3)
    assert backup.messages == [] and backup.ehlo_names == [], "the backup MX was never needed"


def test_falls_back_to_the_second_mx_when_the_first_is_down(start_server, lab):
    lab.dead_mx("remote.test", preference=10)     # nothing listens there: connection refused
    second = lab.sink("remote.test", preference=20)
    server, _ = start(start_server, lab)
    sent = message("fallback", sender=ALICE, to="bob@remote.test")
    submit(server, ["bob@remote.test"], sent)
    received = second.wait_for_messages(1)[0]
    assert_relayed_intact(received.data, sent)
    wait_until_delivered(server, "bob@remote.test")
    assert inbox(server) == []


# --------------------------------------------------------------------------------------
# Durability: restart, SIGKILL
# --------------------------------------------------------------------------------------

def test_deferred_mail_is_delivered_after_a_restart(start_server, lab):
    peer = lab.sink("remote.test", scripts={"bob@remote.test": temporary("RCPT", times=1)})
    server, sections = start(start_server, lab, retry_initial_seconds=4, retry_max_seconds=4)
    sent = message("across restart", sender=ALICE, to="bob@remote.test")
    submit(server, ["bob@remote.test"], sent)
    wait_for_state(server, "bob@remote.test", {"deferred"})
    assert server.stop().returncode == 0
    assert peer.messages == []

    restarted = start_server(directory=server.directory, **sections)
    _, recipient = queued_recipient(restarted, "bob@remote.test")
    assert recipient["state"] == "deferred" and recipient["attempts"] >= 1, recipient
    received = peer.wait_for_messages(1)[0]
    assert_relayed_intact(received.data, sent)
    time.sleep(1)
    assert len(peer.messages) == 1
    wait_until_delivered(restarted, "bob@remote.test")


@pytest.mark.parametrize("peer_answer", [
    # The peer fails the interrupted transaction: only the retry after the restart delivers.
    Reply("DATA", 451, "4.3.0", "Interrupted", times=1, delay=8),
    # The peer kept the interrupted transaction before replying: the retry after the
    # restart delivers a duplicate, which is allowed (at least once, never lost).
    slow(8, times=1),
], ids=["interrupted-transaction-fails", "interrupted-transaction-kept"])
def test_sigkill_during_delivery_delivers_at_least_once(start_server, lab, peer_answer):
    peer_answer = dataclasses.replace(peer_answer, used=0)   # a fresh copy for every run
    peer = lab.sink("remote.test", scripts={"*": peer_answer})
    server, sections = start(start_server, lab, retry_initial_seconds=1, retry_max_seconds=2,
                             command_timeout_seconds=30)
    sent = message("killed mid-delivery", sender=ALICE, to="bob@remote.test")
    submit(server, ["bob@remote.test"], sent)
    peer.wait_for_event("DATA-RECEIVED")      # the data is there, the reply is pending
    server.crash()                            # SIGKILL before the server hears the reply

    restarted = start_server(directory=server.directory, **sections)
    messages = peer.wait_for_messages(1, what="the message at the peer after the restart")
    for received in messages:
        assert_relayed_intact(received.data, sent)
    wait_until_delivered(restarted, "bob@remote.test")
    # The data arrived twice: before the kill and again from the restarted server.
    assert len(peer.wait_for_event("DATA-RECEIVED", count=2)) >= 2, "the server retried after the restart"
    if peer_answer.code < 400:
        assert len(peer.messages) >= 2, "the interrupted transaction and the retry both arrived"
    assert bounces(restarted) == []


# --------------------------------------------------------------------------------------
# The queue CLI on a running server
# --------------------------------------------------------------------------------------

def test_hold_keeps_a_message_and_release_lets_it_go(start_server, lab):
    peer = lab.sink("remote.test", scripts={"bob@remote.test": temporary("RCPT", times=1)})
    server, _ = start(start_server, lab, retry_initial_seconds=2, retry_max_seconds=2)
    sent = message("held", sender=ALICE, to="bob@remote.test")
    submit(server, ["bob@remote.test"], sent)
    entry, _ = wait_for_state(server, "bob@remote.test", {"deferred"})

    queue_command(server, "hold", str(entry["id"]))
    _, recipient = wait_for_state(server, "bob@remote.test", {"held"}, timeout=10)
    assert metric_at_least(server, "postamt_queue_recipients", 1, state="held") >= 1
    time.sleep(QUIET)   # three retry periods: a held message is not tried
    assert peer.messages == [], "a held message was delivered"
    assert len(peer.replies("RCPT")) == 1, peer.events
    server.cli("queue", "flush", str(entry["id"]))   # not even when flushed (refusing is fine too)
    time.sleep(2)
    assert peer.messages == []
    assert queued_recipient(server, "bob@remote.test")[1]["state"] == "held"

    queue_command(server, "release", str(entry["id"]))
    received = peer.wait_for_messages(1)[0]
    assert_relayed_intact(received.data, sent)


def test_flush_retries_now(start_server, lab):
    address = lab.dead_mx("remote.test")
    server, _ = start(start_server, lab, retry_initial_seconds=3600, retry_max_seconds=7200)
    sent = message("flushed", sender=ALICE, to="bob@remote.test")
    submit(server, ["bob@remote.test"], sent)
    entry, _ = wait_for_state(server, "bob@remote.test", {"deferred"})
    peer = lab.sink(address=address, hostname="mx.remote.test")   # the MX comes up
    time.sleep(2)
    assert peer.messages == [], "retried long before the next attempt time"
    queue_command(server, "flush", str(entry["id"]))
    received = peer.wait_for_messages(1)[0]
    assert_relayed_intact(received.data, sent)


def test_delete_removes_a_message_for_good(start_server, lab):
    address = lab.dead_mx("remote.test")
    server, _ = start(start_server, lab, retry_initial_seconds=2, retry_max_seconds=2)
    submit(server, ["bob@remote.test"], message("deleted", sender=ALICE, to="bob@remote.test"))
    entry, _ = wait_for_state(server, "bob@remote.test", {"deferred"})
    queue_command(server, "delete", str(entry["id"]))
    assert queued_recipient(server, "bob@remote.test") is None, queue_list(server)
    peer = lab.sink(address=address, hostname="mx.remote.test")
    queue_command(server, "flush")
    time.sleep(QUIET)
    assert peer.messages == [] and peer.replies("MAIL") == []
    assert inbox(server) == [], "a deleted message is not bounced"


def test_queue_commands_refuse_an_unknown_id(start_server, lab):
    server, _ = start(start_server, lab)
    for command in ("hold", "release", "delete", "flush"):
        done = server.cli("queue", command, "no-such-id")
        assert done.returncode != 0, (command, done.stdout)
        assert done.stderr.strip(), command


# --------------------------------------------------------------------------------------
# TLS policy
# --------------------------------------------------------------------------------------

def test_tls_policies(start_server, lab):
    offered = lab.sink("offered.test", starttls=True)
    plain = lab.sink("plain.test", starttls=False)
    no_tls = lab.sink("notls.test", starttls=True)
    secure = lab.sink("secure.test", starttls=False)
    server, _ = start(start_server, lab, tls="opportunistic", retry_initial_seconds=300,
                      retry_max_seconds=600,
                      tls_policy={"secure.test": "required", "notls.test": "none"})
    recipients = ["a@offered.test", "b@plain.test", "c@notls.test", "d@secure.test"]
    sent = message("tls policies", sender=ALICE, to="a@offered.test")
    submit(server, recipients, sent)

    assert offered.wait_for_messages(1)[0].tls, "STARTTLS is used when offered"
    assert not plain.wait_for_messages(1)[0].tls, "opportunistic: delivered in clear without STARTTLS"
    assert not no_tls.wait_for_messages(1)[0].tls, 'policy "none": no STARTTLS although offered'
    _, recipient = wait_for_state(server, "d@secure.test", {"deferred"})
    assert recipient["attempts"] >= 1, recipient
    assert secure.messages == [] and secure.replies("MAIL") == [], \
        'policy "required": no transaction without TLS'
    assert inbox(server) == [], "a missing STARTTLS is a temporary failure"


def test_failed_opportunistic_tls_falls_back_to_the_clear(start_server, lab):
    """RFC 7435 §3: a handshake that fails under opportunistic TLS does not stop delivery;
    the same host gets the mail without STARTTLS. Under "required" it stays queued."""
    broken = lab.sink("broken.test", starttls=True, broken_tls=True)
    strict = lab.sink("strict.test", starttls=True, broken_tls=True)
    server, _ = start(start_server, lab, retry_initial_seconds=300, retry_max_seconds=600,
                      tls_policy={"strict.test": "required"})
    submit(server, ["a@broken.test", "b@strict.test"], message("tls fallback", sender=ALICE, to="a@broken.test"))

    received = broken.wait_for_messages(1)
    assert not received[0].tls, "delivered in the clear after the failed handshake"
    # The first connection ended in the failed handshake; the second one carried the mail.
    assert len(broken.ehlo_names) >= 2, broken.ehlo_names
    _, recipient = wait_for_state(server, "b@strict.test", {"deferred"})
    assert "TLS" in recipient["last_reply"], recipient
    assert strict.messages == [], 'policy "required": no delivery after a failed handshake'
    assert inbox(server) == []


def test_global_required_tls_defers_a_peer_without_starttls(start_server, lab):
    secure = lab.sink("remote.test", starttls=True)
    plain = lab.sink("plain.test", starttls=False)
    server, _ = start(start_server, lab, tls="required", retry_initial_seconds=300, retry_max_seconds=600)
    submit(server, ["a@remote.test", "b@plain.test"], message("required", sender=ALICE, to="a@remote.test"))
    assert secure.wait_for_messages(1)[0].tls
    wait_for_state(server, "b@plain.test", {"deferred"})
    assert plain.messages == []


# --------------------------------------------------------------------------------------
# Relay host (smart host) with AUTH
# --------------------------------------------------------------------------------------

def test_relayhost_with_auth_receives_everything(start_server, lab):
    relay = lab.sink(None, hostname="smarthost.test", starttls=True,
                     auth={"relayuser": "relay-secret"}, auth_required=True)
    lab.zone.set("smarthost.test", a(relay.address))
    # The destination domains have no DNS at all: only the relay host can take the mail.
    # Its certificate is verified against the CA file, by name (smarthost.test).
    server, _ = start(start_server, lab, relayhost=f"smarthost.test:{lab.port}",
                      relayhost_user="relayuser", relayhost_password="relay-secret",
                      relayhost_ca_file=str(relay.cert_path))
    sent = message("via relay", sender=ALICE, to="x@far.test")
    submit(server, ["x@far.test", "y@elsewhere.test"], sent)
    wait_for(lambda: {r.lower() for m in relay.messages for r in m.rcpt_tos} >=
             {"x@far.test", "y@elsewhere.test"}, WAIT, interval=0.2, message="both recipients at the relay")
    for received in relay.messages:
        assert received.tls, "AUTH PLAIN only over TLS"
        assert received.auth_user == "relayuser", received.auth_user
        assert_relayed_intact(received.data, sent)
    assert not [q for q in lab.zone.queries() if q[0] in ("far.test", "elsewhere.test")], lab.zone.queries()


def test_relayhost_refusing_the_credentials_defers(start_server, lab):
    relay = lab.sink(None, hostname="smarthost.test", starttls=True,
                     auth={"relayuser": "the-real-secret"}, auth_required=True)
    server, _ = start(start_server, lab, relayhost=f"{relay.address}:{lab.port}",
                      relayhost_user="relayuser", relayhost_password="wrong",
                      relayhost_tls_fingerprint=relay.cert_sha256(),
                      retry_initial_seconds=300, retry_max_seconds=600)
    submit(server, ["x@far.test"], message("bad relay auth", sender=ALICE, to="x@far.test"))
    _, recipient = wait_for_state(server, "x@far.test", {"deferred", "bounced"})
    assert relay.messages == []
    assert relay.auth_attempts >= 1, "the pinned certificate verified, so the credentials went out"
    assert recipient["state"] == "deferred", "an AUTH failure at the relay host is not the recipient's fault"


def test_relayhost_credentials_never_go_to_an_untrusted_certificate(start_server, lab):
    """Issue 13 §5: the relay host's certificate is verified before AUTH; a self-signed one
    that no CA file or pin vouches for gets no credentials, and the mail waits with the reason."""
    relay = lab.sink(None, hostname="smarthost.test", starttls=True,
                     auth={"relayuser": "relay-secret"}, auth_required=True)
    lab.zone.set("smarthost.test", a(relay.address))
    server, _ = start(start_server, lab, relayhost=f"smarthost.test:{lab.port}",
                      relayhost_user="relayuser", relayhost_password="relay-secret",
                      retry_initial_seconds=300, retry_max_seconds=600)
    submit(server, ["x@far.test"], message("untrusted relay", sender=ALICE, to="x@far.test"))
    _, recipient = wait_for_state(server, "x@far.test", {"deferred", "bounced"})
    assert recipient["state"] == "deferred", recipient
    reply = recipient["last_reply"]
    assert "certificate" in reply and "no credentials were sent" in reply, reply
    assert relay.auth_attempts == 0 and relay.messages == [], (relay.auth_attempts, relay.events)
    assert "tls.peer_unverified" in server.log_text(), server.log_tail()
    assert "no credentials were sent" in server.log_text()


def test_relayhost_credentials_never_go_out_in_the_clear(start_server, lab):
    """A relay host without STARTTLS (offering AUTH in the clear) gets no credentials."""
    relay = lab.sink(None, hostname="smarthost.test", starttls=False,
                     auth={"relayuser": "relay-secret"}, auth_required=True)
    server, _ = start(start_server, lab, relayhost=f"{relay.address}:{lab.port}",
                      relayhost_user="relayuser", relayhost_password="relay-secret", tls="none",
                      retry_initial_seconds=300, retry_max_seconds=600)
    submit(server, ["x@far.test"], message("clear relay", sender=ALICE, to="x@far.test"))
    _, recipient = wait_for_state(server, "x@far.test", {"deferred", "bounced"})
    assert recipient["state"] == "deferred", recipient
    assert "TLS" in recipient["last_reply"], recipient
    assert relay.auth_attempts == 0 and relay.messages == [], relay.auth_attempts


def test_relayhost_with_a_pinned_certificate(start_server, lab):
    """outbound.relayhost_tls_fingerprint vouches for a self-signed relay host; another pin
    does not."""
    relay = lab.sink(None, hostname="smarthost.test", starttls=True,
                     auth={"relayuser": "relay-secret"}, auth_required=True)
    server, _ = start(start_server, lab, relayhost=f"{relay.address}:{lab.port}",
                      relayhost_user="relayuser", relayhost_password="relay-secret",
                      relayhost_tls_fingerprint=relay.cert_sha256().lower())
    submit(server, ["x@far.test"], message("pinned relay", sender=ALICE, to="x@far.test"))
    received = relay.wait_for_messages(1)[0]
    assert received.tls and received.auth_user == "relayuser", received


def test_relayhost_with_a_wrong_pin_defers(start_server, lab):
    relay = lab.sink(None, hostname="smarthost.test", starttls=True,
                     auth={"relayuser": "relay-secret"}, auth_required=True)
    server, _ = start(start_server, lab, relayhost=f"{relay.address}:{lab.port}",
                      relayhost_user="relayuser", relayhost_password="relay-secret",
                      relayhost_tls_fingerprint="ab" * 32,
                      retry_initial_seconds=300, retry_max_seconds=600)
    submit(server, ["x@far.test"], message("wrong pin", sender=ALICE, to="x@far.test"))
    _, recipient = wait_for_state(server, "x@far.test", {"deferred", "bounced"})
    assert recipient["state"] == "deferred" and "certificate" in recipient["last_reply"], recipient
    assert relay.auth_attempts == 0 and relay.messages == []
    assert "fingerprint does not match" in server.log_text()


# --------------------------------------------------------------------------------------
# Destinations that are not on the Internet
# --------------------------------------------------------------------------------------

def test_an_mx_on_a_loopback_address_is_refused_unless_allowed(start_server, lab, tmp_path):
    """Issue 13 §5: an MX that leads to loopback (or private, link-local...) is not
    connected to; the mail waits with the reason. outbound.allow_private_destinations
    (which every other test here sets) lets it through."""
    peer = lab.sink("remote.test")
    directory = tmp_path / "private-mx"
    server, _ = start(start_server, lab, directory=directory, allow_private_destinations=False,
                      retry_initial_seconds=300, retry_max_seconds=600)
    submit(server, ["bob@remote.test"], message("to a loopback MX", sender=ALICE, to="bob@remote.test"))
    _, recipient = wait_for_state(server, "bob@remote.test", {"deferred", "bounced"})
    assert recipient["state"] == "deferred", recipient
    reply = recipient["last_reply"]
    assert f"[{peer.address}] is a loopback address, not a public destination" in reply, reply
    assert "allow_private_destinations" in reply, reply
    assert "not a public destination" in server.log_text()
    assert peer.messages == [] and peer.ehlo_names == [], "no connection was made"

    server.stop()
    sections = lab.sections(allow_private_destinations=True)
    again = start_server(directory=directory, **sections)
    queue_command(again, "flush")
    peer.wait_for_messages(1)
    wait_until_delivered(again, "bob@remote.test")
# --------------------------------------------------------------------------------------
# Extensions: 8BITMIME, SMTPUTF8, DSN
# --------------------------------------------------------------------------------------

def test_eight_bit_mail_to_a_peer_without_8bitmime(start_server, lab):
    """RFC 6152 §3: 8-bit data only to a server that offers 8BITMIME; Postamt converts the
    text to quoted-printable, or bounces (both allowed by the RFC)."""
    peer = lab.sink("remote.test", eightbitmime=False)
    server, _ = start(start_server, lab)
    text = "Grüße aus Köln, ½ € – 8-bit.\r\n"
    sent = message("eight bit", text.encode(), sender=ALICE, to="bob@remote.test",
                   extra=b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n")
    submit(server, ["bob@remote.test"], sent, mail_options=["BODY=8BITMIME"])

    wait_for(lambda: peer.messages or bounces(server), WAIT, interval=0.5, message="delivery or bounce")
    if peer.messages:
        received = peer.messages[0]
        assert "BODY=8BITMIME" not in received.mail_options, received.mail_options
        assert all(byte < 0x80 for byte in received.data), "8-bit data sent to a 7-bit server"
        decoded = received.message()
        assert decoded.get_content().replace("\r\n", "\n") == text.replace("\r\n", "\n")
        assert decoded["Subject"] == "eight bit"
    else:
        bounce = bounces(server)[0]
        _, blocks = parse_dsn(bounce)
        block = recipient_block(blocks, "bob@remote.test")
        assert str(block["Action"]).strip().lower() == "failed", block
        assert str(block["Status"]).startswith("5."), block
        assert_null_sender(bounce)


def test_utf8_envelope_to_a_peer_without_smtputf8_bounces(start_server, lab):
    """RFC 6531 §3.4: a UTF-8 address cannot be downgraded: the message bounces."""
    peer = lab.sink("remote.test", smtputf8=False)
    server, _ = start(start_server, lab)
    recipient = "jörg@remote.test"
    sent = message("utf8 envelope", sender=ALICE, to="joerg@remote.test")
    submit(server, [recipient], sent, mail_options=["SMTPUTF8"])
    bounce = wait_for_inbox(server)[0]
    _, blocks = parse_dsn(bounce)
    block = next(b for b in blocks[1:] if "remote.test" in str(b["Final-Recipient"]))
    assert str(block["Action"]).strip().lower() == "failed", block
    assert str(block["Status"]).startswith("5."), block
    assert peer.messages == []
    assert_null_sender(bounce)


def test_utf8_envelope_to_a_peer_with_smtputf8(start_server, lab):
    peer = lab.sink("remote.test", smtputf8=True)
    server, _ = start(start_server, lab)
    recipient = "jörg@remote.test"
    sent = message("utf8 envelope ok", sender=ALICE, to="joerg@remote.test")
    submit(server, [recipient], sent, mail_options=["SMTPUTF8"])
    received = peer.wait_for_messages(1)[0]
    assert received.rcpt_tos == [recipient], received.rcpt_tos
    assert "SMTPUTF8" in received.mail_options, received.mail_options


def test_dsn_parameters_are_passed_on_when_the_peer_offers_dsn(start_server, lab):
    peer = lab.sink("remote.test", dsn=True)
    server, _ = start(start_server, lab)
    sent = message("dsn params", sender=ALICE, to="bob@remote.test")
    submit(server, ["bob@remote.test"], sent, mail_options=["RET=HDRS", "ENVID=envelope-17"],
           rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;bob@remote.test"])
    received = peer.wait_for_messages(1)[0]
    # aiosmtpd upper-cases the parameters it records.
    assert "RET=HDRS" in received.mail_options and "ENVID=ENVELOPE-17" in received.mail_options, \
        received.mail_options
    assert "NOTIFY=SUCCESS,FAILURE" in received.rcpt_options[0], received.rcpt_options
    assert "ORCPT=RFC822;BOB@REMOTE.TEST" in received.rcpt_options[0], received.rcpt_options
    time.sleep(2)
    assert bounces(server) == [], "the peer speaks DSN: success notices are its business"


def test_notify_success_to_a_peer_without_dsn_sends_a_relayed_notice(start_server, lab):
    """RFC 3461 §5.2.2/§6.2.2: relaying NOTIFY=SUCCESS to a server without DSN -> a
    "relayed" DSN to the sender."""
    peer = lab.sink("remote.test", dsn=False)
    server, _ = start(start_server, lab)
    sent = message("notify success", sender=ALICE, to="bob@remote.test")
    submit(server, ["bob@remote.test"], sent, rcpt_options=["NOTIFY=SUCCESS"])
    received = peer.wait_for_messages(1)[0]
    assert not any(o.startswith("NOTIFY=") for o in received.rcpt_options[0]), received.rcpt_options
    bounce = wait_for_inbox(server)[0]
    _, blocks = parse_dsn(bounce)
    block = recipient_block(blocks, "bob@remote.test")
    assert str(block["Action"]).strip().lower() == "relayed", block
    assert str(block["Status"]).startswith("2."), block
    assert_null_sender(bounce)


# --------------------------------------------------------------------------------------
# Several messages per connection
# --------------------------------------------------------------------------------------

def test_many_queued_messages_share_connections(start_server, lab):
    """Messages waiting for one domain go out over few connections (several per connection)."""
    peer = lab.sink("remote.test")
    lab.zone.fail("remote.test")   # hold everything back until all messages are queued
    server, _ = start(start_server, lab, max_connections=4, max_connections_per_domain=2,
                      retry_initial_seconds=300, retry_max_seconds=600)
    count = 12
    sent = {}
    for n in range(count):
        content = message(f"batch {n}", f"Message number {n}.\r\n".encode(), sender=ALICE,
                          to=f"user{n % 3}@remote.test")
        sent[f"batch {n}"] = content
        submit(server, [f"user{n % 3}@remote.test"], content)
    wait_for(lambda: sum(state == "deferred" for n in range(3)
                         for state in queue_states(server, f"user{n}@remote.test")) == count,
             WAIT, interval=0.5, message=f"all {count} messages deferred")
    lab.zone.heal("remote.test")
    queue_command(server, "flush")
    peer.wait_for_messages(count)
    time.sleep(1)
    got = {}
    for received in peer.messages:
        subject = received.message()["Subject"]
        assert subject not in got, f"{subject} delivered twice"
        got[subject] = received
        assert_relayed_intact(received.data, sent[subject])
    assert set(got) == set(sent)
    # Each connection says EHLO twice (before and after STARTTLS): fewer EHLOs than
    # 2 x messages means some connection carried several messages.
    connections = len(peer.ehlo_names) / 2
    assert connections < count, f"{connections:.0f} connections for {count} messages"
