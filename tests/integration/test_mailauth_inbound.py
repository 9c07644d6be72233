"""Sender authentication of mail arriving on port 25 (issue 14): SPF, DKIM and DMARC against
a private DNS zone (tests/peers/dns_zone.py), messages signed by dkimpy (python3-dkim), the
Authentication-Results field, forged ones removed, and what a failure leads to: 550 5.7.1,
Junk, 451 on a DNS failure, per recipient domain."""

from __future__ import annotations

import email
import email.policy
import re
import smtplib
import subprocess
from pathlib import Path

import dkim
import pytest

from harness import HOSTNAME, cli_bytes, mailbox_listing, metric_sum, provision, smtplib_client, wait_for
from peers.dns_zone import ZoneServer

LOCAL = "example.test"
OTHER_LOCAL = "lists.example.test"
GOOD_IP = "127.0.0.1"   # the address every sender domain's SPF allows
BAD_IP = "127.0.0.9"    # an address no SPF record names


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """dknewkey's RSA-2048 and Ed25519 keys: {kind: (private PEM bytes, TXT value)}."""
    directory = tmp_path_factory.mktemp("dkim-keys")
    out = {}
    for kind, args in (("rsa", []), ("ed25519", ["--ktype", "ed25519"])):
        base = directory / kind
        subprocess.run(["dknewkey", *args, str(base)], check=True, capture_output=True)
        out[kind] = (Path(f"{base}.key").read_bytes(), Path(f"{base}.dns").read_text().strip())
    return out


def zone(keys) -> dict:
    return {
        # strict: p=reject, SPF for GOOD_IP only
        "strict.example": [("TXT", "v=spf1 ip4:127.0.0.1 -all"), ("MX", (10, "mx.strict.example"))],
        "mx.strict.example": [("A", "192.0.2.1")],
        "_dmarc.strict.example": [("TXT", "v=DMARC1; p=reject; rua=mailto:reports@strict.example")],
        "rsa._domainkey.strict.example": [("TXT", keys["rsa"][1])],
        "ed._domainkey.strict.example": [("TXT", keys["ed25519"][1])],
        # quarantine
        "q.example": [("TXT", "v=spf1 ip4:127.0.0.1 -all"), ("A", "192.0.2.2")],
        "_dmarc.q.example": [("TXT", "v=DMARC1; p=quarantine")],
        # p=none
        "relaxed.example": [("TXT", "v=spf1 ip4:127.0.0.1 ~all"), ("A", "192.0.2.3")],
        "_dmarc.relaxed.example": [("TXT", "v=DMARC1; p=none")],
        # a DNS server that fails for this one's policy
        "broken.example": [("TXT", "v=spf1 ip4:127.0.0.1 -all"), ("A", "192.0.2.4")],
        "_dmarc.broken.example": "SERVFAIL",
        # no DMARC at all
        "nodmarc.example": [("TXT", "v=spf1 ip4:127.0.0.1 -all"), ("A", "192.0.2.5")],
    }


@pytest.fixture
def dns(keys):
    with ZoneServer(zone(keys)) as server:
        yield server


@pytest.fixture
def mta(start_server, dns):
    server = start_server(dns={"servers": [dns.address], "timeout_seconds": 2},
                          mailauth={"verify": True, "domain": {OTHER_LOCAL: {"dmarc_reject": False}}})
    provision(server, users=["alice"])
    provision(server, users=["carol"], domain=OTHER_LOCAL)
    return server


def make_message(author: str, subject: str = "Hello", extra_headers: str = "",
                 body: str = "Hello, this is a test.\r\n") -> bytes:
    return (f"From: {author}\r\nTo: alice@{LOCAL}\r\nSubject: {subject}\r\n"
            f"Date: Sat, 05 Dec 2026 08:00:00 +0000\r\nMessage-ID: <{subject.replace(' ', '.')}@test>\r\n"
            f"{extra_headers}\r\n{body}").encode()


def sign(message: bytes, keys, kind: str, domain: str, selector: str,
         canonicalize=(b"relaxed", b"relaxed"), length: bool = False) -> bytes:
    private, _ = keys[kind]
    field = dkim.sign(message, selector.encode(), domain.encode(), private, canonicalize=canonicalize,
                      signature_algorithm=b"ed25519-sha256" if kind == "ed25519" else b"rsa-sha256",
                      include_headers=[b"from", b"to", b"subject", b"date", b"message-id"], length=length)
    return field + message


