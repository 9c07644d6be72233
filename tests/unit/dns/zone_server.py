#!/usr/bin/python3
"""A small authoritative-style DNS server for the resolver tests (python3-dnslib).

Listens on 127.0.0.1, UDP and TCP on the same free port, prints "PORT <n>" on stdout and
serves until its stdin closes (the test process ended). Answers like a recursive resolver
would: a CNAME comes with its target's records.
"""
import socket
import sys

from dnslib import AAAA, A, CNAME, MX, QTYPE, RCODE, RR, DNSLabel
from dnslib.server import DNSHandler, DNSServer

ZONE = {
    # name: list of (type, rdata)
    "multi.test.": [("MX", MX("mx-c.multi.test.", 20)), ("MX", MX("mx-a.multi.test.", 10)),
                    ("MX", MX("mx-first.multi.test.", 5)), ("MX", MX("mx-b.multi.test.", 10))],
    "nullmx.test.": [("MX", MX(".", 0))],
    "implicit.test.": [("A", A("192.0.2.10"))],
    "host.test.": [("AAAA", AAAA("2001:db8::1")), ("A", A("192.0.2.1")), ("A", A("192.0.2.2"))],
    "v4only.test.": [("A", A("192.0.2.3"))],
    "big.test.": [("A", A("198.51.100.%d" % i)) for i in range(1, 41)],  # > 512 bytes: TCP
}
CNAMES = {"alias.test.": "host.test."}
SERVFAIL = {"servfail.test."}
REFUSED = {"refused.test."}
SILENT = {"silent.test."}


class Silence(Exception):
    pass


class ZoneResolver:
    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).lower()
        qtype = QTYPE[request.q.qtype]
        if name in SILENT:
            raise Silence()
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


class Handler(DNSHandler):
    udplen = 512  # RFC 1035 §4.2.1: longer UDP answers are truncated (TC), forcing TCP

    def handle(self):
        try:
            super().handle()
        except Silence:
            pass  # never answer


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
