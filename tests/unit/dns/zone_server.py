#!/usr/bin/python3
"""A small authoritative-style DNS server for the resolver tests (python3-dnslib).

Listens on 127.0.0.1, UDP and TCP on the same free port, prints "PORT <n>" on stdout and
serves until its stdin closes (the test process ended). Answers like a recursive resolver
would: a CNAME comes with its target's records.

Transport rules, as a real server follows them:
- UDP answers longer than 512 octets (RFC 1035 §4.2.1), or than the payload size of the
  query's EDNS OPT record (RFC 6891 §6.2.5), are truncated: TC set, the question kept,
  no records (RFC 2181 §9).
- An EDNS query gets an OPT record back (RFC 6891 §6.1.1).
- TCP connections carry any number of length-prefixed queries (RFC 7766 §6.2.1, §8).
dnslib's own handler does neither the first (its truncated answer has no question, which
c-ares drops as not matching its query) nor the last two.

Some names misbehave on purpose; see the tables below.
"""
import socket
import struct
import sys

from dnslib import AAAA, A, CNAME, EDNS0, MX, QTYPE, RCODE, RR, DNSLabel, DNSRecord
from dnslib.server import DNSHandler, DNSServer

ZONE = {
    # name: list of (type, rdata)
    "multi.test.": [("MX", MX("mx-c.multi.test.", 20)), ("MX", MX("mx-a.multi.test.", 10)),
                    ("MX", MX("mx-first.multi.test.", 5)), ("MX", MX("mx-b.multi.test.", 10))],
    "nullmx.test.": [("MX", MX(".", 0))],
    "implicit.test.": [("A", A("192.0.2.10"))],
    "host.test.": [("AAAA", AAAA("2001:db8::1")), ("A", A("192.0.2.1")), ("A", A("192.0.2.2"))],
    "v4only.test.": [("A", A("192.0.2.3"))],
    "oldserver.test.": [("A", A("192.0.2.4"))],
    # 666 octets: over 512 (TCP without EDNS), under 1232 (UDP with EDNS).
    "big.test.": [("A", A("198.51.100.%d" % i)) for i in range(1, 41)],
    # The same size, but its TCP queries are never answered: resolves only by EDNS over UDP.
    "udponly.test.": [("A", A("198.51.100.%d" % i)) for i in range(1, 41)],
    # About 2 KB of each family: TCP even with EDNS.
    "huge.test.": [("A", A("203.0.113.%d" % i)) for i in range(1, 121)]
                  + [("AAAA", AAAA("2001:db8::%x" % i)) for i in range(1, 81)],
    # 300 MX records (about 8 KB, over TCP).
    "manymx.test.": [("MX", MX("mx%d.manymx.test." % i, i % 7)) for i in range(300)],
}
CNAMES = {"alias.test.": "host.test.", "loop-a.test.": "loop-b.test.", "loop-b.test.": "loop-a.test.",
          "dangling.test.": "nowhere.test."}
SERVFAIL = {"servfail.test."}
REFUSED = {"refused.test."}
SILENT = {"silent.test."}
SILENT_OVER_TCP = {"udponly.test."}
# Answers FORMERR without an OPT record to EDNS queries, like a server from before RFC 2671.
NO_EDNS = {"oldserver.test."}
# Answers whose bytes break the format (RFC 1035 §4.1): see malformed_answer().
MALFORMED = {"short-rdata.test.", "missing-records.test.", "bad-pointer.test."}

CLASSIC_UDP_LIMIT = 512  # RFC 1035 §4.2.1
LARGEST_EDNS_PAYLOAD = 4096


class Silence(Exception):
    pass


def edns_payload_size(request):
    for record in request.ar:
        if record.rtype == QTYPE.OPT:
            return max(CLASSIC_UDP_LIMIT, min(record.rclass, LARGEST_EDNS_PAYLOAD))
    return None