def send(server, mail_from: str, recipients: list[str], data: bytes, source_ip: str = GOOD_IP,
         helo: str = "mx.sender.example") -> tuple[int, bytes]:
    host, port = server.address("smtp")
    client = smtplib.SMTP(host, port, local_hostname=helo, timeout=30, source_address=(source_ip, 0))
    try:
        client.ehlo()
        code, reply = client.mail(mail_from)
        assert code == 250, reply
        for rcpt in recipients:
            code, reply = client.rcpt(rcpt)
            assert code == 250, reply
        return client.data(data)
    finally:
        client.close()


def delivered(server, address: str, mailbox: str = "INBOX") -> list[bytes]:
    return [stored_message_in(server, address, entry.uid, mailbox)
            for entry in mailbox_listing(server, address, mailbox)]


def stored_message_in(server, address: str, uid: int, mailbox: str) -> bytes:
    done = cli_bytes(server.config_path, "debug", "message", address, str(uid), "--mailbox", mailbox,
                     binary=server.binary)
    assert done.returncode == 0, done.stderr
    return done.stdout


def auth_results(stored: bytes) -> list[str]:
    """The values of the Authentication-Results fields, unfolded, in order."""
    parsed = email.message_from_bytes(stored, policy=email.policy.compat32)
    return [re.sub(r"\s+", " ", value) for value in parsed.get_all("Authentication-Results", [])]


def our_results(stored: bytes) -> str:
    ours = [v for v in auth_results(stored) if v.strip().lower().startswith(HOSTNAME)]
    assert len(ours) == 1, auth_results(stored)
    return ours[0]


def test_signed_mail_passes_spf_dkim_and_dmarc_with_both_algorithms(mta, keys):
    for kind, selector, canon in (("rsa", "rsa", (b"relaxed", b"relaxed")),
                                  ("ed25519", "ed", (b"simple", b"simple")),
                                  ("rsa", "rsa", (b"simple", b"relaxed")),
                                  ("ed25519", "ed", (b"relaxed", b"simple"))):
        data = sign(make_message("Ann <ann@strict.example>", f"signed {kind} {canon[0].decode()}"),
                    keys, kind, "strict.example", selector, canon)
        code, reply = send(mta, "ann@strict.example", [f"alice@{LOCAL}"], data)
        assert code == 250, reply
    stored = delivered(mta, f"alice@{LOCAL}")
    assert len(stored) == 4
    for message in stored:
        results = our_results(message)
        assert "spf=pass smtp.mailfrom=ann@strict.example" in results, results
        assert re.search(r"dkim=pass .*header\.d=strict\.example", results), results
        assert "dmarc=pass" in results and "header.from=strict.example" in results, results
        # Right below our Received field, and with a Received-SPF.
        head = message.split(b"\r\n\r\n", 1)[0].decode()
        assert re.match(r"Return-Path: .*\r\nReceived: .*?\r\nAuthentication-Results: ", head, re.S), head[:400]
        assert "Received-SPF: pass" in head


def test_length_limited_signature_passes_and_is_noted(mta, keys):
    data = sign(make_message("Ann <ann@strict.example>", "with l"), keys, "rsa", "strict.example", "rsa",
                length=True)
    code, reply = send(mta, "ann@strict.example", [f"alice@{LOCAL}"], data)
    assert code == 250, reply
    results = our_results(delivered(mta, f"alice@{LOCAL}")[-1])
    assert "dkim=pass" in results, results


