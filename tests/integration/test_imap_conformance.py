"""IMAP conformance errors a third-party compliance tester found (issue 17 §1), each
reproduced against the built server on loopback with raw sockets and imaplib:

- mailbox names of every atom character (RFC 9051 §9 atom / astring / list-mailbox);
- ID at and beyond the RFC 2971 limits, and command lines over the line limit;
- a keyword used for the first time is announced in FLAGS/PERMANENTFLAGS before any FETCH
  shows it (RFC 9051 §7.3.5);
- "* n RECENT" of SELECT and EXAMINE in IMAP4rev1 sessions (RFC 3501 §2.3.2, §6.3.1-2);
- CHILDINFO of LIST (SUBSCRIBED RECURSIVEMATCH) (RFC 5258 §3.5, example 9);
- nothing untagged after the BYE of LOGOUT (RFC 9051 §6.1.3).
"""

from __future__ import annotations

import imaplib
import re

from harness import (
    imap_command,
    imap_login,
    imap_ok,
    imap_parse,
    imap_status_word,
    imap_until_tagged,
    imaplib_login,
    message,
    provision,
)

ALICE = "alice@example.test"
# RFC 9051 §9: ATOM-CHAR is any CHAR except atom-specials; "]" is an ASTRING-CHAR too.
ATOM_SPECIALS_FREE = "!#$&'+,-.0123456789:;<=>?@^_`|}~[]ABCXYZabcxyz"


def append(client, mailbox: str, content: bytes, flags: str = "") -> bytes:
    """APPEND with a LITERAL+ literal; returns the tagged line."""
    literal = f"{{{len(content)}+}}".encode()
    _, done = imap_command(client, f"APPEND {mailbox} ({flags}) ".encode() + literal + b"\r\n" + content)
    assert imap_status_word(done) == "OK", done
    return done


def listed_names(untagged: list[bytes]) -> dict[str, list]:
    """{name: [attributes, delimiter, name, extended...]} of the LIST responses."""
    out = {}
    for line in untagged:
        if line.startswith(b"* LIST "):
            values = imap_parse(line[len(b"* LIST "):])
            name = values[2].decode() if isinstance(values[2], bytes) else str(values[2])
            out[name] = values
    return out


# --------------------------------------------------------------------------------------
# 1. Mailbox names of every atom character
# --------------------------------------------------------------------------------------

def test_mailbox_names_of_every_atom_character(server):
    provision(server, ["alice"])
    client = imap_login(server)
    imap_ok(client, "ENABLE UTF8=ACCEPT")  # names in UTF-8: "&" stands for itself
    name = ATOM_SPECIALS_FREE
    imap_ok(client, f"CREATE {name}")
    for verb in ("SELECT", "EXAMINE"):
        untagged = imap_ok(client, f"{verb} {name}")
        assert any(line.endswith(b" EXISTS") for line in untagged), untagged
    imap_ok(client, f"STATUS {name} (MESSAGES UIDNEXT)")
    imap_ok(client, f"SUBSCRIBE {name}")
    imap_ok(client, f"UNSUBSCRIBE {name}")
    found = listed_names(imap_ok(client, f'LIST "" {name}'))
    assert list(found) == [name], found
    imap_ok(client, "UNSELECT")
    imap_ok(client, f"RENAME {name} {name}x")
    imap_ok(client, f"DELETE {name}x")

    # A name that does not exist: NO, not BAD (RFC 9051 §6.3.2).
    for verb in ("SELECT", "EXAMINE", "STATUS"):
        suffix = " (MESSAGES)" if verb == "STATUS" else ""
        _, done = imap_command(client, f"{verb} nope{name}{suffix}")
        assert imap_status_word(done) == "NO", done
    _, done = imap_command(client, "SELECT x[")
    assert imap_status_word(done) == "NO", done
    imap_ok(client, "NOOP")
    client.close()


def test_modified_utf7_session_takes_atom_names_with_escaped_ampersand(server):
    """An IMAP4rev1 client writes "&" as "&-" (RFC 3501 §5.1.3)."""
    provision(server, ["alice"])
    client = imap_login(server)
    wire = ATOM_SPECIALS_FREE.replace("&", "&-")
    imap_ok(client, f"CREATE {wire}")
    imap_ok(client, f"SELECT {wire}")
    found = listed_names(imap_ok(client, f'LIST "" {wire}'))
    assert list(found) == [wire], found
    _, done = imap_command(client, "SELECT a[b]c")
    assert imap_status_word(done) == "NO", done
    client.close()


