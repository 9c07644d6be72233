"""Real peers for the outbound delivery tests: a private DNS zone, scripted receiving SMTP
servers (aiosmtpd) and a private receiving Postfix, all on loopback addresses.

- DnsZone: a DNS server (Debian python3-dnslib) on one loopback address, UDP and TCP on the
  same free port, answering from the records each test gives (name -> MX/A/AAAA/CNAME),
  SERVFAIL for chosen names, NXDOMAIN for the rest, and never answering for "silent" names.
- SinkPeer: an aiosmtpd server (Debian python3-aiosmtpd) in its own thread, with optional
  STARTTLS (self-signed), optional AUTH, a choice of advertised extensions, and a script of
  replies per recipient or per message (temporary failures the first N times, permanent
  failures, slow replies). It records every transaction for assertions.
- PostfixReceiver (the peer lab's, tests/peers/postfix.py): a private Debian Postfix that
  receives for a test domain into Maildirs in its own directory, with STARTTLS offered.
- OutboundLab: one test's zone, peers and common port, and the Postamt config sections that
  point the server at them.

Addresses: Postamt's `[outbound] mx_port` is global, so every peer of a test listens on the
same port, each on its own loopback address. Each pytest-xdist worker takes its own block
127.0.B.0/24 (B = 10 + the worker number): the zone on 127.0.B.1, peers on 127.0.B.2 and up,
so two workers never compete for an address and port.

Every wait is bounded; every peer is stopped by OutboundLab.close().
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import re
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from dnslib import AAAA, CNAME, MX, QTYPE, RCODE, RR, A, DNSLabel
from dnslib.server import DNSHandler, DNSServer

from harness import make_self_signed, wait_for
from peers.postfix import PostfixReceiver

PEER_ADDRESS_COUNT = 12      # 127.0.B.2 .. 127.0.B.13: enough peers for any one test
WAIT_LIMIT = 30.0            # the longest any helper here waits


# --------------------------------------------------------------------------------------
# Addresses and the common port
# --------------------------------------------------------------------------------------

def worker_block() -> int:
    """The third octet of this pytest-xdist worker's loopback block (10 without xdist)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    match = re.fullmatch(r"gw(\d+)", worker)
    return 10 + (int(match.group(1)) if match else 0)


def block_address(host: int) -> str:
    return f"127.0.{worker_block()}.{host}"


def peer_addresses() -> list[str]:
    return [block_address(2 + i) for i in range(PEER_ADDRESS_COUNT)]


def common_free_port(addresses: Iterable[str], attempts: int = 200) -> int:
    """A TCP port that is free on every one of addresses (probed by binding each)."""
    addresses = list(addresses)
    for _ in range(attempts):
        probes: list[socket.socket] = []
        try:
            first = socket.socket()
            probes.append(first)
            first.bind((addresses[0], 0))
            port = first.getsockname()[1]
            for address in addresses[1:]:
                probe = socket.socket()
                probes.append(probe)
                probe.bind((address, port))
            return port
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    raise AssertionError(f"no port free on all of {addresses} after {attempts} tries")


# --------------------------------------------------------------------------------------
# DNS
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Record:
    rtype: str      # "MX", "A", "AAAA" or "CNAME"
    rdata: Any      # the dnslib rdata


def mx(preference: int, host: str) -> Record:
    return Record("MX", MX(host if host.endswith(".") else host + ".", preference))


def a(address: str) -> Record:
    return Record("A", A(address))


def aaaa(address: str) -> Record:
    return Record("AAAA", AAAA(address))


def cname(target: str) -> Record:
    return Record("CNAME", CNAME(target if target.endswith(".") else target + "."))


def null_mx() -> Record:
    """RFC 7505: "MX 0 ." — the domain accepts no mail."""
    return Record("MX", MX(".", 0))


def dns_name(name: str) -> str:
    name = name.lower()
    return name if name.endswith(".") else name + "."


class _Silence(Exception):
    """Raised by the resolver for a name that must get no answer at all (a timeout)."""


