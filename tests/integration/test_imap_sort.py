"""IMAP SORT and THREAD (RFC 5256), ESORT (RFC 5267 §3.2) and SORT=DISPLAY (RFC 5957) on
crafted messages: tricky subjects (list tags, nested Re:/Fwd:, "(fwd)" trailers, RFC 2047
encoded words, white-space runs, "Re[2]:"), Date: fields in several zones and missing, and
References / In-Reply-To chains with a missing parent.
"""

from __future__ import annotations

import re

from harness import imap_command, imap_login, imap_ok, imap_status_word, imaplib_login, provision

# (From, To, Cc, Subject, Date or None, internal date, extra header lines, body size)
MESSAGES = [
    # 1
    ('"Zoe Zed" <zoe@example.org>', "bob@example.test", "", "Re: [list] Fwd: Lunch plans",
     "Mon, 02 Mar 2026 10:00:00 +0000", "05-Mar-2026 10:00:00 +0000",
     "Message-ID: <m1@x>\r\nReferences: <m0@x>\r\n", 10),
    # 2: the original of the thread (its parent <m0@x> is missing)
    ("adam@example.org", "carol@example.test", "zed@example.test", "lunch  plans",
     "Sun, 01 Mar 2026 23:30:00 -0500", "01-Mar-2026 10:00:00 +0000",
     "Message-ID: <m2@x>\r\nReferences: <m0@x>\r\n", 500),
    # 3: encoded word, Re[2]:, later date in another zone; answers 2
    ("=?UTF-8?Q?=C3=84rger?= <bert@example.org>", "alice@example.test", "amy@example.test",
     "Re[2]: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=", "Tue, 03 Mar 2026 09:00:00 +0100", "02-Mar-2026 10:00:00 +0000",
     "Message-ID: <m3@x>\r\nIn-Reply-To: <m2@x>\r\n", 200),
    # 4: no Date: the internal date stands in; forward trailer
    ("carl@example.org", "dora@example.test", "", "Grüße (fwd)".encode("utf-8").decode("latin-1"),
     None, "02-Mar-2026 12:00:00 +0000", "Message-ID: <m4@x>\r\n", 50),
    # 5: same base subject as 3 ("Grüße"), an original, no references
    ("beth@example.org", "", "", "=?UTF-8?B?R3LDvMOfZQ==?=", "Wed, 04 Mar 2026 08:00:00 +0000",
     "04-Mar-2026 10:00:00 +0000", "Message-ID: <m5@x>\r\n", 300),
]


def raw_message(sender, to, cc, subject, date, extra, size) -> bytes:
    head = f"From: {sender}\r\nSubject: {subject}\r\n"
    if to:
        head += f"To: {to}\r\n"
    if cc:
        head += f"Cc: {cc}\r\n"
    if date:
        head += f"Date: {date}\r\n"
    head += extra + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
    return head.encode("latin-1") + b"\r\n" + b"x" * size + b"\r\n"


def sort_mailbox(server):
    provision(server, ["alice"])
    client = imap_login(server)
    for sender, to, cc, subject, date, internal, extra, size in MESSAGES:
        content = raw_message(sender, to, cc, subject, date, extra, size)
        _, done = imap_command(client, f'APPEND INBOX () "{internal}" {{{len(content)}+}}\r\n'.encode() + content)
        assert imap_status_word(done) == "OK", done
    imap_ok(client, "SELECT INBOX")
    return client


def sorted_numbers(untagged: list[bytes]) -> list[int]:
    lines = [line for line in untagged if line.startswith(b"* SORT")]
    assert len(lines) == 1, untagged
    return [int(x) for x in lines[0].split()[2:]]


def thread_line(untagged: list[bytes]) -> bytes:
    lines = [line for line in untagged if line.startswith(b"* THREAD")]
    assert len(lines) == 1, untagged
    return lines[0][len(b"* THREAD"):].strip()


def test_capabilities_announce_sort_and_thread(server):
    client = sort_mailbox(server)
    caps = b" ".join(imap_ok(client, "CAPABILITY")).split()
    for capability in (b"SORT", b"SORT=DISPLAY", b"ESORT", b"THREAD=REFERENCES", b"THREAD=ORDEREDSUBJECT"):
        assert capability in caps, caps
    client.close()