def test_dmarc_reject_failure_is_refused_with_550(mta, keys):
    # A forged From of strict.example: wrong IP (SPF fail), a signature that no longer verifies.
    signed = sign(make_message("Ann <ann@strict.example>", "tampered"), keys, "rsa", "strict.example", "rsa")
    tampered = signed.replace(b"Hello, this is a test.", b"Hello, this is a scam.")
    code, reply = send(mta, "ann@strict.example", [f"alice@{LOCAL}"], tampered, source_ip=BAD_IP)
    assert code == 550 and reply.startswith(b"5.7.1"), (code, reply)
    assert delivered(mta, f"alice@{LOCAL}") == [] and delivered(mta, f"alice@{LOCAL}", "Junk") == []
    assert "dmarc" in mta.log_text() and "smtp.message_refused" in mta.log_text()
    assert metric_sum(mta, "postamt_mailauth_actions_total", action="reject") == 1
    assert metric_sum(mta, "postamt_mailauth_results_total", method="dmarc", result="fail") == 1
    assert metric_sum(mta, "postamt_mailauth_results_total", method="dkim", result="fail") == 1
    # The evaluation is kept for strict.example's aggregate report (rua), with what was done.
    line = wait_for(lambda: next((l for l in mta.cli("dmarc", "evaluations").stdout.splitlines()
                                  if "strict.example" in l), None), 10, interval=0.3,
                    message="the evaluation recorded")
    assert "127.0.0.9" in line and "disposition=reject" in line and "dkim=fail" in line and "spf=fail" in line, line
    assert "p=reject" in line and "rua=mailto:reports@strict.example" in line, line


def test_dmarc_quarantine_failure_goes_to_junk(mta):
    code, reply = send(mta, "bob@q.example", [f"alice@{LOCAL}"], make_message("bob@q.example", "quarantined"),
                       source_ip=BAD_IP)
    assert code == 250, reply
    assert delivered(mta, f"alice@{LOCAL}") == []
    junk = delivered(mta, f"alice@{LOCAL}", "Junk")
    assert len(junk) == 1
    assert "dmarc=fail" in our_results(junk[0]) and "spf=fail" in our_results(junk[0])
    assert metric_sum(mta, "postamt_mailauth_actions_total", action="junk") == 1


def test_recipients_of_a_lenient_domain_get_it_in_junk_and_the_others_too(mta, keys):
    # alice's domain refuses p=reject failures, carol's does not: one reply for both, so
    # the message is accepted and alice's copy goes to Junk rather than being bounced later.
    code, reply = send(mta, "ann@strict.example", [f"alice@{LOCAL}", f"carol@{OTHER_LOCAL}"],
                       make_message("ann@strict.example", "mixed"), source_ip=BAD_IP)
    assert code == 250, reply
    assert len(delivered(mta, f"carol@{OTHER_LOCAL}", "Junk")) == 1
    assert len(delivered(mta, f"alice@{LOCAL}", "Junk")) == 1
    # Only carol: her domain's policy alone decides.
    code, reply = send(mta, "ann@strict.example", [f"carol@{OTHER_LOCAL}"],
                       make_message("ann@strict.example", "carol only"), source_ip=BAD_IP)
    assert code == 250, reply
    assert len(delivered(mta, f"carol@{OTHER_LOCAL}", "Junk")) == 2


def test_forged_authentication_results_are_removed_and_foreign_ones_kept(mta):
    forged = (f"Authentication-Results: {HOSTNAME}; spf=pass smtp.mailfrom=ann@strict.example; dmarc=pass\r\n"
              f"Authentication-Results: {HOSTNAME.upper()}.; dkim=pass header.d=strict.example\r\n"
              "Authentication-Results: mx.elsewhere.example; spf=fail smtp.mailfrom=x@y.example\r\n"
              f"ARC-Authentication-Results: i=1; {HOSTNAME}; dmarc=pass header.from=relaxed.example\r\n")
    code, reply = send(mta, "someone@relaxed.example", [f"alice@{LOCAL}"],
                       make_message("someone@relaxed.example", "forged", extra_headers=forged), source_ip=BAD_IP)
    assert code == 250, reply
    stored = delivered(mta, f"alice@{LOCAL}")[-1]
    values = auth_results(stored)
    assert len(values) == 2, values
    assert values[0].strip().startswith(HOSTNAME) and "dmarc=fail" in values[0], values
    assert values[1].strip().startswith("mx.elsewhere.example"), values
    # An ARC set claiming our authserv-id that does not verify is taken off too.
    assert b"ARC-Authentication-Results" not in stored.split(b"\r\n\r\n", 1)[0], stored[:1500]
    assert "arc=fail" in values[0], values


