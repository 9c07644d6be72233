"""Learning from the user (issue 15 §5) with the built-in classifier: messages moved or
copied into Junk over real IMAP (imaplib: UID MOVE, MOVE, UID COPY) are lessons in spam,
those moved or copied out of Junk (not to Trash) lessons in ham; APPEND teaches nothing.
Before the minimum of 20 + 20 lessons the classifier gives no verdict (and adds nothing to
the message); once trained, a clearly similar spam sent over SMTP (port 25) lands in Junk
with X-Spam-Status naming the classifier, and a ham-like message in INBOX. It never refuses.
Also `postamt classifier stats|train`."""

from __future__ import annotations

import json
import random
import re

from harness import cli_bytes, deliver_smtp, imaplib_login, mailbox_listing, provision, wait_for

DOMAIN = "example.test"
ALICE = f"alice@{DOMAIN}"
BOB = f"bob@{DOMAIN}"

SPAM_WORDS = ("viagra cheap pills casino jackpot winner lottery bitcoin prize claim unclaimed bonus "
              "discount pharmacy miracle guaranteed investment crypto offer urgent refund wire transfer "
              "inheritance beneficiary exclusive limited replica watches loans approved").split()
HAM_WORDS = ("meeting agenda project review minutes schedule tomorrow lunch team quarterly budget "
             "draft proposal deadline feedback slides conference travel invoice contract colleague "
             "thanks regards report release testing deployment roadmap planning notes").split()


def message(kind: str, seed: int) -> bytes:
    rng = random.Random(f"{kind}-{seed}")
    words = SPAM_WORDS if kind == "spam" else HAM_WORDS
    sender = (f"Best Deals <promo{seed}@cheap-deals.example>" if kind == "spam"
              else "Carol Jones <carol@partner.example>")
    subject = " ".join(rng.sample(words, 3))
    body = " ".join(rng.choice(words) for _ in range(40))
    return (f"From: {sender}\r\nTo: Alice <{ALICE}>\r\nSubject: {subject}\r\nX-Kind: {kind}\r\n"
            f"Message-ID: <{kind}.{seed}@test.example>\r\nContent-Type: text/plain; charset=us-ascii\r\n"
            f"\r\n{body}\r\n").encode()


def stats(server, account: str) -> dict:
    done = cli_bytes(server.config_path, "classifier", "stats", account, "--json", binary=server.binary)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def stored(server, account: str, mailbox: str) -> list[bytes]:
    out = []
    for entry in mailbox_listing(server, account, mailbox):
        done = cli_bytes(server.config_path, "debug", "message", account, str(entry.uid), "--mailbox", mailbox,
                         binary=server.binary)
        assert done.returncode == 0, done.stderr
        out.append(done.stdout)
    return out


def header(raw: bytes) -> str:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    return re.sub(r"\r\n[ \t]+", " ", head)


def kind_uids(client, kind: str, uid: bool = True) -> list[bytes]:
    if uid:
        typ, data = client.uid("SEARCH", "HEADER", "X-Kind", kind)
    else:
        typ, data = client.search(None, "HEADER", "X-Kind", kind)
    assert typ == "OK", data
    return data[0].split()


def ok(result) -> None:
    typ, data = result
    assert typ == "OK", data


