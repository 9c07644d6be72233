"""mbsync (isync 1.4) syncs a local Maildir with Postamt over IMAPS, both ways.

Each test writes a private mbsyncrc (HOME points into the test's tmp dir, so nothing of
the user's own setup is read) and trusts the server's self-signed certificate through
CertificateFile, with the system trust store off. Mail goes in over SMTP (smtplib) or
APPEND (imaplib); the store is read with the CLI (`postamt debug mailbox|message`).

isync stores messages in a Maildir with LF line ends (it converts CRLF on the way in and
back on the way out) and adds an "X-TUID:" header field to each message it copies (its
own transaction id, to find the copy again after an interruption). So "byte-identical"
below means: identical once CRLF is LF and isync's X-TUID field is taken out.
"""

from __future__ import annotations

import imaplib
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from harness import (
    mailbox_listing,
    message,
    peer_certificate_pem,
    provision,
    send_transaction,
    smtplib_client,
    stored_messages,
    unverified_tls_context,
)

pytestmark = [pytest.mark.timeout(240),
              pytest.mark.skipif(shutil.which("mbsync") is None,
                                 reason="Debian isync (mbsync) is not installed")]

ALICE = "alice@example.test"
# A mailbox name outside ASCII: IMAP carries it in modified UTF-7 (RFC 3501 §5.1.3).
UMLAUT = "Grüße"
UMLAUT_UTF7 = "Gr&APwA3w-e"


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------

def deliver(server, subject: str, body: bytes = b"Hello.\r\n", extra: bytes = b"") -> bytes:
    sent = message(subject, body, to=ALICE, extra=extra)
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


def server_certificate(server, path: Path) -> Path:
    host, port = server.address("imaps")
    with socket.create_connection((host, port), timeout=10) as raw:
        with unverified_tls_context().wrap_socket(raw, server_hostname="mail.example.test") as tls:
            path.write_text(peer_certificate_pem(tls))
    return path


class Mbsync:
    """A private mbsync setup: rc file, Maildir and state under one directory."""

    def __init__(self, server, directory: Path):
        self.directory = directory
        self.maildir = directory / "Mail"
        self.maildir.mkdir(parents=True)
        certificate = server_certificate(server, directory / "server.pem")
        host, port = server.address("imaps")
        self.rc = directory / "mbsyncrc"
        self.rc.write_text(f"""\
IMAPAccount postamt
Host {host}
Port {port}
User {ALICE}
Pass pw-alice
SSLType IMAPS
SystemCertificates no
CertificateFile {certificate}
AuthMechs LOGIN

IMAPStore postamt-remote
Account postamt

MaildirStore local
Path {self.maildir}/
Inbox {self.maildir}/INBOX
SubFolders Verbatim

Channel postamt
Far :postamt-remote:
Near :local:
Patterns *
Create Both
Expunge Both
Sync All
SyncState *
CopyArrivalDate yes
""")
        self.rc.chmod(0o600)

    def run(self) -> subprocess.CompletedProcess:
        """mbsync -a; must exit 0 and print no error or warning."""
        env = dict(os.environ, HOME=str(self.directory))
        done = subprocess.run(["mbsync", "-c", str(self.rc), "-a"], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120, env=env, cwd=self.directory)
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"mbsync exited {done.returncode}:\n{output}"
        assert not re.search(r"error|warning|fatal", output, re.IGNORECASE), output
        return done

    def box(self, name: str = "INBOX") -> Path:
        return self.maildir / name

    def files(self, name: str = "INBOX") -> list[Path]:
        box = self.box(name)
        return sorted(p for sub in ("new", "cur") if (box / sub).is_dir() for p in (box / sub).iterdir())

    def contents(self, name: str = "INBOX") -> list[bytes]:
        """The messages of a local folder, sorted, with isync's X-TUID field taken out."""
        return sorted(lf(p.read_bytes()) for p in self.files(name))


def maildir_flags(path: Path) -> str:
    """The flag letters of a Maildir file name ("...:2,FS" -> "FS")."""
    _, _, info = path.name.partition(":2,")
    return info


def lf(data: bytes) -> bytes:
    """CRLF -> LF, without the X-TUID field isync adds to the header of what it copies."""
    data = data.replace(b"\r\n", b"\n")
    header, separator, body = data.partition(b"\n\n")
    header = re.sub(rb"^X-TUID: [^\n]*\n", b"", header + b"\n", flags=re.MULTILINE)[:-1]
    return header + separator + body


