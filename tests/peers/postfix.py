"""Private Postfix instances (Debian `postfix`): `postfix -c DIR start|stop` on a main.cf and
master.cf written here, with the queue, data directory and maillog under the peer's own
directory and smtpd on one loopback address:port. The system instance (/etc/postfix,
/var/spool/postfix) is never used or started.

Two modes, one class each:

- PostfixReceiver: receives mail for one domain and delivers each known user into a
  Maildir (virtual(8)); unknown users get Postfix's 550 5.1.1. Optional STARTTLS with a
  self-signed certificate. Used as a remote MX (outbound tests) and as the benchmark's MTA.
- PostfixRelay: accepts mail from loopback clients and relays all of it to one host:port
  (relayhost), opportunistic STARTTLS. Used to put Postfix in front of Postamt.

Both take `settings`: more main.cf parameters, which override the ones written here.
Postfix needs root here: master starts as root and drops to mail_owner.
"""

from __future__ import annotations

import grp
import os
import pwd
import subprocess
from pathlib import Path
from typing import Iterable

from .base import WAIT_LIMIT, PeerError, PrivatePeer, free_port, listening, process_tree, unavailable, wait_for
from .tls import make_self_signed


def postfix_unavailable() -> str | None:
    """Why a private Postfix cannot run here, or None."""
    return unavailable({"postfix": "postfix"}, ["postfix"],
                       "a private Postfix instance needs root (master starts as root and drops to mail_owner)")


# Services every mode runs besides its smtpd; a mode adds its own (virtual, smtp, tlsmgr).
_COMMON_SERVICES = """\
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
postlog   unix-dgram n  -       n       -       1       postlogd
"""
_TLSMGR = "tlsmgr    unix  -       -       n       1000?   1       tlsmgr\n"
_VIRTUAL = "virtual   unix  -       n       n       -       -       virtual\n"
_SMTP_CLIENT = """\
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
flush     unix  n       -       n       1000?   0       flush
proxywrite unix -       -       n       -       1       proxymap
"""


class PrivatePostfix(PrivatePeer):
    """What both modes share: the directories, the common main.cf, start and stop."""

    name = "postfix"
    log_files = ("maillog",)

    def __init__(self, *, directory: Path | None, address: str, port: int | None, hostname: str,
                 domain: str):
        problem = postfix_unavailable()
        if problem:
            raise PeerError(problem)
        super().__init__(directory)
        self.address = address
        self.port = port or free_port(address)
        self.hostname = hostname
        self.domain = domain
        self.conf = self.directory / "conf"
        self.queue = self.directory / "queue"
        self.data = self.directory / "data"
        self.maillog = self.directory / "maillog"
        for path in (self.conf, self.queue, self.data):
            path.mkdir(exist_ok=True)
        postfix = pwd.getpwnam("postfix")
        os.chown(self.data, postfix.pw_uid, postfix.pw_gid)

    @property
    def smtp(self) -> tuple[str, int]:
        return self.address, self.port

    def common_settings(self) -> dict[str, str]:
        return {
            "compatibility_level": "3.6",
            "queue_directory": str(self.queue),
            "data_directory": str(self.data),
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "maillog_file": str(self.maillog),
            "maillog_file_prefixes": str(self.directory),
            "myhostname": self.hostname,
            "mydomain": self.domain,
            "myorigin": "$myhostname",
            "mydestination": "",
            # inet_interfaces must name an interface address, and Postfix only checks it;
            # master.cf's explicit address:port is where smtpd really listens.
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "smtpd_peername_lookup": "no",          # no DNS on loopback
            "smtp_dns_support_level": "disabled",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "local_transport": "error:this peer has no local delivery",
            "biff": "no",
        }

    def write_config(self, settings: dict[str, str], services: str) -> None:
        (self.conf / "main.cf").write_text("".join(f"{k} = {v}".rstrip() + "\n" for k, v in settings.items()))
        smtpd = f"{self.address}:{self.port} inet  n       -       n       -       -       smtpd\n"
        (self.conf / "master.cf").write_text(smtpd + _COMMON_SERVICES + services)

    def postfix(self, *args: str) -> subprocess.CompletedProcess:
        """Runs `postfix -c CONF args` (never without -c: that would be the system instance)."""
        return subprocess.run(["postfix", "-c", str(self.conf), *args], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60)

    def master_pid(self) -> int | None:
        try:
            return int((self.queue / "pid" / "master.pid").read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None

    def queued(self) -> int:
        """Messages in the queue not yet delivered (or relayed)."""
        count = 0
        for sub in ("maildrop", "incoming", "active", "deferred", "hold"):
            for _, _, files in os.walk(self.queue / sub):
                count += len(files)
        return count

    def wait_until_queue_empty(self, timeout: float = WAIT_LIMIT, interval: float = 0.05) -> None:
        wait_for(lambda: self.queued() == 0, timeout, f"{self!r}'s queue to drain", interval=interval)

    def _start(self, timeout: float) -> None:
        done = self.postfix("start")
        if done.returncode != 0:
            raise PeerError(f"postfix start: {done.stdout}{done.stderr}\n{self.log(3000)}")
        wait_for(lambda: listening(self.address, self.port), timeout,
                 lambda: f"Postfix smtpd on {self.address}:{self.port}\n{self.log(3000)}")

    def _processes(self) -> list[int]:
        pid = self.master_pid()
        return process_tree(pid) if pid is not None else []

    def _stop(self) -> None:
        # master ends its children itself; what is left after STOP_LIMIT is killed by pid.
        self.postfix("stop")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address}:{self.port}, {self.domain})"


