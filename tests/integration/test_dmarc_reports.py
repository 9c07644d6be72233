"""DMARC aggregate reports (issue 14 §8, RFC 7489 §7.2 / RFC 9990).

Sending: a day's evaluations (recorded with `postamt dmarc record-evaluation`, the same
store call the SMTP server makes) become one gzipped XML report that `postamt dmarc
send-reports --now` puts into the outbound queue and the queue delivers to the policy
domain's rua address, a private aiosmtpd peer (outbound_peers.OutboundLab). The test
gunzips the attachment and checks the document against the shape of the RFC 7489
Appendix C schema (element names, nesting, order, required elements, enumerations) and
the counts.

Receiving: the hand-written RFC 9990 sample report (tests/data/dmarc, see SOURCES.md) is
mailed with smtplib to dmarc-reports@example.com on the smtp listener, and `postamt dmarc
reports` shows it per source IP.

The contract these tests rely on:
  postamt dmarc record-evaluation JSON      {source_ip, header_from, envelope_from,
      policy: {p, rua, ...}, disposition, dkim_aligned, spf_aligned, spf: {domain, scope,
      result}, dkim: [{domain, selector, result}], count}
  postamt dmarc send-reports --now          "N report(s) queued", "skipped: ..." lines
  postamt dmarc reports [DOMAIN] --json     [{domain, source_ip, messages, spf, dkim,
      aligned: {pass, fail}, disposition: {none, quarantine, reject}, reporters}]
"""

from __future__ import annotations

import email
import email.policy
import gzip
import json
import re
import xml.etree.ElementTree as ET
from email.message import EmailMessage
from pathlib import Path

import pytest

from harness import HOSTNAME, provision, smtplib_client
from outbound_peers import OutboundLab

pytestmark = pytest.mark.timeout(120)

DATA = Path(__file__).resolve().parent.parent / "data" / "dmarc"
WAIT = 30.0


@pytest.fixture
def lab(tmp_path):
    with OutboundLab(tmp_path / "lab") as built:
        yield built


def cli_ok(server, *args: str):
    done = server.cli(*args)
    assert done.returncode == 0, f"postamt {' '.join(args)}: exit {done.returncode}: {done.stderr}"
    return done


def record(server, **evaluation) -> None:
    cli_ok(server, "dmarc", "record-evaluation", json.dumps(evaluation))


# --------------------------------------------------------------------------------------
# The shape of RFC 7489 Appendix C: per complex type, its children in order with their
# occurrence ("?" optional, "*" any number, "+" at least one) and type; xs:all types list
# their members without order.
# --------------------------------------------------------------------------------------

