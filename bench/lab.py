"""The servers a benchmark runs against, each a private instance on loopback ports.

- PostamtSide: `postamt serve` from a config written here (smtp, imap, pop3 listeners on
  127.0.0.1:0, a ports file, plaintext login allowed on loopback), users added with the CLI.
- PeerSide: a private Postfix (virtual mailbox delivery into Maildirs, its default
  durability: the queue file is fsynced before 250) and a private Dovecot (IMAP and POP3
  on the same Maildirs, passwd-file users), both under one temporary directory. Nothing of
  the system instances (/etc/postfix, /etc/dovecot, /run/dovecot, /var/spool/postfix) is
  used: every postfix command gets `-c DIR`, Dovecot gets `-c FILE` and its own base_dir.

Both sides get the same users with the same password hash string, read from Postamt's store
and written into Dovecot's passwd-file, so a LOGIN costs the same key derivation on both:
Postamt's own Argon2id hash (`{ARGON2ID}$argon2id$...`, m = 19 MiB, t = 2), or, with
use_sha512_crypt(), one `{SHA512-CRYPT}$6$...` hash (Dovecot's default scheme, which
Postamt imports) written into the store before the server starts. The `own` scheme of
run.py gives each side its default instead: Argon2id for Postamt, SHA512-CRYPT for Dovecot.

Every wait has a deadline; every process started here is stopped by its own pid.
"""

from __future__ import annotations

import json
import os
import pwd
import grp
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Callable

DOMAIN = "bench.test"
PASSWORD = "bench-password"
WAIT_LIMIT = 60.0


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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def process_tree(root: int) -> list[int]:
    """root and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError, PermissionError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


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

    def __init__(self, binary: Path, directory: Path, users: list[str], max_connections: int):
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
# Postfix + Dovecot
# --------------------------------------------------------------------------------------

POSTFIX_MASTER_CF = """\
127.0.0.1:{port} inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
virtual   unix  -       n       n       -       -       virtual
postlog   unix-dgram n  -       n       -       1       postlogd
"""

DOVECOT_CONF = """\
base_dir = {d}/dovecot-run
state_dir = {d}/dovecot-state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_location = maildir:{d}/mail/%d/%n
mail_max_userip_connections = {connections}
default_process_limit = {connections}
default_client_limit = {clients}
default_vsz_limit = 512M
passdb {{
  driver = passwd-file
  args = username_format=%u {d}/dovecot-passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/dovecot-home/%d/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3_port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0600
  }}
  unix_listener stats-writer {{
    mode = 0600
  }}
}}
protocol pop3 {{
  pop3_uidl_format = %08Xu%08Xv
}}
"""


class PeerSide(Side):
    """A private Postfix receiving for DOMAIN into Maildirs and a private Dovecot serving them."""

    name = "peer"

    def __init__(self, directory: Path, hashes: dict[str, str], max_connections: int):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o755)   # Postfix's and Dovecot's daemons run as other users
        self.conf = directory / "postfix-conf"
        self.queue = directory / "postfix-queue"
        self.data = directory / "postfix-data"
        self.mail = directory / "mail"
        self.maillog = directory / "postfix.log"
        for path in (self.conf, self.queue, self.data, self.mail / DOMAIN, directory / "dovecot-run",
                     directory / "dovecot-state", directory / "dovecot-home"):
            path.mkdir(parents=True, exist_ok=True)
        postfix = pwd.getpwnam("postfix")
        os.chown(self.data, postfix.pw_uid, postfix.pw_gid)
        # Mailboxes belong to nobody:nogroup for both Postfix's virtual(8) and Dovecot.
        self.uid, self.gid = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
        for path in (self.mail, self.mail / DOMAIN, directory / "dovecot-home"):
            os.chown(path, self.uid, self.gid)
        self.users = [address.split("@")[0] for address in hashes]
        for user in self.users:
            for sub in ("cur", "new", "tmp"):
                path = self.mail / DOMAIN / user / sub
                path.mkdir(parents=True, exist_ok=True)
                os.chown(path, self.uid, self.gid)
            os.chown(self.mail / DOMAIN / user, self.uid, self.gid)
        (self.conf / "vmailbox").write_text(
            "".join(f"{user}@{DOMAIN} {DOMAIN}/{user}/\n" for user in self.users))
        self.smtp_port = free_port()
        (self.conf / "main.cf").write_text(f"""\
