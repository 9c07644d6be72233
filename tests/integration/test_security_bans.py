"""Bans at connect time (issue 15 §7), driven by real clients on loopback.

- A burst of failed logins from one address (127.0.0.11; 127.0.0.1 is trusted by the
  harness) bans it: every listener refuses it at connect time in its own protocol (SMTP
  554 5.7.1, IMAP * BYE, POP3 -ERR) while other addresses are served;
  `postamt security bans` lists it and `postamt security unban` lifts it within seconds.
- A trusted network ([auth] trusted_networks) is never banned.
- Recipient probing (unknown recipients at RCPT) and sessions closed for too many bad
  commands ban too.
- Bans are stored: a restarted server still refuses the address.
"""
from __future__ import annotations

import json
import smtplib

from harness import DOMAIN, metric_sum, provision, wait_for
from security_helpers import (ATTACKER, admitted_everywhere, banned_everywhere, events, failed_imap_logins,
                              failed_smtp_auth, first_line, kinds_for, wait_for_kind)

FAST_AUTH = {"failure_delay_ms": 0, "account_delay_after": 0}


def test_failed_logins_ban_the_address_on_every_listener_until_unbanned(start_server):
    server = start_server(auth=FAST_AUTH, security={"ban_auth_failures": 5})
    assert admitted_everywhere(server, ATTACKER)
    failed_imap_logins(server, ATTACKER, 3)
    failed_smtp_auth(server, ATTACKER, 2)
    assert banned_everywhere(server, ATTACKER)
    # The implicit-TLS ports close without a handshake.
    assert first_line(server, "imaps", ATTACKER) == ""
    assert admitted_everywhere(server, "127.0.0.1"), "others are still served"
    assert metric_sum(server, "postamt_connections_refused_total", limit="banned") >= 4

    # The ban reaches the store within a second (written in batches off the I/O threads).
    wait_for(lambda: ATTACKER in server.cli("security", "bans").stdout, 5, interval=0.25)
    listed = server.cli("security", "bans", "--json")
    assert listed.returncode == 0, listed.stderr
    bans = json.loads(listed.stdout)
    assert [b["target"] for b in bans] == [ATTACKER]
    assert bans[0]["reason"] == "auth_failures" and bans[0]["offences"] == 1
    wait_for(lambda: metric_sum(server, "postamt_security_bans_active") == 1, 5, interval=0.25)

    unban = server.cli("security", "unban", ATTACKER)
    assert unban.returncode == 0, unban.stderr
    assert f"unbanned {ATTACKER}" in unban.stdout
    wait_for(lambda: first_line(server, "smtp", ATTACKER).startswith("220"), 5, interval=0.25)
    assert admitted_everywhere(server, ATTACKER)
    assert server.cli("security", "unban", ATTACKER).returncode == 1, "not banned any more"


def test_a_trusted_network_is_never_banned(start_server):
    trusted = "127.0.0.12"
    server = start_server(auth={**FAST_AUTH, "trusted_networks": [f"{trusted}/32"]},
                          security={"ban_auth_failures": 3})
    failed_imap_logins(server, trusted, 8)
    assert admitted_everywhere(server, trusted)
    wait_for_kind(server, trusted, "auth_failure")
    assert "ban" not in kinds_for(server, trusted)
    assert server.cli("security", "bans").stdout.strip() == "nothing is banned"


def test_recipient_probing_bans(start_server):
    prober = "127.0.0.13"
    server = start_server(security={"ban_recipient_probes": 4})
    domain = server_domain(server)
    host, port = server.address("smtp")
    client = smtplib.SMTP(host, port, source_address=(prober, 0), timeout=30)
    client.ehlo("prober.example.test")
    client.mail("probe@example.org")
    for n in range(4):
        code, _ = client.rcpt(f"nobody{n}@{domain}")
        assert code == 550
    client.close()
    assert first_line(server, "smtp", prober).startswith("554 5.7.1")
    wait_for_kind(server, prober, "ban")
    assert kinds_for(server, prober).count("recipient_probe") == 4
    ban = events(server, "--kind", "ban", "--ip", prober)[0]
    assert ban["fields"]["reason"] == "recipient_probe"


def test_sessions_closed_for_bad_commands_lead_to_a_ban(start_server):
    abuser = "127.0.0.14"
    server = start_server(security={"ban_protocol_errors": 2})
    for _ in range(2):
        client = server.connect("imap", source_ip=abuser)
        assert client.text_line().startswith("* OK ")
        for n in range(10):
            client.send(f"a{n} NONSENSE\r\n".encode())
        assert client.closed_within(5), "closed after too many invalid commands"
        client.close()
    assert first_line(server, "imap", abuser).startswith("* BYE")
    wait_for_kind(server, abuser, "ban")
    assert kinds_for(server, abuser) == ["protocol_abuse", "protocol_abuse", "ban"]
    ban = events(server, "--kind", "ban", "--ip", abuser)[0]
    assert ban["fields"]["reason"] == "protocol_abuse"


def test_bans_survive_a_restart(start_server, tmp_path):
    server = start_server(auth=FAST_AUTH, security={"ban_auth_failures": 3})
    failed_imap_logins(server, ATTACKER, 3)
    assert first_line(server, "pop3", ATTACKER).startswith("-ERR")
    wait_for_kind(server, ATTACKER, "ban")
    server.stop()
    server.start()
    assert banned_everywhere(server, ATTACKER)


def server_domain(server) -> str:
    provision(server, users=("alice",))
    return DOMAIN
