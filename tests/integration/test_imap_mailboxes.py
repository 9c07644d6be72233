"""IMAP mailbox commands: LIST (RFC 9051 §6.3.9, LIST-EXTENDED RFC 5258, LIST-STATUS RFC
5819, SPECIAL-USE RFC 6154), LSUB (RFC 3501), CREATE, DELETE, RENAME (incl. INBOX),
SUBSCRIBE/UNSUBSCRIBE, STATUS (incl. SIZE RFC 8438, DELETED, HIGHESTMODSEQ RFC 7162), names
in modified UTF-7 (RFC 3501 §5.1.3) and in UTF-8 (RFC 6855, RFC 9051).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from harness import (
    ImapAtom,
    imap_command,
    imap_login,
    imap_ok,
    imap_parse,
    imap_status_word,
    imaplib_login,
    message,
    provision,
)

ALICE = "alice@example.test"
SPECIAL = {"Drafts": "\\Drafts", "Sent": "\\Sent", "Trash": "\\Trash", "Junk": "\\Junk", "Archive": "\\Archive"}


def as_text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def listing(untagged: list[bytes], kind: bytes = b"LIST") -> dict[str, tuple[set[str], str, list]]:
    """{name: ({attributes}, delimiter, [extended items])} of the LIST/LSUB responses."""
    out = {}
    prefix = b"* " + kind + b" "
    for line in untagged:
        if not line.startswith(prefix):
            continue
        values = imap_parse(line[len(prefix):])
        attributes, delimiter, name = values[0], values[1], values[2]
        name_text = name.decode("utf-8") if isinstance(name, bytes) else str(name)
        out[name_text] = ({str(a).lower() for a in attributes},
                          delimiter.decode() if isinstance(delimiter, bytes) else str(delimiter),
                          values[3:])
    return out


def statuses(untagged: list[bytes]) -> dict[str, dict[str, int]]:
    out = {}
    for line in untagged:
        if not line.startswith(b"* STATUS "):
            continue
        name, items = imap_parse(line[len(b"* STATUS "):])
        name_text = name.decode() if isinstance(name, bytes) else str(name)
        out[name_text] = {str(items[k]).upper(): int(items[k + 1]) for k in range(0, len(items), 2)}
    return out


def append(client, mailbox: str, content: bytes, flags: str = "") -> None:
    literal = f"{{{len(content)}+}}".encode()
    imap_ok(client, f"APPEND {mailbox} ({flags}) ".encode() + literal + b"\r\n" + content)


# --------------------------------------------------------------------------------------
# LIST
# --------------------------------------------------------------------------------------

def test_list_shows_inbox_and_special_use_mailboxes(server):
    provision(server, ["alice"])
    client = imap_login(server)
    found = listing(imap_ok(client, 'LIST "" "*"'))
    assert set(found) == {"INBOX", *SPECIAL}, found
    for name, (attributes, delimiter, _) in found.items():
        assert delimiter == "/"
        assert "\\hasnochildren" in attributes, (name, attributes)
    # RFC 6154 §2: the special-use attributes come with a plain LIST too.
    for name, use in SPECIAL.items():
        assert use.lower() in found[name][0], (name, found[name])
    assert not any(a in found["INBOX"][0] for a in map(str.lower, SPECIAL.values()))
    # RFC 9051 §6.3.9: an empty pattern asks for the delimiter.
    untagged = imap_ok(client, 'LIST "" ""')
    assert len(untagged) == 1 and re.match(rb'\* LIST \(\\Noselect\) "/" ""', untagged[0]), untagged
    # INBOX matches case-insensitively and is always called INBOX.
    found = listing(imap_ok(client, 'LIST "" "inbox"'))
    assert set(found) == {"INBOX"}
    client.close()


def test_list_extended_selection_and_return_options(server):
    provision(server, ["alice"])
    client = imap_login(server)
    imap_ok(client, "CREATE Projects/2026/Q1")
    imap_ok(client, "SUBSCRIBE Projects/2026/Q1")
    imap_ok(client, "SUBSCRIBE Sent")

    # RFC 6154 §5.1 selection option SPECIAL-USE: only special-use mailboxes.
    found = listing(imap_ok(client, 'LIST (SPECIAL-USE) "" "*"'))
    assert set(found) == set(SPECIAL), found
    # RETURN (SPECIAL-USE): all mailboxes, with the attributes.
    found = listing(imap_ok(client, 'LIST "" "*" RETURN (SPECIAL-USE)'))
    assert "\\sent" in found["Sent"][0] and "Projects" in found

    # RFC 5258 §3.1 SUBSCRIBED: subscribed names only, each with \Subscribed.
    found = listing(imap_ok(client, 'LIST (SUBSCRIBED) "" "*"'))
    assert set(found) >= {"Projects/2026/Q1", "Sent"}, found
    assert all("\\subscribed" in attrs for attrs, _, _ in found.values()), found
    assert "Projects" not in found and "Projects/2026" not in found, found

    # RECURSIVEMATCH with "%": the parent appears with CHILDINFO ("SUBSCRIBED") (RFC 5258 §3.5).
    found = listing(imap_ok(client, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"'))
    assert "Projects" in found, found
    extra = found["Projects"][2]
    assert extra and as_text(extra[0][0]).upper() == "CHILDINFO", extra
    assert [as_text(v).upper() for v in extra[0][1]] == ["SUBSCRIBED"], extra
    assert "\\subscribed" not in found["Projects"][0]

    # RETURN (SUBSCRIBED CHILDREN) on an ordinary LIST.
    found = listing(imap_ok(client, 'LIST "" "%" RETURN (SUBSCRIBED CHILDREN)'))
    assert "\\haschildren" in found["Projects"][0]
    assert "\\subscribed" in found["Sent"][0]
    assert "Projects/2026" not in found  # "%" does not cross the delimiter

    # Several patterns at once (RFC 5258 §3).
    found = listing(imap_ok(client, 'LIST "" ("INBOX" "Projects/*")'))
    assert set(found) == {"INBOX", "Projects/2026", "Projects/2026/Q1"}, found

    # The reference is prefixed to the pattern.
    found = listing(imap_ok(client, 'LIST "Projects/" "%"'))
    assert set(found) == {"Projects/2026"}, found

    # An unknown selection option is an error (RFC 5258 §3).
    _, done = imap_command(client, 'LIST (X-NOPE) "" "*"')
    assert imap_status_word(done) == "BAD", done
    client.close()


def test_list_status(server):
    provision(server, ["alice"])
    client = imap_login(server)
    append(client, "INBOX", message("one"))
    append(client, "INBOX", message("two"), "\\Seen")
    append(client, "Sent", message("three"), "\\Seen")
    untagged = imap_ok(client, 'LIST "" "*" RETURN (STATUS (MESSAGES UNSEEN UIDNEXT))')
    found = listing(untagged)
    status = statuses(untagged)
    # RFC 5819 §2: one STATUS per selectable listed mailbox, right after its LIST.
    assert set(status) == set(found), (status, found)
    assert status["INBOX"] == {"MESSAGES": 2, "UNSEEN": 1, "UIDNEXT": status["INBOX"]["UIDNEXT"]}
    assert status["INBOX"]["UIDNEXT"] >= 3
    assert status["Sent"]["MESSAGES"] == 1 and status["Sent"]["UNSEEN"] == 0
    assert status["Trash"]["MESSAGES"] == 0
    for k, line in enumerate(untagged):
        if line.startswith(b"* STATUS "):
            assert untagged[k - 1].startswith(b"* LIST "), untagged
    client.close()


# --------------------------------------------------------------------------------------
# CREATE, DELETE, RENAME
# --------------------------------------------------------------------------------------

def test_create_with_hierarchy_and_errors(server):
    provision(server, ["alice"])
    client = imap_login(server)
    # RFC 9051 §6.3.4: superior names are created as needed.
    imap_ok(client, "CREATE work/clients/acme")
    found = listing(imap_ok(client, 'LIST "" "work*"'))
    assert set(found) == {"work", "work/clients", "work/clients/acme"}, found
    assert "\\haschildren" in found["work"][0] and "\\hasnochildren" in found["work/clients/acme"][0]
    imap_ok(client, "SELECT work/clients")  # the superiors are real, selectable mailboxes
    imap_ok(client, "UNSELECT")
    # A trailing delimiter names the mailbox without it.
    imap_ok(client, "CREATE notes/")
    assert set(listing(imap_ok(client, 'LIST "" "notes*"'))) == {"notes"}
    # Existing names.
    for name in ("work", "INBOX", "inbox", "Sent"):
        _, done = imap_command(client, f"CREATE {name}")
        assert imap_status_word(done) == "NO", (name, done)
    _, done = imap_command(client, "CREATE work")
    assert b"[ALREADYEXISTS]" in done, done
    # CREATE ... (USE (\Flagged)) would be RFC 6154 §3 CREATE-SPECIAL-USE; an unknown
    # attribute is refused with [USEATTR]. CREATE-SPECIAL-USE is not announced, so only
    # check that the plain command still works with quoted and literal names.
    imap_ok(client, 'CREATE "with space"')
    imap_ok(client, b"CREATE {7+}\r\nliteral")
    found = listing(imap_ok(client, 'LIST "" "*"'))
    assert {"with space", "literal"} <= set(found)
    client.close()


def test_delete(server):
    provision(server, ["alice"])
    client = imap_login(server)
    imap_ok(client, "CREATE gone")
    append(client, "gone", message("in gone"))
    imap_ok(client, "DELETE gone")
    assert "gone" not in listing(imap_ok(client, 'LIST "" "*"'))
    _, done = imap_command(client, "DELETE gone")
    assert imap_status_word(done) == "NO" and b"[NONEXISTENT]" in done, done
    _, done = imap_command(client, "DELETE INBOX")
    assert imap_status_word(done) == "NO", "RFC 9051 §6.3.5: deleting INBOX is an error"
    _, done = imap_command(client, "STATUS gone (MESSAGES)")
    assert imap_status_word(done) == "NO"
    # A new mailbox of the same name starts empty with another UIDVALIDITY (§6.3.5).
    imap_ok(client, "CREATE again")
    first = statuses(imap_ok(client, "STATUS again (UIDVALIDITY MESSAGES)"))["again"]
    append(client, "again", message("x"))
    imap_ok(client, "DELETE again")
    imap_ok(client, "CREATE again")
    second = statuses(imap_ok(client, "STATUS again (UIDVALIDITY MESSAGES UIDNEXT)"))["again"]
    assert second["MESSAGES"] == 0
    assert second["UIDVALIDITY"] != first["UIDVALIDITY"] or second["UIDNEXT"] > 1

    # Deleting a parent keeps its inferiors (RFC 9051 §6.3.5).
    imap_ok(client, "CREATE top/child")
    _, done = imap_command(client, "DELETE top")
    if imap_status_word(done) == "OK":
        found = listing(imap_ok(client, 'LIST "" "top*"'))
        assert "top/child" in found
        assert "top" not in found or {"\\noselect", "\\nonexistent"} & found["top"][0], found
    imap_ok(client, "SELECT top/child")
    client.close()


def test_delete_of_the_selected_mailbox_by_another_session(server):
    provision(server, ["alice"])
    a = imap_login(server)
    b = imap_login(server)
    imap_ok(a, "CREATE shared")
    append(a, "shared", message("m"))
    imap_ok(b, "SELECT shared")
    imap_ok(a, "DELETE shared")
    # The other session must learn about it somehow: BYE, or a NO on the next command, but
    # never a crash and never the old messages as if nothing happened.
    try:
        untagged, done = imap_command(b, "FETCH 1 BODY.PEEK[]")
        assert imap_status_word(done) in ("NO", "BAD") or any(l.startswith(b"* BYE") for l in untagged) \
            or not any(b" FETCH " in l for l in untagged), (untagged, done)
    except EOFError:
        pass
    a.close()
    b.close()
    # The server still serves.
    imap_ok(imap_login(server), "NOOP")


def test_rename(server):
    provision(server, ["alice"])
    client = imap_login(server)
    imap_ok(client, "CREATE old/sub")
    append(client, "old", message("in old"))
    before = statuses(imap_ok(client, "STATUS old (UIDVALIDITY MESSAGES)"))["old"]
    imap_ok(client, "RENAME old new")
    found = listing(imap_ok(client, 'LIST "" "*"'))
    # RFC 9051 §6.3.6: inferiors are renamed too; the messages and UIDVALIDITY go along.
    assert "old" not in found and "old/sub" not in found
    assert {"new", "new/sub"} <= set(found), found
    after = statuses(imap_ok(client, "STATUS new (UIDVALIDITY MESSAGES)"))["new"]
    assert after["MESSAGES"] == 1
    # Renaming onto an existing name fails, as does renaming a name that does not exist.
    _, done = imap_command(client, "RENAME new Sent")
    assert imap_status_word(done) == "NO", done
    _, done = imap_command(client, "RENAME nothing-here other")
    assert imap_status_word(done) == "NO", done
    _, done = imap_command(client, "RENAME new new/sub/deeper")
    assert imap_status_word(done) == "NO", "a mailbox cannot become its own inferior"
    # RENAME into a new hierarchy creates the superiors.
    imap_ok(client, "RENAME new a/b/c")
    assert {"a", "a/b", "a/b/c", "a/b/c/sub"} <= set(listing(imap_ok(client, 'LIST "" "*"')))
    del before, after
    client.close()


def test_rename_inbox_moves_the_messages(server):
    provision(server, ["alice"])
    client = imap_login(server)
    append(client, "INBOX", message("first"))
    append(client, "INBOX", message("second"), "\\Flagged")
    imap_ok(client, "RENAME INBOX Old-Inbox")
    # RFC 9051 §6.3.6: all messages move to the new name, INBOX stays and is empty.
    status = statuses(imap_ok(client, "STATUS INBOX (MESSAGES)"))
    assert status["INBOX"]["MESSAGES"] == 0
    status = statuses(imap_ok(client, "STATUS Old-Inbox (MESSAGES)"))
    assert status["Old-Inbox"]["MESSAGES"] == 2
    imap_ok(client, "SELECT Old-Inbox")
    untagged = imap_ok(client, "FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"\\Flagged" in b"".join(untagged)
    assert b"Subject: first" in b"".join(untagged) and b"Subject: second" in b"".join(untagged)
    client.close()


# --------------------------------------------------------------------------------------
# SUBSCRIBE, LSUB
# --------------------------------------------------------------------------------------

def test_subscribe_unsubscribe_lsub(server):
    provision(server, ["alice"])
    client = imap_login(server)
    imap_ok(client, "CREATE lists/dev")
    baseline = set(listing(imap_ok(client, 'LSUB "" "*"'), b"LSUB"))
    imap_ok(client, "SUBSCRIBE lists/dev")
    imap_ok(client, "SUBSCRIBE Archive")
    found = listing(imap_ok(client, 'LSUB "" "*"'), b"LSUB")
    assert set(found) == baseline | {"lists/dev", "Archive"}, found
    imap_ok(client, "UNSUBSCRIBE lists/dev")
    found = listing(imap_ok(client, 'LSUB "" "*"'), b"LSUB")
    assert set(found) == baseline | {"Archive"}, found
    # Unsubscribing what is not subscribed is harmless here; the mailbox itself stays.
    imap_command(client, "UNSUBSCRIBE lists/dev")
    assert "lists/dev" in listing(imap_ok(client, 'LIST "" "*"'))
    # A subscription survives the mailbox's deletion and shows as \NonExistent (RFC 5258 §3.1).
    imap_ok(client, "DELETE Archive")
    found = listing(imap_ok(client, 'LIST (SUBSCRIBED) "" "*"'))
    assert "Archive" in found and "\\nonexistent" in found["Archive"][0], found
    client.close()


def test_lsub_percent_shows_unsubscribed_parent_as_noselect(server):
    provision(server, ["alice"])
    client = imap_login(server)
    imap_ok(client, "CREATE lists/dev")
    imap_ok(client, "CREATE other/dev")
    imap_ok(client, "SUBSCRIBE lists/dev")
    # RFC 3501 §6.3.9: "foo/bar" subscribed, "foo" not: LSUB "%" must return "foo" flagged
    # \Noselect (whether or not "foo" exists as a mailbox), and not "foo/bar".
    found = listing(imap_ok(client, 'LSUB "" "%"'), b"LSUB")
    assert "lists" in found and "\\noselect" in found["lists"][0], found
    assert "lists/dev" not in found and "other" not in found
    found = listing(imap_ok(client, 'LSUB "" "lists"'), b"LSUB")
    assert "lists" not in found or "\\noselect" in found["lists"][0], found
    client.close()


# --------------------------------------------------------------------------------------
# STATUS
# --------------------------------------------------------------------------------------

def test_status_items(server):
    provision(server, ["alice"])
    client = imap_login(server)
    contents = [message(f"m{k}", b"x" * (100 * k) + b"\r\n") for k in range(1, 4)]
    append(client, "INBOX", contents[0], "\\Seen")
    append(client, "INBOX", contents[1], "\\Deleted")
    append(client, "INBOX", contents[2])
    status = statuses(imap_ok(
        client, "STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ RECENT)"))
    inbox = status["INBOX"]
    assert inbox["MESSAGES"] == 3
    assert inbox["UNSEEN"] == 2
    assert inbox["DELETED"] == 1                            # RFC 9051 §6.3.11
    assert inbox["SIZE"] == sum(len(c) for c in contents)   # RFC 8438 / RFC 9051
    assert inbox["UIDNEXT"] >= 4 and inbox["UIDVALIDITY"] > 0
    assert inbox["HIGHESTMODSEQ"] > 0                       # RFC 7162 §3.1.6
    assert inbox["RECENT"] == 3
    modseq = inbox["HIGHESTMODSEQ"]
    imap_ok(client, "SELECT INBOX")
    imap_ok(client, "STORE 3 +FLAGS (\\Seen)")
    imap_ok(client, "UNSELECT")
    status = statuses(imap_ok(client, "STATUS INBOX (UNSEEN HIGHESTMODSEQ)"))["INBOX"]
    assert status["UNSEEN"] == 1 and status["HIGHESTMODSEQ"] > modseq
    _, done = imap_command(client, "STATUS nope (MESSAGES)")
    assert imap_status_word(done) == "NO"
    _, done = imap_command(client, "STATUS INBOX (BOGUS)")
    assert imap_status_word(done) == "BAD"
    # imaplib agrees.
    lib = imaplib_login(server)
    typ, data = lib.status("INBOX", "(MESSAGES SIZE)")
    assert typ == "OK" and re.search(rb"MESSAGES 3 SIZE %d" % sum(len(c) for c in contents), data[0]), data
    lib.logout()
    client.close()


# --------------------------------------------------------------------------------------
# names: modified UTF-7, UTF-8, invalid
# --------------------------------------------------------------------------------------

def test_non_ascii_names_in_modified_utf7_and_utf8(server):
    provision(server, ["alice"])
    rev1 = imap_login(server)
    # RFC 3501 §5.1.3: "Äpfel" is "&AMQ-pfel", "日本" is "&ZeVnLA-".
    imap_ok(rev1, 'CREATE "&AMQ-pfel"')
    imap_ok(rev1, 'CREATE "&ZeVnLA-/&AMQ-"')
    found = listing(imap_ok(rev1, 'LIST "" "*"'))
    assert {"&AMQ-pfel", "&ZeVnLA-", "&ZeVnLA-/&AMQ-"} <= set(found), found
    # The literal "&" is "&-".
    imap_ok(rev1, 'CREATE "R&-D"')
    assert "R&-D" in listing(imap_ok(rev1, 'LIST "" "R*"'))
    # Malformed modified UTF-7 is refused.
    for bad in ('"&AMQ"', '"&Jjo!-"'):  # unterminated, not base64
        _, done = imap_command(rev1, f"CREATE {bad}")
        assert imap_status_word(done) in ("NO", "BAD"), (bad, done)

    utf8 = imap_login(server)
    imap_ok(utf8, "ENABLE UTF8=ACCEPT")
    found = listing(imap_ok(utf8, 'LIST "" "*"'))
    # RFC 6855 §3: after ENABLE UTF8=ACCEPT names are sent in UTF-8, not modified UTF-7.
    assert {"Äpfel", "日本", "日本/Ä", "R&D"} <= set(found), found
    imap_ok(utf8, 'CREATE "Über"'.encode())
    assert statuses(imap_ok(utf8, 'STATUS "Äpfel" (MESSAGES)'.encode()))["Äpfel"]["MESSAGES"] == 0
    assert "&ANw-ber" in listing(imap_ok(rev1, 'LIST "" "*"'))

    rev2 = imap_login(server)
    imap_ok(rev2, "ENABLE IMAP4rev2")
    found = listing(imap_ok(rev2, 'LIST "" "*"'))
    assert {"Äpfel", "Über", "R&D"} <= set(found), found
    untagged = imap_ok(rev2, 'SELECT "Äpfel"'.encode())
    assert any(line.startswith(b"* LIST ") and "Äpfel".encode() in line for line in untagged), untagged
    for client in (rev1, utf8, rev2):
        client.close()


def data_tree(root: Path) -> set[str]:
    out = set()
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            out.add(os.path.relpath(os.path.join(directory, name), root))
    return out


def test_invalid_names_are_refused_and_touch_nothing_on_disk(server, tmp_path):
    provision(server, ["alice"])
    client = imap_login(server)
    before = data_tree(server.directory)
    before_list = listing(imap_ok(client, 'LIST "" "*"'))
    for bad in ('"a//b"', '"/etc"', '""', '"/"', '"a/"b"', b'"ctl\x01x"'.decode()):
        _, done = imap_command(client, f"CREATE {bad}")
        assert imap_status_word(done) in ("NO", "BAD"), (bad, done)
    for bad in ('"a//b"', '"/etc"', '""'):
        _, done = imap_command(client, f"RENAME Trash {bad}")
        assert imap_status_word(done) in ("NO", "BAD"), (bad, done)
        _, done = imap_command(client, f"SELECT {bad}")
        assert imap_status_word(done) in ("NO", "BAD"), (bad, done)
    # Mailbox names are data, never paths (DESIGN.md): "../../etc" either is refused or
    # is an ordinary name; either way nothing appears on disk outside the store.
    _, done = imap_command(client, 'CREATE "../../etc"')
    created = imap_status_word(done) == "OK"
    after_list = listing(imap_ok(client, 'LIST "" "*"'))
    assert set(after_list) - set(before_list) == ({"..", "../..", "../../etc"} if created else set()), after_list
    assert not (tmp_path.parent / "etc").exists()
    new_paths = data_tree(server.directory) - before
    assert not any("etc" in p.split(os.sep) or ".." in p for p in new_paths), new_paths
    client.close()


def test_deep_and_long_names_are_bounded(server):
    provision(server, ["alice"])
    client = imap_login(server)
    deep = "/".join(["d"] * 200)
    _, done = imap_command(client, f'CREATE "{deep}"')
    assert imap_status_word(done) in ("OK", "NO"), done
    long_name = "n" * 2000
    _, done = imap_command(client, f'CREATE "{long_name}"')
    assert imap_status_word(done) in ("NO", "BAD"), "a 2000-octet name is over any sane limit"
    imap_ok(client, 'LIST "" "*"')
    # Pathological patterns end quickly.
    imap_ok(client, 'LIST "" "' + "*%" * 100 + 'x"')
    client.close()


def test_atom_flags_in_attributes(server):
    """LIST's attribute list parses as IMAP flags (backslash atoms), not strings."""
    provision(server, ["alice"])
    client = imap_login(server)
    for line in imap_ok(client, 'LIST "" "*"'):
        values = imap_parse(line[len(b"* LIST "):])
        assert all(isinstance(a, ImapAtom) and a.startswith("\\") for a in values[0]), line
    client.close()
