"""ZoneServer: a DNS server for tests (python3-dnslib), serving a zone given as data.

    zone = {"example.org": [("TXT", "v=spf1 -all"), ("A", "192.0.2.1")],
            "mx.example.org": [("MX", (10, "mail.example.org"))],
            "sel._domainkey.example.org": [("TXT", ["v=DKIM1; k=ed25519; ", "p=..."])],
            "broken.example.org": "SERVFAIL",      # or "REFUSED", "TIMEOUT" (never answers)
            "www.example.org": [("CNAME", "example.org")],
            "slow.example.org": [("TXT", "v=spf1 -all"), ("TIMEOUT", None)]}
    with ZoneServer(zone) as dns:
        config = {"dns": {"servers": [dns.address], "timeout_seconds": 1}}

UDP and TCP on one loopback port. Names are case-insensitive and need no trailing dot. A
name that is not in the zone is NXDOMAIN unless a longer name ends with it (an empty
non-terminal: NOERROR without records, RFC 8020 §1); a name in the zone without a record
of the asked type is NODATA. TXT values longer than 255 octets are split into several
character-strings (RFC 1035 §3.3.14); a list gives the strings exactly. CNAMEs are
followed within the answer, as a recursive resolver does. UDP answers over 512 octets (or
the query's EDNS size) are truncated so the client retries over TCP. `queries` records
every (name, type) asked, for tests that count lookups.

A ("TIMEOUT", None) entry inside a name's list is positional, as the RFC 7208 test suite's
zones use it: a query for a type with no record listed before it is never answered, while
types listed before it are answered normally. Optional: `negative_ttl` adds an SOA (with
that MINIMUM and TTL) to NXDOMAIN and NODATA answers (RFC 2308 §3); `authentic` is a set
of names whose answers carry the AD bit (RFC 4035 §3.2.3), as a validating resolver sets it.

For programs that read /etc/resolv.conf (port 53 only), `port=53` on a loopback address of
its own: loopback_address_with_free_port53() finds one. `cache_answers=True` (a zone that
does not change while served, as a benchmark's) answers a query seen before from the packed
answer with the new ID, on one UDP thread: a local caching resolver's cost per query rather
than dnslib's parse and pack.
"""

from __future__ import annotations

import errno
import socket
import socketserver
import struct
import threading

from dnslib import AAAA, CNAME, EDNS0, MX, PTR, QTYPE, RCODE, RR, SOA, TXT, A, DNSLabel, DNSRecord

CLASSIC_UDP_LIMIT = 512  # RFC 1035 §4.2.1
FAILURES = {"SERVFAIL": RCODE.SERVFAIL, "REFUSED": RCODE.REFUSED}


def _key(name: str) -> str:
    return name.lower().rstrip(".")


def _txt_strings(value) -> list[bytes]:
    if isinstance(value, (list, tuple)):
        return [s.encode() if isinstance(s, str) else s for s in value]
    raw = value.encode() if isinstance(value, str) else value
    return [raw[i:i + 255] for i in range(0, len(raw), 255)] or [b""]


def _rdata(rtype: str, value):
    if rtype == "A":
        return A(value)
    if rtype == "AAAA":
        return AAAA(value)
    if rtype == "MX":
        preference, host = value
        return MX(host, preference)
    if rtype == "PTR":
        return PTR(value)
    if rtype == "CNAME":
        return CNAME(value)
    if rtype == "TXT":
        return TXT(_txt_strings(value))
    raise ValueError(f"record type {rtype} is not supported by the zone server")