def test_sort_keys(server):
    client = sort_mailbox(server)
    cases = {
        "ARRIVAL": [2, 3, 4, 5, 1],
        "REVERSE ARRIVAL": [1, 5, 4, 3, 2],
        # Sent dates in UTC: 2 = 2 Mar 04:30, 1 = 2 Mar 10:00, 4 = internal 2 Mar 12:00,
        # 3 = 3 Mar 08:00, 5 = 4 Mar 08:00 (RFC 5256 §2.2).
        "DATE": [2, 1, 4, 3, 5],
        # Base subjects: GRüßE (3, 4, 5), LUNCH PLANS (1, 2); ties by sequence number.
        "SUBJECT": [3, 4, 5, 1, 2],
        "SUBJECT REVERSE DATE": [5, 3, 4, 1, 2],
        # addr-mailbox of the first From: adam, bert, beth, carl, zoe.
        "FROM": [2, 3, 5, 4, 1],
        # To: (none) "", alice, bob, carol, dora.
        "TO": [5, 3, 1, 2, 4],
        # Cc: "" for 1, 4, 5; amy; zed.
        "CC": [1, 4, 5, 3, 2],
        "REVERSE CC": [2, 3, 1, 4, 5],
        # RFC 5957: display names, else the addr-spec.
        # i;unicode-casemap (RFC 5051): "ÄRGER" decomposes to "A" + U+0308, after "ADAM@".
        "DISPLAYFROM": [2, 3, 5, 4, 1],
        "DISPLAYTO": [5, 3, 1, 2, 4],
    }
    sizes = [len(raw_message(m[0], m[1], m[2], m[3], m[4], m[6], m[7])) for m in MESSAGES]
    cases["SIZE"] = sorted(range(1, 6), key=lambda n: (sizes[n - 1], n))
    cases["REVERSE SIZE"] = sorted(range(1, 6), key=lambda n: (-sizes[n - 1], n))
    for criteria, expected in cases.items():
        assert sorted_numbers(imap_ok(client, f"SORT ({criteria}) UTF-8 ALL")) == expected, criteria
    # The search part narrows; UID SORT answers UIDs (here equal to sequence numbers).
    assert sorted_numbers(imap_ok(client, "SORT (DATE) US-ASCII NOT FROM adam")) == [1, 4, 3, 5]
    assert sorted_numbers(imap_ok(client, "UID SORT (REVERSE ARRIVAL) UTF-8 UID 2:4")) == [4, 3, 2]
    assert sorted_numbers(imap_ok(client, "SORT (SUBJECT) UTF-8 SUBJECT nothing-like-this")) == []
    client.close()


def test_sort_errors(server):
    client = sort_mailbox(server)
    _, done = imap_command(client, "SORT (DATE) KOI8-R ALL")
    assert imap_status_word(done) == "NO" and b"[BADCHARSET" in done, done
    for bad in ("SORT (DATE) ALL", "SORT () UTF-8 ALL", "SORT (BOGUS) UTF-8 ALL", "SORT (DATE REVERSE) UTF-8 ALL",
                "THREAD BOGUS UTF-8 ALL", "THREAD REFERENCES UTF-8"):
        _, done = imap_command(client, bad)
        assert imap_status_word(done) == "BAD", (bad, done)
    imap_ok(client, "UNSELECT")
    _, done = imap_command(client, "SORT (DATE) UTF-8 ALL")
    assert imap_status_word(done) == "BAD", "SORT needs a selected mailbox"
    client.close()


def test_esort_return_options(server):
    client = sort_mailbox(server)
    untagged = imap_ok(client, "SORT RETURN (MIN MAX COUNT ALL) (DATE) UTF-8 ALL")
    lines = [line for line in untagged if line.startswith(b"* ESEARCH")]
    assert len(lines) == 1, untagged
    # RFC 5267 §3.2: MIN/MAX are the first and last in sort order; ALL keeps the order.
    match = re.fullmatch(rb'\* ESEARCH \(TAG "[^"]+"\) MIN 2 MAX 5 ALL (\S+) COUNT 5', lines[0])
    assert match, lines[0]
    assert match.group(1) == b"2,1,4,3,5"
    untagged = imap_ok(client, "UID SORT RETURN (COUNT) (SUBJECT) UTF-8 UID 1:3")
    assert any(re.fullmatch(rb'\* ESEARCH \(TAG "[^"]+"\) UID COUNT 3', line) for line in untagged), untagged
    untagged = imap_ok(client, "SORT RETURN () (ARRIVAL) UTF-8 2:4")
    assert any(re.fullmatch(rb'\* ESEARCH \(TAG "[^"]+"\) ALL 2:4', line) for line in untagged), untagged
    client.close()