def test_junk_moves_train_the_classifier_which_then_files_spam_in_junk(start_server):
    server = start_server()
    provision(server, users=["alice", "bob"])

    # Untrained: no verdict, the message is stored as it came (no X-Spam-Status).
    deliver_smtp(server, ALICE, message("spam", 1000))
    [untouched] = stored(server, ALICE, "INBOX")
    assert "X-Spam-Status" not in header(untouched)
    assert "classifier=accept(skipped; learning: 0 of 20 spam, 0 of 20 ham lessons)" in server.log_text()

    client = imaplib_login(server, ALICE)
    try:
        # APPEND teaches nothing, into Junk or anywhere.
        for i in range(22):
            ok(client.append("INBOX", None, None, message("spam", i)))
            ok(client.append("Junk", None, None, message("ham", i)))
        assert (stats(server, ALICE)["spam_lessons"], stats(server, ALICE)["ham_lessons"]) == (0, 0)

        # Spam: 8 by UID MOVE, 7 by MOVE (sequence numbers), 7 by UID COPY into Junk.
        ok(client.select("INBOX"))
        spam = [u for u in kind_uids(client, "spam") if u != b"1"]  # UID 1: the untrained delivery
        assert len(spam) == 22
        ok(client.uid("MOVE", b",".join(spam[:8]).decode(), "Junk"))
        seqs = kind_uids(client, "spam", uid=False)[1:8]  # past the untrained delivery (seq 1)
        ok(client._simple_command("MOVE", b",".join(seqs).decode(), "Junk"))
        rest = [u for u in kind_uids(client, "spam") if u != b"1"]
        assert len(rest) == 7
        ok(client.uid("COPY", b",".join(rest).decode(), "Junk"))

        # Ham: out of Junk by UID MOVE to INBOX, MOVE to Archive, UID COPY to INBOX; one to
        # Trash teaches nothing.
        ok(client.select("Junk"))
        ham = kind_uids(client, "ham")
        assert len(ham) == 22
        ok(client.uid("MOVE", b",".join(ham[:10]).decode(), "INBOX"))
        seqs = kind_uids(client, "ham", uid=False)[:10]
        ok(client._simple_command("MOVE", b",".join(seqs).decode(), "Archive"))
        left = kind_uids(client, "ham")
        assert len(left) == 2
        ok(client.uid("COPY", left[0].decode(), "INBOX"))
        ok(client.uid("MOVE", left[1].decode(), "Trash"))
        # Junk to INBOX of spam copies would teach ham: nothing else moves.
    finally:
        client.logout()

    wait_for(lambda: (stats(server, ALICE)["spam_lessons"], stats(server, ALICE)["ham_lessons"]) == (22, 21),
             timeout=30, interval=0.3, message="22 spam and 21 ham lessons")
    learned = stats(server, ALICE)
    assert learned["trained"] is True and learned["tokens"] > 50
    assert (learned["shared_spam_lessons"], learned["shared_ham_lessons"]) == (22, 21)
    assert server.count_in_log("filter.junk_lesson") >= 43

    # Trained: a similar spam goes to Junk, named by the classifier; never refused.
    deliver_smtp(server, ALICE, message("spam", 2000))
    junk = [header(raw) for raw in stored(server, ALICE, "Junk")]
    fresh = [h for h in junk if "spam.2000@test.example" in h]
    assert len(fresh) == 1, junk
    assert re.search(r"X-Spam-Status: Yes, score=(0\.9\d|1\.00), filter=classifier, tests=classifier:SPAM", fresh[0]), fresh[0]
    assert "X-Spam-Flag: YES" in fresh[0]

    # A ham-like message goes to INBOX, marked ham.
    deliver_smtp(server, ALICE, message("ham", 3000))
    inbox = [header(raw) for raw in stored(server, ALICE, "INBOX")]
    [ham_header] = [h for h in inbox if "ham.3000@test.example" in h]
    assert re.search(r"X-Spam-Status: No, score=0\.[01]\d, tests=classifier:HAM", ham_header), ham_header
    assert "X-Spam-Flag" not in ham_header

    # Bob taught nothing: alice's lessons count a quarter for him (5.5 < 20): no verdict yet.
    assert stats(server, BOB)["trained"] is False
    deliver_smtp(server, BOB, message("spam", 4000))
    [bobs] = stored(server, BOB, "INBOX")
    assert "X-Spam-Status" not in header(bobs)
    assert stored(server, BOB, "Junk") == []


def test_classifier_cli_trains_and_reports(start_server, tmp_path):
    server = start_server()
    provision(server, users=["alice"])
    files = []
    for i in range(3):
        path = tmp_path / f"spam{i}.eml"
        path.write_bytes(message("spam", i))
        files.append(str(path))
    done = server.cli("classifier", "train", "--spam", ALICE, *files)
    assert done.returncode == 0, done.stderr
    assert "taught 3 spam messages" in done.stdout
    done = server.cli("classifier", "train", "--ham", ALICE.upper(), files[0])
    assert done.returncode == 0, done.stderr
    done = server.cli("classifier", "stats", ALICE)
    assert done.returncode == 0, done.stderr
    assert f"{ALICE}\tspam=3\tham=1" in done.stdout
    assert "learning: needs 20 spam and 20 ham lessons" in done.stdout
    assert server.cli("classifier", "train", ALICE, files[0]).returncode == 2  # neither --spam nor --ham
    assert server.cli("classifier", "train", "--spam", f"nobody@{DOMAIN}", files[0]).returncode == 1
    assert server.cli("classifier", "stats", "not an address").returncode == 2


def test_classifier_off_judges_and_learns_nothing(start_server):
    server = start_server(filter={"classifier": False})
    provision(server, users=["alice"])
    client = imaplib_login(server, ALICE)
    try:
        ok(client.append("INBOX", None, None, message("spam", 1)))
        ok(client.select("INBOX"))
        ok(client.uid("MOVE", "1", "Junk"))
    finally:
        client.logout()
    deliver_smtp(server, ALICE, message("spam", 2))
    assert server.count_in_log("filter.junk_lesson") == 0
    assert stats(server, ALICE)["spam_lessons"] == 0
    assert "classifier=" not in server.log_text()