class _ZoneHandler(DNSHandler):
    udplen = 512  # RFC 1035 §4.2.1: longer UDP answers are truncated (TC), forcing TCP

    def handle(self):
        try:
            super().handle()
        except _Silence:
            pass


class _QuietLogger:
    def __getattr__(self, name):
        return lambda *args, **kwargs: None


class DnsZone:
    """A DNS server answering from records set per test; thread-safe to change while running.

    zone = DnsZone({"remote.test": [mx(10, "mx1.remote.test")],
                    "mx1.remote.test": [a("127.0.10.2")]}, servfail={"broken.test"})
    Names not in the zone get NXDOMAIN; a name in the zone without records of the asked
    type gets an empty NOERROR answer (NODATA). CNAMEs are followed like a recursive
    resolver does (the chain and the target's records in one answer).
    """

    def __init__(self, records: dict[str, list[Record]] | None = None,
                 servfail: Iterable[str] = (), silent: Iterable[str] = (),
                 address: str | None = None):
        self.address = address or block_address(1)
        self.port = 0
        self._lock = threading.Lock()
        self._records: dict[str, list[Record]] = {}
        self._servfail = {dns_name(n) for n in servfail}
        self._silent = {dns_name(n) for n in silent}
        self._queries: list[tuple[str, str]] = []
        self._servers: list[DNSServer] = []
        for name, recs in (records or {}).items():
            self.set(name, *recs)

    # ---- the zone's content -------------------------------------------------------

    def set(self, name: str, *records: Record) -> None:
        """Replaces the records of name (no records: the name exists, with no data)."""
        with self._lock:
            self._records[dns_name(name)] = list(records)

    def add(self, name: str, *records: Record) -> None:
        with self._lock:
            self._records.setdefault(dns_name(name), []).extend(records)

    def remove(self, name: str) -> None:
        with self._lock:
            self._records.pop(dns_name(name), None)

    def fail(self, name: str) -> None:
        """Answers SERVFAIL for name from now on."""
        with self._lock:
            self._servfail.add(dns_name(name))

    def silence(self, name: str) -> None:
        """Never answers queries for name (the resolver times out)."""
        with self._lock:
            self._silent.add(dns_name(name))

    def heal(self, name: str) -> None:
        """Answers name from its records again."""
        with self._lock:
            self._servfail.discard(dns_name(name))
            self._silent.discard(dns_name(name))

    def queries(self) -> list[tuple[str, str]]:
        """Every query so far as (name without the final dot, type), oldest first."""
        with self._lock:
            return list(self._queries)

    @property
    def server_spec(self) -> str:
        """The `[dns] servers` entry for this zone: "ip:port"."""
        return f"{self.address}:{self.port}"

    # ---- answering ------------------------------------------------------------------

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).lower()
        qtype = QTYPE[request.q.qtype]
        with self._lock:
            self._queries.append((name.rstrip("."), qtype))
            if name in self._silent:
                raise _Silence()
            if name in self._servfail:
                reply.header.rcode = RCODE.SERVFAIL
                return reply
            owner = name
            for _ in range(8):
                aliases = [r for r in self._records.get(owner, []) if r.rtype == "CNAME"]
                if not aliases or qtype == "CNAME":
                    break
                target = str(aliases[0].rdata.label).lower()
                reply.add_answer(RR(DNSLabel(owner), QTYPE.CNAME, rdata=aliases[0].rdata, ttl=60))
                owner = target
            if owner not in self._records:
                if owner == name:
                    reply.header.rcode = RCODE.NXDOMAIN
                return reply
            for record in self._records[owner]:
                if record.rtype == qtype:
                    reply.add_answer(RR(DNSLabel(owner), getattr(QTYPE, record.rtype),
                                        rdata=record.rdata, ttl=60))
        return reply

    # ---- life cycle -----------------------------------------------------------------

    def start(self) -> "DnsZone":
        for _ in range(100):
            probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            probe.bind((self.address, 0))
            port = probe.getsockname()[1]
            probe.close()
            try:
                udp = DNSServer(self, address=self.address, port=port, handler=_ZoneHandler,
                                logger=_QuietLogger())
            except OSError:
                continue
            try:
                tcp = DNSServer(self, address=self.address, port=port, tcp=True,
                                handler=_ZoneHandler, logger=_QuietLogger())
            except OSError:
                udp.server.server_close()
                continue
            break
        else:
            raise AssertionError(f"no free DNS port on {self.address}")
        self.port = port
        self._servers = [udp, tcp]
        for server in self._servers:
            server.start_thread()
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.server.shutdown()
            server.server.server_close()
        self._servers = []

    def __enter__(self) -> "DnsZone":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# --------------------------------------------------------------------------------------