class PostfixReceiver(PrivatePostfix):
    """Receives mail for `domain` on address:port and delivers each of `users` (local parts
    or addresses) into mail_root/domain/user/ (a Maildir, created at once, owned by
    mailbox_owner). Mail for other users of the domain gets 550 5.1.1; mail for other
    domains 554 relay access denied (reject_unauth_destination).

    directory: the peer's own directory (None: a fresh one, removed at stop).
    mail_root: where the Maildirs go (default directory/mail), e.g. a directory a Dovecot
    peer serves. mailbox_owner: (user, group) the mailboxes belong to (default postfix's).
    starttls: offer STARTTLS with a self-signed certificate for hostname, and record the
    TLS protocol and cipher in the Received field. discard_ehlo_keywords: EHLO keywords
    not to advertise, e.g. ["8bitmime", "dsn", "smtputf8"]. milters: smtpd milters in the
    order they run, e.g. [OpenDkimPeer.socket, OpenDmarcPeer.socket] (peers/milters.py);
    a milter that cannot be reached makes the message fail temporarily (tempfail).
    """

    def __init__(self, domain: str, users: Iterable[str], *, address: str = "127.0.0.1",
                 port: int | None = None, hostname: str | None = None, directory: Path | None = None,
                 mail_root: Path | None = None, mailbox_owner: tuple[str, str] = ("postfix", "postfix"),
                 starttls: bool = False, discard_ehlo_keywords: Iterable[str] = (),
                 milters: Iterable[str] = (), settings: dict[str, str] | None = None):
        super().__init__(directory=directory, address=address, port=port,
                         hostname=hostname or f"mx.{domain}", domain=domain)
        self.users = [u.split("@")[0] for u in users]
        self.mail = Path(mail_root) if mail_root is not None else self.directory / "mail"
        self.uid = pwd.getpwnam(mailbox_owner[0]).pw_uid
        self.gid = grp.getgrnam(mailbox_owner[1]).gr_gid
        folders = [self.mail, self.mail / domain]
        for user in self.users:
            folders += [self.maildir(user)] + [self.maildir(user) / sub for sub in ("cur", "new", "tmp")]
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            os.chown(folder, self.uid, self.gid)
        (self.conf / "vmailbox").write_text("".join(f"{u}@{domain} {domain}/{u}/\n" for u in self.users))
        main = self.common_settings() | {
            "smtpd_relay_restrictions": "reject_unauth_destination",
            "virtual_mailbox_domains": domain,
            "virtual_mailbox_base": str(self.mail),
            "virtual_mailbox_maps": f"texthash:{self.conf / 'vmailbox'}",
            "virtual_uid_maps": f"static:{self.uid}",
            "virtual_gid_maps": f"static:{self.gid}",
            "virtual_transport": "virtual",
            "default_transport": "error:this peer sends no mail",
            "relay_transport": "error:this peer sends no mail",
        }
        services = _VIRTUAL
        if starttls:
            cert, key = self.conf / "cert.pem", self.conf / "key.pem"
            make_self_signed(cert, key, self.hostname)
            main |= {"smtpd_tls_cert_file": str(cert), "smtpd_tls_key_file": str(key),
                     "smtpd_tls_security_level": "may", "smtpd_tls_received_header": "yes",
                     "smtpd_tls_loglevel": "1"}
            services += _TLSMGR
        milters = list(milters)
        if milters:
            main |= {"smtpd_milters": ", ".join(milters), "non_smtpd_milters": "",
                     "milter_default_action": "tempfail", "milter_protocol": "6"}
        discard = list(discard_ehlo_keywords)
        if discard:
            main["smtpd_discard_ehlo_keywords"] = ", ".join(discard)
        self.write_config(main | (settings or {}), services)

    def maildir(self, user: str) -> Path:
        return self.mail / self.domain / user.split("@")[0]

    def messages(self, user: str) -> list[bytes]:
        """The messages delivered to user, oldest first, as stored (LF line ends, with the
        Return-Path, Delivered-To and Received fields Postfix adds)."""
        files = []
        for sub in ("new", "cur"):
            folder = self.maildir(user) / sub
            if folder.is_dir():
                files.extend(p for p in folder.iterdir() if p.is_file())
        files.sort(key=lambda p: (p.stat().st_mtime, p.name))
        return [p.read_bytes() for p in files]

    def wait_for_messages(self, user: str, count: int = 1, timeout: float = WAIT_LIMIT) -> list[bytes]:
        wait_for(lambda: len(self.messages(user)) >= count, min(timeout, WAIT_LIMIT), interval=0.2,
                 message=f"{count} message(s) for {user}@{self.domain} in the private Postfix")
        return self.messages(user)


class PostfixRelay(PrivatePostfix):
    """Accepts mail from 127.0.0.0/8 on address:port and relays all of it to relay_to
    (relayhost = [host]:port, no MX lookup), with STARTTLS when the next hop offers it."""

    def __init__(self, relay_to: tuple[str, int], *, hostname: str = "relay.example.test",
                 domain: str = "example.test", address: str = "127.0.0.1", port: int | None = None,
                 directory: Path | None = None, settings: dict[str, str] | None = None):
        super().__init__(directory=directory, address=address, port=port, hostname=hostname, domain=domain)
        self.relay_to = relay_to
        main = self.common_settings() | {
            "smtpd_relay_restrictions": "permit_mynetworks, reject",
            "relayhost": f"[{relay_to[0]}]:{relay_to[1]}",
            "smtp_tls_security_level": "may",
            "smtp_tls_loglevel": "1",
        }
        self.write_config(main | (settings or {}), _SMTP_CLIENT + _TLSMGR)