def test_atom_characters_as_list_patterns_never_close_the_connection(server):
    provision(server, ["alice"])
    client = imap_login(server)
    imap_ok(client, "ENABLE UTF8=ACCEPT")
    imap_ok(client, "CREATE a[b")
    # Every character alone and in company with the wildcards: more than the ten errors in
    # a row that end a session, so any refusal would show up as a closed connection.
    patterns = [c for c in ATOM_SPECIALS_FREE] + [
        ATOM_SPECIALS_FREE, ATOM_SPECIALS_FREE + "%", "*" + ATOM_SPECIALS_FREE + "*",
        "a[%", "a[*", "[", "]", "%]", "*[*"]
    for pattern in patterns:
        _, done = imap_command(client, f'LIST "" {pattern}')
        assert imap_status_word(done) == "OK", (pattern, done)
        if "%" not in pattern and "*" not in pattern:  # the reference is an astring
            _, done = imap_command(client, f'LIST {pattern} ""')
            assert imap_status_word(done) == "OK", (pattern, done)
    found = listed_names(imap_ok(client, 'LIST "" a[%'))
    assert list(found) == ["a[b"], found
    imap_ok(client, "NOOP")
    client.close()


def test_imaplib_selects_atom_character_names(server):
    provision(server, ["alice"])
    client = imaplib_login(server)
    name = "x[1]:;<>?@^_`|}~"
    typ, data = client.create(name)
    assert typ == "OK", data
    typ, data = client.select(name)
    assert typ == "OK", data
    typ, data = client.select("missing[1]")
    assert typ == "NO", data
    client.logout()


# --------------------------------------------------------------------------------------
# 2. ID at the RFC 2971 limits; over-long lines
# --------------------------------------------------------------------------------------

def id_command(pairs: int, field: int, value: int) -> str:
    items = []
    for i in range(pairs):
        items.append('"' + ("f" * (field - 2) + f"{i:02d}") + '" "' + "v" * value + '"')
    return "ID (" + " ".join(items) + ")"


def test_id_with_thirty_long_pairs(server):
    provision(server, ["alice"])
    client = server.connect("imap")
    assert client.text_line().startswith("* OK")
    # 30 pairs of 30-octet fields and 200-octet values: within the 8192-octet line.
    command = id_command(30, 30, 200)
    assert len(command) < 8000
    untagged, done = imap_command(client, command)
    assert imap_status_word(done) == "OK", done
    assert any(line.startswith(b"* ID ") for line in untagged), untagged
    # Beyond the RFC 2971 limits: BAD, and the session goes on.
    for bad_command in (id_command(31, 10, 10), id_command(1, 31, 10), id_command(1, 10, 1025)):
        _, done = imap_command(client, bad_command)
        assert imap_status_word(done) == "BAD", done
    # The RFC's largest ID (30 x 1024-octet values) is over the line limit: a tagged BAD,
    # and the session goes on.
    _, done = imap_command(client, id_command(30, 30, 1024), tag="big1")
    assert done.startswith(b"big1 BAD ") and b"too long" in done, done
    # The same with literals fits: each line stays short.
    items = []
    for i in range(30):
        items.append(f'"{"f" * 28}{i:02d}" {{1024+}}\r\n' + "v" * 1024)
    untagged, done = imap_command(client, "ID (" + " ".join(items) + ")")
    assert imap_status_word(done) == "OK", done
    _, done = imap_command(client, "NOOP")
    assert imap_status_word(done) == "OK", done
    client.close()


