"""Per-address connection rate at accept (issue 15 §4, `[limits]
max_connections_per_ip_per_minute`), driven by real clients on loopback.

- A client that opens more connections in a minute than the limit is refused at accept,
  before any session work, in its protocol's words (SMTP 421 4.7.0, IMAP * BYE, POP3 -ERR);
  the counting is per address and across every listener; the metric names the refusal.
- Other addresses are served meanwhile, and a trusted network is never counted.
- With the limit off (the default) a burst of connections is served.
"""
from __future__ import annotations

import smtplib

from harness import metric_sum
from security_helpers import first_line

CHURNER = "127.0.0.21"


def test_a_client_over_its_connection_rate_is_refused_at_accept(start_server):
    server = start_server(limits={"max_connections_per_ip_per_minute": 4})
    greetings = [first_line(server, "smtp", CHURNER) for _ in range(4)]
    assert all(g.startswith("220 ") for g in greetings), greetings
    refused = first_line(server, "smtp", CHURNER)
    assert refused.startswith("421 4.7.0") and "Too many connections" in refused, refused
    # The bucket is the address's, whatever the protocol: IMAP and POP3 refuse it too.
    assert first_line(server, "imap", CHURNER).startswith("* BYE"), "imap"
    assert first_line(server, "pop3", CHURNER).startswith("-ERR"), "pop3"
    assert metric_sum(server, "postamt_connections_refused_total", limit="rate") == 3
    # Another address has its own allowance, and a refused client gets no session: a real
    # SMTP client sees the 421 as the server's answer to connecting.
    assert first_line(server, "smtp", "127.0.0.22").startswith("220 ")
    host, port = server.address("smtp")
    try:
        smtplib.SMTP(host, port, source_address=(CHURNER, 0), timeout=10)
        raise AssertionError("smtplib connected although the rate was spent")
    except smtplib.SMTPConnectError as refusal:
        assert refusal.smtp_code == 421
    # The harness trusts 127.0.0.1 ([security] trusted_networks): never counted.
    trusted = [first_line(server, "smtp", "127.0.0.1") for _ in range(10)]
    assert all(g.startswith("220 ") for g in trusted), trusted


def test_without_a_limit_a_burst_of_connections_is_served(start_server):
    server = start_server()
    greetings = [first_line(server, "smtp", CHURNER) for _ in range(30)]
    assert all(g.startswith("220 ") for g in greetings), greetings
    assert metric_sum(server, "postamt_connections_refused_total", limit="rate") == 0
