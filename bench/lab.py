"""The servers a benchmark runs against, each a private instance on loopback ports.

- PostamtSide: `postamt serve` from a config written here (smtp, imap, pop3 listeners on
  127.0.0.1:0, a ports file, plaintext login allowed on loopback), users added with the CLI.
- PeerSide: a private Postfix (virtual mailbox delivery into Maildirs, its default
  durability: the queue file is fsynced before 250) and a private Dovecot (IMAP and POP3
  on the same Maildirs, passwd-file users), both under one temporary directory, both from
  the peer lab (tests/peers: PostfixReceiver, DovecotPeer). Nothing of the system
  instances (/etc/postfix, /etc/dovecot, /run/dovecot, /var/spool/postfix) is used.

Both sides get the same users with the same password hash string, read from Postamt's store
and written into Dovecot's passwd-file, so a LOGIN costs the same key derivation on both:
Postamt's own Argon2id hash (`{ARGON2ID}$argon2id$...`, m = 19 MiB, t = 2), or, with
use_sha512_crypt(), one `{SHA512-CRYPT}$6$...` hash (Dovecot's default scheme, which
Postamt imports) written into the store before the server starts. The `own` scheme of
run.py gives each side its default instead: Argon2id for Postamt, SHA512-CRYPT for Dovecot.

Every wait has a deadline; every process started here is stopped by its own pid.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))   # the peer lab: tests/peers

from peers.base import process_tree  # noqa: E402
from peers.dovecot import DovecotPeer, dovecot_unavailable  # noqa: E402
from peers.postfix import PostfixReceiver, postfix_unavailable  # noqa: E402

import loadgen  # noqa: E402   (bench/, beside this file)

DOMAIN = "bench.test"
PASSWORD = "bench-password"
WAIT_LIMIT = 60.0
# Sender authentication is on by default on the smtp listener; the plain workloads compare
# ingest without it (Postfix here checks nothing either, and there is no DNS on loopback).
# The smtp_auth workloads turn it on on both sides (bench/auth_lab.py).
NO_SENDER_AUTHENTICATION = "[mailauth]\nverify = false\n"


def sha512_crypt_hash(password: str = PASSWORD) -> str:
    """One {SHA512-CRYPT}$6$... hash (Dovecot's default scheme) of the password."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    return "{SHA512-CRYPT}" + crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA512))


def wait_for(predicate: Callable[[], object], timeout: float, message: str, interval: float = 0.05) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {message}")
        time.sleep(interval)


def memory_kib(pids: list[int]) -> tuple[int, int]:
    """(sum of RSS, sum of PSS) of pids in KiB; processes that vanished count 0."""
    rss = pss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
    return rss, pss


class Side:
    """What the workloads need from a side: addresses, users, visibility, memory."""

    name = "?"
    smtp: tuple[str, int]
    imap: tuple[str, int]
    pop3: tuple[str, int]

    def memory(self) -> tuple[int, int]:
        raise NotImplementedError

    def settle(self, timeout: float = WAIT_LIMIT) -> float:
        """Waits until every accepted message is in its mailbox; returns the seconds waited."""
        return 0.0

    def stop(self) -> None:
        raise NotImplementedError


# --------------------------------------------------------------------------------------
# Postamt
# --------------------------------------------------------------------------------------

class PostamtSide(Side):
    name = "postamt"

    def __init__(self, binary: Path, directory: Path, users: list[str], max_connections: int,
                 extra_config: str = NO_SENDER_AUTHENTICATION):
        self.binary = binary.resolve()
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.config = directory / "postamt.toml"
        listeners = "".join(f'[[listener]]\nprotocol = "{p}"\naddress = "127.0.0.1:0"\n\n'
                            for p in ("smtp", "imap", "pop3"))
        self.config.write_text(f"""[server]
hostname = "mail.{DOMAIN}"
data_dir = "data"
ports_file = "ports.json"
shutdown_grace_seconds = 2

[tls]
cert = "tls/cert.pem"
key = "tls/key.pem"
self_signed = true

[auth]
allow_plaintext_without_tls = true

[limits]
max_connections = {max_connections + 200}
max_connections_per_ip = {max_connections + 200}
max_unauthenticated_connections = {max_connections + 200}
max_unauthenticated_per_ip = {max_connections + 200}
idle_timeout_seconds = 3600

[log]
level = "warn"
file = "postamt.log"

{extra_config}
{listeners}""")
        self.cli("domain", "add", DOMAIN)
        for user in users:   # one at a time: each is a writer of the store
            self.cli("user", "add", f"{user}@{DOMAIN}", stdin=PASSWORD + "\n")
        self.process: subprocess.Popen | None = None

    def cli(self, *args: str, stdin: str = "") -> str:
        done = subprocess.run([str(self.binary), "--config", str(self.config), *args], input=stdin,
                              text=True, capture_output=True, timeout=120, cwd=self.directory)
        if done.returncode != 0:
            raise RuntimeError(f"postamt {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def store_path(self) -> Path:
        if getattr(self, "_store_path", None) is not None:
            return self._store_path
        for path in (self.directory / "data").rglob("*"):
            if path.is_file() and path.suffix in (".db", ".sqlite", ".sqlite3"):
                with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as db:
                    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'accounts'").fetchone():
                        self._store_path = path
                        return path
        raise RuntimeError(f"no store with an accounts table under {self.directory / 'data'}")

    def password_hashes(self) -> dict[str, str]:
        """address -> stored hash, read from the store (the server need not run)."""
        with sqlite3.connect(f"file:{self.store_path()}?mode=ro", uri=True, timeout=10) as db:
            return dict(db.execute("SELECT address, password_hash FROM accounts"))

    def use_sha512_crypt(self) -> None:
        """Replaces every account's Argon2id hash by one SHA512-CRYPT hash of the same
        password, in the Dovecot form Postamt imports ({SHA512-CRYPT}$6$...). Only before
        start(): the CLI makes Argon2id hashes only, so the benchmark writes the store."""
        hashed = sha512_crypt_hash()
        with sqlite3.connect(self.store_path(), timeout=10) as db:
            db.execute("UPDATE accounts SET password_hash = ?", (hashed,))

    def start(self) -> "PostamtSide":
        ports_file = self.directory / "ports.json"
        ports_file.unlink(missing_ok=True)
        self.process = subprocess.Popen([str(self.binary), "serve", "--config", str(self.config)],
                                        cwd=self.directory, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL,
                                        stderr=open(self.directory / "stderr.log", "wb"))

        def ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"postamt exited {self.process.returncode}: "
                                   f"{(self.directory / 'stderr.log').read_text()[-2000:]}")
            return ports_file.exists()
        wait_for(ready, WAIT_LIMIT, "postamt's ports file")
        ports = json.loads(ports_file.read_text())

        def address(protocol: str) -> tuple[str, int]:
            host, port = ports[protocol][0].rsplit(":", 1)
            return host, int(port)
        self.smtp, self.imap, self.pop3 = address("smtp"), address("imap"), address("pop3")
        return self

    def settle(self, timeout: float = WAIT_LIMIT) -> float:
        """A message is in its mailbox when the 250 goes out; what may still run is the
        background text indexing of what came in. Waits until it has caught up, as the peer
        waits for Postfix's queue to drain, so no run pays for the previous one's work."""
        start = time.monotonic()
        path = self.store_path()

        def indexed() -> bool:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as db:
                return db.execute("SELECT count(*) FROM blob_text_pending").fetchone()[0] == 0
        wait_for(indexed, timeout, "Postamt's text index to catch up", interval=0.1)
        return time.monotonic() - start

    def stored_headers(self, users: list[str], per_user: int = 2) -> list[bytes]:
        """The header sections of the newest messages of each user, over IMAP."""
        async def fetch() -> list[bytes]:
            out = []
            for user in users:
                imap = await loadgen.Imap.open(self.imap)
                try:
                    await imap.login(user, PASSWORD)
                    exists = loadgen.exists_of(await imap.command(b"SELECT INBOX"))
                    if exists:
                        first = max(1, exists - per_user + 1)
                        for response in await imap.command(b"FETCH %d:%d (BODY.PEEK[HEADER])" % (first, exists)):
                            start = response.find(b"}\r\n")
                            if start >= 0:
                                out.append(response[start + 3:])
                    await imap.command(b"LOGOUT")
                finally:
                    await imap.conn.close()
            return out
        return asyncio.run(fetch())

    def memory(self) -> tuple[int, int]:
        return memory_kib([self.process.pid])

    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


# --------------------------------------------------------------------------------------
# Postfix + Dovecot, from the peer lab (tests/peers)
# --------------------------------------------------------------------------------------

class PeerSide(Side):
    """A private Postfix receiving for DOMAIN into Maildirs and a private Dovecot serving them
    (IMAP and POP3), in subdirectories postfix/, dovecot/ and mail/ of directory. The
    mailboxes belong to nobody:nogroup for both Postfix's virtual(8) and Dovecot."""

    name = "peer"

    def __init__(self, directory: Path, hashes: dict[str, str], max_connections: int):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o755)   # Postfix's and Dovecot's daemons run as other users
        mail = directory / "mail"
        self.postfix = PostfixReceiver(DOMAIN, hashes, directory=directory / "postfix", mail_root=mail,
                                       mailbox_owner=("nobody", "nogroup"))
        self.dovecot = DovecotPeer(hashes, protocols=("imap", "pop3"), directory=directory / "dovecot",
                                   mail_root=mail, mailbox_path="%d/%n", settings={
                                       # Raised for the idle test's thousands of connections.
                                       "mail_max_userip_connections": str(max_connections + 200),
                                       "default_process_limit": str(max_connections + 200),
                                       "default_client_limit": str(2 * max_connections + 1000),
                                       "default_vsz_limit": "512M",
                                   })
        self.smtp = self.postfix.smtp
        self.imap = self.dovecot.imap
        self.pop3 = self.dovecot.pop3

    def start(self) -> "PeerSide":
        self.postfix.start(WAIT_LIMIT)
        self.dovecot.start(WAIT_LIMIT)
        return self

    def queued(self) -> int:
        """Messages in Postfix's queue not yet delivered."""
        return self.postfix.queued()

    def settle(self, timeout: float = WAIT_LIMIT) -> float:
        start = time.monotonic()
        self.postfix.wait_until_queue_empty(timeout)
        return time.monotonic() - start

    def memory(self) -> tuple[int, int]:
        return memory_kib(process_tree(self.dovecot.pid))

    def stop(self) -> None:
        try:
            self.dovecot.stop()
        finally:
            self.postfix.stop()


def maildir_headers(postfix: PostfixReceiver, users: list[str], per_user: int = 2) -> list[bytes]:
    """The header sections (CRLF, ending in an empty line) of the newest messages Postfix
    delivered to each user's Maildir."""
    out = []
    for user in users:
        for message in postfix.messages(user)[-per_user:]:
            out.append(message.split(b"\n\n", 1)[0].replace(b"\n", b"\r\n") + b"\r\n\r\n")
    return out


def peer_unavailable() -> str | None:
    """Why the peers cannot run here, or None."""
    return postfix_unavailable() or dovecot_unavailable(("imap", "pop3"))
