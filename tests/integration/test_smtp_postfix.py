"""A real Postfix (Debian `postfix`) relays mail into Postamt.

A PRIVATE Postfix instance from the peer lab (tests/peers/postfix.py, PostfixRelay: its own
main.cf, master.cf, queue and data directories under a temporary directory, its smtpd on
a free loopback port, relayhost = Postamt's smtp listener). The system instance and
/etc/postfix are never touched: every postfix command gets `-c DIR`.
"""

from __future__ import annotations

import re
import smtplib

import pytest

from harness import (
    check_store,
    mailbox_listing,
    message,
    parse_received,
    provision,
    split_trace,
    stored_messages,
    wait_for,
)
from peers.postfix import PostfixRelay, postfix_unavailable

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150),
              pytest.mark.skipif(postfix_unavailable() is not None, reason=str(postfix_unavailable()))]


@pytest.fixture
def postfix_in_front(server):
    with PostfixRelay(relay_to=("127.0.0.1", server.address("smtp")[1])) as postfix:
        yield postfix


POSTFIX_RECEIVED = re.compile(rb"\AReceived: from [^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*")


def test_postfix_relays_into_postamt(server, postfix_in_front):
    postfix = postfix_in_front
    provision(server, ["alice", "bob"])
    sent = [
        message("via postfix 1", b"Plain body.\r\n.A dot line.\r\n..Two dots.\r\nEnd.\r\n",
                to="alice@example.test"),
        message("via postfix 2", "Grüße, 8-bit.\r\n".encode() + bytes(range(0xa0, 0x100)) + b"\r\n",
                to="alice@example.test",
                extra=b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n"),
        message("via postfix 3", b"To two local users.\r\n" * 50, to="alice@example.test"),
    ]
    client = smtplib.SMTP("127.0.0.1", postfix.port, local_hostname="client.example.test", timeout=30)
    assert client.sendmail("sender@example.org", ["alice@example.test"], sent[0]) == {}
    assert client.sendmail("sender@example.org", ["alice@example.test"], sent[1],
                           mail_options=["BODY=8BITMIME"]) == {}
    assert client.sendmail("sender@example.org", ["alice@example.test", "bob@example.test"], sent[2]) == {}
    client.quit()

    def arrived():
        return len(mailbox_listing(server, "alice@example.test")) >= 3 and \
            len(mailbox_listing(server, "bob@example.test")) >= 1
    try:
        wait_for(arrived, 60, interval=0.5, message="the relayed messages in Postamt")
    except AssertionError as e:
        raise AssertionError(f"{e}\n--- postfix maillog ---\n{postfix.log()}\n"
                             f"--- postamt log ---\n{server.log_tail(40)}") from None

    alice = [split_trace(m) for m in stored_messages(server, "alice@example.test")]
    bob = [split_trace(m) for m in stored_messages(server, "bob@example.test")]
    assert len(alice) == 3 and len(bob) == 1, (len(alice), len(bob))
    # Postfix may deliver in any order: match by Subject.
    by_subject = {re.search(rb"Subject: ([^\r\n]+)", d.content).group(1): d for d in alice}
    for original in sent:
        subject = re.search(rb"Subject: ([^\r\n]+)", original).group(1)
        delivered = by_subject[subject]
        # Postamt's trace: Postfix's smtp client, over STARTTLS (smtp_tls_security_level=may).
        assert delivered.return_path == "sender@example.org"
        fields = parse_received(delivered.received)
        assert fields["helo"] == "relay.example.test", delivered.received
        assert fields["protocol"] == "ESMTPS", delivered.received
        assert "(using TLSv1." in fields["rest"], delivered.received
        # Then Postfix's own Received field, then the message exactly as submitted.
        match = POSTFIX_RECEIVED.match(delivered.content)
        assert match and b"by relay.example.test (Postfix)" in match.group(0), delivered.content[:400]
        assert delivered.content[match.end():] == original, subject
    assert POSTFIX_RECEIVED.sub(b"", bob[0].content) == sent[2]
    # Postfix logged the delivery to Postamt as sent.
    assert postfix.log().count("status=sent") >= 3, postfix.log()
    check_store(server)
