"""IMAP sessions observing each other (RFC 9051 §7.5.1 / §5.2), IDLE (RFC 2177) woken by
SMTP deliveries, CONDSTORE and QRESYNC (RFC 7162), QUOTA (RFC 9208) with APPEND and SMTP.
"""

from __future__ import annotations

import re
import time

from harness import (
    DOMAIN,
    deliver_smtp,
    imap_command,
    imap_fetch_responses,
    imap_login,
    imap_ok,
    imap_parse,
    imap_response,
    imap_status_word,
    imap_until_tagged,
    mailbox_listing,
    message,
    provision,
    send_transaction,
    smtplib_client,
)

ALICE = "alice@example.test"


def append(client, mailbox: str, content: bytes, flags: str = "") -> bytes:
    untagged, done = imap_command(client, f"APPEND {mailbox} ({flags}) ".encode() +
                                  b"{%d+}\r\n" % len(content) + content)
    assert imap_status_word(done) == "OK", (done, untagged)
    return done


def code_value(untagged: list[bytes], code: str) -> int:
    for line in untagged:
        match = re.match(rb"\* OK \[" + code.encode() + rb" (\d+)\]", line)
        if match:
            return int(match.group(1))
    raise AssertionError(f"no [{code}] in {untagged}")


def wait_response(client, predicate, timeout: float, seen: list[bytes]) -> bytes:
    """Reads untagged responses until predicate(response) holds; all go into seen."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no matching response within {timeout}s; got {seen}"
        response = imap_response(client, remaining)
        assert response, f"connection closed; got {seen}"
        response = response.rstrip(b"\r\n")
        seen.append(response)
        if predicate(response):
            return response


def start_idle(client, tag: str = "I1") -> list[bytes]:
    """Sends IDLE and reads up to the "+" continuation; returns what came before it."""
    client.send(tag.encode() + b" IDLE\r\n")
    before = []
    while True:
        response = imap_response(client).rstrip(b"\r\n")
        assert response, "connection closed at IDLE"
        if response.startswith(b"+"):
            return before
        before.append(response)


def stop_idle(client, tag: str = "I1") -> list[bytes]:
    client.send(b"DONE\r\n")
    untagged, done = imap_until_tagged(client, tag)
    assert imap_status_word(done) == "OK", done
    return untagged


# --------------------------------------------------------------------------------------
# two sessions
# --------------------------------------------------------------------------------------

def test_two_sessions_see_new_mail_flags_and_expunges_at_noop(server):
    provision(server, ["alice"])
    a = imap_login(server)
    b = imap_login(server)
    append(a, "INBOX", message("first"))
    imap_ok(a, "SELECT INBOX")
    untagged = imap_ok(b, "SELECT INBOX")
    assert b"* 1 EXISTS" in untagged

    # New mail from SMTP: B learns at NOOP (RFC 9051 §6.1.2, §7.4.1).
    deliver_smtp(server, ALICE, message("second"))
    untagged = imap_ok(b, "NOOP")
    assert b"* 2 EXISTS" in untagged, untagged
    untagged = imap_ok(a, "NOOP")
    assert b"* 2 EXISTS" in untagged, untagged

    # A changes flags: B gets an unsolicited FETCH with the new FLAGS.
    imap_ok(a, "STORE 1 +FLAGS.SILENT (\\Flagged $Shared)")
    found = imap_fetch_responses(imap_ok(b, "NOOP"))
    assert len(found) == 1 and found[0][0] == 1, found
    assert {"\\Flagged", "$Shared"} <= set(found[0][1]["FLAGS"])
    # Nothing new: NOOP says nothing.
    assert imap_fetch_responses(imap_ok(b, "NOOP")) == []

    # A expunges message 1: B gets "* 1 EXPUNGE" and the count drops.
    imap_ok(a, "STORE 1 +FLAGS.SILENT (\\Deleted)")
    untagged = imap_ok(a, "EXPUNGE")
    assert b"* 1 EXPUNGE" in untagged
    untagged = imap_ok(b, "NOOP")
    assert b"* 1 EXPUNGE" in untagged, untagged
    found = imap_fetch_responses(imap_ok(b, "FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
    assert len(found) == 1 and int(found[0][1]["UID"]) == 2

    # RFC 9051 §7.5.1: no EXPUNGE during FETCH/STORE/SEARCH (sequence numbers would shift).
    deliver_smtp(server, ALICE, message("third"))
    imap_ok(a, "NOOP")
    imap_ok(a, "STORE 1 +FLAGS.SILENT (\\Deleted)")
    imap_ok(a, "EXPUNGE")
    untagged = imap_ok(b, "FETCH 1 FLAGS")
    assert not any(line.endswith(b" EXPUNGE") for line in untagged), untagged
    untagged = imap_ok(b, "SEARCH ALL")
    assert not any(line.endswith(b" EXPUNGE") for line in untagged), untagged
    untagged = imap_ok(b, "NOOP")
    assert b"* 1 EXPUNGE" in untagged, untagged
    a.close()
    b.close()


def test_idle_is_woken_by_an_smtp_delivery(server):
    provision(server, ["alice"])
    client = imap_login(server)
    untagged = imap_ok(client, "SELECT INBOX")
    assert b"* 0 EXISTS" in untagged
    start_idle(client)
    # Nothing arrives while nothing happens.
    assert client.nothing_within(0.3) == b""
    smtp = smtplib_client(server, "smtp")
    code, reply = send_transaction(smtp, "sender@example.org", [ALICE], message("wake up"))
    delivered = time.monotonic()
    assert code == 250, reply
    seen: list[bytes] = []
    wait_response(client, lambda r: r == b"* 1 EXISTS", 5.0, seen)
    took = time.monotonic() - delivered
    assert took < 1.0, f"IDLE reported the new message only after {took:.2f}s"
    smtp.quit()
    untagged = stop_idle(client)
    assert not any(line == b"* 1 EXISTS" for line in untagged), "announced twice"
    imap_ok(client, "NOOP")
    client.close()


def test_idle_reports_other_sessions_flags_and_expunges(server):
    provision(server, ["alice"])
    a = imap_login(server)
    b = imap_login(server)
    for k in range(3):
        append(a, "INBOX", message(f"m{k}"))
    imap_ok(a, "SELECT INBOX")
    imap_ok(b, "SELECT INBOX")
    start_idle(b)
    imap_ok(a, "STORE 2 +FLAGS.SILENT (\\Seen)")
    seen: list[bytes] = []
    response = wait_response(b, lambda r: b" FETCH " in r, 5.0, seen)
    (number, items), = imap_fetch_responses([response])
    assert number == 2 and "\\Seen" in items["FLAGS"]
    imap_ok(a, "STORE 1 +FLAGS.SILENT (\\Deleted)")
    imap_ok(a, "EXPUNGE")
    wait_response(b, lambda r: r == b"* 1 EXPUNGE", 5.0, seen)
    stop_idle(b)
    found = imap_fetch_responses(imap_ok(b, "FETCH 1:* UID"))
    assert [int(items["UID"]) for _, items in found] == [2, 3]
    # IDLE ended with something else than DONE is an error (RFC 2177 §3).
    start_idle(b, "I2")
    b.send(b"NOT-DONE\r\n")
    _, done = imap_until_tagged(b, "I2")
    assert imap_status_word(done) == "BAD", done
    imap_ok(b, "NOOP")
    a.close()
    b.close()


def test_idle_without_a_selected_mailbox(server):
    provision(server, ["alice"])
    client = imap_login(server)
    start_idle(client)
    assert client.nothing_within(0.3) == b""
    stop_idle(client)
    client.close()


# --------------------------------------------------------------------------------------
# CONDSTORE
# --------------------------------------------------------------------------------------

def test_condstore_changedsince_and_unchangedsince(server):
    provision(server, ["alice"])
    a = imap_login(server)
    b = imap_login(server)
    for k in range(3):
        append(a, "INBOX", message(f"c{k}"))
    untagged = imap_ok(a, "SELECT INBOX (CONDSTORE)")
    highest = code_value(untagged, "HIGHESTMODSEQ")
    assert highest > 0
    found = imap_fetch_responses(imap_ok(a, "FETCH 1:* (MODSEQ)"))
    modseqs = {n: int(items["MODSEQ"][0]) for n, items in found}
    assert all(0 < m <= highest for m in modseqs.values())

    imap_ok(b, "SELECT INBOX")
    imap_ok(b, "STORE 2 +FLAGS (\\Answered)")
    imap_ok(a, "NOOP")
    # RFC 7162 §3.1.4: CHANGEDSINCE returns only what changed after the given MODSEQ,
    # and every FETCH then carries MODSEQ.
    found = imap_fetch_responses(imap_ok(a, f"FETCH 1:* (FLAGS) (CHANGEDSINCE {highest})"))
    assert [n for n, _ in found] == [2], found
    assert "\\Answered" in found[0][1]["FLAGS"] and int(found[0][1]["MODSEQ"][0]) > highest
    new_modseq = int(found[0][1]["MODSEQ"][0])
    found = imap_fetch_responses(imap_ok(a, f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {new_modseq})"))
    assert found == []
    # SEARCH MODSEQ (RFC 7162 §3.1.5) answers with the highest MODSEQ of the hits.
    untagged = imap_ok(a, f"SEARCH MODSEQ {highest + 1}")
    search = [line for line in untagged if line.startswith(b"* SEARCH")]
    assert search == [b"* SEARCH 2 (MODSEQ %d)" % new_modseq], untagged

    # STORE UNCHANGEDSINCE (RFC 7162 §3.1.3): message 2 changed since `highest`, so only
    # message 1 and 3 are updated and 2 is reported in [MODIFIED].
    untagged, done = imap_command(a, f"STORE 1:3 (UNCHANGEDSINCE {highest}) +FLAGS (\\Flagged)")
    assert imap_status_word(done) == "OK" and re.search(rb"\[MODIFIED 2\]", done), done
    found = dict(imap_fetch_responses(untagged))
    assert set(found) == {1, 3}, untagged
    assert all("\\Flagged" in items["FLAGS"] and "MODSEQ" in items for items in found.values())
    found = dict(imap_fetch_responses(imap_ok(a, "FETCH 1:3 FLAGS")))
    assert "\\Flagged" not in found[2]["FLAGS"]
    # UNCHANGEDSINCE 0 fails for every message (RFC 7162 §3.1.3 example).
    untagged, done = imap_command(a, "UID STORE 1 (UNCHANGEDSINCE 0) +FLAGS (\\Seen)")
    assert re.search(rb"\[MODIFIED 1\]", done), done
    # The other session sees MODSEQ in its unsolicited FETCH once it has enabled CONDSTORE.
    found = imap_fetch_responses(imap_ok(b, "NOOP"))
    assert {n for n, _ in found} == {1, 3}
    a.close()
    b.close()


# --------------------------------------------------------------------------------------
# QRESYNC
# --------------------------------------------------------------------------------------

def test_qresync_select_reports_vanished_and_changed_flags(server):
    provision(server, ["alice"])
    a = imap_login(server)
    for k in range(5):
        append(a, "INBOX", message(f"q{k}"))
    untagged = imap_ok(a, "ENABLE QRESYNC")
    assert untagged and b"QRESYNC" in untagged[0]
    untagged = imap_ok(a, "SELECT INBOX")
    uidvalidity = code_value(untagged, "UIDVALIDITY")
    known = code_value(untagged, "HIGHESTMODSEQ")
    a.close()

    b = imap_login(server)
    imap_ok(b, "SELECT INBOX")
    imap_ok(b, "UID STORE 2,4 +FLAGS.SILENT (\\Deleted)")
    imap_ok(b, "UID EXPUNGE 2,4")
    imap_ok(b, "UID STORE 3 +FLAGS.SILENT (\\Flagged)")

    c = imap_login(server)
    imap_ok(c, "ENABLE QRESYNC")
    untagged = imap_ok(c, f"SELECT INBOX (QRESYNC ({uidvalidity} {known}))")
    # RFC 7162 §3.2.5.2: VANISHED (EARLIER) with the expunged UIDs, then FETCH of changes.
    vanished = [line for line in untagged if line.startswith(b"* VANISHED")]
    assert vanished == [b"* VANISHED (EARLIER) 2,4"] or vanished == [b"* VANISHED (EARLIER) 4,2"], untagged
    assert b"* 3 EXISTS" in untagged
    found = imap_fetch_responses(untagged)
    assert len(found) == 1, untagged
    number, items = found[0]
    assert number == 2 and int(items["UID"]) == 3 and "\\Flagged" in items["FLAGS"] and "MODSEQ" in items
    # With known UIDs the server may leave out what the client never had.
    imap_ok(c, "UNSELECT")
    untagged = imap_ok(c, f"SELECT INBOX (QRESYNC ({uidvalidity} {known} 1:3))")
    vanished = [line for line in untagged if line.startswith(b"* VANISHED")]
    assert vanished == [b"* VANISHED (EARLIER) 2"], untagged
    # RFC 7162 §3.2.11: switching mailboxes with QRESYNC announces [CLOSED].
    untagged = imap_ok(c, "SELECT Sent")
    assert any(line.startswith(b"* OK [CLOSED]") for line in untagged), untagged
    imap_ok(c, "SELECT INBOX")
    # UID FETCH ... (CHANGEDSINCE m VANISHED) (RFC 7162 §3.2.6).
    untagged = imap_ok(c, f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {known} VANISHED)")
    vanished = [line for line in untagged if line.startswith(b"* VANISHED")]
    assert vanished == [b"* VANISHED (EARLIER) 2,4"], untagged
    assert [int(items["UID"]) for _, items in imap_fetch_responses(untagged)] == [3]
    # A wrong UIDVALIDITY: no VANISHED, just a normal SELECT.
    untagged = imap_ok(c, f"SELECT INBOX (QRESYNC ({uidvalidity + 1} {known}))")
    assert not any(line.startswith(b"* VANISHED") for line in untagged)
    # Without ENABLE QRESYNC the parameter is an error (RFC 7162 §3.2.5).
    _, done = imap_command(b, f"SELECT INBOX (QRESYNC ({uidvalidity} {known}))")
    assert imap_status_word(done) == "BAD", done
    b.close()
    c.close()


def test_qresync_session_gets_vanished_instead_of_expunge(server):
    provision(server, ["alice"])
    a = imap_login(server)
    b = imap_login(server)
    for k in range(3):
        append(a, "INBOX", message(f"v{k}"))
    imap_ok(a, "ENABLE QRESYNC")
    imap_ok(a, "SELECT INBOX")
    imap_ok(b, "SELECT INBOX")
    imap_ok(b, "STORE 2 +FLAGS.SILENT (\\Deleted)")
    imap_ok(b, "EXPUNGE")
    untagged = imap_ok(a, "NOOP")
    # RFC 7162 §3.2.10: VANISHED (UIDs) instead of EXPUNGE once QRESYNC is enabled.
    assert b"* VANISHED 2" in untagged, untagged
    assert not any(line.endswith(b" EXPUNGE") for line in untagged)
    # Its own expunge, too.
    imap_ok(a, "STORE 1 +FLAGS.SILENT (\\Deleted)")
    untagged = imap_ok(a, "EXPUNGE")
    assert untagged == [b"* VANISHED 1"] or b"* VANISHED 1" in untagged, untagged
    a.close()
    b.close()


# --------------------------------------------------------------------------------------
# QUOTA
# --------------------------------------------------------------------------------------

def add_user_with_quota(server, address: str, quota: int) -> None:
    for args in (("domain", "add", DOMAIN), ("user", "add", address, "--password", "pw-alice",
                                               "--quota", str(quota))):
        done = server.cli(*args)
        assert done.returncode == 0, (args, done.stderr)


def test_quota_append_and_smtp_delivery(server):
    add_user_with_quota(server, ALICE, 20000)
    client = imap_login(server)
    untagged, done = imap_command(client, "GETQUOTAROOT INBOX")
    assert imap_status_word(done) == "OK", done
    roots = [imap_parse(line[len(b"* QUOTAROOT "):]) for line in untagged if line.startswith(b"* QUOTAROOT ")]
    assert [[str(v) if not isinstance(v, bytes) else v.decode() for v in root] for root in roots] == [["INBOX", ""]], untagged
    quota = [line for line in untagged if line.startswith(b"* QUOTA ")]
    # RFC 9208 §5.1: STORAGE in units of 1024 octets: usage then limit.
    assert quota == [b'* QUOTA "" (STORAGE 0 19)'], quota

    first = message("fits", (b"f" * 98 + b"\r\n") * 120)
    append(client, "INBOX", first)
    too_much = message("too much", (b"t" * 98 + b"\r\n") * 90)
    untagged, done = imap_command(client, b"APPEND INBOX {%d+}\r\n" % len(too_much) + too_much)
    # RFC 9208 §7.1 / RFC 5530: OVERQUOTA.
    assert imap_status_word(done) == "NO" and b"[OVERQUOTA]" in done, done
    assert len(mailbox_listing(server, ALICE)) == 1
    untagged = imap_ok(client, 'GETQUOTA ""')
    usage = re.search(rb"\(STORAGE (\d+) (\d+)\)", b"".join(untagged))
    assert usage and int(usage.group(1)) == (len(first) + 1023) // 1024 and int(usage.group(2)) == 19, untagged
    _, done = imap_command(client, 'SETQUOTA "" (STORAGE 100)')
    assert imap_status_word(done) in ("NO", "BAD"), done

    # SMTP: a message that does not fit is refused at the end of data and not stored.
    smtp = smtplib_client(server, "smtp")
    code, reply = send_transaction(smtp, "sender@example.org", [ALICE], too_much)
    assert code in (452, 552), (code, reply)
    assert b"5.2.2" in reply or b"4.2.2" in reply
    smtp.quit()
    assert len(mailbox_listing(server, ALICE)) == 1
    # Filling the account exactly: an account at its quota is refused at RCPT already.
    rest = 20000 - len(first)
    filler = message("filler")
    filler += b"x" * (rest - len(filler))
    append(client, "INBOX", filler)
    smtp = smtplib_client(server, "smtp")
    code, reply = smtp.mail("sender@example.org")
    assert code == 250
    code, reply = smtp.rcpt(ALICE)
    assert code in (452, 552) and (b"4.2.2" in reply or b"5.2.2" in reply), (code, reply)
    smtp.quit()
    assert len(mailbox_listing(server, ALICE)) == 2
    # Deleting makes room again.
    imap_ok(client, "SELECT INBOX")
    imap_ok(client, "STORE 2 +FLAGS.SILENT (\\Deleted)")
    imap_ok(client, "EXPUNGE")
    deliver_smtp(server, ALICE, message("after cleanup"))
    assert len(mailbox_listing(server, ALICE)) == 2
    client.close()


def test_quota_counts_copies(server):
    add_user_with_quota(server, ALICE, 30000)
    client = imap_login(server)
    append(client, "INBOX", message("copy me", (b"c" * 98 + b"\r\n") * 120))
    imap_ok(client, "SELECT INBOX")
    imap_ok(client, "COPY 1 Archive")
    _, done = imap_command(client, "COPY 1 Trash")
    assert imap_status_word(done) == "NO" and b"[OVERQUOTA]" in done, done
    # MOVE within the account does not grow it, so it still works when nearly full.
    imap_ok(client, "MOVE 1 Trash")
    client.close()
