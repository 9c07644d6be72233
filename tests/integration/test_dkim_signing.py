"""DKIM signing (issue 14 §1): the key CLI, `postamt dns records`, and mail Postamt signs,
checked by dkimpy (Debian's python3-dkim) against the records Postamt prints.

  postamt dkim add DOMAIN [--selector S] [--algorithm rsa|ed25519|both]
  postamt dkim list | rotate DOMAIN | retire DOMAIN SELECTOR
  postamt dns records DOMAIN     zone-file lines: name TTL IN MX|TXT ...

Keys live in DATA/dkim/DOMAIN/SELECTOR.pem (0600) with DATA/dkim/DOMAIN/keys (0600); a
running server reads them at start and at SIGHUP. End to end, alice@example.test submits
to a private aiosmtpd peer (outbound_peers.OutboundLab) and the message that arrives
carries an RSA and an Ed25519 signature that dkimpy verifies; bounces are signed too.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import stat
import subprocess
import time

import dkim
import pytest

from harness import message, provision, smtplib_client, stored_messages, wait_for
from outbound_peers import OutboundLab, permanent

pytestmark = pytest.mark.timeout(170)

ALICE = "alice@example.test"
WAIT = 30.0
ZONE_LINE = re.compile(r'^(?P<name>\S+)\. (?P<ttl>\d+) IN (?P<type>MX|TXT) (?P<data>.+)$')
TXT_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


@pytest.fixture
def lab(tmp_path):
    with OutboundLab(tmp_path / "lab") as built:
        yield built


def ok(done: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert done.returncode == 0, f"exit {done.returncode}: {done.stdout}\n{done.stderr}"
    return done


def parse_records(text: str) -> dict[str, list[tuple[str, str]]]:
    """name -> [(type, value)]; TXT character-strings joined (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
    Also checks the shape: every line a zone-file line, every string at most 255 octets."""
    records: dict[str, list[tuple[str, str]]] = {}
    for line in text.splitlines():
        match = ZONE_LINE.match(line)
        assert match, f"not a zone-file line: {line!r}"
        if match["type"] == "TXT":
            strings = TXT_STRING.findall(match["data"])
            assert strings and " ".join(f'"{s}"' for s in strings) == match["data"], line
            for s in strings:
                assert len(s.encode()) <= 255, f"a TXT string longer than 255 octets: {len(s)}"
            value = "".join(re.sub(r"\\(.)", r"\1", s) for s in strings)
        else:
            value = match["data"]
        records.setdefault(match["name"].lower(), []).append((match["type"], value))
    return records


def dnsfunc_from(records: dict[str, list[tuple[str, str]]]):
    def dnsfunc(name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        for kind, value in records.get(name.rstrip(".").lower(), []):
            if kind == "TXT":
                return value.encode()
        return None
    return dnsfunc


def verify_all(data: bytes, dnsfunc) -> list[tuple[bytes, bool]]:
    """(a=, verdict) for every DKIM-Signature, as dkimpy sees them."""
    checker = dkim.DKIM(data, minkey=1024)
    signatures = [value for name, value in checker.headers if name.lower() == b"dkim-signature"]
    out = []
    for index, value in enumerate(signatures):
        algorithm = re.search(rb"a=([\w-]+)", value).group(1)
        out.append((algorithm, bool(checker.verify(idx=index, dnsfunc=dnsfunc))))
    return out


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


# --------------------------------------------------------------------------------------
# The CLI
# --------------------------------------------------------------------------------------

def test_dkim_add_list_rotate_retire(cli, tmp_path):
    out = ok(cli("dkim", "add", "Example.TEST")).stdout
    listed = ok(cli("dkim", "list")).stdout.splitlines()
    assert len(listed) == 2, listed
    rows = [line.split() for line in listed]
    assert {row[2] for row in rows} == {"rsa", "ed25519"} and {row[3] for row in rows} == {"active"}, rows
    assert all(row[0] == "example.test" for row in rows), rows
    first = {row[2]: row[1] for row in rows}
    assert re.fullmatch(r"pa\d{8}r", first["rsa"]) and re.fullmatch(r"pa\d{8}e", first["ed25519"]), first
    assert "postamt dns records example.test" in out, out

    keys = tmp_path / "cli" / "data" / "dkim" / "example.test"
    assert mode(keys) == 0o700 and mode(keys.parent) == 0o700
    for selector in first.values():
        assert mode(keys / f"{selector}.pem") == 0o600
    assert mode(keys / "keys") == 0o600

    # One algorithm with an explicit selector; a taken selector is refused.
    ok(cli("dkim", "add", "example.test", "--selector", "mail", "--algorithm", "ed25519"))
    assert cli("dkim", "add", "example.test", "--selector", "mail", "--algorithm", "ed25519").returncode != 0
    assert cli("dkim", "add", "example.test", "--algorithm", "dsa").returncode != 0
    assert cli("dkim", "add", "example.test", "--selector", "../x").returncode != 0

    ok(cli("dkim", "rotate", "example.test"))
    rows = [line.split() for line in ok(cli("dkim", "list")).stdout.splitlines()]
    states = {row[1]: (row[2], row[3]) for row in rows}
    assert states[first["rsa"]] == ("rsa", "retiring") and states["mail"] == ("ed25519", "retiring"), states
    new = [selector for selector, (_, state) in states.items() if state == "active"]
    assert len(new) == 2 and {states[s][0] for s in new} == {"rsa", "ed25519"}, states

    # Retiring keys stay published until retired.
    records = parse_records(ok(cli("dns", "records", "example.test")).stdout)
    for selector in states:
        assert f"{selector}._domainkey.example.test" in records, records.keys()
    ok(cli("dkim", "retire", "example.test", "mail"))
    assert not (keys / "mail.pem").exists()
    assert "mail" not in ok(cli("dkim", "list")).stdout.split()
    records = parse_records(ok(cli("dns", "records", "example.test")).stdout)
    assert "mail._domainkey.example.test" not in records
    assert cli("dkim", "retire", "example.test", "mail").returncode != 0


def test_dns_records_prints_every_record(cli, tmp_path):
    ok(cli("domain", "add", "example.test"))
    ok(cli("dkim", "add", "example.test"))
    done = ok(cli("dns", "records", "example.test"))
    records = parse_records(done.stdout)
    # The rua= address does not exist yet: said on stderr with the fix.
    assert "dmarc-reports@example.test does not exist" in done.stderr, done.stderr

    assert records["example.test"][0][0] == "MX" and re.fullmatch(r"10 \S+\.", records["example.test"][0][1])
    assert ("TXT", "v=spf1 mx -all") in records["example.test"]
    dmarc = records["_dmarc.example.test"]
    assert dmarc == [("TXT", "v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@example.test")], dmarc

    keys = tmp_path / "cli" / "data" / "dkim" / "example.test"
    selectors = [line.split()[1] for line in ok(cli("dkim", "list")).stdout.splitlines()]
    assert len(selectors) == 2
    rsa_lines = []
    for selector in selectors:
        [(kind, value)] = records[f"{selector}._domainkey.example.test"]
        pem = keys / f"{selector}.pem"
        der = subprocess.run(["openssl", "pkey", "-in", str(pem), "-pubout", "-outform", "DER"],
                             capture_output=True, check=True).stdout
        if selector.endswith("r"):
            assert value == "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode(), value
            rsa_lines = [line for line in done.stdout.splitlines() if line.startswith(f"{selector}._domainkey")]
        else:
            # RFC 8463 §4.2: the raw 32-octet key, the tail of the SubjectPublicKeyInfo.
            assert value == "v=DKIM1; k=ed25519; p=" + base64.b64encode(der[-32:]).decode(), value
    # A 2048-bit RSA record is longer than 255 octets: two strings on one line.
    assert len(rsa_lines) == 1 and len(TXT_STRING.findall(rsa_lines[0])) == 2, rsa_lines

    ok(cli("user", "add", "dmarc-reports@example.test", "--password", "reports-pw"))
    assert "does not exist" not in ok(cli("dns", "records", "example.test")).stderr


# --------------------------------------------------------------------------------------
# Signing in the server
# --------------------------------------------------------------------------------------

def start_signing_server(start_server, lab: OutboundLab, **smtp):
    sections = lab.sections()
    if smtp:
        sections["smtp"] = smtp
    server = start_server(**sections)
    provision(server, ["alice"])
    provision(server, ["dave"], domain="other.test")
    ok(server.cli("dkim", "add", "example.test"))
    # The running server takes the new keys at SIGHUP.
    os.kill(server.pid, signal.SIGHUP)
    wait_for(lambda: re.search(r"dkim\.keys_loaded.*keys[\"=: ]+2", server.log_text()), WAIT, interval=0.2,
             message="the server loaded the two keys")
    records = parse_records(ok(server.cli("dns", "records", "example.test")).stdout)
    return server, dnsfunc_from(records)


def submit(server, user: str, recipients: list[str], content: bytes) -> None:
    client = smtplib_client(server, "submission", starttls=True)
    client.login(user, "pw-" + user.split("@")[0])
    assert client.sendmail(user, recipients, content) == {}
    client.quit()


def test_submitted_mail_is_signed_with_rsa_and_ed25519(start_server, lab):
    peer = lab.sink("remote.test")
    server, dnsfunc = start_signing_server(start_server, lab)

    sent = message("signed", b"Hello Bob,\r\n\r\nthis is   signed.  \r\n", sender=ALICE, to="bob@remote.test")
    submit(server, ALICE, ["bob@remote.test"], sent)
    unsigned = message("unsigned", b"No keys for other.test.\r\n", sender="dave@other.test", to="bob@remote.test")
    submit(server, "dave@other.test", ["bob@remote.test"], unsigned)

    received = peer.wait_for_messages(2, timeout=WAIT)
    signed = next(r.data for r in received if b"Subject: signed" in r.data)
    verdicts = verify_all(signed, dnsfunc)
    assert sorted(verdicts) == [(b"ed25519-sha256", True), (b"rsa-sha256", True)], verdicts
    header = signed.split(b"\r\n\r\n", 1)[0]
    assert b"c=relaxed/relaxed" in header and b"d=example.test" in header and b" l=" not in header
    # From and Subject over-signed; t= set.
    h_tag = re.search(rb"h=([^;]+);", re.sub(rb"\r\n[ \t]", b" ", header)).group(1).replace(b" ", b"").lower()
    assert h_tag.split(b":").count(b"from") == 2 and h_tag.split(b":").count(b"subject") == 2, h_tag
    assert re.search(rb"\bt=\d+;", header)
    # What the peer got is the submitted message behind the signatures and our trace.
    assert signed.endswith(sent.split(b"\r\n\r\n", 1)[1])

    other = next(r.data for r in received if b"Subject: unsigned" in r.data)
    assert b"DKIM-Signature" not in other, "no keys for other.test: sent unsigned"


def test_a_large_spooled_submission_is_signed(start_server, lab):
    peer = lab.sink("remote.test")
    # Under 64 KiB in memory: this message goes through the spool file.
    server, dnsfunc = start_signing_server(start_server, lab, spool_memory_limit=65536)
    body = b"".join(b"line %06d of a long message, with  some   spaces \r\n" % i for i in range(8000))
    sent = message("large", body, sender=ALICE, to="bob@remote.test")
    assert len(sent) > 300_000
    submit(server, ALICE, ["bob@remote.test"], sent)
    received = peer.wait_for_messages(1, timeout=WAIT)[0]
    assert sorted(verify_all(received.data, dnsfunc)) == [(b"ed25519-sha256", True), (b"rsa-sha256", True)]
    assert received.data.endswith(body)


def test_a_bounce_is_signed(start_server, lab):
    lab.sink("remote.test", scripts={"bob@remote.test": permanent("DATA", 550, "5.1.1", "no bob here")})
    server, dnsfunc = start_signing_server(start_server, lab)
    submit(server, ALICE, ["bob@remote.test"], message("doomed", sender=ALICE, to="bob@remote.test"))
    bounce = wait_for(lambda: (found := stored_messages(server, ALICE)) and found[0], WAIT, interval=0.5,
                      message="the bounce in alice's INBOX")
    assert b"multipart/report" in bounce.split(b"\r\n\r\n", 1)[0]
    # From MAILER-DAEMON@mail.example.test: signed by the parent domain's keys.
    verdicts = verify_all(bounce, dnsfunc)
    assert sorted(verdicts) == [(b"ed25519-sha256", True), (b"rsa-sha256", True)], verdicts
    assert b"d=example.test" in bounce
