"""Compromised accounts (issue 15 §6): per-account outbound limits, holds, notices and
`postamt security holds|release`, driven with real clients against the built server.

- An account sends past its hourly limit (5 here): the breach holds it. Its mail queued
  for a remote domain stays in the queue and never reaches the receiving peer (an aiosmtpd
  SinkPeer behind a private DNS zone, outbound_peers.py) while held; its next submission
  gets 451 4.7.1; the user and the postmaster find the notice in their INBOX (imaplib);
  `security holds` lists the hold; `security release` lets the held mail go out and
  submissions are accepted again.
- Successful logins from more distinct networks than allowed (source addresses 127.0.0.x,
  each its own /32 network here) hold the account too.

The server contract these tests rely on:
  [outbound_limits] messages_per_hour, notify, login_networks, login_prefix_v4,
                    login_window_seconds
  postamt security holds [--json] -> [{account, since, reason, detail, waiting_recipients}]
  postamt security release ACCOUNT (exit 0; 1 when not held)
  /metrics: postamt_security_holds_active, postamt_security_holds_total{reason}
  log: security.hold account=... reason=...
"""

from __future__ import annotations

import email
import email.policy
import json
import smtplib
import time

import pytest

from harness import (
    message,
    metric_sum,
    provision,
    smtplib_client,
    imaplib_login,
    wait_for,
)
from outbound_peers import OutboundLab, permanent, temporary

pytestmark = pytest.mark.timeout(170)

ALICE = "alice@example.test"
POSTMASTER = "postmaster@example.test"
REMOTE = "bob@remote.test"
WAIT = 30.0
QUIET = 6.0  # how long "nothing leaves" is watched: several retry rounds and queue scans


@pytest.fixture
def lab(tmp_path):
    with OutboundLab(tmp_path / "lab") as built:
        yield built


def start(start_server, lab: OutboundLab, **limits):
    sections = lab.sections()
    sections["outbound_limits"] = {"notify": POSTMASTER, **limits}
    server = start_server(**sections)
    provision(server, ["alice", "postmaster"])
    return server


def login(server, source_ip: str | None = None) -> smtplib.SMTP:
    host, port = server.address("submission")
    client = smtplib.SMTP(host, port, local_hostname="client.example.test", timeout=30,
                          source_address=(source_ip, 0) if source_ip else None)
    client.ehlo()
    client.login(ALICE, "pw-alice")
    return client


def try_submit(server, subject: str, source_ip: str | None = None) -> tuple[int, str]:
    """One message from alice to the remote recipient: (code, text) of the first refusal,
    or of the end of data."""
    client = login(server, source_ip)
    try:
        code, text = client.mail(ALICE)
        if code != 250:
            return code, text.decode()
        code, text = client.rcpt(REMOTE)
        if code != 250:
            return code, text.decode()
        code, text = client.data(message(subject, sender=ALICE, to=REMOTE))
        return code, text.decode()
    finally:
        client.quit()


def queue_states(server) -> list[str]:
    done = server.cli("queue", "list", "--json")
    assert done.returncode == 0, done.stderr
    return [r["state"] for entry in json.loads(done.stdout) for r in entry["recipients"]
            if r["address"].lower() == REMOTE]