compatibility_level = 3.6
queue_directory = {self.queue}
data_directory = {self.data}
mail_owner = postfix
setgid_group = postdrop
maillog_file = {self.maillog}
maillog_file_prefixes = {directory}
myhostname = mx.{DOMAIN}
mydomain = {DOMAIN}
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
smtpd_relay_restrictions = reject_unauth_destination
virtual_mailbox_domains = {DOMAIN}
virtual_mailbox_base = {self.mail}
virtual_mailbox_maps = texthash:{self.conf / "vmailbox"}
virtual_uid_maps = static:{self.uid}
virtual_gid_maps = static:{self.gid}
virtual_transport = virtual
default_transport = error:this benchmark peer sends no mail
relay_transport = error:this benchmark peer sends no mail
local_transport = error:this benchmark peer has no local delivery
smtp_dns_support_level = disabled
alias_maps =
alias_database =
local_recipient_maps =
biff = no
""")
        (self.conf / "master.cf").write_text(POSTFIX_MASTER_CF.format(port=self.smtp_port))
        self.imap_port, self.pop3_port = free_port(), free_port()
        self.dovecot_conf = directory / "dovecot.conf"
        self.dovecot_conf.write_text(DOVECOT_CONF.format(
            d=directory, imap_port=self.imap_port, pop3_port=self.pop3_port, uid=self.uid, gid=self.gid,
            connections=max_connections + 200, clients=2 * max_connections + 1000))
        (directory / "dovecot-passwd").write_text("".join(f"{a}:{h}\n" for a, h in hashes.items()))
        self.dovecot: subprocess.Popen | None = None
        self.postfix_started = False
        self.smtp = ("127.0.0.1", self.smtp_port)
        self.imap = ("127.0.0.1", self.imap_port)
        self.pop3 = ("127.0.0.1", self.pop3_port)

    def postfix(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["postfix", "-c", str(self.conf), *args], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60)

    def log_tail(self) -> str:
        out = ""
        for path in (self.maillog, self.directory / "dovecot.log"):
            try:
                out += f"--- {path.name}\n" + path.read_text(errors="replace")[-3000:]
            except FileNotFoundError:
                pass
        return out

    def start(self) -> "PeerSide":
        done = self.postfix("start")
        if done.returncode != 0:
            raise RuntimeError(f"postfix start: {done.stdout}{done.stderr}\n{self.log_tail()}")
        self.postfix_started = True
        wait_for(lambda: listening(self.smtp_port), WAIT_LIMIT, f"Postfix on {self.smtp_port}")
        self.dovecot = subprocess.Popen(["dovecot", "-F", "-c", str(self.dovecot_conf)],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=open(self.directory / "dovecot.stderr", "wb"))

        def greeting():
            if self.dovecot.poll() is not None:
                raise RuntimeError(f"dovecot exited {self.dovecot.returncode}\n{self.log_tail()}")
            try:
                with socket.create_connection(self.imap, timeout=2) as sock:
                    return sock.recv(100).startswith(b"* OK")
            except OSError:
                return False
        wait_for(greeting, WAIT_LIMIT, f"Dovecot on {self.imap_port}", interval=0.1)
        wait_for(lambda: listening(self.pop3_port), WAIT_LIMIT, f"Dovecot POP3 on {self.pop3_port}")
        return self

    def queued(self) -> int:
        """Messages in Postfix's queue not yet delivered."""
        count = 0
        for sub in ("maildrop", "incoming", "active", "deferred", "hold"):
            folder = self.queue / sub
            if folder.is_dir():
                for _, _, files in os.walk(folder):
                    count += len(files)
        return count

    def settle(self, timeout: float = WAIT_LIMIT) -> float:
        start = time.monotonic()
        wait_for(lambda: self.queued() == 0, timeout, "Postfix's queue to drain", interval=0.05)
        return time.monotonic() - start

    def dovecot_pid(self) -> int:
        return self.dovecot.pid

    def memory(self) -> tuple[int, int]:
        return memory_kib(process_tree(self.dovecot.pid))

    def stop(self) -> None:
        if self.dovecot is not None and self.dovecot.poll() is None:
            self.dovecot.terminate()   # our own child by its pid: the master stops its services
            try:
                self.dovecot.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.dovecot.kill()
                self.dovecot.wait(timeout=10)
        if self.postfix_started:
            pid_file = self.queue / "pid" / "master.pid"
            try:
                pid = int(pid_file.read_text().split()[0])
            except (FileNotFoundError, ValueError, IndexError):
                pid = None
            self.postfix("stop")
            if pid is not None:
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    try:
                        os.kill(pid, 0)
                    except ProcessLookupError:
                        break
                    time.sleep(0.1)
                else:
                    self.postfix("abort")
            self.postfix_started = False


def peer_unavailable() -> str | None:
    """Why the peers cannot run here, or None."""
    for program, package in (("postfix", "postfix"), ("dovecot", "dovecot-imapd")):
        if shutil.which(program) is None:
            return f"{program} is missing (Debian {package}; scripts/install-deps.sh installs it)"
    if os.geteuid() != 0:
        return "private Postfix and Dovecot instances need root (their masters drop privileges)"
    for user in ("postfix", "dovecot", "dovenull", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            return f"the {user} user does not exist (the Debian packages create it)"
    return None