SEQUENCES = {
    "feedback": [("version", "?", "decimal"), ("report_metadata", "", "ReportMetadataType"),
                 ("policy_published", "", "PolicyPublishedType"), ("record", "+", "RecordType")],
    "ReportMetadataType": [("org_name", "", "string"), ("email", "", "string"),
                           ("extra_contact_info", "?", "string"), ("report_id", "", "string"),
                           ("date_range", "", "DateRangeType"), ("error", "*", "string")],
    "RecordType": [("row", "", "RowType"), ("identifiers", "", "IdentifierType"),
                   ("auth_results", "", "AuthResultType")],
    "RowType": [("source_ip", "", "IPAddress"), ("count", "", "integer"),
                ("policy_evaluated", "", "PolicyEvaluatedType")],
    "PolicyEvaluatedType": [("disposition", "", "DispositionType"), ("dkim", "", "DMARCResultType"),
                            ("spf", "", "DMARCResultType"), ("reason", "*", "PolicyOverrideReason")],
    "PolicyOverrideReason": [("type", "", "string"), ("comment", "?", "string")],
    "IdentifierType": [("envelope_to", "?", "string"), ("envelope_from", "", "string"),
                       ("header_from", "", "string")],
    "AuthResultType": [("dkim", "*", "DKIMAuthResultType"), ("spf", "+", "SPFAuthResultType")],
    "DKIMAuthResultType": [("domain", "", "string"), ("selector", "?", "string"),
                           ("result", "", "DKIMResultType"), ("human_result", "?", "string")],
    "SPFAuthResultType": [("domain", "", "string"), ("scope", "", "SPFDomainScope"),
                          ("result", "", "SPFResultType")],
}
ALL_OF = {
    "DateRangeType": {"begin": ("", "integer"), "end": ("", "integer")},
    # np (RFC 9091) is the one later addition a writer may include.
    "PolicyPublishedType": {"domain": ("", "string"), "adkim": ("?", "AlignmentType"),
                            "aspf": ("?", "AlignmentType"), "p": ("", "DispositionType"),
                            "sp": ("", "DispositionType"), "np": ("?", "DispositionType"),
                            "pct": ("", "integer"), "fo": ("", "string")},
}
ENUMS = {
    "AlignmentType": {"r", "s"},
    "DispositionType": {"none", "quarantine", "reject"},
    "DMARCResultType": {"pass", "fail"},
    "DKIMResultType": {"none", "pass", "fail", "policy", "neutral", "temperror", "permerror"},
    "SPFDomainScope": {"helo", "mfrom"},
    "SPFResultType": {"none", "neutral", "pass", "fail", "softfail", "temperror", "permerror"},
}


def check_type(element: ET.Element, type_name: str, path: str, problems: list[str]) -> None:
    children = list(element)
    if type_name in SEQUENCES:
        pattern = "".join(
            f"(?:{name},){ {'': '', '?': '?', '*': '*', '+': '+'}[occurs] }"
            for name, occurs, _ in SEQUENCES[type_name])
        names = "".join(child.tag + "," for child in children)
        if not re.fullmatch(pattern.replace(" ", ""), names):
            problems.append(f"{path}: children {names!r} do not match {type_name}")
            return
        types = {name: child_type for name, _, child_type in SEQUENCES[type_name]}
    elif type_name in ALL_OF:
        members = ALL_OF[type_name]
        names = [child.tag for child in children]
        for name, (occurs, _) in members.items():
            if occurs == "" and names.count(name) != 1:
                problems.append(f"{path}: {type_name} needs exactly one <{name}>")
        for name in names:
            if name not in members or names.count(name) > 1:
                problems.append(f"{path}: <{name}> not allowed (or repeated) in {type_name}")
        types = {name: child_type for name, (_, child_type) in members.items()}
    else:
        text = (element.text or "").strip()
        if children:
            problems.append(f"{path}: a {type_name} has child elements")
        elif type_name in ("integer", "decimal") and not re.fullmatch(r"-?\d+(\.\d+)?", text):
            problems.append(f"{path}: {text!r} is not a number")
        elif type_name in ENUMS and text not in ENUMS[type_name]:
            problems.append(f"{path}: {text!r} is not a {type_name}")
        elif type_name == "IPAddress" and not re.fullmatch(r"[0-9a-fA-F:.]+", text):
            problems.append(f"{path}: {text!r} is not an IP address")
        return
    for child in children:
        check_type(child, types[child.tag], f"{path}/{child.tag}", problems)


def schema_problems(document: bytes) -> list[str]:
    root = ET.fromstring(document)
    if root.tag != "feedback":
        return [f"root is <{root.tag}>"]
    problems: list[str] = []
    check_type(root, "feedback", "feedback", problems)
    return problems


def report_attachment(received) -> tuple[str, bytes]:
    """(file name, gunzipped XML) of the report mail's application/gzip part."""
    message = email.message_from_bytes(received.data, policy=email.policy.default)
    for part in message.walk():
        if part.get_content_type() == "application/gzip":
            return part.get_filename(), gzip.decompress(part.get_payload(decode=True))
    raise AssertionError(f"no application/gzip part in:\n{received.data[:2000]!r}")


# --------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------