def test_several_from_fields_are_refused(mta):
    data = make_message("ann@relaxed.example", "two authors",
                        extra_headers="From: ceo@strict.example\r\n")
    code, reply = send(mta, "ann@relaxed.example", [f"alice@{LOCAL}"], data)
    assert code == 550 and reply.startswith(b"5.7.1"), (code, reply)


def test_dns_failure_defers_instead_of_passing(mta):
    code, reply = send(mta, "x@broken.example", [f"alice@{LOCAL}"], make_message("x@broken.example", "servfail"),
                       source_ip=BAD_IP)
    assert code == 451 and reply.startswith(b"4.7."), (code, reply)
    assert delivered(mta, f"alice@{LOCAL}") == []


def test_no_dmarc_record_is_delivered_with_the_spf_verdict(mta):
    code, reply = send(mta, "x@nodmarc.example", [f"alice@{LOCAL}"], make_message("x@nodmarc.example", "none"),
                       source_ip=BAD_IP)
    assert code == 250, reply
    results = our_results(delivered(mta, f"alice@{LOCAL}")[-1])
    assert "spf=fail" in results and "dmarc=none" in results, results


def test_spf_fail_reject_when_configured(start_server, dns):
    server = start_server(dns={"servers": [dns.address], "timeout_seconds": 2},
                          mailauth={"verify": True, "spf_fail_reject": True})
    provision(server, users=["alice"])
    code, reply = send(server, "x@nodmarc.example", [f"alice@{LOCAL}"], make_message("x@nodmarc.example", "spf"),
                       source_ip=BAD_IP)
    assert code == 550 and reply.startswith(b"5.7.23"), (code, reply)


def test_allow_networks_are_never_refused(start_server, dns):
    server = start_server(dns={"servers": [dns.address], "timeout_seconds": 2},
                          mailauth={"verify": True, "allow_networks": ["127.0.0.9/32"]})
    provision(server, users=["alice"])
    code, reply = send(server, "ann@strict.example", [f"alice@{LOCAL}"],
                       make_message("ann@strict.example", "allowed"), source_ip=BAD_IP)
    assert code == 250, reply
    assert "dmarc=fail" in our_results(delivered(server, f"alice@{LOCAL}")[-1])


def test_submission_is_not_checked(mta):
    client = smtplib_client(mta, "submission", starttls=True)
    client.login(f"alice@{LOCAL}", "pw-alice")
    code, reply = client.mail(f"alice@{LOCAL}")
    assert code == 250
    client.rcpt(f"alice@{LOCAL}")
    code, reply = client.data(make_message(f"alice@{LOCAL}", "own mail"))
    client.quit()
    assert code == 250, reply
    stored = delivered(mta, f"alice@{LOCAL}")[-1]
    assert not [v for v in auth_results(stored) if v.strip().startswith(HOSTNAME)]


