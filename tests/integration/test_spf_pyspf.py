"""Postamt's SPF against pyspf (Debian's python3-spf, a second implementation of RFC 7208),
on zones of our own: tricky macros, include/redirect chains, the lookup limits. Both ask the
same private DNS server (tests/peers/dns_zone.py); results and explanations must agree.
Where pyspf reads the RFC differently, the case says so in KNOWN_DIFFERENCES with the RFC's
words, and the test checks that Postamt gives the RFC's answer."""

from __future__ import annotations

import pytest

spf = pytest.importorskip("spf")
DNS = pytest.importorskip("DNS")  # pydns, pyspf's DNS driver on Debian

from peers.dns_zone import ZoneServer  # noqa: E402
from spf_batch import run_spf_batch  # noqa: E402

ZONE = {
    # include/redirect chains: a pass from an include, the rest left to a redirect
    "chain.test": [("TXT", "v=spf1 include:a.chain.test redirect=b.chain.test")],
    "a.chain.test": [("TXT", "v=spf1 ip4:192.0.2.1 -all")],
    "b.chain.test": [("TXT", "v=spf1 include:c.chain.test ~all")],
    "c.chain.test": [("TXT", "v=spf1 a:host.chain.test/24 mx//64 ?all"), ("MX", (10, "mx1.chain.test"))],
    "host.chain.test": [("A", "198.51.100.5")],
    "mx1.chain.test": [("A", "203.0.113.7"), ("AAAA", "2001:db8:7::1")],
    # a redirect carries the target's exp=, never the redirecting record's (RFC 7208 §6.1)
    "redir-exp.test": [("TXT", "v=spf1 exp=no.redir-exp.test redirect=target.redir-exp.test")],
    "target.redir-exp.test": [("TXT", "v=spf1 ip4:192.0.2.9 -all exp=yes.redir-exp.test")],
    "no.redir-exp.test": [("TXT", "wrong explanation")],
    "yes.redir-exp.test": [("TXT", "%{i} is not one of %{d}'s senders (asked by %{r})")],
    # an include's exp= is never used (§6.2)
    "inc-exp.test": [("TXT", "v=spf1 include:target.redir-exp.test -all exp=outer.inc-exp.test")],
    "outer.inc-exp.test": [("TXT", "outer: %{l} via %{h}")],
    # macros: reversal, digit transformers, other delimiters, URL escaping
    "macro.test": [("TXT", "v=spf1 exists:%{ir}.%{l1r-}.%{o}._spf.%{d2} -all exp=why.macro.test")],
    "1.2.0.192.gamma.macro.test._spf.macro.test": [("A", "127.0.0.2")],
    "why.macro.test": [("TXT", "%{L} from %{C} (%{v}) %{d1}/%{d2r}/%{s} %{O} %{l2r.-+}")],
    "ip6macro.test": [("TXT", "v=spf1 exists:%{ir}.%{v}.ip6macro.test -all exp=why6.ip6macro.test")],
    "why6.ip6macro.test": [("TXT", "%{i} = %{c} %{I}")],
    ("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
     ".ip6.ip6macro.test"): [("A", "127.0.0.2")],
    # the 10-term limit: exactly 10 passes, 11 is a permerror (§4.6.4)
    "limit10.test": [("TXT", "v=spf1 " + " ".join(f"a:n{i}.hosts.test" for i in range(9)) + " include:ok.test -all")],
    "limit11.test": [("TXT", "v=spf1 " + " ".join(f"a:n{i}.hosts.test" for i in range(10)) + " include:ok.test -all")],
    "ok.test": [("TXT", "v=spf1 +all")],
    **{f"n{i}.hosts.test": [("A", f"198.51.100.{100 + i}")] for i in range(10)},
    # the void-lookup limit: 2 are fine, the 3rd is a permerror
    "void2.test": [("TXT", "v=spf1 a:gone1.test a:gone2.test ?all")],
    "void3.test": [("TXT", "v=spf1 a:gone1.test a:gone2.test a:gone3.test ?all")],
    # more than 10 MX names: permerror; a null MX matches nothing
    "mx11.test": [("TXT", "v=spf1 mx -all")] + [("MX", (i, f"m{i}.hosts.test")) for i in range(11)],
    "mx10.test": [("TXT", "v=spf1 mx -all")] + [("MX", (i, f"n{i}.hosts.test")) for i in range(10)],
    "nullmx.test": [("TXT", "v=spf1 mx ~all"), ("MX", (0, "."))],
    # ptr and %{p}: validated names only
    "ptr.test": [("TXT", "v=spf1 ptr:ptr.test -all")],
    "7.113.0.203.in-addr.arpa": [("PTR", "mx1.chain.test"), ("PTR", "liar.ptr.test"), ("PTR", "good.ptr.test")],
    "good.ptr.test": [("A", "203.0.113.7")],
    "liar.ptr.test": [("A", "203.0.113.99")],
    "pmacro.test": [("TXT", "v=spf1 exists:%{p}.allow.pmacro.test -all exp=whyp.pmacro.test")],
    "good.ptr.test.allow.pmacro.test": [("A", "127.0.0.2")],
    "whyp.pmacro.test": [("TXT", "validated %{p}")],
    # errors: an include of a failing server is temperror, of a domain without SPF permerror
    "inc-servfail.test": [("TXT", "v=spf1 include:broken.test -all")],
    "broken.test": "SERVFAIL",
    "inc-timeout.test": [("TXT", "v=spf1 include:silent.test -all")],
    "silent.test": "TIMEOUT",
    "inc-none.test": [("TXT", "v=spf1 include:nospf.test -all")],
    "nospf.test": [("TXT", "just a text record")],
    "redir-none.test": [("TXT", "v=spf1 redirect=nospf.test")],
    "two.test": [("TXT", "v=spf1 -all"), ("TXT", "v=spf1 +all")],
    # case, CIDR and qualifiers
    "case.test": [("TXT", "V=SPF1 ?A:HOST.CHAIN.TEST/24 -ALL")],
    "ip6.test": [("TXT", "v=spf1 ip6:2001:db8::/32 ~ip4:192.0.2.0/24 -all")],
    # long record in several strings, joined without spaces (§3.3)
    "split.test": [("TXT", ["v=spf1 ip4:192.0.2.1", "0 -all"])],
    "helo.chain.test": [("TXT", "v=spf1 a:host.chain.test -all")],
}

