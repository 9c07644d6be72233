"""Private OpenDKIM and OpenDMARC milters (Debian `opendkim`, `opendmarc`): each our own child
in the foreground (`-f`), on a configuration file written here, listening on
`inet:PORT@127.0.0.1` or (unix_socket=True) on a socket in its own directory, as Debian's
packages do by default; the system services (/etc/opendkim.conf, /etc/opendmarc.conf, /run/...)
are never used or started. Meant to sit behind a PostfixReceiver(milters=[...]) as the
classic Postfix + OpenDKIM + OpenDMARC stack: OpenDKIM verifies (mode v) and writes an
Authentication-Results field, OpenDMARC checks SPF itself (libspf2, SPFSelfValidate) and
evaluates DMARC from that and OpenDKIM's field (same authserv-id, trusted).

DNS: both resolve against a ZoneServer, never the Internet. OpenDKIM (libunbound) is told
with `Nameservers` (unbound forwards to it). libunbound answers the RFC 6761 names itself
(.test, .invalid, .localhost, .onion: NXDOMAIN), so the signing domains a test or benchmark
gives OpenDKIM must be elsewhere, e.g. under .example. (Telling unbound otherwise needs
`ResolverConfiguration`, an unbound.conf that OpenDKIM then parses from several threads at
once with a non-reentrant parser, which crashed it under load: not used.)
OpenDMARC and libspf2 read /etc/resolv.conf through glibc's resolver, which knows port 53
only: the milter runs in a private mount namespace (`unshare -m`, root) in which a
resolv.conf naming the zone server is bind-mounted over /etc/resolv.conf; the system's file
is not touched. So the zone server must listen on port 53 of a loopback address of its own
(dns_zone.loopback_address_with_free_port53()). OpenDKIM runs in such a namespace too, so
neither can reach any other resolver.

    with ZoneServer(zone, host=dns_host, port=53, cache_answers=True) as dns, \\
         OpenDkimPeer(dns_host, authserv_id="mx.example.test") as dkim, \\
         OpenDmarcPeer(dns_host, authserv_id="mx.example.test") as dmarc, \\
         PostfixReceiver("example.test", ["bob"], milters=[dkim.socket, dmarc.socket]) as mx:
        ...

SPF on loopback: libspf2 passes every client in 127.0.0.0/8 without a lookup (its
"localhost" reason), so OpenDMARC's SPF check only does real work for mail from another
address. non_loopback_address() gives one of this host's own addresses (e.g. eth0's) for
the sending client to bind: the connection still never leaves the host.

inet or unix: over loopback TCP, milter round trips wait for delayed ACKs (Nagle): measured
here, DATA->250 of one small message took 1.6 ms without milters, 87 ms with either milter
and 130 ms with both over inet sockets, but 2.6 ms with both over unix sockets. A benchmark
uses unix_socket=True.

Mail from `ignored_hosts` (default none) is neither verified nor evaluated: both milters
ignore 127.0.0.1 by default (OpenDKIM would sign it instead), which is where the tests and
the benchmark send from, so that default is replaced.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Iterable

from .base import PeerError, PrivatePeer, free_port, listening, process_tree, unavailable, wait_for

PUBLIC_SUFFIX_LIST = Path("/usr/share/publicsuffix/public_suffix_list.dat")
_NO_HOST = "192.0.2.255"    # TEST-NET-1 (RFC 5737): a client that never connects


def non_loopback_address() -> str | None:
    """An IPv4 address of this host outside 127.0.0.0/8 (a client bound to it reaches
    127.0.0.1 over the loopback device), or None."""
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True,
                             text=True, timeout=10).stdout
    except OSError:
        return None
    for line in out.splitlines():
        fields = line.split()
        if "inet" in fields:
            address = fields[fields.index("inet") + 1].split("/")[0]
            if not address.startswith("127."):
                return address
    return None


def milters_unavailable() -> str | None:
    """Why private OpenDKIM and OpenDMARC milters cannot run here, or None."""
    problem = unavailable({"opendkim": "opendkim", "opendmarc": "opendmarc", "unshare": "util-linux"},
                          ["opendkim", "opendmarc"],
                          "the milters resolve in a private mount namespace (unshare -m needs root)")
    if problem is None and not PUBLIC_SUFFIX_LIST.exists():
        problem = f"{PUBLIC_SUFFIX_LIST} is missing (Debian publicsuffix)"
    if problem is None:
        done = subprocess.run(["unshare", "-m", "true"], capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            problem = f"unshare -m does not work here: {done.stderr.strip()}"
    return problem


class _PrivateMilter(PrivatePeer):
    """One milter program in the foreground, in a mount namespace of its own whose
    /etc/resolv.conf names dns_host."""

    program = "?"
    config_flag = "-c"
    log_files = ("stderr.log",)

    def __init__(self, dns_host: str, *, directory: Path | None, port: int | None, unix_socket: bool):
        problem = milters_unavailable()
        if problem:
            raise PeerError(problem)
        super().__init__(directory)
        self.dns_host = dns_host
        self.port = None if unix_socket else (port or free_port("127.0.0.1"))
        self.socket_path = None
        if unix_socket:   # in a directory of the milter's user (it drops root before listening)
            account = pwd.getpwnam(self.program)
            (self.directory / "run").mkdir(exist_ok=True)
            os.chown(self.directory / "run", account.pw_uid, account.pw_gid)
            self.socket_path = self.directory / "run" / f"{self.program}.sock"
        self.conf = self.directory / f"{self.program}.conf"
        self.resolv_conf = self.directory / "resolv.conf"
        # glibc's resolver: one server, no search list, one try (the zone server answers or
        # the lookup is a temporary error, as with a dead resolver).
        self.resolv_conf.write_text(f"nameserver {dns_host}\noptions attempts:1 timeout:2\n")
        (self.directory / "ignored-hosts").write_text(f"{_NO_HOST}\n")
        self.process: subprocess.Popen | None = None

    @property
    def socket(self) -> str:
        """The milter address as Postfix names it (smtpd_milters)."""
        return f"unix:{self.socket_path}" if self.socket_path else f"inet:127.0.0.1:{self.port}"

    def listen_settings(self) -> dict[str, str]:
        """The milter's own Socket option (and a umask that lets Postfix's user connect)."""
        if self.socket_path:
            return {"Socket": f"local:{self.socket_path}", "UMask": "0000"}
        return {"Socket": f"inet:{self.port}@127.0.0.1"}

    def _accepts(self) -> bool:
        if self.socket_path is None:
            return listening("127.0.0.1", self.port)
        try:
            with socket.socket(socket.AF_UNIX) as probe:
                probe.settimeout(1)
                probe.connect(str(self.socket_path))
            return True
        except OSError:
            return False

    def write_config(self, settings: dict[str, str]) -> None:
        self.conf.write_text("".join(f"{k} {v}\n" for k, v in settings.items()))

    def _start(self, timeout: float) -> None:
        # unshare(1) without --fork execs: the pid we hold is the milter's own. Mounts in the
        # new namespace are private (unshare's default propagation), so the bind mount is
        # seen by this process only and goes with it.
        script = 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"'
        command = ["unshare", "-m", "--", "sh", "-c", script, "sh", str(self.resolv_conf),
                   shutil.which(self.program), "-f", self.config_flag, str(self.conf)]
        with open(self.directory / "stderr.log", "wb") as stderr:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr)

        def serving() -> bool:
            if self.process.poll() is not None:
                raise PeerError(f"{self.program} exited {self.process.returncode}\n{self.log(3000)}")
            return self._accepts()
        wait_for(serving, timeout, lambda: f"{self.program} on {self.socket}\n{self.log(3000)}")

    def _processes(self) -> list[int]:
        if self.process is None or self.process.poll() is not None:
            return []
        return process_tree(self.process.pid)

    def _stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()   # our own child, by its pid

    def _reap(self) -> None:
        if self.process is not None:
            self.process.wait(timeout=10)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.socket}, dns {self.dns_host})"


class OpenDkimPeer(_PrivateMilter):
    """OpenDKIM verifying only (Mode v): an Authentication-Results field with authserv_id
    for every message, signed or not (AlwaysAddARHeader). Keys of at least 1024 bits.
    sign=(domain, selector): signing instead (Mode s) with a 2048-bit RSA key made here
    (openssl) for mail whose From is in domain and whose client is in signing_hosts
    (InternalHosts; default 127.0.0.1); dkim_txt then holds the key record to publish.
    settings: more opendkim.conf options, overriding the ones written here."""

    name = "opendkim"
    program = "opendkim"
    config_flag = "-x"      # opendkim's -c is the canonicalization

    def __init__(self, dns_host: str, *, authserv_id: str, directory: Path | None = None,
                 port: int | None = None, unix_socket: bool = False, ignored_hosts: Iterable[str] = (),
                 settings: dict[str, str] | None = None, sign: tuple[str, str] | None = None,
                 signing_hosts: Iterable[str] = ("127.0.0.1",)):
        super().__init__(dns_host, directory=directory, port=port, unix_socket=unix_socket)
        hosts = list(ignored_hosts) or [_NO_HOST]
        (self.directory / "internal-hosts").write_text("".join(f"{h}\n" for h in hosts))
        self.dkim_txt = ""
        if sign:
            settings = self._signing_settings(*sign, signing_hosts) | (settings or {})
        self.write_config(self.listen_settings() | {
            "Mode": "v",
            "UserID": "opendkim:opendkim",
            "Syslog": "no",
            "AuthservID": authserv_id,
            "AlwaysAddARHeader": "yes",
            "InternalHosts": str(self.directory / "internal-hosts"),
            "PeerList": str(self.directory / "internal-hosts"),
            "MinimumKeyBits": "1024",
            "SoftwareHeader": "no",
            "Nameservers": dns_host,     # libunbound forwarding to dns_host:53; no DNSSEC
        } | (settings or {}))


    def _signing_settings(self, domain: str, selector: str, hosts: Iterable[str]) -> dict[str, str]:
        key = self.directory / f"{selector}.private"
        subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True, timeout=60)
        der = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"], check=True,
                             capture_output=True, timeout=60).stdout
        import base64
        self.dkim_txt = "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()
        account = pwd.getpwnam("opendkim")
        os.chown(key, account.pw_uid, account.pw_gid)
        os.chmod(key, 0o600)
        (self.directory / "signing-hosts").write_text("".join(f"{h}\n" for h in hosts))
        return {
            "Mode": "s",
            "Domain": domain,
            "Selector": selector,
            "KeyFile": str(key),
            "InternalHosts": str(self.directory / "signing-hosts"),
            "PeerList": str(self.directory / "ignored-hosts"),   # only the never-connecting host
            "RequireSafeKeys": "no",
            "AlwaysAddARHeader": "no",
        }


class OpenDmarcPeer(_PrivateMilter):
    """OpenDMARC evaluating DMARC with its own SPF check (SPFSelfValidate, SPF fields in the
    message ignored) and the DKIM results of the Authentication-Results fields whose
    authserv-id is authserv_id (OpenDKIM's, before it in the milter list). p=reject
    failures are refused (RejectFailures); no reports, no history file.
    settings: more opendmarc.conf options, overriding the ones written here."""

    name = "opendmarc"
    program = "opendmarc"

    def __init__(self, dns_host: str, *, authserv_id: str, directory: Path | None = None,
                 port: int | None = None, unix_socket: bool = False, ignored_hosts: Iterable[str] = (),
                 settings: dict[str, str] | None = None):
        super().__init__(dns_host, directory=directory, port=port, unix_socket=unix_socket)
        hosts = list(ignored_hosts) or [_NO_HOST]
        (self.directory / "ignored-hosts").write_text("".join(f"{h}\n" for h in hosts))
        self.write_config(self.listen_settings() | {
            "UserID": "opendmarc:opendmarc",
            "Syslog": "false",
            "AuthservID": authserv_id,
            "TrustedAuthservIDs": authserv_id,
            "IgnoreHosts": str(self.directory / "ignored-hosts"),
            "SPFSelfValidate": "true",
            "SPFIgnoreResults": "true",
            "RejectFailures": "true",
            "FailureReports": "false",
            "RequiredHeaders": "false",
            "SoftwareHeader": "false",
            "PublicSuffixList": str(PUBLIC_SUFFIX_LIST),
        } | (settings or {}))
