"""IMAP message commands: APPEND (RFC 9051 §6.3.12, UIDPLUS RFC 4315, LITERAL+ RFC 7888,
APPENDLIMIT RFC 7889), FETCH of every item (RFC 9051 §6.4.5, BINARY RFC 3516, MODSEQ RFC
7162), STORE, COPY/MOVE (RFC 6851), EXPUNGE, UID EXPUNGE, CLOSE, UNSELECT, EXAMINE, SEARCH
(RFC 9051 §6.4.4, ESEARCH RFC 4731, SEARCHRES RFC 5182).
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import imaplib
import re
import time

import pytest

from harness import (
    imap_command,
    imap_fetch_responses,
    imap_response,
    imap_login,
    imap_ok,
    imap_status_word,
    imap_until_tagged,
    imaplib_fetch_responses,
    imaplib_login,
    deliver_smtp,
    mailbox_listing,
    message,
    provision,
    stored_message,
)

ALICE = "alice@example.test"

ATTACHMENT = bytes(range(256)) * 3
ATTACHMENT_B64 = b"\r\n".join(re.findall(rb".{1,76}", base64.b64encode(ATTACHMENT)))
PART1_HEADER = b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"
PART1_BODY = b"Gr=C3=BC=C3=9Fe, the report is attached."
PART2_HEADER = (b'Content-Type: application/octet-stream; name="data.bin"\r\n'
                b"Content-Transfer-Encoding: base64\r\n"
                b'Content-Disposition: attachment; filename="data.bin"\r\n')
TOP_HEADER = (b"From: Alice Example <alice@example.org>\r\n"
              b"To: Bob <bob@example.test>\r\n"
              b"Cc: carol@example.test\r\n"
              b"Subject: Quarterly report\r\n"
              b"Date: Tue, 03 Mar 2026 10:00:00 +0000\r\n"
              b"Message-ID: <report.1@example.org>\r\n"
              b"MIME-Version: 1.0\r\n"
              b'Content-Type: multipart/mixed; boundary="b1"\r\n')
TOP_TEXT = (b"preamble\r\n"
            b"--b1\r\n" + PART1_HEADER + b"\r\n" + PART1_BODY + b"\r\n"
            b"--b1\r\n" + PART2_HEADER + b"\r\n" + ATTACHMENT_B64 + b"\r\n"
            b"--b1--\r\n")
MULTIPART = TOP_HEADER + b"\r\n" + TOP_TEXT


def literal_append(client, mailbox: str, content: bytes, flags: str = "", date: str | None = None) -> bytes:
    """APPEND with a LITERAL+ literal; returns the tagged OK line."""
    args = f"APPEND {mailbox}"
    if flags is not None:
        args += f" ({flags})"
    if date:
        args += f' "{date}"'
    untagged, done = imap_command(client, args.encode() + b" {%d+}\r\n" % len(content) + content)
    assert imap_status_word(done) == "OK", (done, untagged)
    return done


def appenduid(done: bytes) -> tuple[int, int]:
    match = re.search(rb"\[APPENDUID (\d+) (\d+)\]", done)
    assert match, f"no APPENDUID in {done!r} (RFC 4315 §3)"
    return int(match.group(1)), int(match.group(2))


def fetch_one(client, command: str) -> dict:
    untagged = imap_ok(client, command)
    found = imap_fetch_responses(untagged)
    assert len(found) == 1, untagged
    return found[0][1]


def nums(untagged: list[bytes]) -> list[int]:
    """The numbers of a `* SEARCH` response."""
    lines = [line for line in untagged if line.startswith(b"* SEARCH")]
    assert len(lines) == 1, untagged
    return [int(x) for x in lines[0].split()[2:]]


def esearch(untagged: list[bytes]) -> dict[str, str]:
    lines = [line for line in untagged if line.startswith(b"* ESEARCH")]
    assert len(lines) == 1, untagged
    match = re.match(rb'\* ESEARCH \(TAG "[^"]+"\)( UID)?(.*)$', lines[0])
    assert match, lines[0]
    words = match.group(2).split()
    out = {words[k].decode().upper(): words[k + 1].decode() for k in range(0, len(words), 2)}
    if match.group(1):
        out["UID"] = "yes"
    return out


def expand(sequence: str) -> list[int]:
    out = []
    for part in sequence.split(","):
        low, _, high = part.partition(":")
        out.extend(range(int(low), int(high or low) + 1))
    return out


# --------------------------------------------------------------------------------------
# APPEND
# --------------------------------------------------------------------------------------

def test_append_with_flags_and_internal_date(server):
    provision(server, ["alice"])
    lib = imaplib_login(server)
    content = message("appended", b"Body line.\r\n")
    when = calendar.timegm((2025, 7, 14, 8, 30, 15))
    typ, data = lib.append("INBOX", r"(\Flagged $Important)", imaplib.Time2Internaldate(when), content)
    assert typ == "OK", data
    uidvalidity, uid = appenduid(data[0])
    typ, data = lib.select("INBOX")
    assert typ == "OK" and data == [b"1"]
    assert int(lib.untagged_responses["UIDVALIDITY"][0]) == uidvalidity
    typ, data = lib.uid("FETCH", str(uid), "(FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])")
    assert typ == "OK"
    (_, items), = imaplib_fetch_responses(data)
    assert set(items["FLAGS"]) == {"\\Flagged", "$Important", "\\Recent"} or \
        set(items["FLAGS"]) == {"\\Flagged", "$Important"}, items["FLAGS"]
    assert imaplib.Internaldate2tuple(b'INTERNALDATE "' + items["INTERNALDATE"] + b'"') == time.localtime(when)
    assert items["BODY[]"] == content
    assert int(items["RFC822.SIZE"]) == len(content)
    # The keyword is now in the FLAGS of the mailbox (RFC 9051 §7.3.5).
    lib.close()
    typ, _ = lib.select("INBOX")
    assert b"$Important" in lib.untagged_responses["FLAGS"][0]
    lib.logout()
    # What the store holds is byte for byte what was appended.
    assert stored_message(server, ALICE, uid) == content


def test_append_errors(server):
    provision(server, ["alice"])
    client = imap_login(server)
    content = message("x")
    _, done = imap_command(client, b"APPEND nowhere {%d+}\r\n" % len(content) + content)
    assert imap_status_word(done) == "NO" and b"[TRYCREATE]" in done, done  # RFC 9051 §6.3.12
    _, done = imap_command(client, b"APPEND INBOX (\\Recent) {%d+}\r\n" % len(content) + content)
    assert imap_status_word(done) in ("BAD", "NO"), "\\Recent cannot be set (RFC 9051 §2.3.2)"
    _, done = imap_command(client, b'APPEND INBOX "31-Feb-2026 10:00:00 +0000" {%d+}\r\n' % len(content) + content)
    assert imap_status_word(done) in ("BAD", "NO"), done
    _, done = imap_command(client, b"APPEND INBOX {0+}\r\n")
    assert imap_status_word(done) in ("BAD", "NO"), done
    assert mailbox_listing(server, ALICE) == []
    client.close()


def test_literal_plus_needs_no_continuation(server):
    provision(server, ["alice"])
    client = imap_login(server)
    content = message("literal plus", b"a\r\n" * 1000)
    # RFC 7888 §3: {n+} is sent at once; the server must not answer "+".
    client.send(b"L1 APPEND INBOX (\\Seen) {%d+}\r\n" % len(content) + content + b"\r\nL2 NOOP\r\n")
    untagged, done = imap_until_tagged(client, "L1")
    assert not any(line.startswith(b"+") for line in untagged), untagged
    assert imap_status_word(done) == "OK"
    _, uid = appenduid(done)
    _, done = imap_until_tagged(client, "L2")
    assert imap_status_word(done) == "OK"
    # A synchronising literal gets "+" first.
    client.send(b"L3 APPEND INBOX {%d}\r\n" % len(content))
    assert client.text_line().startswith("+")
    client.send(content + b"\r\n")
    _, done = imap_until_tagged(client, "L3")
    assert imap_status_word(done) == "OK"
    assert stored_message(server, ALICE, uid) == content
    client.close()


@pytest.mark.slow
def test_append_of_a_20_mib_literal(server):
    provision(server, ["alice"])
    lib = imaplib_login(server, timeout=120)
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\r\n"
    content = message("big") + line * (20 * 1024 * 1024 // len(line))
    assert len(content) > 20 * 1024 * 1024 - 100
    typ, data = lib.append("INBOX", None, None, content)
    assert typ == "OK", data
    _, uid = appenduid(data[0])
    lib.select("INBOX")
    typ, data = lib.uid("FETCH", str(uid), "(RFC822.SIZE BODY.PEEK[])")
    assert typ == "OK"
    (_, items), = imaplib_fetch_responses(data)
    assert int(items["RFC822.SIZE"]) == len(content)
    assert hashlib.sha256(items["BODY[]"]).digest() == hashlib.sha256(content).digest()
    lib.logout()


def test_append_over_appendlimit_is_refused_before_the_literal(start_server):
    server = start_server(smtp={"max_message_size": 100000})
    provision(server, ["alice"])
    client = imap_login(server)
    untagged, _ = imap_command(client, "CAPABILITY")
    assert b"APPENDLIMIT=100000" in untagged[0], untagged
    # RFC 7889 §4: NO [TOOBIG] instead of "+", so the client never sends the octets.
    client.send(b"B1 APPEND INBOX {200000}\r\n")
    reply = client.text_line()
    assert reply.startswith("B1 NO [TOOBIG]"), reply
    imap_ok(client, "NOOP")
    # A literal exactly at the limit is fine.
    content = message("at limit")
    content += b"x" * (100000 - len(content))
    literal_append(client, "INBOX", content)
    # An announced size far beyond any integer the server keeps.
    client.send(b"B2 APPEND INBOX {99999999999999999999}\r\n")
    reply = client.text_line()
    assert reply.startswith("B2 NO") or reply.startswith("B2 BAD"), reply
    imap_ok(client, "NOOP")
    # A non-synchronising literal over the limit: the octets follow anyway, so the
    # server may refuse and close (RFC 7888 §4); it must not store anything.
    client.send(b"B3 APPEND INBOX {200000+}\r\n" + b"y" * 200000 + b"\r\n")
    answers = []
    try:
        while (response := imap_response(client, timeout=15)):
            answers.append(response)
            if response.startswith(b"B3 "):
                break
    except (ConnectionResetError, BrokenPipeError):
        pass
    assert any(a.startswith((b"B3 NO", b"B3 BAD", b"* BYE")) and b"TOOBIG" in a for a in answers), answers
    assert len(mailbox_listing(server, ALICE)) == 1
    client.close()
    imap_ok(imap_login(server), "NOOP")


# --------------------------------------------------------------------------------------
# FETCH
# --------------------------------------------------------------------------------------

def test_fetch_every_item(server):
    provision(server, ["alice"])
    client = imap_login(server)
    done = literal_append(client, "INBOX", MULTIPART, "", "03-Mar-2026 11:00:00 +0100")
    _, uid = appenduid(done)
    imap_ok(client, "SELECT INBOX")

    items = fetch_one(client, "FETCH 1 (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)")
    assert int(items["UID"]) == uid
    assert "\\Seen" not in items["FLAGS"]
    assert items["INTERNALDATE"] == b"03-Mar-2026 11:00:00 +0100" or \
        imaplib.Internaldate2tuple(b'INTERNALDATE "' + items["INTERNALDATE"] + b'"') == \
        time.localtime(calendar.timegm((2026, 3, 3, 10, 0, 0)))
    assert int(items["RFC822.SIZE"]) == len(MULTIPART)
    env = items["ENVELOPE"]
    # RFC 9051 §7.5.2 ENVELOPE: date subject from sender reply-to to cc bcc in-reply-to message-id
    assert env[0] == b"Tue, 03 Mar 2026 10:00:00 +0000"
    assert env[1] == b"Quarterly report"
    assert env[2] == [[b"Alice Example", "NIL", b"alice", b"example.org"]]
    assert env[3] == env[2] and env[4] == env[2], "Sender and Reply-To default to From"
    assert env[5] == [[b"Bob", "NIL", b"bob", b"example.test"]]
    assert env[6] == [["NIL", "NIL", b"carol", b"example.test"]]
    assert env[7] == "NIL" and env[8] == "NIL"
    assert env[9] == b"<report.1@example.org>"

    items = fetch_one(client, "FETCH 1 (BODYSTRUCTURE BODY)")
    structure = items["BODYSTRUCTURE"]
    text, attachment = structure[0], structure[1]
    assert structure[2].upper() == b"MIXED", structure
    assert [v.lower() for v in structure[3]] == [b"boundary", b"b1"]
    assert text[0].upper() == b"TEXT" and text[1].upper() == b"PLAIN"
    assert [v.lower() for v in text[2]] == [b"charset", b"utf-8"]
    assert text[5].upper() == b"QUOTED-PRINTABLE" and int(text[6]) == len(PART1_BODY)
    assert int(text[7]) in (0, 1)  # one unterminated line: counting conventions differ
    assert attachment[0].upper() == b"APPLICATION" and attachment[1].upper() == b"OCTET-STREAM"
    assert attachment[5].upper() == b"BASE64" and int(attachment[6]) == len(ATTACHMENT_B64)
    disposition = attachment[8]
    assert disposition[0].lower() == b"attachment" and [v.lower() for v in disposition[1]] == [b"filename", b"data.bin"]
    body = items["BODY"]  # the non-extensible form: no extension data
    assert len(body) == 3 and body[2].upper() == b"MIXED", body
    assert len(body[0]) == 8, body[0]

    items = fetch_one(client, "FETCH 1 (BODY.PEEK[] BODY.PEEK[HEADER] BODY.PEEK[TEXT] BODY.PEEK[1] "
                              "BODY.PEEK[1.MIME] BODY.PEEK[2] BODY.PEEK[TEXT]<0.10> "
                              "BODY.PEEK[HEADER.FIELDS (Subject From)] BODY.PEEK[HEADER.FIELDS.NOT (Subject From Cc)])")
    assert items["BODY[]"] == MULTIPART
    assert items["BODY[HEADER]"] == TOP_HEADER + b"\r\n"
    assert items["BODY[TEXT]"] == TOP_TEXT
    assert items["BODY[1]"] == PART1_BODY
    assert items["BODY[1.MIME]"] == PART1_HEADER + b"\r\n"
    assert items["BODY[2]"] == ATTACHMENT_B64
    assert items["BODY[TEXT]<0>"] == b"preamble\r\n"
    fields = [v for k, v in items.items() if k.startswith("BODY[HEADER.FIELDS (")]
    assert fields == [b"From: Alice Example <alice@example.org>\r\nSubject: Quarterly report\r\n\r\n"], items.keys()
    fields_not = [v for k, v in items.items() if k.startswith("BODY[HEADER.FIELDS.NOT")]
    assert fields_not == [b"".join(line + b"\r\n" for line in TOP_HEADER.split(b"\r\n")[:-1]
                                   if not line.startswith((b"From:", b"Subject:", b"Cc:"))) + b"\r\n"]

    items = fetch_one(client, "FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1] BINARY.PEEK[2] BINARY.SIZE[2] MODSEQ)")
    assert items["BINARY[1]"] == "Grüße, the report is attached.".encode()
    assert int(items["BINARY.SIZE[1]"]) == len("Grüße, the report is attached.".encode())
    assert items["BINARY[2]"] == ATTACHMENT
    assert int(items["BINARY.SIZE[2]"]) == len(ATTACHMENT)
    assert isinstance(items["MODSEQ"], list) and int(items["MODSEQ"][0]) > 0
    # Nothing above was a non-PEEK body fetch: still not \Seen.
    assert "\\Seen" not in fetch_one(client, "FETCH 1 FLAGS")["FLAGS"]

    # Partial fetches past the end and macros.
    items = fetch_one(client, f"FETCH 1 (BODY.PEEK[]<{len(MULTIPART) - 5}.100> BODY.PEEK[]<{len(MULTIPART) + 10}.5>)")
    assert items[f"BODY[]<{len(MULTIPART) - 5}>"] == MULTIPART[-5:]
    assert items[f"BODY[]<{len(MULTIPART) + 10}>"] == b""
    items = fetch_one(client, "FETCH 1 FAST")
    assert set(items) == {"FLAGS", "INTERNALDATE", "RFC822.SIZE"}
    items = fetch_one(client, "FETCH 1 ALL")
    assert set(items) == {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"}
    items = fetch_one(client, "FETCH 1 (RFC822.HEADER)")
    assert items["RFC822.HEADER"] == TOP_HEADER + b"\r\n"
    # Nonexistent parts give empty strings, not errors (RFC 9051 §6.4.5).
    untagged, done = imap_command(client, "FETCH 1 (BODY.PEEK[7])")
    assert imap_status_word(done) in ("OK", "NO"), done
    client.close()


def test_fetch_body_sets_seen_and_peek_does_not(server):
    provision(server, ["alice"])
    deliver_smtp(server, ALICE, message("first"))
    deliver_smtp(server, ALICE, message("second"))
    client = imap_login(server)
    imap_ok(client, "SELECT INBOX")
    items = fetch_one(client, "FETCH 1 (BODY.PEEK[] RFC822.SIZE)")
    # BODY[] is what the store holds: the delivered message with Postamt's trace fields.
    assert items["BODY[]"] == stored_message(server, ALICE, 1)
    assert int(items["RFC822.SIZE"]) == len(items["BODY[]"])
    assert "\\Seen" not in fetch_one(client, "FETCH 1 FLAGS")["FLAGS"]
    # RFC 9051 §6.4.5: BODY[] sets \Seen, and the FETCH response reports the new FLAGS.
    items = fetch_one(client, "FETCH 1 BODY[]")
    assert "\\Seen" in items["FLAGS"], items.keys()
    assert "\\Seen" in fetch_one(client, "FETCH 1 FLAGS")["FLAGS"]
    # RFC822.TEXT sets it too; RFC822.HEADER does not.
    fetch_one(client, "FETCH 2 RFC822.HEADER")
    assert "\\Seen" not in fetch_one(client, "FETCH 2 FLAGS")["FLAGS"]
    fetch_one(client, "FETCH 2 RFC822.TEXT")
    assert "\\Seen" in fetch_one(client, "FETCH 2 FLAGS")["FLAGS"]
    client.close()
    assert "Seen" in {m.uid: m.flags for m in mailbox_listing(server, ALICE)}[1]


def test_examine_is_read_only(server):
    provision(server, ["alice"])
    deliver_smtp(server, ALICE, message("one"))
    client = imap_login(server)
    untagged, done = imap_command(client, "EXAMINE INBOX")
    assert imap_status_word(done) == "OK" and b"[READ-ONLY]" in done, done
    fetch_one(client, "FETCH 1 BODY[]")
    _, done = imap_command(client, "STORE 1 +FLAGS (\\Flagged)")
    assert imap_status_word(done) == "NO", done
    _, done = imap_command(client, "EXPUNGE")
    assert imap_status_word(done) == "NO", done
    _, done = imap_command(client, "MOVE 1 Trash")
    assert imap_status_word(done) == "NO", done
    imap_ok(client, "COPY 1 Trash")  # copying out of a read-only mailbox is fine
    untagged, done = imap_command(client, "SELECT INBOX")
    assert b"[READ-WRITE]" in done
    assert "\\Seen" not in fetch_one(client, "FETCH 1 FLAGS")["FLAGS"], "EXAMINE must not set \\Seen"
    client.close()


# --------------------------------------------------------------------------------------
# STORE
# --------------------------------------------------------------------------------------

def test_store_flags_and_keywords(server):
    provision(server, ["alice"])
    client = imap_login(server)
    for k in range(3):
        literal_append(client, "INBOX", message(f"m{k}"))
    imap_ok(client, "SELECT INBOX")
    found = imap_fetch_responses(imap_ok(client, "STORE 1:2 +FLAGS (\\Flagged $Work)"))
    assert [n for n, _ in found] == [1, 2]
    assert all({"\\Flagged", "$Work"} <= set(items["FLAGS"]) for _, items in found)
    found = imap_fetch_responses(imap_ok(client, "STORE 2 -FLAGS ($Work)"))
    assert "$Work" not in found[0][1]["FLAGS"] and "\\Flagged" in found[0][1]["FLAGS"]
    found = imap_fetch_responses(imap_ok(client, "STORE 3 FLAGS (\\Answered \\Draft)"))
    assert {"\\Answered", "\\Draft"} <= set(found[0][1]["FLAGS"]) and "\\Flagged" not in found[0][1]["FLAGS"]
    # .SILENT: no FETCH responses (RFC 9051 §6.4.6).
    untagged = imap_ok(client, "STORE 1:3 +FLAGS.SILENT (\\Seen)")
    assert imap_fetch_responses(untagged) == [], untagged
    found = imap_fetch_responses(imap_ok(client, "FETCH 1:3 FLAGS"))
    assert all("\\Seen" in items["FLAGS"] for _, items in found)
    # UID STORE includes the UID in each FETCH (RFC 9051 §6.4.9).
    found = imap_fetch_responses(imap_ok(client, "UID STORE 1:* -FLAGS (\\Seen)"))
    assert sorted(int(items["UID"]) for _, items in found) == [1, 2, 3]
    # Flags compare case-insensitively: \SEEN is \Seen.
    found = imap_fetch_responses(imap_ok(client, "STORE 1 +FLAGS (\\SEEN)"))
    assert "\\Seen" in found[0][1]["FLAGS"]
    _, done = imap_command(client, "STORE 1 +FLAGS (\\Recent)")
    assert imap_status_word(done) in ("BAD", "NO")
    # imaplib's store().
    lib = imaplib_login(server)
    lib.select("INBOX")
    typ, data = lib.store("2", "+FLAGS", "(Custom)")
    assert typ == "OK" and b"Custom" in data[0]
    lib.logout()
    client.close()


def test_store_refuses_undefined_system_flags(server):
    provision(server, ["alice"])
    client = imap_login(server)
    literal_append(client, "INBOX", message("flags"))
    imap_ok(client, "SELECT INBOX")
    # RFC 9051 §9 (flag-extension) and §2.3.2: "\\" atom flags other than the five system
    # flags are reserved; a server MUST NOT generate them, so it cannot store one either.
    _, done = imap_command(client, "STORE 1 +FLAGS (\\NotAFlag)")
    assert imap_status_word(done) in ("BAD", "NO"), done
    assert "\\NotAFlag" not in fetch_one(client, "FETCH 1 FLAGS")["FLAGS"]
    client.close()


def test_sequence_numbers_beyond_exists_are_bad(server):
    provision(server, ["alice"])
    client = imap_login(server)
    imap_ok(client, "CREATE empty")
    imap_ok(client, "SELECT empty")
    # RFC 9051 §9 (seq-number): "The server should respond with a tagged BAD response to a
    # command that uses a message sequence number greater than the number of messages in
    # the selected mailbox. This includes "*" if the selected mailbox is empty."
    for command in ("FETCH * FLAGS", "FETCH 1 FLAGS", "STORE 1 +FLAGS (\\Seen)", "COPY * INBOX"):
        _, done = imap_command(client, command)
        assert imap_status_word(done) == "BAD", (command, done)
    # UIDs are different: a UID range naming nothing is fine (RFC 9051 §6.4.9).
    imap_ok(client, "UID FETCH 1:* FLAGS")
    for k in range(3):
        literal_append(client, "INBOX", message(f"s{k}"))
    imap_ok(client, "SELECT INBOX")
    for command in ("FETCH 4 FLAGS", "FETCH 2:9 FLAGS", "STORE 9 +FLAGS (\\Seen)", "COPY 1,7 Trash"):
        _, done = imap_command(client, command)
        assert imap_status_word(done) == "BAD", (command, done)
    imap_ok(client, "UID FETCH 2:9 FLAGS")
    client.close()


def test_append_and_copy_into_the_selected_mailbox_announce_exists(server):
    provision(server, ["alice"])
    client = imap_login(server)
    literal_append(client, "INBOX", message("a"))
    imap_ok(client, "SELECT INBOX")
    # RFC 9051 §6.3.12: appending to the selected mailbox announces the new message.
    untagged, done = imap_command(client, b"APPEND INBOX {%d+}\r\n" % len(message("b")) + message("b"))
    assert imap_status_word(done) == "OK" and b"* 2 EXISTS" in untagged, untagged
    untagged = imap_ok(client, "COPY 1:2 INBOX")
    assert b"* 4 EXISTS" in untagged, untagged
    assert len(imap_fetch_responses(imap_ok(client, "FETCH 1:* UID"))) == 4
    client.close()


def test_move_with_qresync_sends_vanished(server):
    provision(server, ["alice"])
    client = imap_login(server)
    for k in range(3):
        literal_append(client, "INBOX", message(f"q{k}"))
    imap_ok(client, "ENABLE QRESYNC")
    imap_ok(client, "SELECT INBOX")
    untagged = imap_ok(client, "UID MOVE 1:2 Archive")
    # RFC 6851 §4.4 / RFC 7162 §3.2.10: VANISHED instead of EXPUNGE.
    assert any(line.startswith(b"* OK [COPYUID ") for line in untagged), untagged
    assert b"* VANISHED 1:2" in untagged, untagged
    assert not any(line.endswith(b" EXPUNGE") for line in untagged)
    client.close()


# --------------------------------------------------------------------------------------
# COPY, MOVE, EXPUNGE, CLOSE, UNSELECT
# --------------------------------------------------------------------------------------

def test_copy_with_copyuid(server):
    provision(server, ["alice"])
    lib = imaplib_login(server)
    for k in range(3):
        lib.append("INBOX", r"(\Flagged)" if k == 1 else None, None, message(f"c{k}"))
    lib.select("INBOX")
    typ, data = lib.status("Archive", "(UIDVALIDITY UIDNEXT)")
    uv, next_uid = map(int, re.search(rb"UIDVALIDITY (\d+) UIDNEXT (\d+)", data[0]).groups())
    typ, data = lib.copy("2:3", "Archive")
    assert typ == "OK"
    match = re.search(rb"\[COPYUID (\d+) (\S+) (\S+)\]", data[0])
    assert match, data  # RFC 4315 §3
    assert int(match.group(1)) == uv
    assert expand(match.group(2).decode()) == [2, 3]
    assert expand(match.group(3).decode()) == [next_uid, next_uid + 1]
    # Flags go along (RFC 9051 §6.4.7); the source is unchanged.
    typ, data = lib.select("Archive")
    assert data == [b"2"]
    typ, data = lib.fetch("1:2", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    parsed = imaplib_fetch_responses(data)
    assert "\\Flagged" in parsed[0][1]["FLAGS"]
    subjects = [v for _, items in parsed for k, v in items.items() if k.startswith("BODY[HEADER.FIELDS")]
    assert subjects == [b"Subject: c1\r\n\r\n", b"Subject: c2\r\n\r\n"], parsed
    typ, data = lib.select("INBOX")
    assert data == [b"3"]
    typ, data = lib.copy("1", "Nowhere")
    assert typ == "NO" and b"TRYCREATE" in data[0]
    lib.logout()


def test_move_sends_copyuid_and_expunges(server):
    provision(server, ["alice"])
    client = imap_login(server)
    for k in range(4):
        literal_append(client, "INBOX", message(f"mv{k}"))
    imap_ok(client, "SELECT INBOX")
    untagged = imap_ok(client, "MOVE 2:3 Trash")
    # RFC 6851 §4.3: COPYUID in an untagged OK before the EXPUNGEs.
    okay = [k for k, line in enumerate(untagged) if line.startswith(b"* OK [COPYUID ")]
    expunges = [k for k, line in enumerate(untagged) if line.endswith(b" EXPUNGE")]
    assert len(okay) == 1 and len(expunges) == 2 and okay[0] < min(expunges), untagged
    match = re.search(rb"\[COPYUID \d+ (\S+) (\S+)\]", untagged[okay[0]])
    assert expand(match.group(1).decode()) == [2, 3]
    # Applying the EXPUNGEs in order to [1,2,3,4] must leave UIDs 1 and 4.
    uids = [1, 2, 3, 4]
    for k in expunges:
        number = int(untagged[k].split()[1])
        del uids[number - 1]
    assert uids == [1, 4]
    found = imap_fetch_responses(imap_ok(client, "FETCH 1:* UID"))
    assert [int(items["UID"]) for _, items in found] == [1, 4]
    # UID MOVE of a UID that no longer exists is not an error (RFC 9051 §6.4.9).
    untagged, done = imap_command(client, "UID MOVE 2 Trash")
    assert imap_status_word(done) in ("OK", "NO"), done
    imap_ok(client, "SELECT Trash")
    found = imap_fetch_responses(imap_ok(client, "FETCH 1:* BODY.PEEK[HEADER.FIELDS (SUBJECT)]"))
    assert [v for _, items in found for v in items.values()] == [b"Subject: mv1\r\n\r\n", b"Subject: mv2\r\n\r\n"]
    client.close()


def test_expunge_uid_expunge_close_unselect(server):
    provision(server, ["alice"])
    client = imap_login(server)
    for k in range(6):
        literal_append(client, "INBOX", message(f"e{k}"), "\\Deleted" if k in (1, 2, 4, 5) else "")
    imap_ok(client, "SELECT INBOX")
    # UID EXPUNGE only removes the named \Deleted messages (RFC 4315 §2.1).
    untagged = imap_ok(client, "UID EXPUNGE 2:3")
    assert sorted(untagged) == [b"* 2 EXPUNGE", b"* 2 EXPUNGE"] or sorted(untagged) == [b"* 2 EXPUNGE", b"* 3 EXPUNGE"], untagged
    found = imap_fetch_responses(imap_ok(client, "FETCH 1:* UID"))
    assert [int(items["UID"]) for _, items in found] == [1, 4, 5, 6]
    # UNSELECT does not expunge (RFC 3691).
    imap_ok(client, "UNSELECT")
    imap_ok(client, "SELECT INBOX")
    assert len(imap_fetch_responses(imap_ok(client, "FETCH 1:* UID"))) == 4
    # EXPUNGE removes the rest of \Deleted and says so, one EXPUNGE each.
    imap_ok(client, "STORE 1 +FLAGS.SILENT (\\Deleted)")
    untagged = imap_ok(client, "STORE 1 -FLAGS.SILENT (\\Deleted)")
    untagged = imap_ok(client, "EXPUNGE")
    assert len([line for line in untagged if line.endswith(b" EXPUNGE")]) == 2, untagged
    found = imap_fetch_responses(imap_ok(client, "FETCH 1:* UID"))
    assert [int(items["UID"]) for _, items in found] == [1, 4]
    # CLOSE expunges silently (RFC 9051 §6.4.1).
    imap_ok(client, "STORE 2 +FLAGS (\\Deleted)")
    untagged = imap_ok(client, "CLOSE")
    assert not any(b"EXPUNGE" in line for line in untagged), untagged
    _, done = imap_command(client, "FETCH 1 UID")
    assert imap_status_word(done) == "BAD", "no mailbox is selected after CLOSE"
    assert [m.uid for m in mailbox_listing(server, ALICE)] == [1]
    # imaplib: expunge() and close().
    lib = imaplib_login(server)
    lib.select("INBOX")
    lib.store("1", "+FLAGS", r"(\Deleted)")
    typ, data = lib.expunge()
    assert typ == "OK" and data == [b"1"]
    lib.logout()
    client.close()


# --------------------------------------------------------------------------------------
# SEARCH
# --------------------------------------------------------------------------------------

SEARCH_SET = [
    # (header extras, from, subject, body, internal date, flags)
    ("alice@example.org", "Hello world", b"The quick brown fox.\r\n", "01-Jan-2026 12:00:00 +0000", "\\Seen"),
    ("bob@example.net", "Invoice 42", b"Please pay.\r\n", "15-Feb-2026 12:00:00 +0000", "$Work"),
    ("carol@example.com", "=?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=",
     "Schöne Grüße\r\n".encode() + b"z" * 5000 + b"\r\n", "10-Mar-2026 12:00:00 +0000", "\\Flagged"),
    ("alice@example.org", "Re: Hello world", b"The fox again.\r\n", "20-Mar-2026 12:00:00 +0000", ""),
]


def search_mailbox(server):
    provision(server, ["alice"])
    client = imap_login(server)
    for sender, subject, body, date, flags in SEARCH_SET:
        extra = b"X-Priority: 1\r\n" if "Invoice" in subject else b""
        headers = b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n" if b"\xc3" in body else b""
        content = message(subject, body, sender=sender, extra=extra + headers)
        literal_append(client, "INBOX", content, flags, date)
    imap_ok(client, "SELECT INBOX")
    return client


@pytest.mark.parametrize("criteria,expected", [
    ("ALL", [1, 2, 3, 4]),
    ("FROM alice", [1, 4]),
    ("FROM ALICE@EXAMPLE.ORG", [1, 4]),
    ("TO alice@example.test", [1, 2, 3, 4]),
    ("SUBJECT invoice", [2]),
    ('SUBJECT "hello world"', [1, 4]),
    ("BODY fox", [1, 4]),
    ("TEXT invoice", [2]),
    ("TEXT X-Priority", [2]),
    ("HEADER X-Priority 1", [2]),
    ('HEADER X-Priority ""', [2]),
    ("SINCE 1-Mar-2026", [3, 4]),
    ("BEFORE 1-Feb-2026", [1]),
    ("ON 15-Feb-2026", [2]),
    ("LARGER 4000", [3]),
    ("SMALLER 4000", [1, 2, 4]),
    ("UID 2:3", [2, 3]),
    ("UID 3:*", [3, 4]),
    ("UID 4:2", [2, 3, 4]),
    ("2,4", [2, 4]),
    ("2:* FLAGGED", [3]),
    ("SEEN", [1]),
    ("UNSEEN", [2, 3, 4]),
    ("NOT SEEN", [2, 3, 4]),
    ("OR FROM bob FLAGGED", [2, 3]),
    ("NOT (FROM alice SUBJECT hello)", [2, 3]),
    ("KEYWORD $Work", [2]),
    ("UNKEYWORD $Work", [1, 3, 4]),
    ("NOT NOT NOT SEEN", [2, 3, 4]),
    ("OR OR SEEN FLAGGED KEYWORD $Work", [1, 2, 3]),
    ("((FROM alice) (NOT SUBJECT Re))", [1]),
    ("SENTSINCE 1-Jan-2000", [1, 2, 3, 4]),
    ("SUBJECT nothing-matches-this", []),
])
def test_search_keys(server, criteria, expected):
    client = search_mailbox(server)
    assert nums(imap_ok(client, f"SEARCH {criteria}")) == expected, criteria
    client.close()


def test_search_charset_utf8_and_imaplib(server):
    client = search_mailbox(server)
    needle = "Köln".encode()
    client.send(b"U1 SEARCH CHARSET UTF-8 SUBJECT {%d}\r\n" % len(needle))
    assert client.text_line().startswith("+")
    client.send(needle + b"\r\n")
    untagged, done = imap_until_tagged(client, "U1")
    assert imap_status_word(done) == "OK", done
    assert nums(untagged) == [3], "SUBJECT matches the RFC 2047-decoded subject (RFC 9051 §6.4.4)"
    needle = "grüße".encode()  # in the 8-bit body, case-folded
    untagged = imap_ok(client, b"SEARCH CHARSET UTF-8 BODY {%d+}\r\n" % len(needle) + needle)
    assert nums(untagged) == [3]
    _, done = imap_command(client, "SEARCH CHARSET X-NO-SUCH-CHARSET SUBJECT x")
    assert imap_status_word(done) == "NO" and b"[BADCHARSET" in done, done  # RFC 9051 §6.4.4
    lib = imaplib_login(server)
    lib.select("INBOX")
    typ, data = lib.search(None, "FROM", '"alice"', "UNSEEN")
    assert typ == "OK" and data == [b"4"]
    typ, data = lib.uid("SEARCH", "SUBJECT", "Invoice")
    assert typ == "OK" and data == [b"2"]
    lib.logout()
    client.close()


def test_esearch_return_options(server):
    client = search_mailbox(server)
    result = esearch(imap_ok(client, "SEARCH RETURN (MIN MAX COUNT ALL) NOT FROM bob"))
    assert result == {"MIN": "1", "MAX": "4", "COUNT": "3", "ALL": result.get("ALL")}
    assert expand(result["ALL"]) == [1, 3, 4]
    result = esearch(imap_ok(client, "UID SEARCH RETURN (COUNT) ALL"))
    assert result == {"COUNT": "4", "UID": "yes"}  # RFC 4731 §3.1: UID indicator
    result = esearch(imap_ok(client, "SEARCH RETURN () FROM alice"))
    assert expand(result["ALL"]) == [1, 4]
    # No matches: MIN/MAX/ALL are left out, COUNT is 0 (RFC 4731 §3.1).
    result = esearch(imap_ok(client, "SEARCH RETURN (MIN MAX COUNT ALL) SUBJECT nothing-matches"))
    assert result == {"COUNT": "0"}, result
    _, done = imap_command(client, "SEARCH RETURN (BOGUS) ALL")
    assert imap_status_word(done) == "BAD", done
    client.close()


def test_searchres_save_and_dollar(server):
    client = search_mailbox(server)
    # "$" before any SAVE is the empty set (RFC 5182 §2.1).
    assert imap_fetch_responses(imap_ok(client, "FETCH $ UID")) == []
    untagged = imap_ok(client, "SEARCH RETURN (SAVE) FROM alice")
    assert not any(line.startswith((b"* SEARCH", b"* ESEARCH")) for line in untagged), untagged
    found = imap_fetch_responses(imap_ok(client, "FETCH $ (UID)"))
    assert [n for n, _ in found] == [1, 4]
    assert nums(imap_ok(client, "SEARCH $ UNSEEN")) == [4]
    assert nums(imap_ok(client, "UID SEARCH UID $")) == [1, 4]
    imap_ok(client, "STORE $ +FLAGS.SILENT (\\Answered)")
    assert nums(imap_ok(client, "SEARCH ANSWERED")) == [1, 4]
    # SAVE with MIN: only the minimum is saved (RFC 5182 §2.4).
    result = esearch(imap_ok(client, "UID SEARCH RETURN (SAVE MIN) NOT FROM alice"))
    assert result == {"MIN": "2", "UID": "yes"}
    assert nums(imap_ok(client, "UID SEARCH $")) == [2]
    # The saved result follows expunges.
    imap_ok(client, "SEARCH RETURN (SAVE) ALL")
    imap_ok(client, "STORE 1 +FLAGS.SILENT (\\Deleted)")
    imap_ok(client, "EXPUNGE")
    assert nums(imap_ok(client, "UID SEARCH UID $")) == [2, 3, 4]
    # A failed SEARCH ... SAVE empties it (RFC 5182 §2.1); so does selecting again.
    imap_ok(client, "SELECT INBOX")
    assert imap_fetch_responses(imap_ok(client, "FETCH $ UID")) == []
    client.close()
