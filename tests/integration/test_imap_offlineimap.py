"""offlineimap3 syncs an account from Postamt (IMAPS) into a local Maildir, then back.

A private config (-c) keeps offlineimap's metadata and Maildir in the test's tmp dir; the
server's self-signed certificate is pinned with cert_fingerprint (SHA-256 of its DER form).
Mail goes in over SMTP (smtplib) and APPEND (imaplib); the store is read with the CLI.
"""

from __future__ import annotations

import hashlib
import imaplib
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from harness import (
    mailbox_listing,
    message,
    provision,
    send_transaction,
    smtplib_client,
    stored_messages,
    unverified_tls_context,
)

pytestmark = [pytest.mark.timeout(240),
              pytest.mark.skipif(shutil.which("offlineimap") is None,
                                 reason="Debian offlineimap3 is not installed")]

ALICE = "alice@example.test"
FOLDERS = ("INBOX", "Projects", "Projects/2024", "Gr&APwA3w-e")  # the last is "Grüße" (RFC 3501 §5.1.3)


def deliver(server, subject: str, body: bytes = b"Hello.\r\n") -> bytes:
    sent = message(subject, body, to=ALICE)
    client = smtplib_client(server, "smtp")
    code, reply = send_transaction(client, "sender@example.org", [ALICE], sent)
    assert code == 250, (code, reply)
    client.quit()
    return sent


def imap(server) -> imaplib.IMAP4_SSL:
    host, port = server.address("imaps")
    client = imaplib.IMAP4_SSL(host, port, ssl_context=unverified_tls_context(), timeout=30)
    client.login(ALICE, "pw-alice")
    return client


def certificate_sha256(server) -> str:
    host, port = server.address("imaps")
    with socket.create_connection((host, port), timeout=10) as raw:
        with unverified_tls_context().wrap_socket(raw, server_hostname="mail.example.test") as tls:
            return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()


class OfflineImap:
    def __init__(self, server, directory: Path):
        self.directory = directory
        self.maildir = directory / "Mail"
        self.metadata = directory / "metadata"
        self.maildir.mkdir(parents=True)
        host, port = server.address("imaps")
        self.config = directory / "offlineimaprc"
        self.config.write_text(f"""\
[general]
accounts = postamt
metadata = {self.metadata}
maxsyncaccounts = 1

[Account postamt]
localrepository = local
remoterepository = remote
autorefresh = 0

[Repository local]
type = Maildir
localfolders = {self.maildir}
sep = /

[Repository remote]
type = IMAP
remotehost = {host}
remoteport = {port}
remoteuser = {ALICE}
remotepass = pw-alice
ssl = yes
cert_fingerprint = {certificate_sha256(server)}
sep = /
maxconnections = 1
expunge = yes
""")

    def run(self) -> subprocess.CompletedProcess:
        env = dict(os.environ, HOME=str(self.directory))
        done = subprocess.run(["offlineimap", "-c", str(self.config), "-o", "-u", "basic"],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180,
                              env=env, cwd=self.directory)
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"offlineimap exited {done.returncode}:\n{output}"
        assert "ERROR" not in output and "Traceback" not in output, output
        return done

    def folder(self, name: str) -> Path:
        return self.maildir / name

    def files(self, name: str = "INBOX") -> list[Path]:
        box = self.folder(name)
        return sorted(p for sub in ("new", "cur") if (box / sub).is_dir() for p in (box / sub).iterdir())


def lf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n")


def find(sync: OfflineImap, subject: bytes, name: str = "INBOX") -> Path:
    found = [p for p in sync.files(name)
             if re.search(rb"^Subject: " + re.escape(subject) + rb"\r?$", p.read_bytes(), re.MULTILINE)]
    assert len(found) == 1, (subject, found)
    return found[0]


def flags_of(path: Path) -> str:
    return path.name.partition(":2,")[2]


def server_flags(client: imaplib.IMAP4_SSL, mailbox: str = "INBOX") -> dict[bytes, set[str]]:
    status, _ = client.select(mailbox)
    assert status == "OK", mailbox
    status, data = client.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    out = {}
    for entry in data:
        if isinstance(entry, tuple):
            flags = set(re.search(rb"FLAGS \(([^)]*)\)", entry[0]).group(1).decode().split())
            out[entry[1].strip().split(b": ", 1)[1]] = flags
    return out


def test_offlineimap_syncs_folders_and_changes_back(server, tmp_path):
    provision(server, ["alice"])
    for subject in ("one", "two", "to delete", "to flag"):
        deliver(server, subject, f"Body of {subject}.\r\n".encode())
    client = imap(server)
    for name in FOLDERS[1:]:
        assert client.create(name)[0] == "OK", name
    for index, name in enumerate(FOLDERS[1:]):
        status, _ = client.append(name, r"(\Seen)", None, message(f"in folder {index}"))
        assert status == "OK", name
    client.logout()
    stored = stored_messages(server, ALICE)

    sync = OfflineImap(server, tmp_path / "offlineimap")
    sync.run()

    # Every message and folder arrived; INBOX messages are the stored ones.
    local = sorted(lf(p.read_bytes()) for p in sync.files("INBOX"))
    assert local == sorted(lf(m) for m in stored)
    for index, name in enumerate(FOLDERS[1:]):
        [path] = sync.files(name)
        assert f"Subject: in folder {index}".encode() in path.read_bytes(), name
        assert "S" in flags_of(path), path.name

    # Local changes go back: a deletion and a flag.
    find(sync, b"to delete").unlink()
    flagged = find(sync, b"to flag")
    flagged.rename(flagged.parent.parent / "cur" / (flagged.name.split(":2,")[0] + ":2,FS"))
    sync.run()

    client = imap(server)
    flags = server_flags(client)
    assert set(flags) == {b"one", b"two", b"to flag"}, flags
    assert {"\\Flagged", "\\Seen"} <= flags[b"to flag"]
    assert "\\Flagged" not in flags[b"one"]
    # A server-side change comes down.
    assert client.store("1", "+FLAGS", r"(\Answered)")[0] == "OK"
    client.logout()
    assert len(mailbox_listing(server, ALICE)) == 3
    sync.run()
    assert "R" in flags_of(find(sync, b"one"))
    assert len(sync.files("INBOX")) == 3

    # Nothing changed: the next run is quiet and changes nothing.
    names = {name: [p.name for p in sync.files(name)] for name in FOLDERS}
    sync.run()
    assert {name: [p.name for p in sync.files(name)] for name in FOLDERS} == names
    assert len(mailbox_listing(server, ALICE)) == 3
