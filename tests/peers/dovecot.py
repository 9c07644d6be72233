"""A private Dovecot (Debian `dovecot-imapd`, `dovecot-pop3d`): `dovecot -F -c FILE` as our own
child, on a dovecot.conf written here with its own base_dir, state_dir, log, passwd-file
users and Maildir storage, IMAP and/or POP3 in the clear on loopback ports. The system
instance (/etc/dovecot, /run/dovecot) is never used or started.

    with DovecotPeer({"tester": "{PLAIN}secret"}) as dovecot:
        imaplib.IMAP4(*dovecot.imap).login("tester", "secret")

Users are given as passwd-file entries: name -> password field with its scheme prefix
({PLAIN}..., {SHA512-CRYPT}$6$..., {ARGON2ID}$argon2id$...). Every user's mail belongs to
mail_user (default nobody:nogroup). Dovecot needs root here: its master drops privileges.
"""

from __future__ import annotations

import grp
import os
import pwd
import subprocess
from pathlib import Path
from typing import Iterable

from .base import PeerError, PrivatePeer, free_port, greets, process_tree, unavailable, wait_for


def dovecot_unavailable(protocols: Iterable[str] = ("imap",)) -> str | None:
    """Why a private Dovecot cannot run here, or None."""
    problem = unavailable({"dovecot": "dovecot-imapd"}, ["dovecot", "dovenull", "nobody"],
                          "a private Dovecot needs root (its master drops privileges to dovenull/nobody)")
    if problem is None and "pop3" in protocols and not Path("/usr/lib/dovecot/pop3").exists():
        problem = "Dovecot's POP3 server is missing (Debian dovecot-pop3d; scripts/install-deps.sh installs it)"
    return problem


_LOGIN_SERVICE = """\
service {protocol}-login {{
  inet_listener {protocol} {{
    address = {address}
    port = {port}
  }}
  inet_listener {protocol}s {{
    port = 0
  }}
  chroot =
}}
"""

_FIXED_SERVICES = """\
service anvil {
  chroot =
}
service stats {
  unix_listener stats-reader {
    mode = 0600
  }
  unix_listener stats-writer {
    mode = 0600
  }
}
"""

_GREETINGS = {"imap": b"* OK", "pop3": b"+OK"}


class DovecotPeer(PrivatePeer):
    """A private Dovecot serving `users` over `protocols` ("imap", "pop3").

    directory: the peer's own directory (None: a fresh one, removed at stop).
    mail_root and mailbox_path: mail_location = maildir:MAIL_ROOT/MAILBOX_PATH, with
    Dovecot's %u (user), %d (domain) and %n (local part); mail_root defaults to
    directory/mail. A mail_root given here is the caller's (e.g. a PostfixReceiver's, whose
    layout is %d/%n) and must belong to mail_user already.
    settings: more top-level dovecot.conf settings, overriding the ones written here
    (e.g. process limits, imap_fetch_failure).
    """

    name = "dovecot"
    log_files = ("dovecot.log", "dovecot.stderr")

    def __init__(self, users: dict[str, str], *, protocols: Iterable[str] = ("imap",),
                 directory: Path | None = None, address: str = "127.0.0.1",
                 mail_root: Path | None = None, mailbox_path: str = "%u",
                 mail_user: tuple[str, str] = ("nobody", "nogroup"),
                 settings: dict[str, str] | None = None):
        self.protocols = list(protocols)
        problem = dovecot_unavailable(self.protocols)
        if problem:
            raise PeerError(problem)
        super().__init__(directory)
        self.address = address
        self.ports = {protocol: free_port(address) for protocol in self.protocols}
        self.users = dict(users)
        self.mailbox_path = mailbox_path
        self.uid = pwd.getpwnam(mail_user[0]).pw_uid
        self.gid = grp.getgrnam(mail_user[1]).gr_gid
        d = self.directory
        for sub in ("run", "state", "home"):
            (d / sub).mkdir(exist_ok=True)
        os.chown(d / "home", self.uid, self.gid)
        if mail_root is None:
            mail_root = d / "mail"
            mail_root.mkdir(exist_ok=True)
            os.chown(mail_root, self.uid, self.gid)
        self.mail = Path(mail_root)
        (d / "passwd").write_text("".join(f"{name}:{password}\n" for name, password in self.users.items()))
        main = {
            "base_dir": f"{d}/run",
            "state_dir": f"{d}/state",
            "log_path": f"{d}/dovecot.log",
            "info_log_path": f"{d}/dovecot.log",
            "protocols": " ".join(self.protocols),
            "listen": address,
            "ssl": "no",
            "disable_plaintext_auth": "no",
            "auth_mechanisms": "plain login",
            "default_internal_user": "dovecot",
            "default_internal_group": "dovecot",
            "default_login_user": "dovenull",
            "first_valid_uid": "1",
            "mail_location": f"maildir:{self.mail}/{mailbox_path}",
        } | (settings or {})
        text = "".join(f"{k} = {v}\n" for k, v in main.items())
        text += (f"passdb {{\n  driver = passwd-file\n  args = username_format=%u {d}/passwd\n}}\n"
                 f"userdb {{\n  driver = static\n  args = uid={self.uid} gid={self.gid} home={d}/home/%u\n}}\n")
        for protocol, port in self.ports.items():
            text += _LOGIN_SERVICE.format(protocol=protocol, address=address, port=port)
        text += _FIXED_SERVICES
        if "pop3" in self.protocols:
            text += "protocol pop3 {\n  pop3_uidl_format = %08Xu%08Xv\n}\n"
        self.conf = d / "dovecot.conf"
        self.conf.write_text(text)
        self.process: subprocess.Popen | None = None

    @property
    def imap(self) -> tuple[str, int]:
        return self.address, self.ports["imap"]

    @property
    def pop3(self) -> tuple[str, int]:
        return self.address, self.ports["pop3"]

    @property
    def pid(self) -> int:
        """The master's pid (every other Dovecot process descends from it)."""
        assert self.process is not None, "Dovecot is not running"
        return self.process.pid

    def maildir(self, user: str) -> Path:
        local, _, domain = user.partition("@")
        path = self.mailbox_path.replace("%u", user).replace("%d", domain).replace("%n", local)
        return self.mail / path

    def _start(self, timeout: float) -> None:
        with open(self.directory / "dovecot.stderr", "wb") as stderr:
            self.process = subprocess.Popen(["dovecot", "-F", "-c", str(self.conf)], stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=stderr)
        for protocol, port in self.ports.items():
            def serving() -> bool:
                if self.process.poll() is not None:
                    raise PeerError(f"dovecot exited {self.process.returncode}\n{self.log(3000)}")
                return greets(self.address, port, _GREETINGS[protocol])
            wait_for(serving, timeout, lambda: f"Dovecot {protocol} on {self.address}:{port}\n{self.log(3000)}")

    def _processes(self) -> list[int]:
        if self.process is None or self.process.poll() is not None:
            return []
        return process_tree(self.process.pid)

    def _stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()   # our own child, by its pid: the master stops its services

    def _reap(self) -> None:
        if self.process is not None:
            self.process.wait(timeout=10)

    def __repr__(self) -> str:
        return f"DovecotPeer({self.address}, {self.ports})"