def holds(server) -> list[dict]:
    done = server.cli("security", "holds", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def notices(user: str, server) -> list[email.message.EmailMessage]:
    """The hold notices in user's INBOX, read with imaplib."""
    client = imaplib_login(server, user)
    try:
        typ, _ = client.select("INBOX")
        assert typ == "OK"
        typ, data = client.search(None, "SUBJECT", "hold")
        assert typ == "OK"
        found = []
        for number in data[0].split():
            typ, fetched = client.fetch(number, "(BODY.PEEK[])")
            assert typ == "OK"
            found.append(email.message_from_bytes(fetched[0][1], policy=email.policy.default))
        return found
    finally:
        client.logout()


def test_hourly_limit_holds_the_queue_until_released(start_server, lab):
    peer = lab.sink("remote.test", starttls=False)
    # The remote side defers everything for now: the mail stays in our queue.
    peer.script("*", temporary("RCPT", times=None))
    server = start(start_server, lab, messages_per_hour=5)

    for i in range(5):
        code, text = try_submit(server, f"within the limit {i}")
        assert code == 250, (code, text)
    wait_for(lambda: len(queue_states(server)) == 5 and all(s == "deferred" for s in queue_states(server)),
             WAIT, interval=0.5, message="five deferred queue entries")

    # The sixth message is past the limit: the account is held at MAIL FROM.
    code, text = try_submit(server, "past the limit")
    assert code == 451, (code, text)
    assert text.startswith("4.7.1 Sending from this account is on hold: messages_per_hour"), text
    assert "contact " + POSTMASTER in text, text
    assert f"security.hold account={ALICE} reason=messages_per_hour" in server.log_text(), server.log_tail(40)

    # Further submissions are refused too, with a temporary error.
    code, text = try_submit(server, "still held")
    assert code == 451 and "on hold" in text, (code, text)

    listed = holds(server)
    assert [h["account"] for h in listed] == [ALICE], listed
    assert listed[0]["reason"] == "messages_per_hour", listed
    assert listed[0]["waiting_recipients"] == 5, listed
    plain = server.cli("security", "holds")
    assert plain.returncode == 0 and ALICE in plain.stdout and "messages_per_hour" in plain.stdout, plain

    # Notices: the user and the postmaster, each in their INBOX.
    user_notice = wait_for(lambda: notices(ALICE, server), WAIT, interval=0.5, message="notice for alice")
    postmaster_notice = wait_for(lambda: notices(POSTMASTER, server), WAIT, interval=0.5,
                                 message="notice for the postmaster")
    for found, who in ((user_notice, ALICE), (postmaster_notice, POSTMASTER)):
        assert len(found) == 1, [m["Subject"] for m in found]
        notice = found[0]
        assert who in str(notice["To"]), notice["To"]
        body = notice.get_content()
        assert "messages_per_hour" in body and "messages per hour:             5" in body, body
        assert notice["Auto-Submitted"] == "auto-generated"
    assert f"postamt security release {ALICE}" in postmaster_notice[0].get_content()

    assert metric_sum(server, "postamt_security_holds_active") == 1
    assert metric_sum(server, "postamt_security_holds_total", reason="messages_per_hour") == 1

    # The remote side accepts now, yet nothing leaves while the account is held: no attempt
    # reaches the peer through several retry rounds, and nothing is bounced.
    peer.clear_scripts()
    attempts_before = len(peer.events)
    time.sleep(QUIET)
    assert peer.messages == [], [m.data[:200] for m in peer.messages]
    assert len(peer.events) == attempts_before, peer.events[attempts_before:]
    assert queue_states(server) == ["deferred"] * 5, queue_states(server)

    released = server.cli("security", "release", ALICE)
    assert released.returncode == 0, released.stderr
    assert "released " + ALICE in released.stdout, released.stdout
    wait_for(lambda: len(peer.messages_for(REMOTE)) >= 5, WAIT, interval=0.2,
             message="the held mail at the peer after the release")
    assert holds(server) == []
    wait_for(lambda: metric_sum(server, "postamt_security_holds_active") == 0, WAIT, interval=0.5,
             message="the hold gauge back at 0")

    # Submissions are accepted again (and the new mail goes out).
    code, text = try_submit(server, "after the release")
    assert code == 250, (code, text)
    wait_for(lambda: len(peer.messages_for(REMOTE)) >= 6, WAIT, interval=0.2, message="new mail at the peer")

    again = server.cli("security", "release", ALICE)
    assert again.returncode == 1 and "not on hold" in again.stderr, again


def test_logins_from_many_networks_hold_the_account(start_server, lab):
    lab.sink("remote.test", starttls=False)
    server = start(start_server, lab, login_networks=2, login_prefix_v4=32, login_window_seconds=600)

    # Two networks are allowed: the account sends normally.
    for source in ("127.0.0.2", "127.0.0.3"):
        client = login(server, source)
        client.quit()
    code, text = try_submit(server, "from a usual place", source_ip="127.0.0.2")
    assert code == 250, (code, text)
    assert holds(server) == []

    # A third network within the window is one too many.
    client = login(server, "127.0.0.4")
    client.quit()
    listed = wait_for(lambda: holds(server), WAIT, interval=0.3, message="the login hold")
    assert listed[0]["account"] == ALICE and listed[0]["reason"] == "logins", listed
    assert "127.0.0.4/32" in listed[0]["detail"], listed

    code, text = try_submit(server, "after the burst", source_ip="127.0.0.2")
    assert code == 451 and text.startswith("4.7.1 Sending from this account is on hold: logins"), (code, text)
    wait_for(lambda: notices(POSTMASTER, server), WAIT, interval=0.5, message="notice for the postmaster")

    assert server.cli("security", "release", ALICE).returncode == 0
    # The server notices the release within seconds and forgets the old logins.
    wait_for(lambda: "security.hold_released" in server.log_text(), WAIT, interval=0.3,
             message="the server noticed the release")
    wait_for(lambda: try_submit(server, "released", source_ip="127.0.0.4")[0] == 250, WAIT, interval=1.0,
             message="submissions accepted after the release")


def test_first_time_recipients_past_the_limit_hold_at_rcpt(start_server, lab):
    peer = lab.sink("remote.test", starttls=False)
    server = start(start_server, lab, new_recipients_per_day=2)

    client = login(server)
    try:
        assert client.mail(ALICE)[0] == 250
        assert client.rcpt("one@remote.test")[0] == 250
        assert client.rcpt("two@remote.test")[0] == 250
        code, text = client.rcpt("three@remote.test")
        assert code == 451, (code, text)
        assert text.decode().startswith("4.7.1 Sending from this account is on hold: new_recipients_per_day"), text
    finally:
        client.quit()
    listed = holds(server)
    assert [(h["account"], h["reason"]) for h in listed] == [(ALICE, "new_recipients_per_day")], listed
    code, text = try_submit(server, "held")
    assert code == 451, (code, text)
    assert peer.messages == []


def test_a_high_bounce_rate_holds_the_account(start_server, lab):
    peer = lab.sink("remote.test", starttls=False)
    peer.script("*", permanent("RCPT"))  # every recipient is refused: the mail bounces
    server = start(start_server, lab, bounce_min=2, bounce_percent=50)

    for i in range(2):
        code, text = try_submit(server, f"to be bounced {i}")
        assert code == 250, (code, text)
    # Both bounce (the delivery status notices land in alice's INBOX).
    wait_for(lambda: queue_states(server) == [] and len(peer.replies("RCPT")) >= 2, WAIT, interval=0.5,
             message="both recipients bounced")
    code, text = try_submit(server, "after the bounces")
    assert code == 451, (code, text)
    assert text.startswith("4.7.1 Sending from this account is on hold: bounces (2 of 2 recipients bounced"), text
    assert holds(server)[0]["reason"] == "bounces"
