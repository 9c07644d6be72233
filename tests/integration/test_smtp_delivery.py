"""SMTP in: mail sent with real clients lands in the store intact, with trace headers.

The store is read with the CLI (`postamt debug mailbox|message|check-store`) until IMAP
serves it.
"""

from __future__ import annotations

import email.utils
import smtplib
import time

import pytest

from harness import (
    HOSTNAME,
    check_store,
    message,
    parse_received,
    mailbox_listing,
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


def only_message(server, address: str) -> bytes:
    messages = stored_messages(server, address)
    assert len(messages) == 1, f"{address}: {len(messages)} messages stored, expected 1"
    return messages[0]


# --------------------------------------------------------------------------------------
# Plain send, content and trace headers
# --------------------------------------------------------------------------------------

def test_plain_send_is_stored_intact_with_trace_headers(server):
    provision(server, ["alice"])
    body = (b"First line.\r\n"
            b".A line that starts with a dot (dot-stuffed on the wire).\r\n"
            b"..Two dots.\r\n"
            b".\r\n"                                   # a lone dot inside the message
            b"\r\n"
            b"  indented, trailing spaces   \r\n"
            b"Last line.\r\n")
    sent = message("plain send", body)
    client = smtplib_client(server, "smtp")
    code, reply = send_transaction(client, "sender@example.org", ["alice@example.test"], sent)
    assert code == 250, (code, reply)
    transaction = queued_id(reply)
    client.quit()

    stored = only_message(server, "alice@example.test")
    delivered = split_trace(stored)
    assert delivered.content == sent, "the message was not stored byte for byte"
    assert delivered.return_path == "sender@example.org"
    fields = parse_received(delivered.received)
    assert fields["helo"] == "client.example.test"
    assert fields["ip"] == "127.0.0.1"
    assert fields["by"] == HOSTNAME
    assert fields["protocol"] == "ESMTP", delivered.received   # EHLO, no TLS, no AUTH
    assert fields["id"] == transaction, (fields["id"], transaction)
    assert fields["rest"].strip() == "for <alice@example.test>", delivered.received
    assert "using" not in delivered.received and "authenticated" not in delivered.received
    check_store(server)


def test_helo_gives_smtp_and_null_sender(server):
    provision(server, ["alice"])
    sent = message("helo")
    client = smtplib.SMTP(*server.address("smtp"), local_hostname="old.example.test", timeout=30)
    assert client.helo()[0] == 250
    assert client.sendmail("", ["alice@example.test"], sent) == {}
    client.quit()
    delivered = split_trace(only_message(server, "alice@example.test"))
    assert delivered.content == sent
    assert delivered.return_path == ""                          # Return-Path: <>
    fields = parse_received(delivered.received)
    assert fields["protocol"] == "SMTP" and fields["helo"] == "old.example.test", delivered.received


@pytest.mark.parametrize("protocol,starttls,auth,keyword", [
    ("smtp", True, False, "ESMTPS"),
    ("submission", False, True, "ESMTPA"),        # allow_plaintext_without_tls in the harness
    ("submission", True, True, "ESMTPSA"),
    ("submissions", False, True, "ESMTPSA"),
])
def test_received_names_tls_and_auth(server, protocol, starttls, auth, keyword):
    passwords = provision(server, ["alice", "bob"])
    client = smtplib_client(server, protocol, starttls=starttls)
    if auth:
        client.login("alice@example.test", passwords["alice@example.test"])
    sent = message(f"received {keyword}", sender="alice@example.test", to="bob@example.test")
    code, reply = send_transaction(client, "alice@example.test", ["bob@example.test"], sent)
    assert code == 250, reply
    tls_version = client.sock.version() if hasattr(client.sock, "version") else None
    tls_cipher = client.sock.cipher()[0] if tls_version else None
    client.quit()

    delivered = split_trace(only_message(server, "bob@example.test"))
    assert delivered.content == sent
    fields = parse_received(delivered.received)
    assert fields["protocol"] == keyword, delivered.received
    rest = fields["rest"]
    if tls_version:
        assert f"(using {tls_version} with cipher {tls_cipher})" in rest, delivered.received
    else:
        assert "using" not in rest, delivered.received
    if auth:
        assert "(authenticated as alice@example.test)" in rest, delivered.received
    else:
        assert "authenticated" not in rest, delivered.received
    assert rest.rstrip().endswith("for <bob@example.test>"), delivered.received


# --------------------------------------------------------------------------------------
# Several recipients, pipelining, aliases
# --------------------------------------------------------------------------------------

def test_pipelined_multi_recipient_send(server):
    provision(server, ["alice", "bob", "carol"], aliases={"team@example.test": ["alice@example.test",
                                                                                "bob@example.test"]})
    client = smtp_session(server)
    # RFC 2920: the whole envelope and DATA in one write; the replies come back in order.
    client.send(b"MAIL FROM:<sender@example.org>\r\n"
                b"RCPT TO:<alice@example.test>\r\n"
                b"RCPT TO:<nobody@example.test>\r\n"
                b"RCPT TO:<team@example.test>\r\n"          # alice again (via the alias) and bob
                b"RCPT TO:<CAROL@Example.Test>\r\n"
                b"DATA\r\n")
    replies = [smtp_reply(client) for _ in range(6)]
    codes = [r.lines[-1][:9] for r in replies]
    assert codes == ["250 2.1.0", "250 2.1.5", "550 5.1.1", "250 2.1.5", "250 2.1.5", "354 End d"], \
        [str(r) for r in replies]
    sent = message("pipelined", to="team@example.test")
    client.send(sent + b".\r\n")
    final = smtp_reply(client)
    assert final.code == 250 and final.lines[0].startswith("250 2.0.0 Ok: queued as"), final
    smtp_command(client, "QUIT", "221 ")
    client.close()

    blobs = set()
    for address in ("alice@example.test", "bob@example.test", "carol@example.test"):
        # One copy per account, however many recipients lead to it.
        listing = mailbox_listing(server, address)
        assert len(listing) == 1, f"{address}: {len(listing)} copies"
        blobs.add(listing[0].blob_id)
        delivered = split_trace(only_message(server, address))
        assert delivered.content == sent
        # Several recipients: the Received field names none of them.
        assert " for <" not in delivered.received, delivered.received
    assert len(blobs) == 1, f"the message was written more than once: {blobs}"
    check_store(server)


def test_aliases_catch_all_and_plus_addressing(server):
    provision(server, ["alice", "bob"],
              aliases={"list@example.test": ["alice@example.test", "bob@example.test"]})
    done = server.cli("domain", "add", "catchall.test")
    assert done.returncode == 0, done.stderr
    done = server.cli("alias", "add", "@catchall.test", "bob@example.test")
    assert done.returncode == 0, done.stderr

    client = smtplib_client(server, "smtp")
    cases = [
        ("list@example.test", {"alice@example.test", "bob@example.test"}),
        ("anything@catchall.test", {"bob@example.test"}),
        ("alice+news@example.test", {"alice@example.test"}),
        ("nobody+news@example.test", None),   # the tag is cut, the base is still unknown
    ]
    expected: dict[str, list[bytes]] = {"alice@example.test": [], "bob@example.test": []}
    for recipient, accounts in cases:
        if accounts is None:
            assert client.mail("sender@example.org")[0] == 250
            code, reply = client.rcpt(recipient)
            assert (code, reply[:5]) == (550, b"5.1.1"), (recipient, code, reply)
            client.rset()
            continue
        sent = message(f"to {recipient}", to=recipient)
        code, reply = send_transaction(client, "sender@example.org", [recipient], sent)
        assert code == 250, (recipient, reply)
        for account in accounts:
            expected[account].append(sent)
    # Unknown users in a local domain without catch-all are refused at RCPT.
    assert client.mail("sender@example.org")[0] == 250
    code, reply = client.rcpt("nobody@example.test")
    assert (code, reply[:5]) == (550, b"5.1.1"), (code, reply)
    client.quit()

    for account, sent_messages in expected.items():
        stored = [split_trace(m) for m in stored_messages(server, account)]
        assert [d.content for d in stored] == sent_messages, account
    # The Received field names the recipient as the client gave it, not its expansion.
    bob = [split_trace(m) for m in stored_messages(server, "bob@example.test")]
    assert bob[1].received.rstrip().split(";")[0].endswith("for <anything@catchall.test>"), bob[1].received
    check_store(server)


def test_alias_to_an_external_address_is_queued(start_server):
    # No DNS answers here: the scheduler's attempts fail temporarily and the entries stay.
    server = start_server(dns={"servers": ["127.0.0.1:1"]})
    provision(server, ["bob"], aliases={"fwd@example.test": ["someone@elsewhere.example"],
                                        "mixed@example.test": ["bob@example.test", "other@elsewhere.example"]})
    client = smtplib_client(server, "smtp")
    for recipient in ("fwd@example.test", "mixed@example.test"):
        code, reply = send_transaction(client, "sender@example.org", [recipient],
                                       message(f"to {recipient}", to=recipient))
        assert code == 250, reply
    client.quit()

    rows = sqlite_rows(server.data_dir / "index.sqlite3",
                       "SELECT r.address, r.state, m.sender, m.blob_id, m.size FROM queue_recipients r "
                       "JOIN queue_messages m ON m.id = r.message_id ORDER BY r.id")
    assert [(r[0], r[2]) for r in rows] == [
        ("someone@elsewhere.example", "sender@example.org"),
        ("other@elsewhere.example", "sender@example.org"),
    ], rows
    assert all(r[1] in ("queued", "deferred") for r in rows), rows
    # The queued copy holds the whole message, trace headers included.
    for _, _, _, blob_id, size in rows:
        blob = server.data_dir / "blobs" / blob_id[:2] / blob_id
        assert blob.stat().st_size == int(size), (blob, size)
        assert blob.read_bytes().startswith(b"Return-Path: <sender@example.org>\r\nReceived: ")
    # The local half of the mixed alias was delivered.
    assert len(stored_messages(server, "bob@example.test")) == 1
    assert "queued=2" in check_store(server)


# --------------------------------------------------------------------------------------
# 8BITMIME, SMTPUTF8
# --------------------------------------------------------------------------------------

def test_8bit_body_is_stored_intact(server):
    provision(server, ["alice"])
    body = ("Grüße aus Köln — ✓\r\n".encode() +
            b"Latin-1 bytes: \xe4\xf6\xfc\xdf and every high octet: " + bytes(range(0x80, 0x100)) + b"\r\n" +
            b"Control-ish: \x01\x07\x1b\x7f\r\n")
    sent = message("8bit", body, extra=b"Content-Type: text/plain; charset=utf-8\r\n"
                                        b"Content-Transfer-Encoding: 8bit\r\n")
    client = smtplib_client(server, "smtp")
    assert client.has_extn("8bitmime")
    code, reply = send_transaction(client, "sender@example.org", ["alice@example.test"], sent,
                                   mail_options=["BODY=8BITMIME"])
    assert code == 250, reply
    client.quit()
    assert split_trace(only_message(server, "alice@example.test")).content == sent
    check_store(server)


def test_smtputf8_address(server):
    provision(server, ["jürgen"])
    recipient = "jürgen@example.test"
    sender = "björn@example.org"
    sent = (f"From: Björn <{sender}>\r\nTo: Jürgen <{recipient}>\r\nSubject: Grüße\r\n"
            f"Message-ID: <utf8.{time.monotonic_ns()}@example.org>\r\n"
            f"Date: {email.utils.formatdate()}\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            "Hallo Jürgen, schöne Grüße.\r\n").encode()
    client = smtplib_client(server, "smtp")
    assert client.has_extn("smtputf8")
    refused = client.sendmail(sender, [recipient], sent, mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    assert refused == {}
    client.quit()
    delivered = split_trace(only_message(server, recipient))
    assert delivered.content == sent
    assert delivered.return_path == sender
    fields = parse_received(delivered.received)
    assert fields["protocol"] == "UTF8SMTP", delivered.received    # RFC 6531 §3.7.3
    assert fields["rest"].strip() == f"for <{recipient}>", delivered.received


def test_utf8_address_without_smtputf8_is_refused(server):
    provision(server, ["jürgen"])
    client = smtp_session(server)
    reply = smtp_command(client, "MAIL FROM:<björn@example.org>".encode())
    assert reply.code in (553, 555) and reply.lines[0][4:9] in ("5.6.7", "5.1.7", "5.5.4"), reply
    smtp_command(client, "MAIL FROM:<sender@example.org>", "250 ")
    reply = smtp_command(client, "RCPT TO:<jürgen@example.test>".encode())
    assert reply.code in (553, 555) and reply.lines[0][4:9] in ("5.6.7", "5.1.3", "5.5.4"), reply
    smtp_command(client, "DATA", "554 ")        # no valid recipient
    smtp_command(client, "QUIT", "221 ")
    client.close()
    assert mailbox_listing(server, "jürgen@example.test") == []


# --------------------------------------------------------------------------------------
# CHUNKING (BDAT)
# --------------------------------------------------------------------------------------

def test_bdat_chunks_are_stored_intact(server):
    provision(server, ["alice"])
    sent = message("bdat", b"Line one.\r\n.A leading dot is not stuffing in BDAT.\r\n"
                           b".\r\nA CRLF split across chunks follows.\r\nEnd.\r\n")
    split_at = [40, sent.index(b"follows.\r") + len(b"follows.\r"), len(sent) - 3]
    chunks = [sent[a:b] for a, b in zip([0] + split_at, split_at + [len(sent)])]
    assert b"".join(chunks) == sent and len(chunks) == 4

    client = smtp_session(server)
    ehlo = smtp_command(client, "EHLO client.example.test", "250 ")
    assert "CHUNKING" in ehlo.text.split("\n"), ehlo
    smtp_command(client, "MAIL FROM:<sender@example.org>", "250 ")
    smtp_command(client, "RCPT TO:<alice@example.test>", "250 ")
    # The first two chunks one at a time, the rest pipelined in one write.
    for chunk in chunks[:2]:
        client.send(f"BDAT {len(chunk)}\r\n".encode() + chunk)
        reply = smtp_reply(client)
        assert reply.lines == [f"250 2.0.0 {len(chunk)} octets received"], reply
    client.send(f"BDAT {len(chunks[2])}\r\n".encode() + chunks[2] +
                f"BDAT {len(chunks[3])} LAST\r\n".encode() + chunks[3])
    assert smtp_reply(client).lines == [f"250 2.0.0 {len(chunks[2])} octets received"]
    final = smtp_reply(client)
    assert final.lines[0].startswith("250 2.0.0 Ok: queued as"), final
    # An empty last chunk ends a message too (RFC 3030 §2).
    smtp_command(client, "MAIL FROM:<sender@example.org>", "250 ")
    smtp_command(client, "RCPT TO:<alice@example.test>", "250 ")
    second = message("bdat 2")
    client.send(f"BDAT {len(second)}\r\n".encode() + second + b"BDAT 0 LAST\r\n")
    assert smtp_reply(client).code == 250
    assert smtp_reply(client).lines[0].startswith("250 2.0.0 Ok: queued as")
    smtp_command(client, "QUIT", "221 ")
    client.close()

    stored = [split_trace(m).content for m in stored_messages(server, "alice@example.test")]
    assert stored == [sent, second]
    check_store(server)


def test_bdat_and_data_cannot_be_mixed(server):
    provision(server, ["alice"])
    client = smtp_session(server)
    smtp_command(client, "MAIL FROM:<sender@example.org>", "250 ")
    smtp_command(client, "RCPT TO:<alice@example.test>", "250 ")
    client.send(b"BDAT 12\r\nSubject: x\r\n")
    assert smtp_reply(client).lines == ["250 2.0.0 12 octets received"]
    # RFC 3030 §2: DATA inside a BDAT transaction is a bad sequence.
    smtp_command(client, "DATA", "503 5.5.1")
    smtp_command(client, "RSET", "250 ")
    # And after DATA's 354 a "BDAT" line is message content, not a command.
    smtp_command(client, "MAIL FROM:<sender@example.org>", "250 ")
    smtp_command(client, "RCPT TO:<alice@example.test>", "250 ")
    smtp_command(client, "DATA", "354 ")
    content = b"Subject: y\r\n\r\nBDAT 5 LAST\r\nhello\r\n"
    client.send(content + b".\r\n")
    assert smtp_reply(client).lines[0].startswith("250 2.0.0 Ok: queued as")
    smtp_command(client, "QUIT", "221 ")
    client.close()
    stored = [split_trace(m).content for m in stored_messages(server, "alice@example.test")]
    assert stored == [content], "the abandoned BDAT message must not be stored"