def test_over_long_line_gets_a_tagged_bad_and_the_session_goes_on(start_server):
    server = start_server(limits={"max_line_length": 1024})
    provision(server, ["alice"])
    client = imap_login(server)
    imap_ok(client, "CREATE INBOX/victim")
    client.send("t1 NOOP " + "x" * 5000 + "\r\n")
    assert client.text_line() == "t1 BAD Command line too long"
    # No tag to read (no SP within the first octets): untagged BAD.
    client.send("y" * 5000 + "\r\n")
    assert client.text_line() == "* BAD Command line too long"
    # A synchronising literal announced at the end: the client waits for "+", so the
    # stream stays in step.
    client.send('t2 ID ("a" ' + "x" * 2000 + " {5}\r\n")
    assert client.text_line() == "t2 BAD Command line too long"
    imap_ok(client, "NOOP")
    # A non-synchronising one: its octets follow unasked; they are read and thrown away
    # with the rest of the command (never taken as commands), and the session goes on.
    client.send('t3 ID ("a" ' + "x" * 2000 + " {22+}\r\nt4 DELETE INBOX/victim)\r\n")
    assert client.text_line() == "t3 BAD Command line too long"
    imap_ok(client, "NOOP")
    assert b"INBOX/victim" in b"".join(imap_ok(client, 'LIST "" INBOX/*'))
    # One bigger than a literal may be: the stream is out of sync, the connection ends.
    client.send("t5 APPEND INBOX " + "x" * 2000 + " {999999999999+}\r\n")
    lines = [client.text_line(), client.text_line()]
    assert "t5 BAD Command line too long" in lines and any(l.startswith("* BYE ") for l in lines), lines
    assert client.closed_within(10)
    client.close()


# --------------------------------------------------------------------------------------
# 3. New keywords are announced before FETCH shows them
# --------------------------------------------------------------------------------------

FLAGS_RE = re.compile(rb"^\* FLAGS \((.*)\)$")
PERMANENT_RE = re.compile(rb"^\* OK \[PERMANENTFLAGS \((.*)\)\]")


def keyword_announced_before_fetch(untagged: list[bytes], keyword: bytes) -> None:
    flags_at = next((i for i, l in enumerate(untagged)
                     if (m := FLAGS_RE.match(l)) and keyword in m.group(1).split()), None)
    permanent_at = next((i for i, l in enumerate(untagged)
                         if (m := PERMANENT_RE.match(l)) and keyword in m.group(1).split()), None)
    fetch_at = next((i for i, l in enumerate(untagged) if b" FETCH " in l and keyword in l), None)
    assert flags_at is not None and permanent_at is not None and fetch_at is not None, untagged
    assert flags_at < fetch_at and permanent_at < fetch_at, untagged


def test_new_keyword_from_store_is_announced_first(server):
    provision(server, ["alice"])
    writer = imap_login(server)
    watcher = imap_login(server)
    append(writer, "INBOX", message("one"))
    imap_ok(writer, "SELECT INBOX")
    imap_ok(watcher, "SELECT INBOX")

    untagged = imap_ok(writer, "STORE 1 +FLAGS (newkw)")
    keyword_announced_before_fetch(untagged, b"newkw")
    # Only once: the keyword is known now.
    untagged = imap_ok(writer, "STORE 1 -FLAGS (newkw)")
    untagged += imap_ok(writer, "STORE 1 +FLAGS (newkw)")
    assert not any(FLAGS_RE.match(l) for l in untagged), untagged

    # The other session learns it the same way, at its next command.
    untagged = imap_ok(watcher, "NOOP")
    keyword_announced_before_fetch(untagged, b"newkw")
    writer.close()
    watcher.close()


def test_new_keyword_from_append_is_announced_first(server):
    provision(server, ["alice"])
    client = imap_login(server)
    watcher = imap_login(server)
    append(client, "INBOX", message("one"))
    imap_ok(client, "SELECT INBOX")
    imap_ok(watcher, "SELECT INBOX")
    untagged = imap_ok(client, "APPEND INBOX (\\Seen appendkw) {%d+}\r\n" % len(message("two")) + message("two").decode())
    untagged += imap_ok(client, "FETCH 2 (FLAGS)")
    keyword_announced_before_fetch(untagged, b"appendkw")
    untagged = imap_ok(watcher, "FETCH 1:* (FLAGS)")
    untagged += imap_ok(watcher, "NOOP")
    untagged += imap_ok(watcher, "FETCH 2 (FLAGS)")
    keyword_announced_before_fetch(untagged, b"appendkw")
    # A later SELECT lists it in FLAGS and PERMANENTFLAGS from the start.
    untagged = imap_ok(watcher, "SELECT INBOX")
    assert any((m := FLAGS_RE.match(l)) and b"appendkw" in m.group(1).split() for l in untagged), untagged
    assert any((m := PERMANENT_RE.match(l)) and b"appendkw" in m.group(1).split() for l in untagged), untagged
    client.close()
    watcher.close()


# --------------------------------------------------------------------------------------
# 4. RECENT in IMAP4rev1 sessions
# --------------------------------------------------------------------------------------

