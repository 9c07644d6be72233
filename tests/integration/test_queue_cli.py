"""The operator's queue commands (`postamt queue list|show|flush|delete|hold|release`) on a
running server whose queue users filled by submitting mail for remote domains.

The servers here resolve through 127.0.0.1:1, where nothing answers: every delivery attempt
of the scheduler fails as a temporary DNS error. A recipient the test does not control is
therefore `queued` (not tried yet) or `deferred` (tried), never delivered or bounced.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from datetime import datetime, timezone

import pytest

from harness import (
    error_lines,
    message,
    provision,
    queued_id,
    sanitizer_findings,
    send_transaction,
    smtplib_client,
    sqlite_rows,
)

NO_DNS = {"servers": ["127.0.0.1:1"]}
ALICE = "alice@example.test"
PENDING = {"queued", "deferred"}


def ok(done: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert done.returncode == 0, (f"exit {done.returncode}\nstdout: {done.stdout}\n"
                                  f"stderr: {done.stderr}")
    assert not sanitizer_findings(done.stderr), done.stderr
    return done


def fails_with_one_error_line(done: subprocess.CompletedProcess, *words: str) -> str:
    assert done.returncode != 0, f"expected failure, got exit 0; stdout: {done.stdout}"
    assert not sanitizer_findings(done.stderr), done.stderr
    lines = error_lines(done.stderr)
    assert len(lines) == 1, f"expected one error line, got {lines!r}"
    assert lines[0].startswith("postamt: error: "), lines[0]
    for word in words:
        assert word.lower() in lines[0].lower(), f"{word!r} not in {lines[0]!r}"
    return lines[0]


def parse_utc(text: str) -> datetime:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text), text
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


@pytest.fixture
def queue_server(start_server):
    """A running server without working DNS, with alice provisioned; returns (server, password)."""
    server = start_server(dns=NO_DNS, smtp={"relay_networks": ["127.0.0.0/8"]})
    passwords = provision(server, ["alice"])
    return server, passwords[ALICE]


def submit(server, password: str, recipients: list[str], subject: str,
           body: bytes = b"Hello.\r\n") -> bytes:
    """alice submits on 587 (STARTTLS, AUTH); returns the message as sent."""
    client = smtplib_client(server, "submission", starttls=True)
    client.login(ALICE, password)
    sent = message(subject, body=body, sender=ALICE, to=recipients[0])
    code, reply = send_transaction(client, ALICE, recipients, sent)
    assert code == 250, reply
    queued_id(reply)
    client.quit()
    return sent


def queue_json(server) -> list[dict]:
    listing = json.loads(ok(server.cli("queue", "list", "--json")).stdout)
    assert isinstance(listing, list), listing
    return listing


def only_message(server) -> dict:
    listing = queue_json(server)
    assert len(listing) == 1, listing
    return listing[0]


def states(entry: dict) -> list[str]:
    return [r["state"] for r in entry["recipients"]]


# --------------------------------------------------------------------------------------
# list and show
# --------------------------------------------------------------------------------------

def test_empty_queue(queue_server):
    server, _ = queue_server
    assert ok(server.cli("queue", "list")).stdout == "the queue is empty\n"
    assert queue_json(server) == []


def test_list_shows_a_submitted_message(queue_server):
    server, password = queue_server
    before = datetime.now(timezone.utc).replace(microsecond=0)
    submit(server, password, ["someone@remote.invalid", "other@remote.invalid"], "queue list")

    entry = only_message(server)
    assert set(entry) == {"id", "sender", "size", "created_at", "age_seconds", "recipients"}
    rows = sqlite_rows(server.data_dir / "index.sqlite3", "SELECT id, size FROM queue_messages")
    assert [[str(entry["id"]), str(entry["size"])]] == rows
    assert entry["sender"] == ALICE
    created = parse_utc(entry["created_at"])
    assert before <= created <= datetime.now(timezone.utc)
    assert 0 <= entry["age_seconds"] < 120
    assert [r["address"] for r in entry["recipients"]] == ["someone@remote.invalid",
                                                           "other@remote.invalid"]
    for recipient in entry["recipients"]:
        assert set(recipient) == {"address", "state", "attempts", "next_attempt_at", "last_reply"}
        assert recipient["state"] in PENDING, recipient
        assert recipient["attempts"] >= 0
        parse_utc(recipient["next_attempt_at"])
        assert isinstance(recipient["last_reply"], str)

    text = ok(server.cli("queue", "list")).stdout
    lines = text.splitlines()
    assert lines[0].startswith(f"{entry['id']}  {ALICE}  {entry['size']} bytes  created "), text
    assert lines[0].endswith(" ago)") and " UTC (" in lines[0], text
    assert re.match(r"^    someone@remote\.invalid  (queued|deferred)  attempts=\d+  "
                    r"next=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", lines[1]), text
    assert lines[2].startswith("    other@remote.invalid  "), text
    assert lines[-1] == "1 message in the queue"


def test_null_sender_is_shown_as_angle_brackets(queue_server):
    server, _ = queue_server
    client = smtplib_client(server, "smtp")
    code, reply = send_transaction(client, "", ["postmaster@remote.invalid"],
                                   message("bounce-like", to="postmaster@remote.invalid"))
    assert code == 250, reply
    client.quit()
    entry = only_message(server)
    assert entry["sender"] == ""
    first_line = ok(server.cli("queue", "list")).stdout.splitlines()[0]
    assert first_line.startswith(f"{entry['id']}  <>  "), first_line


def test_show_prints_the_message_headers(queue_server):
    server, password = queue_server
    sent = submit(server, password, ["someone@remote.invalid"], "queue show",
                  body=b"The body stays out of it.\r\n")
    entry = only_message(server)

    text = ok(server.cli("queue", "show", str(entry["id"]))).stdout
    assert text.startswith(f"{entry['id']}  {ALICE}  "), text
    assert "    someone@remote.invalid  " in text
    assert "\n\nReturn-Path: <alice@example.test>\nReceived: " in text, text
    assert "\nSubject: queue show\n" in text
    assert "\nMessage-ID: " in text
    assert "The body stays out of it." not in text
    assert "\r" not in text

    shown = json.loads(ok(server.cli("queue", "show", str(entry["id"]), "--json")).stdout)
    assert set(shown) == set(entry) | {"headers"}
    assert shown["id"] == entry["id"] and shown["sender"] == ALICE
    assert [r["address"] for r in shown["recipients"]] == ["someone@remote.invalid"]
    headers = shown["headers"]
    header_part = sent.split(b"\r\n\r\n", 1)[0].decode() + "\r\n"
    assert headers.endswith(header_part), headers
    assert headers.startswith("Return-Path: <alice@example.test>\r\nReceived: "), headers
    assert "The body" not in headers


# --------------------------------------------------------------------------------------
# hold, release, flush, delete
# --------------------------------------------------------------------------------------

def test_hold_and_release(queue_server):
    server, password = queue_server
    submit(server, password, ["a@remote.invalid", "b@remote.invalid"], "hold me")
    entry = only_message(server)
    message_id = str(entry["id"])

    assert ok(server.cli("queue", "hold", message_id)).stdout == \
        f"message {message_id}: 2 recipients held\n"
    assert states(only_message(server)) == ["held", "held"]
    assert ok(server.cli("queue", "hold", message_id)).stdout == \
        f"message {message_id}: 0 recipients held\n"
    assert ok(server.cli("queue", "flush", message_id)).stdout == \
        f"message {message_id}: 0 recipients due now\n", "held mail is not flushed"
    # The running scheduler leaves held mail alone.
    time.sleep(3)
    held = only_message(server)
    assert states(held) == ["held", "held"]
    assert " held  attempts=" in ok(server.cli("queue", "list")).stdout

    assert ok(server.cli("queue", "release", message_id)).stdout == \
        f"message {message_id}: 2 recipients released\n"
    for recipient in only_message(server)["recipients"]:
        # Queued and due now, unless the scheduler has tried it in the meantime.
        assert recipient["state"] in PENDING, recipient
        if recipient["state"] == "queued":
            assert parse_utc(recipient["next_attempt_at"]) <= datetime.now(timezone.utc)
    assert ok(server.cli("queue", "release", message_id)).stdout == \
        f"message {message_id}: 0 recipients released\n"


def test_flush_one_message_or_all(queue_server):
    server, password = queue_server
    submit(server, password, ["a@remote.invalid", "b@remote.invalid"], "first")
    submit(server, password, ["c@remote.invalid"], "second")
    first, second = queue_json(server)
    assert ok(server.cli("queue", "flush", str(first["id"]))).stdout == \
        f"message {first['id']}: 2 recipients due now\n"
    assert ok(server.cli("queue", "hold", str(second["id"]))).stdout == \
        f"message {second['id']}: 1 recipient held\n"
    assert ok(server.cli("queue", "flush")).stdout == "2 recipients due now\n"
    assert ok(server.cli("queue", "release", str(second["id"]))).stdout.endswith(" released\n")
    assert ok(server.cli("queue", "flush")).stdout == "3 recipients due now\n"
    for entry in queue_json(server):
        assert set(states(entry)) <= PENDING, entry


def test_delete_removes_the_message(queue_server):
    server, password = queue_server
    submit(server, password, ["gone@remote.invalid"], "delete me")
    submit(server, password, ["stays@remote.invalid"], "keep me")
    doomed, kept = queue_json(server)
    assert ok(server.cli("queue", "delete", str(doomed["id"]))).stdout == \
        f"message {doomed['id']} deleted\n"
    listing = queue_json(server)
    assert [entry["id"] for entry in listing] == [kept["id"]]
    assert "gone@remote.invalid" not in ok(server.cli("queue", "list")).stdout
    fails_with_one_error_line(server.cli("queue", "show", str(doomed["id"])), "does not exist")
    fails_with_one_error_line(server.cli("queue", "delete", str(doomed["id"])), "does not exist")
    rows = sqlite_rows(server.data_dir / "index.sqlite3",
                       f"SELECT count(*) FROM queue_recipients WHERE message_id = {doomed['id']}")
    assert rows == [["0"]]


@pytest.mark.parametrize("command", ["show", "delete", "hold", "release", "flush"])
def test_unknown_id_is_an_error(queue_server, command):
    server, password = queue_server
    submit(server, password, ["someone@remote.invalid"], "not this one")
    missing = str(only_message(server)["id"] + 1000)
    fails_with_one_error_line(server.cli("queue", command, missing), missing, "does not exist")
    assert len(queue_json(server)) == 1


def test_malformed_ids_are_refused(queue_server):
    server, _ = queue_server
    for args in (["show", "abc"], ["hold", "1x"], ["delete"], ["show"], ["release"]):
        done = server.cli("queue", *args)
        assert done.returncode != 0, (args, done.stdout)
        assert not sanitizer_findings(done.stderr), done.stderr