# SinkPeer: a scripted aiosmtpd receiver
# --------------------------------------------------------------------------------------

@dataclass
class Reply:
    """What a SinkPeer answers at one stage ("MAIL", "RCPT" or "DATA") of a transaction.

    times: answer this way the first `times` times it applies, then accept as usual
    (None: every time). delay: seconds to wait before answering (at DATA: after the whole
    message arrived). A 2xx code with a delay is a slow acceptance: the message is
    recorded as received before the delay, the reply sent after it."""

    stage: str
    code: int
    enhanced: str = ""
    text: str = ""
    times: int | None = None
    delay: float = 0.0
    used: int = 0

    def line(self) -> str:
        return " ".join(part for part in (str(self.code), self.enhanced, self.text) if part)

    def active(self) -> bool:
        return self.times is None or self.used < self.times


def temporary(stage: str = "RCPT", times: int | None = 1, code: int = 451,
              enhanced: str = "4.3.0", text: str = "Try again later") -> Reply:
    return Reply(stage, code, enhanced, text, times)


def permanent(stage: str = "RCPT", code: int = 550, enhanced: str = "5.1.1",
              text: str = "No such user here", times: int | None = None) -> Reply:
    return Reply(stage, code, enhanced, text, times)


def slow(seconds: float, stage: str = "DATA", code: int = 250, enhanced: str = "2.0.0",
         text: str = "Accepted slowly", times: int | None = 1) -> Reply:
    return Reply(stage, code, enhanced, text, times, delay=seconds)


@dataclass
class Event:
    """One MAIL, RCPT or DATA command the peer answered (DATA also when the data arrived)."""
    stage: str           # "MAIL", "RCPT", "DATA" (reply sent) or "DATA-RECEIVED"
    argument: str        # the address, or the sender for DATA
    reply: str           # the reply line sent ("" for DATA-RECEIVED)
    at: float = field(default_factory=time.monotonic)


@dataclass
class ReceivedMessage:
    """A transaction the peer accepted at DATA (kept before its 250 was sent)."""
    mail_from: str
    rcpt_tos: list[str]
    mail_options: list[str]           # upper-cased by aiosmtpd, e.g. ["BODY=8BITMIME", "SIZE=12"]
    rcpt_options: list[list[str]]     # per recipient, in rcpt_tos order
    data: bytes                       # the message as received, dot-unstuffed, CRLF line ends
    tls: bool                         # STARTTLS was in force
    tls_version: str | None
    ehlo: str | None                  # the EHLO (or HELO) name of the session
    auth_user: str | None             # the AUTH identity, when the client authenticated
    peer: tuple[str, int]             # the client's address

    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


DSN_PARAMETERS = ("RET", "ENVID", "NOTIFY", "ORCPT")  # RFC 3461 §4


class _PeerSMTP(SMTP):
    """aiosmtpd's SMTP that lets the RFC 3461 parameters through when DSN is advertised.

    aiosmtpd 1.4 knows no DSN and answers 555 to any MAIL/RCPT parameter besides BODY,
    SIZE and SMTPUTF8; the parameters still reach the hooks (and so the records) as sent.
    """

    def __init__(self, handler, *, accept_dsn: bool, **kwargs):
        super().__init__(handler, **kwargs)
        self._accept_dsn = accept_dsn

    def _getparams(self, params):
        result = super()._getparams(params)
        if result is not None and self._accept_dsn:
            for key in DSN_PARAMETERS:
                result.pop(key, None)
        return result


