"""IMAP and POP3 on the same account at once: POP3's UPDATE state (RFC 1939 §6) shows up in
IMAP as EXPUNGE (RFC 9051 §7.5.1), IMAP flag changes leave POP3's maildrop snapshot alone,
and both count the same messages and sizes.
"""

from __future__ import annotations

import poplib
import socket
import time

from harness import (
    deliver_smtp,
    imap_fetch_responses,
    imap_login,
    imap_ok,
    imap_response,
    imap_until_tagged,
    message,
    provision,
    unverified_tls_context,
    wait_for,
)

ALICE = "alice@example.test"


def pop3_login(server) -> poplib.POP3:
    host, port = server.address("pop3")
    client = poplib.POP3(host, port, timeout=30)
    client.stls(context=unverified_tls_context())
    client.user(ALICE)
    assert client.pass_("pw-alice").startswith(b"+OK")
    return client


def try_pop3_login(server) -> poplib.POP3 | None:
    try:
        return pop3_login(server)
    except poplib.error_proto as refused:
        assert b"[IN-USE]" in str(refused).encode(), refused
        return None


def retr_bytes(client: poplib.POP3, number: int) -> bytes:
    _, lines, _ = client.retr(number)
    return b"".join(line + b"\r\n" for line in lines)


def setup_three(server) -> list[bytes]:
    provision(server, ["alice"])
    sent = [message(f"together {k}", f"Body {k}.\r\n".encode()) for k in range(3)]
    for content in sent:
        deliver_smtp(server, ALICE, content)
    return sent


def test_pop3_dele_quit_is_an_expunge_for_imap_at_noop(server):
    setup_three(server)
    imap = imap_login(server)
    untagged = imap_ok(imap, "SELECT INBOX")
    assert b"* 3 EXISTS" in untagged
    pop = pop3_login(server)
    assert pop.stat()[0] == 3
    pop.dele(2)
    # Not before QUIT (RFC 1939 §6: deletions happen in the UPDATE state).
    assert not any(line.endswith(b" EXPUNGE") for line in imap_ok(imap, "NOOP"))
    pop.quit()
    untagged = imap_ok(imap, "NOOP")
    assert b"* 2 EXPUNGE" in untagged, untagged
    found = imap_fetch_responses(imap_ok(imap, "FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
    subjects = [v for _, items in found for k, v in items.items() if k.startswith("BODY[")]
    assert subjects == [b"Subject: together 0\r\n\r\n", b"Subject: together 2\r\n\r\n"]
    imap.close()


def test_pop3_dele_without_quit_deletes_nothing(server):
    setup_three(server)
    pop = pop3_login(server)
    pop.dele(1)
    pop.sock.shutdown(socket.SHUT_RDWR)  # the connection drops: no UPDATE state
    pop.close()
    # The server notices the drop asynchronously; until then the maildrop is still locked.
    pop = wait_for(lambda: try_pop3_login(server), 10.0, interval=0.1, message="the POP3 lock to go")
    assert pop.stat()[0] == 3
    pop.quit()
    imap = imap_login(server)
    assert b"* 3 EXISTS" in imap_ok(imap, "SELECT INBOX")
    imap.close()


def test_pop3_quit_wakes_an_idling_imap_session(server):
    setup_three(server)
    imap = imap_login(server)
    imap_ok(imap, "SELECT INBOX")
    imap.send(b"I1 IDLE\r\n")
    assert imap.text_line().startswith("+")
    pop = pop3_login(server)
    pop.dele(1)
    pop.dele(3)
    pop.quit()
    quit_at = time.monotonic()
    seen = []
    while len([r for r in seen if r.endswith(b" EXPUNGE")]) < 2:
        remaining = quit_at + 5.0 - time.monotonic()
        assert remaining > 0, f"no EXPUNGE within 5 s of POP3 QUIT: {seen}"
        response = imap_response(imap, remaining)
        assert response, seen
        seen.append(response.rstrip(b"\r\n"))
    # Two EXPUNGEs that leave the middle message: "3 then 1" or "1 then 2".
    numbers = [int(r.split()[1]) for r in seen if r.endswith(b" EXPUNGE")]
    remaining_uids = [1, 2, 3]
    for number in numbers:
        del remaining_uids[number - 1]
    assert remaining_uids == [2], seen
    imap.send(b"DONE\r\n")
    imap_until_tagged(imap, "I1")
    imap.close()


def test_imap_flags_do_not_disturb_the_pop3_snapshot(server):
    sent = setup_three(server)
    pop = pop3_login(server)
    listing = pop.list()[1]
    uidl = pop.uidl()[1]
    first = retr_bytes(pop, 1)
    imap = imap_login(server)
    imap_ok(imap, "SELECT INBOX")
    imap_ok(imap, "STORE 1:* +FLAGS.SILENT (\\Seen \\Flagged $Label)")
    imap_ok(imap, "STORE 2 -FLAGS.SILENT (\\Seen)")
    # A new message while POP3 holds its snapshot.
    deliver_smtp(server, ALICE, message("late"))
    assert pop.list()[1] == listing
    assert pop.uidl()[1] == uidl
    assert retr_bytes(pop, 1) == first
    assert pop.stat()[0] == 3
    body = imap_fetch_responses(imap_ok(imap, "FETCH 1 BODY.PEEK[]"))[0][1]["BODY[]"]
    assert body == first, "POP3 RETR and IMAP BODY[] give the same octets"
    assert body.endswith(sent[0])
    pop.quit()
    imap.close()
    # The flags IMAP set survive POP3's QUIT (which deleted nothing).
    imap = imap_login(server)
    imap_ok(imap, "SELECT INBOX")
    found = dict(imap_fetch_responses(imap_ok(imap, "FETCH 1:3 FLAGS")))
    assert all({"\\Flagged", "$Label"} <= set(items["FLAGS"]) for items in found.values()), found
    imap.close()


def test_counts_and_sizes_agree(server):
    setup_three(server)
    deliver_smtp(server, ALICE, message("big one", b"line of text\r\n" * 2000))
    imap = imap_login(server)
    untagged = imap_ok(imap, "STATUS INBOX (MESSAGES SIZE)")
    assert b"MESSAGES 4" in untagged[0]
    imap_ok(imap, "EXAMINE INBOX")
    found = imap_fetch_responses(imap_ok(imap, "FETCH 1:* RFC822.SIZE"))
    imap_sizes = [int(items["RFC822.SIZE"]) for _, items in found]
    assert b"SIZE %d" % sum(imap_sizes) in untagged[0], untagged
    pop = pop3_login(server)
    count, octets = pop.stat()
    assert count == 4 and octets == sum(imap_sizes)
    pop_sizes = [int(line.split()[1]) for line in pop.list()[1]]
    assert pop_sizes == imap_sizes
    # POP3 deletes two; both views agree again afterwards.
    pop.dele(1)
    pop.dele(4)
    pop.quit()
    untagged = imap_ok(imap, "STATUS INBOX (MESSAGES SIZE)")
    assert b"MESSAGES 2" in untagged[0] and b"SIZE %d" % (imap_sizes[1] + imap_sizes[2]) in untagged[0], untagged
    pop = pop3_login(server)
    assert pop.stat() == (2, imap_sizes[1] + imap_sizes[2])
    pop.quit()
    imap.close()