def malformed_answer(request, name):
    """An answer to `request` that lies about its own structure."""
    header = struct.pack("!HHHHHH", request.header.id, 0x8580, 1, 1, 0, 0)  # QR AA RD RA
    question = DNSRecord(q=request.q).pack()[12:]  # the question section alone
    answer_head = struct.pack("!HHHI", 0xC00C, QTYPE.A, 1, 60)  # name: pointer to the question
    if name == "short-rdata.test.":
        return header + question + answer_head + struct.pack("!H", 3) + b"\xc0\x00\x02"
    if name == "missing-records.test.":  # announces 5 answers, carries 1
        header = struct.pack("!HHHHHH", request.header.id, 0x8580, 1, 5, 0, 0)
        return header + question + answer_head + struct.pack("!H", 4) + b"\xc0\x00\x02\x01"
    # a compression pointer to itself (RFC 1035 §4.1.4 allows only earlier offsets)
    offset = len(header) + len(question)
    return (header + question + struct.pack("!H", 0xC000 | offset)
            + struct.pack("!HHIH", QTYPE.A, 1, 60, 4) + b"\xc0\x00\x02\x01")


class ZoneResolver:
    def resolve(self, request, protocol):
        """The answer to `request` as a DNSRecord, or bytes for a malformed one."""
        reply = request.reply()
        name = str(request.q.qname).lower()
        qtype = QTYPE[request.q.qtype]
        payload = edns_payload_size(request)
        if name in SILENT or (name in SILENT_OVER_TCP and protocol == "tcp"):
            raise Silence()
        if name in NO_EDNS and payload is not None:
            reply.header.rcode = RCODE.FORMERR
            return reply
        if payload is not None:
            reply.add_ar(EDNS0(udp_len=LARGEST_EDNS_PAYLOAD))
        if name in MALFORMED:
            return malformed_answer(request, name)
        if name in SERVFAIL:
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        if name in REFUSED:
            reply.header.rcode = RCODE.REFUSED
            return reply
        owner = name
        hops = 0
        while owner in CNAMES and hops < 8:
            reply.add_answer(RR(owner, QTYPE.CNAME, rdata=CNAME(CNAMES[owner]), ttl=60))
            owner = CNAMES[owner]
            hops += 1
        if owner not in ZONE and name not in CNAMES:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for rtype, rdata in ZONE.get(owner, []):
            if rtype == qtype:
                reply.add_answer(RR(DNSLabel(owner), getattr(QTYPE, rtype), rdata=rdata, ttl=60))
        return reply  # no matching record: NOERROR, empty answer (NODATA)


def answer_bytes(resolver, data, protocol):
    """The wire answer to one query, None to stay silent."""
    try:
        request = DNSRecord.parse(data)
        reply = resolver.resolve(request, protocol)
    except Silence:
        return None
    except Exception:  # unparsable query: no answer, like a server that drops garbage
        return None
    if isinstance(reply, bytes):
        return reply
    packed = reply.pack()
    if protocol == "udp":
        limit = edns_payload_size(request) or CLASSIC_UDP_LIMIT
        if len(packed) > limit:
            truncated = DNSRecord(reply.header, questions=reply.questions, ar=reply.ar)
            truncated.header.tc = 1
            packed = truncated.pack()
    return packed


def read_exactly(connection, count):
    data = b""
    while len(data) < count:
        chunk = connection.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    return data


class Handler(DNSHandler):
    def handle(self):
        resolver = self.server.resolver
        if self.server.socket_type == socket.SOCK_DGRAM:
            data, connection = self.request
            answer = answer_bytes(resolver, data, "udp")
            if answer is not None:
                connection.sendto(answer, self.client_address)
            return
        self.request.settimeout(10)
        try:
            while True:  # RFC 7766 §6.2.1: several queries per connection
                prefix = read_exactly(self.request, 2)
                if prefix is None:
                    return
                query = read_exactly(self.request, struct.unpack("!H", prefix)[0])
                if query is None:
                    return
                answer = answer_bytes(resolver, query, "tcp")
                if answer is not None:
                    self.request.sendall(struct.pack("!H", len(answer)) + answer)
        except OSError:
            return


class Quiet:
    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def main():
    resolver = ZoneResolver()
    for _ in range(100):
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        try:
            udp = DNSServer(resolver, address="127.0.0.1", port=port, handler=Handler, logger=Quiet())
            tcp = DNSServer(resolver, address="127.0.0.1", port=port, tcp=True, handler=Handler,
                            logger=Quiet())
        except OSError:
            continue
        break
    else:
        sys.exit("no free port")
    udp.start_thread()
    tcp.start_thread()
    print("PORT %d" % port, flush=True)
    sys.stdin.read()  # until the test process closes our stdin


if __name__ == "__main__":
    main()