class _PeerController(Controller):
    def __init__(self, handler, *, accept_dsn: bool, **kwargs):
        super().__init__(handler, **kwargs)
        self._accept_dsn = accept_dsn

    def factory(self):
        return _PeerSMTP(self.handler, accept_dsn=self._accept_dsn, **self.SMTP_kwargs)


class _SinkHandler:
    """The aiosmtpd hooks of a SinkPeer; they run on the peer's event loop thread."""

    def __init__(self, peer: "SinkPeer"):
        self.peer = peer

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.peer._note_ehlo(hostname)
        last = responses.pop()                      # "250 HELP"
        kept = [r for r in responses
                if not (r == "250-8BITMIME" and not self.peer.eightbitmime)]
        extra = []
        if self.peer.pipelining:
            extra.append("250-PIPELINING")
        if self.peer.dsn:
            extra.append("250-DSN")
        if self.peer.enhanced_status_codes:
            extra.append("250-ENHANCEDSTATUSCODES")
        return kept + extra + [last]

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if not self.peer.eightbitmime and "BODY=8BITMIME" in mail_options:
            return self.peer._answer("MAIL", address, "555 5.5.4 BODY=8BITMIME was not offered")
        scripted = self.peer._scripted("MAIL", ["*"])
        if scripted is not None:
            await asyncio.sleep(scripted.delay)
            if scripted.code >= 300:
                return self.peer._answer("MAIL", address, scripted.line())
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        envelope.per_recipient_options = []
        return self.peer._answer("MAIL", address, "250 2.1.0 OK")

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        scripted = self.peer._scripted("RCPT", [address.lower(), "*"])
        if scripted is not None:
            await asyncio.sleep(scripted.delay)
            if scripted.code >= 300:
                return self.peer._answer("RCPT", address, scripted.line())
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        if not hasattr(envelope, "per_recipient_options"):
            envelope.per_recipient_options = []
        envelope.per_recipient_options.append(list(rcpt_options))
        return self.peer._answer("RCPT", address, "250 2.1.5 OK")

    async def handle_DATA(self, server, session, envelope):
        self.peer._record(Event("DATA-RECEIVED", envelope.mail_from or "", ""))
        scripted = self.peer._scripted("DATA", [r.lower() for r in envelope.rcpt_tos] + ["*"])
        if scripted is not None and scripted.code >= 300:
            # aiosmtpd cancels this coroutine when the client goes away during the delay:
            # then no reply event is recorded either.
            await asyncio.sleep(scripted.delay)
            return self.peer._answer("DATA", envelope.mail_from or "", scripted.line())
        # Accepted: the peer keeps the message first and answers after the delay, like a
        # server that commits before it replies (a client killed meanwhile never hears it).
        self._keep(session, envelope)
        if scripted is not None:
            await asyncio.sleep(scripted.delay)
            return self.peer._answer("DATA", envelope.mail_from or "", scripted.line())
        return self.peer._answer("DATA", envelope.mail_from or "", "250 2.0.0 OK: accepted")

    def _keep(self, session, envelope) -> None:
        ssl_object = session.ssl.get("ssl_object") if isinstance(session.ssl, dict) else None
        received = ReceivedMessage(
            mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos),
            mail_options=list(envelope.mail_options),
            rcpt_options=list(getattr(envelope, "per_recipient_options", [])),
            data=bytes(envelope.original_content or b""),
            tls=session.ssl is not None,
            tls_version=ssl_object.version() if ssl_object is not None else None,
            ehlo=session.host_name,
            auth_user=session.auth_data if session.authenticated else None,
            peer=tuple(session.peer[:2]) if session.peer else ("", 0),
        )
        with self.peer._lock:
            self.peer._messages.append(received)