def server_flags(client: imaplib.IMAP4_SSL, mailbox: str = "INBOX") -> dict[bytes, set[str]]:
    """Subject line -> flags, for every message of mailbox."""
    client.select(mailbox)
    status, data = client.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert status == "OK", data
    out = {}
    for entry in data:
        if not isinstance(entry, tuple):
            continue
        flags = set(re.search(rb"FLAGS \(([^)]*)\)", entry[0]).group(1).decode().split())
        subject = entry[1].strip().split(b": ", 1)[1]
        out[subject] = flags
    return out


def local_message(mbsync: Mbsync, subject: bytes, name: str = "INBOX") -> Path:
    found = [p for p in mbsync.files(name) if re.search(rb"^Subject: " + re.escape(subject) + rb"$",
                                                         p.read_bytes(), re.MULTILINE)]
    assert len(found) == 1, (subject, found)
    return found[0]


def new_local_message(mbsync: Mbsync, subject: str, name: str = "INBOX", flags: str = "") -> bytes:
    """Writes a message into a local Maildir folder the way a mail reader would (LF ends)."""
    content = lf(message(subject, b"Written locally.\r\n"))
    box = mbsync.box(name)
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True, exist_ok=True)
    unique = f"{time.time_ns()}.P{os.getpid()}.localhost"
    target = box / ("cur" if flags else "new") / (unique + (f":2,{flags}" if flags else ""))
    target.write_bytes(content)
    return content


# --------------------------------------------------------------------------------------
# the tests
# --------------------------------------------------------------------------------------