CASES = [
    ("192.0.2.1", "helo.test", "u@chain.test"),
    ("198.51.100.77", "helo.test", "u@chain.test"),
    ("2001:db8:7::abcd", "helo.test", "u@chain.test"),
    ("203.0.113.7", "helo.test", "u@chain.test"),
    ("192.0.2.200", "helo.test", "u@chain.test"),
    ("192.0.2.1", "helo.test", "bob@redir-exp.test"),
    ("192.0.2.9", "helo.test", "bob@redir-exp.test"),
    ("192.0.2.1", "mx.helo.test", "bob@inc-exp.test"),
    ("192.0.2.1", "helo.test", "alpha-beta-gamma@macro.test"),
    ("192.0.2.2", "helo.test", "Alpha.Beta+x@macro.test"),
    ("2001:db8::1", "helo.test", "x@ip6macro.test"),
    ("2001:db8::2", "helo.test", "x@ip6macro.test"),
    ("198.51.100.5", "helo.test", "x@limit10.test"),
    ("198.51.100.5", "helo.test", "x@limit11.test"),
    ("192.0.2.1", "helo.test", "x@void2.test"),
    ("192.0.2.1", "helo.test", "x@void3.test"),
    ("198.51.100.100", "helo.test", "x@mx11.test"),
    ("198.51.100.109", "helo.test", "x@mx10.test"),
    ("192.0.2.1", "helo.test", "x@nullmx.test"),
    ("203.0.113.7", "helo.test", "x@ptr.test"),
    ("203.0.113.8", "helo.test", "x@ptr.test"),
    ("203.0.113.7", "helo.test", "x@pmacro.test"),
    ("203.0.113.8", "helo.test", "x@pmacro.test"),
    ("192.0.2.1", "helo.test", "x@inc-servfail.test"),
    ("192.0.2.1", "helo.test", "x@inc-timeout.test"),
    ("192.0.2.1", "helo.test", "x@inc-none.test"),
    ("192.0.2.1", "helo.test", "x@redir-none.test"),
    ("192.0.2.1", "helo.test", "x@two.test"),
    ("198.51.100.44", "helo.test", "x@case.test"),
    ("192.0.2.44", "helo.test", "x@case.test"),
    ("2001:db8:ffff::1", "helo.test", "x@ip6.test"),
    ("192.0.2.3", "helo.test", "x@ip6.test"),
    ("::ffff:192.0.2.3", "helo.test", "x@ip6.test"),
    ("192.0.2.10", "helo.test", "x@split.test"),
    ("192.0.2.1", "helo.test", "x@split.test"),
    ("192.0.2.1", "helo.test", "@chain.test"),
    ("198.51.100.5", "helo.chain.test", ""),
    ("198.51.100.6", "helo.chain.test", ""),
    ("192.0.2.1", "nodomain", ""),
]