class SinkPeer:
    """A receiving SMTP server on address:port, scripted per recipient or per message.

    scripts maps a recipient address (any case) or "*" (every transaction) to a Reply or a
    list of Replies; for each command the first still active Reply of its stage applies
    (the recipient's before "*"; at DATA those of every accepted recipient, then "*").
    Without a script every command is accepted.

    starttls: offer STARTTLS with a self-signed certificate for `hostname`.
    auth: {user: password} enables AUTH PLAIN and LOGIN (offered only after STARTTLS);
    auth_required: MAIL without AUTH gets 530.
    eightbitmime / smtputf8 / dsn / pipelining: whether EHLO advertises them. Without
    8BITMIME, BODY=8BITMIME is refused with 555; without DSN, RFC 3461 parameters get
    aiosmtpd's 555. aiosmtpd advertises SIZE only when size_limit is set.
    """

    def __init__(self, address: str, port: int, directory: Path, *, hostname: str = "mx.remote.test",
                 starttls: bool = True, scripts: dict[str, Reply | list[Reply]] | None = None,
                 auth: dict[str, str] | None = None, auth_required: bool = False,
                 eightbitmime: bool = True, smtputf8: bool = True, dsn: bool = False,
                 pipelining: bool = True, enhanced_status_codes: bool = True,
                 size_limit: int | None = None, broken_tls: bool = False):
        self.address = address
        self.port = port
        self.directory = directory
        self.hostname = hostname
        self.starttls = starttls
        self.auth = dict(auth or {})
        self.auth_required = auth_required
        self.eightbitmime = eightbitmime
        self.smtputf8 = smtputf8
        self.dsn = dsn
        self.pipelining = pipelining
        self.enhanced_status_codes = enhanced_status_codes
        self.size_limit = size_limit
        # broken_tls: STARTTLS is offered and answered 220, but the handshake always fails
        # (the server insists on TLS 1.0, which no current client speaks).
        self.broken_tls = broken_tls
        self._lock = threading.Lock()
        self._scripts: dict[str, list[Reply]] = {}
        for key, value in (scripts or {}).items():
            self.script(key, *(value if isinstance(value, list) else [value]))
        self._messages: list[ReceivedMessage] = []
        self._events: list[Event] = []
        self._ehlo_names: list[str] = []
        self._controller: _PeerController | None = None
        self.auth_attempts = 0      # AUTH commands that reached the authenticator

    # ---- scripting and records (any thread) -------------------------------------------

    def script(self, recipient: str, *replies: Reply) -> None:
        """Adds replies for recipient ("*": every transaction), after those already there."""
        with self._lock:
            self._scripts.setdefault(recipient.lower(), []).extend(replies)

    def clear_scripts(self) -> None:
        with self._lock:
            self._scripts.clear()

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self._lock:
            return list(self._messages)

    @property
    def events(self) -> list[Event]:
        with self._lock:
            return list(self._events)

    @property
    def ehlo_names(self) -> list[str]:
        with self._lock:
            return list(self._ehlo_names)

    def replies(self, stage: str) -> list[str]:
        """The reply lines sent at one stage, oldest first."""
        return [e.reply for e in self.events if e.stage == stage]

    def messages_for(self, recipient: str) -> list[ReceivedMessage]:
        return [m for m in self.messages if recipient.lower() in (r.lower() for r in m.rcpt_tos)]

    def wait_for_messages(self, count: int = 1, timeout: float = WAIT_LIMIT,
                          what: str = "") -> list[ReceivedMessage]:
        wait_for(lambda: len(self.messages) >= count, min(timeout, WAIT_LIMIT), interval=0.1,
                 message=what or f"{count} message(s) at the peer {self.address}:{self.port}")
        return self.messages

    def wait_for_event(self, stage: str, timeout: float = WAIT_LIMIT, count: int = 1) -> list[Event]:
        wait_for(lambda: sum(1 for e in self.events if e.stage == stage) >= count,
                 min(timeout, WAIT_LIMIT), interval=0.05,
                 message=f"{count} {stage} event(s) at the peer {self.address}:{self.port}")
        return [e for e in self.events if e.stage == stage]

    # ---- used by the handler -----------------------------------------------------------

    def _record(self, event: Event) -> None:
        with self._lock:
            self._events.append(event)

    def _answer(self, stage: str, argument: str, line: str) -> str:
        self._record(Event(stage, argument, line))
        return line

    def _note_ehlo(self, name: str) -> None:
        with self._lock:
            self._ehlo_names.append(name)

    def _scripted(self, stage: str, keys: list[str]) -> Reply | None:
        with self._lock:
            for key in keys:
                for reply in self._scripts.get(key, []):
                    if reply.stage == stage and reply.active():
                        reply.used += 1
                        return reply
        return None

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        with self._lock:
            self.auth_attempts += 1
        if isinstance(auth_data, LoginPassword):
            user = auth_data.login.decode("utf-8", "replace")
            password = auth_data.password.decode("utf-8", "replace")
            if self.auth.get(user) == password:
                return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)

    @property
    def cert_path(self) -> Path:
        """The self-signed certificate (for `hostname`) offered with STARTTLS."""
        return self.directory / f"{self.address}-cert.pem"

    def cert_sha256(self) -> str:
        """The certificate's SHA-256 fingerprint as `openssl x509 -fingerprint` prints it."""
        done = subprocess.run(["openssl", "x509", "-in", str(self.cert_path), "-noout", "-fingerprint",
                               "-sha256"], capture_output=True, text=True, timeout=30, check=True)
        return done.stdout.strip().split("=", 1)[1]

    # ---- life cycle -------------------------------------------------------------------

    def start(self) -> "SinkPeer":
        kwargs: dict[str, Any] = {
            "hostname": self.address,
            "port": self.port,
            "server_hostname": self.hostname,
            "enable_SMTPUTF8": self.smtputf8,
            "decode_data": False,
            "data_size_limit": self.size_limit,
            "ready_timeout": 10.0,
            "timeout": 60,
        }
        if self.starttls:
            self.directory.mkdir(parents=True, exist_ok=True)
            cert, key = self.cert_path, self.directory / f"{self.address}-key.pem"
            if not cert.exists():
                make_self_signed(cert, key, self.hostname)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            if self.broken_tls:
                context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
                context.maximum_version = ssl.TLSVersion.TLSv1
            kwargs["tls_context"] = context
        if self.auth:
            kwargs["authenticator"] = self._authenticate
            kwargs["auth_required"] = self.auth_required
            kwargs["auth_require_tls"] = self.starttls
        self._controller = _PeerController(_SinkHandler(self), accept_dsn=self.dsn, **kwargs)
        self._controller.start()
        # The controller's own start-up probe connection is not part of any test.
        with self._lock:
            self._events.clear()
            self._ehlo_names.clear()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            try:
                self._controller.stop()
            finally:
                self._controller = None

    def __repr__(self) -> str:
        return f"SinkPeer({self.address}:{self.port}, {self.hostname})"