def test_mail_forwarded_through_an_alias_leaves_arc_sealed(start_server, keys, tmp_path):
    """RFC 8617: strict.example's mail reaches forward@example.test, an alias to a remote
    address; the copy that leaves carries our ARC set, which dkimpy's arc_verify accepts,
    and our ARC-Authentication-Results says what we saw (dmarc=pass)."""
    from dnslib import TXT
    from outbound_peers import OutboundLab, Record, a, mx

    def records(entries):
        out = []
        for kind, value in entries:
            if kind == "TXT":
                raw = value.encode()
                out.append(Record("TXT", TXT([raw[i:i + 255] for i in range(0, len(raw), 255)])))
            elif kind == "MX":
                out.append(mx(*value))
            elif kind == "A":
                out.append(a(value))
        return out

    with OutboundLab(tmp_path / "lab") as lab:
        peer = lab.sink("remote.test")
        for name, entries in zone(keys).items():
            if not isinstance(entries, str):
                lab.zone.set(name, *records(entries))
        sections = lab.sections()
        sections["mailauth"] = {"verify": True}
        server = start_server(**sections)
        provision(server, users=["alice"], aliases={f"forward@{LOCAL}": ["bob@remote.test"]})
        done = server.cli("dkim", "add", LOCAL)
        assert done.returncode == 0, done.stderr
        published = server.cli("dns", "records", LOCAL).stdout

        data = sign(make_message("Ann <ann@strict.example>", "forwarded"), keys, "rsa", "strict.example", "rsa")
        code, reply = send(server, "ann@strict.example", [f"forward@{LOCAL}"], data)
        assert code == 250, reply
        forwarded = peer.wait_for_messages(1, timeout=30)[0].data

    txt = {}
    for line in published.splitlines():
        match = re.match(r'^(\S+)\. \d+ IN TXT (.+)$', line)
        if match:
            txt[match.group(1).lower()] = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', match.group(2)))
    txt["rsa._domainkey.strict.example"] = keys["rsa"][1]

    def dnsfunc(name, timeout=5):
        name = (name.decode() if isinstance(name, bytes) else name).rstrip(".").lower()
        return txt[name].encode() if name in txt else None

    cv, results, comment = dkim.arc_verify(forwarded, dnsfunc=dnsfunc)
    assert cv == dkim.CV_Pass, (cv, results, comment)
    head = re.sub(rb"\r\n[ \t]+", b" ", forwarded.split(b"\r\n\r\n", 1)[0]).decode()
    aar = re.search(r"^ARC-Authentication-Results: i=1; (.*)$", head, re.M)
    assert aar and aar.group(1).startswith(HOSTNAME) and "dmarc=pass" in aar.group(1), head[:2000]
    assert re.search(rf"^ARC-Seal: .*\bcv=none\b.*\bd={re.escape(LOCAL)}\b", head, re.M), head[:2000]
    # The original signature still verifies at the next hop.
    assert dkim.verify(forwarded, dnsfunc=dnsfunc)


def test_lookups_run_while_the_body_is_still_coming(mta, dns, keys):
    """SPF starts at DATA and the DKIM keys are asked once the header is in: the answers
    are there before the client has sent the end of the data."""
    import socket
    import time

    data = sign(make_message("Ann <ann@strict.example>", "streaming", body="line\r\n" * 2000), keys, "rsa",
                "strict.example", "rsa")
    head, body = data.split(b"\r\n\r\n", 1)
    host, port = mta.address("smtp")
    with socket.create_connection((host, port), timeout=30) as sock:
        reader = sock.makefile("rb")

        def reply() -> bytes:
            line = reader.readline()
            while line[3:4] == b"-":
                line = reader.readline()
            return line

        assert reply().startswith(b"220")
        for command in (b"EHLO mx.sender.example", b"MAIL FROM:<ann@strict.example>",
                        f"RCPT TO:<alice@{LOCAL}>".encode(), b"DATA"):
            sock.sendall(command + b"\r\n")
            assert reply()[:1] in (b"2", b"3")
        sock.sendall(head + b"\r\n\r\n" + body[:1000])
        deadline = time.monotonic() + 10
        wanted = {("strict.example", "TXT"), ("rsa._domainkey.strict.example", "TXT")}
        while not wanted <= set(dns.queries) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert wanted <= set(dns.queries), dns.queries
        sock.sendall(body[1000:] + b".\r\n")
        assert reply().startswith(b"250")
        sock.sendall(b"QUIT\r\n")
    assert "dkim=pass" in our_results(delivered(mta, f"alice@{LOCAL}")[-1])


def test_sender_authentication_is_one_of_the_filter_verdicts(start_server, dns):
    # With the filter pipeline on (an empty block list answer for everyone), the DMARC
    # quarantine is decided together with the filters: X-Spam-Status names it.
    server = start_server(dns={"servers": [dns.address], "timeout_seconds": 2},
                          mailauth={"verify": True}, filter={"dnsbl": ["block.example"]})
    provision(server, users=["alice"])
    code, reply = send(server, "bob@q.example", [f"alice@{LOCAL}"], make_message("bob@q.example", "judged"),
                       source_ip=BAD_IP)
    assert code == 250, reply
    [junked] = delivered(server, f"alice@{LOCAL}", "Junk")
    head = junked.split(b"\r\n\r\n", 1)[0].decode()
    assert "X-Spam-Flag: YES" in head
    status = re.search(r"X-Spam-Status: ([^\r\n]*(?:\r\n\t[^\r\n]*)*)", head).group(1).replace("\r\n\t", "")
    assert status.startswith("Yes") and "filter=mailauth" in status and "mailauth:dmarc=fail" in status