def recent_of(untagged: list[bytes]) -> int:
    found = [int(l.split()[1]) for l in untagged if re.match(rb"^\* \d+ RECENT$", l)]
    assert len(found) == 1, untagged
    return found[0]


def test_recent_counts_of_select_and_examine(server):
    provision(server, ["alice"])
    client = imap_login(server)
    for subject in ("one", "two"):
        append(client, "INBOX", message(subject))
    # EXAMINE shows the recent messages and leaves them recent (RFC 3501 §6.3.2).
    assert recent_of(imap_ok(client, "EXAMINE INBOX")) == 2
    assert recent_of(imap_ok(client, "EXAMINE INBOX")) == 2
    flags = imap_ok(client, "FETCH 1:* (FLAGS)")
    assert all(b"\\Recent" in l for l in flags), flags
    # The first SELECT takes them (RFC 3501 §2.3.2) ...
    assert recent_of(imap_ok(client, "SELECT INBOX")) == 2
    # ... so the next session sees none.
    other = imap_login(server)
    assert recent_of(imap_ok(other, "SELECT INBOX")) == 0
    assert recent_of(imap_ok(other, "EXAMINE INBOX")) == 0
    imap_ok(client, "UNSELECT")
    append(client, "INBOX", message("three"))
    assert recent_of(imap_ok(client, "EXAMINE INBOX")) == 1
    assert recent_of(imap_ok(client, "SELECT INBOX")) == 1
    assert recent_of(imap_ok(other, "SELECT INBOX")) == 0
    # STATUS RECENT agrees.
    untagged = imap_ok(client, "STATUS INBOX (RECENT)")
    assert untagged[-1].endswith(b"(RECENT 0)"), untagged
    client.close()
    other.close()


def test_imaplib_recent_after_examine(server):
    provision(server, ["alice"])
    client = imaplib_login(server)
    client.append("INBOX", None, None, message("one"))
    typ, data = client.select("INBOX", readonly=True)
    assert typ == "OK"
    assert client.response("RECENT")[1] == [b"1"]
    typ, data = client.select("INBOX")
    assert client.response("RECENT")[1] == [b"1"]
    client.logout()


# --------------------------------------------------------------------------------------
# 5. LIST (SUBSCRIBED RECURSIVEMATCH) and CHILDINFO
# --------------------------------------------------------------------------------------

def childinfo(values: list) -> list[str]:
    for item in values[3:]:
        tag = item[0].decode() if isinstance(item, list) and item and isinstance(item[0], bytes) else \
            (str(item[0]) if isinstance(item, list) and item else "")
        if tag.upper() == "CHILDINFO":
            return [v.decode().upper() if isinstance(v, bytes) else str(v).upper() for v in item[1]]
    return []