def test_a_days_evaluations_reach_the_rua_peer_as_a_schema_shaped_report(start_server, lab):
    peer = lab.sink("sender.test")
    server = start_server(**lab.sections())
    rua = "mailto:dmarc@sender.test!10m, mailto:agg@elsewhere.test"
    common = {"header_from": "sender.test", "policy": {"p": "reject", "adkim": "s", "rua": rua}}
    record(server, source_ip="192.0.2.10", envelope_from="sender.test", disposition="none",
           dkim_aligned="pass", spf_aligned="pass", spf={"domain": "sender.test", "scope": "mfrom", "result": "pass"},
           dkim=[{"domain": "sender.test", "selector": "s2026", "result": "pass"}], count=5, **common)
    record(server, source_ip="2001:db8::66", envelope_from="forger.test", disposition="reject",
           dkim_aligned="fail", spf_aligned="fail", spf={"domain": "forger.test", "scope": "mfrom", "result": "fail"},
           dkim=[], count=2, **common)
    record(server, source_ip="198.51.100.1", header_from="quiet.test", envelope_from="quiet.test",
           policy={"p": "none"}, disposition="none", spf={"domain": "quiet.test", "result": "pass"})

    sent = cli_ok(server, "dmarc", "send-reports", "--now")
    assert "1 report(s) queued" in sent.stdout, sent.stdout
    assert "1 domain(s) asked for none" in sent.stdout, sent.stdout
    # The other organisation's address was not verified (RFC 7489 §7.1): it gets nothing.
    assert re.search(r"skipped: sender\.test -> agg@elsewhere\.test", sent.stdout), sent.stdout

    [received] = peer.wait_for_messages(1, timeout=WAIT)
    assert received.mail_from in ("", "<>"), "reports go out with the null reverse-path"
    assert received.rcpt_tos == ["dmarc@sender.test"]
    message = email.message_from_bytes(received.data, policy=email.policy.default)
    subject = re.match(r"Report Domain: sender\.test Submitter: (\S+) Report-ID: <([A-Za-z0-9]+)>$",
                       " ".join(str(message["Subject"]).split()))
    assert subject, message["Subject"]
    assert subject.group(1) == HOSTNAME
    report_id = subject.group(2)
    assert message.get_content_type() == "multipart/mixed"

    name, document = report_attachment(received)
    match = re.fullmatch(rf"{re.escape(HOSTNAME)}!sender\.test!(\d+)!(\d+)!{report_id}\.xml\.gz", name)
    assert match, name
    assert schema_problems(document) == []

    root = ET.fromstring(document)
    assert root.findtext("report_metadata/org_name") == HOSTNAME
    assert root.findtext("report_metadata/report_id") == report_id
    assert root.findtext("report_metadata/date_range/begin") == match.group(1)
    assert root.findtext("report_metadata/date_range/end") == match.group(2)
    assert int(match.group(1)) <= int(match.group(2))
    assert root.findtext("policy_published/domain") == "sender.test"
    assert root.findtext("policy_published/p") == "reject"
    assert root.findtext("policy_published/adkim") == "s"
    rows = {r.findtext("row/source_ip"): r for r in root.findall("record")}
    assert set(rows) == {"192.0.2.10", "2001:db8::66"}, "one record per source, quiet.test not in it"
    good, bad = rows["192.0.2.10"], rows["2001:db8::66"]
    assert good.findtext("row/count") == "5"
    assert good.findtext("row/policy_evaluated/dkim") == "pass"
    assert good.findtext("auth_results/dkim/selector") == "s2026"
    assert bad.findtext("row/count") == "2"
    assert bad.findtext("row/policy_evaluated/disposition") == "reject"
    assert bad.findtext("identifiers/envelope_from") == "forger.test"
    assert bad.findtext("auth_results/spf/result") == "fail"
    assert bad.find("auth_results/dkim") is None

    # Reported once: asking again sends nothing, the peer gets nothing more.
    again = cli_ok(server, "dmarc", "send-reports", "--now")
    assert "0 report(s) queued" in again.stdout, again.stdout
    record(server, source_ip="192.0.2.10", envelope_from="sender.test", disposition="none",
           dkim_aligned="pass", spf_aligned="pass", spf={"domain": "sender.test", "result": "pass"}, **common)
    third = cli_ok(server, "dmarc", "send-reports", "--now")
    assert "1 report(s) queued" in third.stdout, third.stdout
    second = peer.wait_for_messages(2, timeout=WAIT)[1]
    _, later = report_attachment(second)
    assert schema_problems(later) == []
    later_root = ET.fromstring(later)
    assert [r.findtext("row/count") for r in later_root.findall("record")] == ["1"]
    assert later_root.findtext("report_metadata/report_id") != report_id