# (ip, mail_from) -> (Postamt's result, the RFC's words). Empty: none known.
KNOWN_DIFFERENCES: dict[tuple[str, str], tuple[str, str]] = {
    # pyspf's pydns driver reads a SERVFAIL answer over UDP as "no records" (it checks the
    # RCODE only after a TCP retry), so the include finds no SPF record: permerror.
    ("192.0.2.1", "x@inc-servfail.test"): (
        "temperror", "RFC 7208 §4.4: if the DNS lookup returns a server failure (RCODE 2) ... "
        "check_host() terminates immediately with the result temperror; §5.2: an include "
        "whose check_host() returns temperror is temperror"),
}


@pytest.fixture(scope="module")
def results(postamt_binary):
    with ZoneServer(ZONE) as dns:
        ours = run_spf_batch(postamt_binary, dns.address,
                             [{"ip": ip, "helo": helo, "mail_from": sender} for ip, helo, sender in CASES])
        DNS.defaults["server"] = ["127.0.0.1"]
        DNS.defaults["port"] = dns.port
        spf.DNS = DNS
        saved = spf.DNSLookup
        spf.DNSLookup = spf.DNSLookup_pydns
        try:
            theirs = [spf.check2(i=ip, s=sender, h=helo, receiver="receiver.test", querytime=0, timeout=2)
                      for ip, helo, sender in CASES]
        finally:
            spf.DNSLookup = saved
    return ours, theirs


@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"{c[2] or c[1]}@{c[0]}" for c in CASES])
def test_postamt_agrees_with_pyspf(results, index):
    ours, theirs = results[0][index], results[1][index]
    ip, _, sender = CASES[index]
    their_result, their_explanation = theirs
    if (ip, sender) in KNOWN_DIFFERENCES:
        expected, reason = KNOWN_DIFFERENCES[(ip, sender)]
        assert ours["result"] == expected, reason
        return
    assert ours["result"] == their_result, f"Postamt {ours}, pyspf {theirs}"
    if ours["result"] == "fail":
        if ours["explanation_from_record"]:
            assert ours["explanation"] == their_explanation, f"Postamt {ours}, pyspf {theirs}"
        else:
            assert their_explanation == spf.EXPLANATIONS["fail"], f"Postamt {ours}, pyspf {theirs}"


def test_the_cases_cover_every_result(results):
    seen = {r["result"] for r in results[0]}
    assert seen >= {"pass", "fail", "softfail", "neutral", "none", "permerror", "temperror"}, seen