def test_childinfo_only_for_subscribed_descendants_the_patterns_miss(server):
    """RFC 5258 §3.5 and the hierarchy of its example 9."""
    provision(server, ["alice"])
    client = imap_login(server)
    for name in ("foo2/bar1", "foo2/bar2", "baz2/bar2", "baz2/bar22", "baz2/bar222", "eps2/mamba",
                 "deep/er/est"):
        imap_ok(client, f"CREATE {name}")
    for name in ("foo2/bar1", "foo2/bar2", "baz2/bar2", "baz2/bar22", "baz2/bar222", "eps2",
                 "eps2/mamba", "deep/er/est"):
        imap_ok(client, f"SUBSCRIBE {name}")

    found = listed_names(imap_ok(client, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "*2"'))
    assert childinfo(found["foo2"]) == ["SUBSCRIBED"], found          # foo2/bar1 is missed
    assert "\\subscribed" not in {str(a).lower() for a in found["foo2"][0]}
    assert "baz2" not in found, found                                  # all listed themselves
    assert childinfo(found["eps2"]) == ["SUBSCRIBED"], found           # eps2/mamba is missed
    for name in ("foo2/bar2", "baz2/bar2", "baz2/bar22", "baz2/bar222"):
        assert childinfo(found[name]) == [], found

    # "*" matches every descendant: unsubscribed parents are not listed for them.
    found = listed_names(imap_ok(client, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "*"'))
    assert "deep" not in found and "deep/er" not in found, found
    assert "deep/er/est" in found and childinfo(found["deep/er/est"]) == []
    assert all(childinfo(v) == [] for v in found.values()), found

    # "%" stops above them: every parent of a subscribed mailbox carries CHILDINFO.
    found = listed_names(imap_ok(client, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"'))
    for name in ("foo2", "baz2", "eps2", "deep"):
        assert childinfo(found[name]) == ["SUBSCRIBED"], (name, found)
    found = listed_names(imap_ok(client, 'LIST (SUBSCRIBED RECURSIVEMATCH) "deep/" "%"'))
    assert childinfo(found["deep/er"]) == ["SUBSCRIBED"], found
    client.close()


# --------------------------------------------------------------------------------------
# 6. Nothing after the BYE of LOGOUT
# --------------------------------------------------------------------------------------

def test_nothing_untagged_after_logout_bye(server):
    provision(server, ["alice"])
    client = imap_login(server)
    other = imap_login(server)
    for subject in ("one", "two", "three"):
        append(client, "INBOX", message(subject))
    imap_ok(client, "SELECT INBOX")
    imap_ok(other, "SELECT INBOX")
    # Another session changes flags, expunges and delivers; LOGOUT must not report it.
    imap_ok(other, "STORE 1 +FLAGS (\\Flagged)")
    imap_ok(other, "STORE 2 +FLAGS (\\Deleted)")
    imap_ok(other, "EXPUNGE")
    append(other, "INBOX", message("four"))
    untagged, done = imap_command(client, "LOGOUT")
    assert imap_status_word(done) == "OK", done
    assert untagged and untagged[-1].startswith(b"* BYE"), untagged
    bye = next(i for i, l in enumerate(untagged) if l.startswith(b"* BYE"))
    assert untagged[bye + 1:] == [], untagged
    assert not any(b"FETCH" in l or b"EXPUNGE" in l or b"EXISTS" in l for l in untagged), untagged
    client.close()
    other.close()


# --------------------------------------------------------------------------------------
# 7. CONDSTORE enabled implicitly (RFC 7162 §3.1)
# --------------------------------------------------------------------------------------

HIGHEST_RE = re.compile(rb"\[HIGHESTMODSEQ (\d+)\]")


def test_condstore_enabling_commands(server):
    provision(server, ["alice"])
    client = imap_login(server)
    other = imap_login(server)
    for subject in ("one", "two"):
        append(client, "INBOX", message(subject))
    imap_ok(other, "SELECT INBOX")

    # FETCH ... MODSEQ enables CONDSTORE: its tagged OK carries HIGHESTMODSEQ.
    imap_ok(client, "SELECT INBOX")
    untagged, done = imap_command(client, "FETCH 1 (FLAGS MODSEQ)")
    assert imap_status_word(done) == "OK" and HIGHEST_RE.search(done), done
    # From now on every FETCH caused by STORE has MODSEQ, here and from other sessions.
    untagged = imap_ok(client, "STORE 1 +FLAGS (\\Seen)")
    assert any(b" FETCH " in l and b"MODSEQ (" in l for l in untagged), untagged
    imap_ok(other, "STORE 2 +FLAGS (\\Flagged)")
    untagged = imap_ok(client, "NOOP")
    assert any(l.startswith(b"* 2 FETCH ") and b"MODSEQ (" in l for l in untagged), untagged
    # Only the enabling command reports it.
    _, done = imap_command(client, "FETCH 1 (FLAGS MODSEQ)")
    assert not HIGHEST_RE.search(done), done

    # SEARCH MODSEQ with an entry name and type (RFC 7162 §3.1.5) enables it too.
    fresh = imap_login(server)
    imap_ok(fresh, "SELECT INBOX")
    untagged, done = imap_command(fresh, 'SEARCH MODSEQ "/flags/\\\\seen" all 1')
    assert imap_status_word(done) == "OK" and HIGHEST_RE.search(done), done
    assert any(l.startswith(b"* SEARCH 1 2") for l in untagged), untagged
    untagged = imap_ok(fresh, "STORE 2 -FLAGS (\\Flagged)")
    assert any(b" FETCH " in l and b"MODSEQ (" in l for l in untagged), untagged

    # STORE ... UNCHANGEDSINCE enables it as well.
    third = imap_login(server)
    imap_ok(third, "SELECT INBOX")
    untagged, done = imap_command(third, "STORE 1 (UNCHANGEDSINCE 999999) +FLAGS (\\Answered)")
    assert imap_status_word(done) == "OK" and HIGHEST_RE.search(done), (untagged, done)
    assert any(b" FETCH " in l and b"MODSEQ (" in l for l in untagged), untagged
    for c in (client, other, fresh, third):
        c.close()
