"""The milter peers (tests/peers/milters.py) keep their promises: a private Postfix with private
OpenDKIM and OpenDMARC verifies mail against a private zone (the lookups reach the
ZoneServer, not the system's resolver), writes Authentication-Results with pass for mail
dkimpy signed, refuses a DMARC failure under p=reject, and leaves no process behind.
No Postamt here: the peers alone."""

from __future__ import annotations

import email
import email.policy
import re
import smtplib
import subprocess
from pathlib import Path

import dkim
import pytest

from peers.base import alive, identify, process_tree
from peers.dns_zone import ZoneServer, loopback_address_with_free_port53
from peers.milters import OpenDkimPeer, OpenDmarcPeer, milters_unavailable, non_loopback_address
from peers.postfix import PostfixReceiver, postfix_unavailable

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120),
              pytest.mark.skipif((postfix_unavailable() or milters_unavailable()) is not None,
                                 reason=str(postfix_unavailable() or milters_unavailable()))]

SENDER_DOMAIN = "signer.example"      # not .test: libunbound answers .test itself
AUTHSERV_ID = "mx.lab.test"


def test_postfix_with_opendkim_and_opendmarc_verifies_against_the_private_zone(tmp_path):
    subprocess.run(["dknewkey", str(tmp_path / "key")], check=True, capture_output=True)
    private = (tmp_path / "key.key").read_bytes()
    client = non_loopback_address() or "127.0.0.1"
    zone = {SENDER_DOMAIN: [("TXT", f"v=spf1 ip4:127.0.0.1 ip4:{client} -all")],
            f"_dmarc.{SENDER_DOMAIN}": [("TXT", "v=DMARC1; p=reject")],
            f"sel._domainkey.{SENDER_DOMAIN}": [("TXT", (tmp_path / "key.dns").read_text().strip())]}
    message = (f"From: <ann@{SENDER_DOMAIN}>\r\nTo: <bob@lab.test>\r\nSubject: milter lab\r\n"
               f"Date: Sat, 05 Dec 2026 08:00:00 +0000\r\nMessage-ID: <milter.1@{SENDER_DOMAIN}>\r\n\r\n"
               "A signed line.\r\n").encode()
    signed = dkim.sign(message, b"sel", SENDER_DOMAIN.encode(), private, canonicalize=(b"relaxed", b"relaxed"),
                       include_headers=[b"from", b"to", b"subject", b"date", b"message-id"]) + message
    resolv_conf = Path("/etc/resolv.conf").read_bytes()
    host = loopback_address_with_free_port53()
    processes = []
    # One milter on TCP, one on a unix socket: both transports work.
    with ZoneServer(zone, host=host, port=53) as dns, \
            OpenDkimPeer(host, authserv_id=AUTHSERV_ID) as opendkim, \
            OpenDmarcPeer(host, authserv_id=AUTHSERV_ID, unix_socket=True) as opendmarc, \
            PostfixReceiver("lab.test", ["bob"], hostname=AUTHSERV_ID,
                            milters=[opendkim.socket, opendmarc.socket]) as mx:
        assert opendkim.socket.startswith("inet:") and opendmarc.socket.startswith("unix:")
        with smtplib.SMTP(*mx.smtp, local_hostname=f"mx.{SENDER_DOMAIN}", timeout=30,
                          source_address=(client, 0)) as smtp:
            assert smtp.sendmail(f"ann@{SENDER_DOMAIN}", ["bob@lab.test"], signed) == {}
            tampered = signed.replace(b"A signed line.", b"A changed line.")
            with pytest.raises(smtplib.SMTPDataError) as refused:
                smtp.sendmail(f"bounce@nospf.{SENDER_DOMAIN}", ["bob@lab.test"], tampered)
            assert refused.value.smtp_code == 550 and b"DMARC" in refused.value.smtp_error, refused.value
        stored = mx.wait_for_messages("bob")
        assert len(stored) == 1, stored
        parsed = email.message_from_bytes(stored[0], policy=email.policy.compat32)
        results = " | ".join(re.sub(r"\s+", " ", v) for v in parsed.get_all("Authentication-Results", [])
                             if v.strip().startswith(AUTHSERV_ID + ";"))
        for verdict in ("dkim=pass", "spf=pass", "dmarc=pass"):
            assert verdict in results, results
        asked = {name for name, _ in dns.queries}
        assert {f"sel._domainkey.{SENDER_DOMAIN}", f"_dmarc.{SENDER_DOMAIN}"} <= asked, dns.queries
        if client != "127.0.0.1":   # libspf2 passes loopback clients without a lookup
            assert SENDER_DOMAIN in asked, dns.queries
        processes = identify(process_tree(opendkim.process.pid)) + identify(process_tree(opendmarc.process.pid))
        assert len(processes) >= 2
    assert not [p for p in processes if alive(p)], processes
    assert Path("/etc/resolv.conf").read_bytes() == resolv_conf   # the namespace's bind mount went with it