def test_mbsync_pulls_byte_identical_copies(server, tmp_path):
    provision(server, ["alice"])
    deliver(server, "first")
    deliver(server, "8-bit", "Grüße aus dem Süden.\r\n".encode() + bytes(range(0xa0, 0x100)) + b"\r\n",
            extra=b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n")
    deliver(server, "long", b"".join(b"line %05d of a longer message\r\n" % i for i in range(20000)))
    stored = stored_messages(server, ALICE)
    mbsync = Mbsync(server, tmp_path / "mbsync")
    mbsync.run()
    assert mbsync.contents() == sorted(lf(m) for m in stored)
    # Nothing changed: a second run is a no-op.
    names = [p.name for p in mbsync.files()]
    mbsync.run()
    assert [p.name for p in mbsync.files()] == names
    assert stored_messages(server, ALICE) == stored


def test_mbsync_uploads_flags_and_deletions_both_ways(server, tmp_path):
    provision(server, ["alice"])
    for subject in ("keep", "seen here", "flag there", "delete here", "delete there"):
        deliver(server, subject)
    mbsync = Mbsync(server, tmp_path / "mbsync")
    mbsync.run()
    assert len(mbsync.files()) == 5

    # Local changes: a new message (uploaded with APPEND), flags, a deletion.
    uploaded = new_local_message(mbsync, "written locally", flags="S")
    seen = local_message(mbsync, b"seen here")
    seen.rename(seen.parent.parent / "cur" / (seen.name.split(":2,")[0] + ":2,FS"))
    local_message(mbsync, b"delete here").unlink()
    # Server changes: flags and a deletion, with imaplib.
    client = imap(server)
    client.select("INBOX")
    by_subject = {}
    status, data = client.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    for entry in data:
        if isinstance(entry, tuple):
            uid = re.search(rb"UID (\d+)", entry[0]).group(1)
            by_subject[entry[1].strip().split(b": ", 1)[1]] = uid
    assert client.uid("STORE", by_subject[b"flag there"], "+FLAGS", r"(\Flagged \Answered)")[0] == "OK"
    assert client.uid("STORE", by_subject[b"delete there"], "+FLAGS", r"(\Deleted)")[0] == "OK"
    assert client.expunge()[0] == "OK"
    client.logout()

    mbsync.run()

    # The upload is in Postamt, the same message (CRLF there), with its flag.
    stored = stored_messages(server, ALICE)
    assert len(stored) == 4, [m[:200] for m in stored]
    assert sum(1 for m in stored if lf(m) == uploaded) == 1
    client = imap(server)
    flags = server_flags(client)
    client.logout()
    assert set(flags) == {b"keep", b"seen here", b"flag there", b"written locally"}
    assert "\\Seen" in flags[b"written locally"]
    assert {"\\Seen", "\\Flagged"} <= flags[b"seen here"]
    assert "\\Seen" not in flags[b"keep"] and "\\Flagged" not in flags[b"keep"]
    # Server flags arrived locally; the server-side deletion removed the local file.
    assert "F" in maildir_flags(local_message(mbsync, b"flag there"))
    assert "R" in maildir_flags(local_message(mbsync, b"flag there"))
    assert maildir_flags(local_message(mbsync, b"keep")) == ""
    assert len(mbsync.files()) == 4
    assert sorted(lf(m) for m in stored) == mbsync.contents()

    # Unchanged on both sides: the next run changes nothing.
    names = sorted(p.name for p in mbsync.files())
    listing = mailbox_listing(server, ALICE)
    mbsync.run()
    assert sorted(p.name for p in mbsync.files()) == names
    assert mailbox_listing(server, ALICE) == listing

    # Flags cleared on the server and deleted locally with the \Deleted ("T") route.
    client = imap(server)
    client.select("INBOX")
    status, data = client.search(None, "FLAGGED")
    assert client.store(data[0].replace(b" ", b","), "-FLAGS", r"(\Flagged)")[0] == "OK"
    client.logout()
    trashed = local_message(mbsync, b"keep")
    trashed.rename(trashed.parent.parent / "cur" / (trashed.name.split(":2,")[0] + ":2,T"))
    mbsync.run()
    client = imap(server)
    flags = server_flags(client)
    client.logout()
    assert set(flags) == {b"seen here", b"flag there", b"written locally"}
    assert all("\\Flagged" not in f for f in flags.values()), flags
    assert all("F" not in maildir_flags(p) for p in mbsync.files())
    assert len(mbsync.files()) == 3


def test_mbsync_several_mailboxes(server, tmp_path):
    provision(server, ["alice"])
    deliver(server, "in the inbox")
    client = imap(server)
    for name in ("Projects", "Projects/2024", UMLAUT_UTF7):
        assert client.create(name)[0] == "OK", name
    for name, subject in (("Projects", "archived"), ("Projects/2024", "nested"), (UMLAUT_UTF7, "umlaut")):
        status, _ = client.append(name, None, None, message(subject))
        assert status == "OK", name
    client.logout()

    mbsync = Mbsync(server, tmp_path / "mbsync")
    mbsync.run()
    assert len(mbsync.files("INBOX")) == 1
    assert len(mbsync.files("Projects")) == 1
    assert len(mbsync.files("Projects/2024")) == 1
    # isync 1.4 keeps the IMAP (modified UTF-7) form of the name on disk.
    umlaut_dirs = [name for name in (UMLAUT_UTF7, UMLAUT) if mbsync.box(name).is_dir()]
    assert umlaut_dirs == [UMLAUT_UTF7], sorted(d.name for d in mbsync.maildir.iterdir())
    umlaut_local = umlaut_dirs[0]
    # Postamt's own mailboxes (RFC 6154 special-use ones) come along too.
    for name in ("Drafts", "Sent", "Trash", "Junk", "Archive"):
        assert (mbsync.box(name) / "cur").is_dir(), name
    assert b"Subject: umlaut\n" in mbsync.contents(umlaut_local)[0]
    assert b"Subject: nested\n" in mbsync.contents("Projects/2024")[0]

    # Folders made locally are created on the server (Create Both), nested ones too.
    new_local_message(mbsync, "local folder", name="Local")
    new_local_message(mbsync, "local nested", name="Local/Deeper")
    new_local_message(mbsync, "into umlaut", name=umlaut_local)
    mbsync.run()
    client = imap(server)
    status, listed = client.list()
    assert status == "OK"
    names = {re.search(rb' "/" (.*)$', line).group(1).strip(b'"').decode() for line in listed}
    assert {"INBOX", "Projects", "Projects/2024", UMLAUT_UTF7, "Local", "Local/Deeper"} <= names, names
    assert set(server_flags(client, "Local")) == {b"local folder"}
    assert set(server_flags(client, "Local/Deeper")) == {b"local nested"}
    assert set(server_flags(client, f'"{UMLAUT_UTF7}"')) == {b"umlaut", b"into umlaut"}
    client.logout()
    for name in ("INBOX", "Projects", "Projects/2024", "Local", "Local/Deeper"):
        assert len(mailbox_listing(server, ALICE, name)) == len(mbsync.files(name)), name
    assert len(mailbox_listing(server, ALICE, UMLAUT)) == 2

    files = {name: [p.name for p in mbsync.files(name)] for name in ("INBOX", "Projects", "Local/Deeper")}
    mbsync.run()
    assert {name: [p.name for p in mbsync.files(name)] for name in files} == files
