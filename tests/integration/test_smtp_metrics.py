"""SMTP counters in /metrics after some traffic."""

from __future__ import annotations

import base64

from harness import (
    message,
    metric_samples,
    metrics_text,
    provision,
    send_transaction,
    smtp_command,
    smtp_session,
    smtplib_client,
)


def value(text: str, name: str, **labels: str) -> float | None:
    for found, sample in metric_samples(text, name):
        if found == labels:
            return sample
    return None


def test_smtp_metrics_after_traffic(start_server):
    server = start_server(auth={"failure_delay_ms": 50})
    provision(server, ["alice", "bob"])
    client = smtplib_client(server, "smtp")
    sent_bytes = 0
    for n in range(3):
        sent = message(f"metrics {n}")
        sent_bytes += len(sent)
        assert send_transaction(client, "sender@example.org", ["alice@example.test", "bob@example.test"],
                                sent)[0] == 250
    client.quit()

    raw = smtp_session(server)
    smtp_command(raw, "MAIL FROM:<sender@example.org>", "250 ")
    smtp_command(raw, "RCPT TO:<nobody@example.test>", "550 5.1.1")
    smtp_command(raw, "RCPT TO:<ghost@example.test>", "550 5.1.1")
    smtp_command(raw, "RCPT TO:<victim@foreign.example>", "554 5.7.1")
    smtp_command(raw, "RSET", "250 ")
    smtp_command(raw, "QUIT", "221 ")
    raw.close()

    sub = smtp_session(server, "submission")
    for _ in range(2):
        smtp_command(sub, "AUTH PLAIN " + base64.b64encode(b"\0alice@example.test\0wrong").decode(),
                     "535 5.7.8")
    sub.close()

    text = metrics_text(server)
    assert value(text, "postamt_smtp_messages_total", result="accepted") == 3, text
    assert value(text, "postamt_smtp_recipients_total", result="accepted") == 6, text
    assert value(text, "postamt_smtp_recipients_total", result="unknown_user") == 2, text
    assert value(text, "postamt_smtp_recipients_total", result="relay_denied") == 1, text
    assert value(text, "postamt_smtp_auth_failures_total") == 2, text
    # Accepted octets include the trace headers Postamt prepends.
    accepted_bytes = value(text, "postamt_smtp_bytes_accepted_total")
    assert accepted_bytes is not None and sent_bytes < accepted_bytes < sent_bytes + 3 * 600, text
    assert "# TYPE postamt_smtp_messages_total counter" in text
    # The group-commit batch sizes: a histogram whose observations add up to the
    # deliveries committed (three messages, whatever the batching).
    assert "# TYPE postamt_delivery_batch_size histogram" in text, text
    count = value(text, "postamt_delivery_batch_size_count")
    total = value(text, "postamt_delivery_batch_size_sum")
    assert count is not None and 1 <= count <= 3, text
    assert total == 3, text
    assert value(text, "postamt_delivery_batch_size_bucket", le="+Inf") == count, text
    buckets = [(float(labels["le"]), v) for labels, v in
               metric_samples(text, "postamt_delivery_batch_size_bucket")]
    assert buckets == sorted(buckets) and all(b[1] <= count for b in buckets), buckets
