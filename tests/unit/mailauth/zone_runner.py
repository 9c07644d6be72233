#!/usr/bin/python3
"""The mailauth unit tests' DNS server: tests/peers/dns_zone.py's ZoneServer with the zone
below, on a free loopback port. Prints "PORT <n>" and serves until stdin closes."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/: the peer lab

from peers.dns_zone import ZoneServer  # noqa: E402

ZONE = {
    "spf.test": [("TXT", "v=spf1 ip4:192.0.2.0/24 -all"), ("TXT", "other text"),
                 ("MX", (10, "mx.spf.test")), ("MX", (20, "mx2.spf.test"))],
    "long.test": [("TXT", "v=spf1 " + "ip4:192.0.2.1 " * 40 + "-all")],  # > 255: several strings
    "mx.spf.test": [("A", "192.0.2.25"), ("AAAA", "2001:db8::25")],
    "alias.spf.test": [("CNAME", "mx.spf.test")],
    "1.2.0.192.in-addr.arpa": [("PTR", "host.spf.test")],
    "signed.test": [("TXT", "v=spf1 -all")],
    "many.test": [("A", f"198.51.100.{i}") for i in range(1, 71)],  # over the 64-record cap
    "broken.test": "SERVFAIL",
    "refused.test": "REFUSED",
    "silent.test": "TIMEOUT",
    "empty.test": [("A", "192.0.2.99")],  # TXT: NODATA
}

ZONE["coalesce.test"] = [("TXT", "v=spf1 -all")]


class CountingZoneServer(ZoneServer):
    """count.test's TXT record says how often coalesce.test was asked so far."""

    def answer(self, data, protocol):
        with self._lock:
            asked = sum(1 for name, _ in self.queries if name == "coalesce.test")
        self.zone["count.test"] = [("TXT", str(asked))]
        return super().answer(data, protocol)


with CountingZoneServer(ZONE, ttl=120, negative_ttl=42, authentic={"signed.test"}) as server:
    print(f"PORT {server.port}", flush=True)
    sys.stdin.read()