def report_mail(xml: bytes, recipient: str) -> bytes:
    message = EmailMessage()
    message["From"] = "noreply-dmarc-support@example-reporter.com"
    message["To"] = recipient
    message["Subject"] = "Report Domain: example.com Submitter: Sample Reporter Report-ID: <3v98abbp8ya9n3va8yr8oa3ya>"
    message.set_content("This is an aggregate report from Sample Reporter.")
    message.add_attachment(gzip.compress(xml), maintype="application", subtype="gzip",
                           filename="example-reporter.com!example.com!302832000!302918399.xml.gz")
    return message.as_bytes(policy=email.policy.SMTP)


def test_a_received_report_shows_per_source_ip(start_server):
    # No sender checks on this mail: the test's DNS answers nothing.
    server = start_server(mailauth={"verify": False})
    provision(server, ["dmarc-reports"], domain="example.com")
    sample = (DATA / "rfc9990-sample-report.xml").read_bytes()
    client = smtplib_client(server, "smtp")
    refused = client.sendmail("noreply-dmarc-support@example-reporter.com", ["dmarc-reports@example.com"],
                              report_mail(sample, "dmarc-reports@example.com"))
    assert refused == {}
    # The same report again (reporters retry): stored once.
    client.sendmail("noreply-dmarc-support@example-reporter.com", ["dmarc-reports@example.com"],
                    report_mail(sample, "dmarc-reports@example.com"))
    client.quit()

    # Ten years back do not reach the sample's period.
    done = cli_ok(server, "dmarc", "reports", "example.com", "--days", "3650", "--json")
    assert json.loads(done.stdout) == [], "--days bounds the period"
    done = cli_ok(server, "dmarc", "reports", "example.com", "--days", "3650")
    assert "No DMARC reports" in done.stdout
    # The sample's period ended in 1979.
    done = cli_ok(server, "dmarc", "reports", "--days", "20000", "--json")
    rows = {row["source_ip"]: row for row in json.loads(done.stdout)}
    assert set(rows) == {"192.0.2.123", "2001:db8::25"}
    good, failing = rows["192.0.2.123"], rows["2001:db8::25"]
    assert good["domain"] == "example.com"
    assert good["messages"] == 123, "the report read twice counts once"
    assert good["spf"] == {"pass": 0, "fail": 123}
    assert good["dkim"] == {"pass": 123, "fail": 0}
    assert good["aligned"] == {"pass": 123, "fail": 0}
    assert good["reporters"] == ["Sample Reporter"]
    assert failing["messages"] == 4
    assert failing["aligned"] == {"pass": 0, "fail": 4}
    assert failing["disposition"] == {"none": 0, "quarantine": 4, "reject": 0}
    assert list(rows) == ["2001:db8::25", "192.0.2.123"], "the failing source first"

    text = cli_ok(server, "dmarc", "reports", "example.com", "--days", "20000").stdout
    assert "Domain example.com" in text
    failing_line = next(line for line in text.splitlines() if "2001:db8::25" in line)
    assert "fails DMARC" in failing_line and "Sample Reporter" in failing_line
    assert "No DMARC reports" in cli_ok(server, "dmarc", "reports", "other.test", "--days", "20000").stdout