# --------------------------------------------------------------------------------------
# A private receiving Postfix: the peer lab's PostfixReceiver
# --------------------------------------------------------------------------------------

# What the outbound tests want of a receiving Postfix besides the lab's defaults: a short
# banner, and headers stored as Postamt sent them (no rewriting for loopback clients).
POSTFIX_SETTINGS = {"smtpd_banner": "$myhostname ESMTP", "local_header_rewrite_clients": ""}


POSTFIX_TLS_RECEIVED = re.compile(
    rb"^Received: from [^\n]*(?:\n[ \t][^\n]*)*", re.M)


def postfix_received_fields(stored: bytes) -> list[str]:
    """The Received fields of a message Postfix stored, each unfolded into one line."""
    return [re.sub(r"\n[ \t]+", " ", m.group(0).decode("utf-8", "replace"))
            for m in POSTFIX_TLS_RECEIVED.finditer(stored.split(b"\n\n", 1)[0])]


# --------------------------------------------------------------------------------------
# OutboundLab: one test's zone, peers and port
# --------------------------------------------------------------------------------------

class OutboundLab:
    """The DNS zone, the peers and their common port for one test.

    lab = OutboundLab(tmp_path / "lab")
    peer = lab.sink("remote.test")             # an aiosmtpd peer, MX 10 of remote.test
    server = start_server(**lab.sections())    # [dns] and [outbound] pointing at them
    """

    def __init__(self, directory: Path):
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._free = peer_addresses()
        self.port = common_free_port(self._free)
        self.zone = DnsZone().start()
        self.peers: list[SinkPeer | PostfixReceiver] = []
        self._mx_hosts = 0

    def take_address(self) -> str:
        """A loopback address of this lab that no peer uses (nothing listens on it yet)."""
        assert self._free, f"all {PEER_ADDRESS_COUNT} peer addresses are in use"
        return self._free.pop(0)

    def add_mx(self, domain: str, address: str, preference: int = 10) -> str:
        """Adds "domain MX preference mxN.domain" and "mxN.domain A address"; returns mxN.domain."""
        self._mx_hosts += 1
        host = f"mx{self._mx_hosts}.{domain}"
        self.zone.add(domain, mx(preference, host))
        self.zone.set(host, a(address))
        return host

    def sink(self, domain: str | None = None, preference: int = 10, address: str | None = None,
             **peer_options) -> SinkPeer:
        """Starts a SinkPeer on a fresh address (or the given one); with domain, it becomes
        an MX of domain with that preference."""
        address = address or self.take_address()
        if domain is not None:
            peer_options.setdefault("hostname", f"mx.{domain}")
        peer = SinkPeer(address, self.port, self.directory / "certs", **peer_options)
        peer.start()
        self.peers.append(peer)
        if domain is not None:
            self.add_mx(domain, address, preference)
        return peer

    def postfix(self, domain: str, users: Iterable[str], preference: int = 10, starttls: bool = True,
                **peer_options) -> PostfixReceiver:
        """Starts a PostfixReceiver receiving for domain on a fresh address, an MX of domain
        (peer_options: hostname, discard_ehlo_keywords, settings)."""
        address = self.take_address()
        settings = POSTFIX_SETTINGS | peer_options.pop("settings", {})
        peer = PostfixReceiver(domain, users, address=address, port=self.port, starttls=starttls,
                               settings=settings, **peer_options)
        self.peers.append(peer)   # stopped (and its directory removed) even if start fails
        peer.start()
        self.add_mx(domain, address, preference)
        return peer

    def dead_mx(self, domain: str, preference: int = 10) -> str:
        """An MX of domain on an address where nothing listens (connection refused)."""
        address = self.take_address()
        self.add_mx(domain, address, preference)
        return address

    def sections(self, tls_policy: dict[str, str] | None = None, dns: dict[str, Any] | None = None,
                 **outbound: Any) -> dict[str, dict[str, Any]]:
        """Config sections for start_server(**lab.sections(...)): [dns] at the zone,
        [outbound] with mx_port at the peers and quick test timings (overridable by
        keyword), and [outbound.tls_policy] when tls_policy is given."""
        settings: dict[str, Any] = {
            "mx_port": self.port,
            # The peers live on loopback, which a real MX may not lead to.
            "allow_private_destinations": True,
            "retry_initial_seconds": 2,
            "retry_max_seconds": 4,
            "queue_scan_interval_seconds": 1,
            "connect_timeout_seconds": 5,
            "command_timeout_seconds": 20,
        }
        settings.update(outbound)
        out: dict[str, dict[str, Any]] = {
            "dns": {"servers": [self.zone.server_spec], "timeout_seconds": 2, **(dns or {})},
            "outbound": settings,
        }
        if tls_policy:
            # A quoted key: domain names hold dots.
            out["outbound.tls_policy"] = {f'"{domain}"': policy for domain, policy in tls_policy.items()}
        return out

    def close(self) -> None:
        errors = []
        for peer in reversed(self.peers):
            try:
                peer.stop()
            except Exception as e:  # keep stopping the others
                errors.append(f"{peer!r}: {e}")
        self.peers = []
        self.zone.stop()
        if errors:
            raise AssertionError("stopping the peers failed: " + "; ".join(errors))

    def __enter__(self) -> "OutboundLab":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
