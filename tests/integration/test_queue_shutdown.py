"""A server stopped while a delivery waits on DNS: it exits cleanly (no leak, no hang) and
the recipient stays queued as it was, to go out after the restart."""

from __future__ import annotations

import socket

from harness import message, send_transaction, smtplib_client, sqlite_rows


def test_stop_during_a_pending_mx_lookup_exits_cleanly_and_keeps_the_recipient(start_server):
    # A DNS server that takes every question and never answers: the MX lookup is pending
    # (c-ares would wait 30 s) when the server is told to stop.
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    silent.settimeout(20)
    dns_port = silent.getsockname()[1]
    try:
        server = start_server(smtp={"relay_networks": ["127.0.0.0/8"]},
                              dns={"servers": [f"127.0.0.1:{dns_port}"], "timeout_seconds": 10})
        client = smtplib_client(server, "smtp")
        code, reply = send_transaction(client, "sender@example.org", ["a@far-away.example"],
                                       message("waits on DNS", to="a@far-away.example"))
        assert code == 250, reply
        client.quit()
        question, _ = silent.recvfrom(4096)  # the scheduler asked: the lookup is pending
        assert b"far-away" in question
        result = server.stop(timeout=10)
        assert result.returncode == 0 and not result.killed, server.log_tail()
        assert result.seconds < 5, f"stopping took {result.seconds:.1f} s"
        # The harness fails the test on any sanitizer report (LeakSanitizer at exit).
        rows = sqlite_rows(server.data_dir / "index.sqlite3",
                           "SELECT address, state, attempts FROM queue_recipients")
        assert [tuple(map(str, r)) for r in rows] == [("a@far-away.example", "queued", "0")]
    finally:
        silent.close()