class ZoneServer:
    def __init__(self, zone: dict, ttl: int = 300, host: str = "127.0.0.1",
                 negative_ttl: int | None = None, authentic: set | None = None, port: int = 0,
                 cache_answers: bool = False):
        self.zone = {}
        self.wanted_port = port
        self.cache_answers = cache_answers
        self._answers: dict[tuple[bytes, str], tuple[tuple[str, str], bytes | None]] = {}
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.authentic = {_key(n) for n in (authentic or ())}
        self.host = host
        self.queries: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self.set_zone(zone)
        self._udp = None
        self._tcp = None
        self._threads: list[threading.Thread] = []

    def set_zone(self, zone: dict) -> None:
        with_keys = {_key(name): records for name, records in zone.items()}
        with self._lock:
            self.zone = with_keys
            self._answers = {}

    @property
    def port(self) -> int:
        return self._udp.server_address[1]

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    # -- serving --------------------------------------------------------------------------

    def answer(self, data: bytes, protocol: str) -> bytes | None:
        if not self.cache_answers or len(data) < 12:
            return self._answer(data, protocol)
        key = (data[2:], protocol)        # all but the ID (RFC 1035 §4.1.1)
        known = self._answers.get(key)
        if known is None:
            asked: list[tuple[str, str]] = []
            packed = self._answer(data, protocol, asked)
            if not asked:                 # unparsable: not worth keeping
                return packed
            with self._lock:
                self._answers[key] = known = (asked[0], packed)
        else:
            with self._lock:
                self.queries.append(known[0])
        return None if known[1] is None else data[:2] + known[1][2:]

    def _answer(self, data: bytes, protocol: str, asked: list | None = None) -> bytes | None:
        try:
            request = DNSRecord.parse(data)
        except Exception:  # garbage: no answer, as a real server drops it
            return None
        # The labels as they are: str(qname) would escape spaces and such (RFC 1035 §5.1).
        name = _key(".".join(label.decode("latin-1") for label in request.q.qname.label))
        qtype = QTYPE.get(request.q.qtype)
        with self._lock:
            self.queries.append((name, qtype))
            zone = self.zone
        if asked is not None:
            asked.append((name, qtype))
        reply = request.reply()
        payload = None
        for record in request.ar:
            if record.rtype == QTYPE.OPT:
                payload = max(CLASSIC_UDP_LIMIT, record.rclass)
                reply.add_ar(EDNS0(udp_len=4096))
        owner, hops = name, 0
        while True:
            entry = zone.get(owner)
            if entry == "TIMEOUT":
                return None
            if isinstance(entry, str):
                reply.header.rcode = FAILURES[entry]
                return reply.pack()
            cname = next((v for t, v in (entry or []) if t == "CNAME"), None)
            if cname is None or qtype == "CNAME" or hops >= 8:
                break
            reply.add_answer(RR(DNSLabel(owner + "."), QTYPE.CNAME, rdata=CNAME(cname), ttl=self.ttl))
            owner, hops = _key(cname), hops + 1
        if name in self.authentic:
            reply.header.ad = 1
        if entry is None:
            if not any(k.endswith("." + owner) for k in zone):
                reply.header.rcode = RCODE.NXDOMAIN
            self._add_soa(reply, owner)
            return self._fit(reply, payload, protocol)
        for rtype, _ in entry:  # a positional TIMEOUT: types not listed before it time out
            if rtype == qtype:
                break
            if rtype == "TIMEOUT":
                return None
        for rtype, value in entry:
            if rtype == qtype:
                reply.add_answer(RR(DNSLabel(owner + "."), getattr(QTYPE, rtype),
                                    rdata=_rdata(rtype, value), ttl=self.ttl))
        if not reply.rr:
            self._add_soa(reply, owner)
        return self._fit(reply, payload, protocol)

    def _add_soa(self, reply: DNSRecord, owner: str) -> None:
        if self.negative_ttl is None:
            return
        apex = owner.split(".", 1)[-1] if "." in owner else owner
        reply.add_auth(RR(DNSLabel(apex + "."), QTYPE.SOA, ttl=self.negative_ttl,
                          rdata=SOA(f"ns.{apex}.", f"hostmaster.{apex}.",
                                    (1, 3600, 600, 86400, self.negative_ttl))))

    @staticmethod
    def _fit(reply: DNSRecord, payload: int | None, protocol: str) -> bytes:
        packed = reply.pack()
        if protocol == "udp" and len(packed) > (payload or CLASSIC_UDP_LIMIT):
            truncated = DNSRecord(reply.header, questions=reply.questions, ar=reply.ar)
            truncated.header.tc = 1
            return truncated.pack()
        return packed

    def __enter__(self) -> "ZoneServer":
        server = self

        class Udp(socketserver.BaseRequestHandler):
            def handle(self):
                data, sock = self.request
                answer = server.answer(data, "udp")
                if answer is not None:
                    sock.sendto(answer, self.client_address)

        class Tcp(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.settimeout(10)
                try:
                    while True:  # RFC 7766 §6.2.1: many length-prefixed queries per connection
                        head = self.request.recv(2, socket.MSG_WAITALL)
                        if len(head) < 2:
                            return
                        data = self.request.recv(struct.unpack("!H", head)[0], socket.MSG_WAITALL)
                        answer = server.answer(data, "tcp")
                        if answer is None:
                            return
                        self.request.sendall(struct.pack("!H", len(answer)) + answer)
                except OSError:
                    return

        class ThreadingUdp(socketserver.ThreadingMixIn, socketserver.UDPServer):
            daemon_threads = True

        class ThreadingTcp(socketserver.ThreadingMixIn, socketserver.TCPServer):
            daemon_threads = True
            allow_reuse_address = True

        # With cached answers nothing blocks: one thread serves UDP (no thread per query).
        udp_class = socketserver.UDPServer if self.cache_answers else ThreadingUdp
        # TCP takes the port UDP was given. An ephemeral UDP port may be a TCP port some
        # other socket holds (an outgoing connection's local port): then try another one.
        for attempt in range(50):
            self._udp = udp_class((self.host, self.wanted_port), Udp)
            try:
                self._tcp = ThreadingTcp((self.host, self.port), Tcp)
                break
            except OSError as error:
                self._udp.server_close()
                if error.errno != errno.EADDRINUSE or self.wanted_port or attempt == 49:
                    raise
        for srv in (self._udp, self._tcp):
            thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc) -> None:
        for srv in (self._udp, self._tcp):
            srv.shutdown()
            srv.server_close()
        for thread in self._threads:
            thread.join(timeout=5)


def loopback_address_with_free_port53(candidates=("127.0.0.53", *(f"127.53.0.{i}" for i in range(1, 50)))) -> str:
    """A loopback address whose port 53 (UDP and TCP) nothing uses now, for a ZoneServer that
    programs reading /etc/resolv.conf can reach (glibc's resolver knows no other port).
    Binding port 53 needs root (or CAP_NET_BIND_SERVICE)."""
    for host in candidates:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, socket.socket() as tcp:
                udp.bind((host, 53))
                tcp.bind((host, 53))
            return host
        except OSError:
            continue
    raise OSError("no loopback address with a free port 53 among " + ", ".join(candidates[:3]) + ", ...")