def test_thread_algorithms(server):
    client = sort_mailbox(server)
    # ORDEREDSUBJECT: groups by base subject, each ordered by sent date; groups by the
    # date of their first message.
    assert thread_line(imap_ok(client, "THREAD ORDEREDSUBJECT UTF-8 ALL")) == b"(2 1)(4 (3)(5))"
    # REFERENCES: 1 and 2 share the missing parent <m0@x> (a dummy at the top keeps them
    # together, its date that of 2, the earlier), 3 answers 2. 4 and 5 have no references:
    # step 5 joins them by base subject, the forward 4 under the original 5; 3 is not a
    # top-level message, so its subject does not count.
    assert thread_line(imap_ok(client, "THREAD REFERENCES UTF-8 ALL")) == b"((2 3)(1))(5 4)"
    assert thread_line(imap_ok(client, "UID THREAD REFERENCES UTF-8 UID 1:3")) == b"((2 3)(1))"
    assert thread_line(imap_ok(client, "THREAD REFERENCES UTF-8 SUBJECT nothing-like-this")) == b""
    client.close()


def test_imaplib_sort_and_thread(server):
    sort_mailbox(server).close()
    lib = imaplib_login(server)
    lib.select("INBOX")
    typ, data = lib.sort("(REVERSE DATE)", "UTF-8", "ALL")
    assert typ == "OK" and data == [b"5 3 4 1 2"], data
    typ, data = lib.uid("SORT", "(FROM)", "UTF-8", "ALL")
    assert typ == "OK" and data == [b"2 3 5 4 1"], data
    typ, data = lib.thread("REFERENCES", "UTF-8", "ALL")
    assert typ == "OK" and data == [b"((2 3)(1))(5 4)"], data
    typ, data = lib.sort("(DATE)", "X-UNKNOWN", "ALL")  # RFC 5256 §3: NO [BADCHARSET]
    assert typ == "NO" and b"[BADCHARSET" in data[0], (typ, data)
    lib.logout()


def test_partial_windows_of_search_sort_and_fetch(server):
    """PARTIAL (RFC 9394): a page of a SEARCH or SORT result, from the start or the end, and
    a page of the messages a FETCH names — what a webmail asks for its first screen."""
    client = sort_mailbox(server)
    caps = b" ".join(imap_ok(client, "CAPABILITY")).split()
    assert b"PARTIAL" in caps

    def esearch(command: str) -> bytes:
        lines = [line for line in imap_ok(client, command) if line.startswith(b"* ESEARCH")]
        assert len(lines) == 1, lines
        return re.sub(rb'^\* ESEARCH \(TAG "[^"]+"\) ?', b"", lines[0])

    assert esearch("UID SEARCH RETURN (PARTIAL 1:2) ALL") == b"UID PARTIAL (1:2 1:2)"
    assert esearch("UID SEARCH RETURN (PARTIAL -1:-2 COUNT) ALL") == b"UID PARTIAL (-1:-2 4:5) COUNT 5"
    assert esearch("SEARCH RETURN (PARTIAL 4:3) ALL") == b"PARTIAL (3:4 3:4)"  # either order
    assert esearch("SEARCH RETURN (PARTIAL 10:20) ALL") == b"PARTIAL (10:20 NIL)"
    # SORT: the page is in sort order (DATE: 2 1 4 3 5).
    assert esearch("SORT RETURN (PARTIAL 1:2) (DATE) UTF-8 ALL") == b"PARTIAL (1:2 2,1)"
    assert esearch("SORT RETURN (PARTIAL -1:-2) (DATE) UTF-8 ALL") == b"PARTIAL (-1:-2 3,5)"
    assert esearch("SORT RETURN (PARTIAL 1:2 COUNT) (REVERSE DATE) UTF-8 ALL") == b"PARTIAL (1:2 5,3) COUNT 5"
    for bad in ("SEARCH RETURN (ALL PARTIAL 1:2) ALL", "SEARCH RETURN (PARTIAL 0:2) ALL",
                "SEARCH RETURN (PARTIAL -1:2) ALL", "SEARCH RETURN (PARTIAL) ALL"):
        _, done = imap_command(client, bad)
        assert imap_status_word(done) == "BAD", (bad, done)
    # FETCH: the last two of every message, then the 2nd and 3rd.
    fetched = [line for line in imap_ok(client, "UID FETCH 1:* (UID) (PARTIAL -1:-2)") if b"FETCH" in line]
    assert fetched == [b"* 4 FETCH (UID 4)", b"* 5 FETCH (UID 5)"], fetched
    fetched = [line for line in imap_ok(client, "FETCH 1:* (FLAGS) (PARTIAL 2:3)") if b"FETCH" in line]
    assert [line.split()[1] for line in fetched] == [b"2", b"3"], fetched
