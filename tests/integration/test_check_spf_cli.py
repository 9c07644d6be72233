"""`postamt check spf` as an operator runs it: the text report, --json, the config's [dns]
servers and host name, the HELO identity, --batch from standard input, and its errors."""

from __future__ import annotations

import json

import pytest

from harness import run_postamt
from peers.dns_zone import ZoneServer

ZONE = {
    "example.test": [("TXT", "v=spf1 a:mx.example.test -all exp=why.example.test")],
    "mx.example.test": [("A", "192.0.2.25"), ("TXT", "v=spf1 a ~all")],
    "why.example.test": [("TXT", "%{i} is not a sender of %{d}; see %{r}")],
}


@pytest.fixture(scope="module")
def dns():
    with ZoneServer(ZONE) as server:
        yield server


def test_text_report_of_a_fail_with_its_explanation(postamt_binary, dns):
    run = run_postamt("check", "spf", "--ip", "198.51.100.9", "--helo", "mx.example.test",
                      "--mail-from", "alice@example.test", "--dns-server", dns.address,
                      "--receiver", "mail.receiver.test", binary=postamt_binary)
    assert run.returncode == 0, run.stderr
    lines = dict(line.split(": ", 1) for line in run.stdout.splitlines())
    assert lines["result"] == "fail"
    assert lines["domain"] == "example.test"
    assert lines["mechanism"] == "-all"
    assert lines["explanation"] == "198.51.100.9 is not a sender of example.test; see mail.receiver.test"
    assert lines["Received-SPF"].startswith("fail (mail.receiver.test: domain of alice@example.test does not "
                                            "designate 198.51.100.9 as permitted sender) client-ip=198.51.100.9;")
    assert 'envelope-from="alice@example.test"; helo=mx.example.test; receiver=mail.receiver.test; ' \
           "identity=mailfrom; mechanism=-all" in lines["Received-SPF"]


def test_the_config_gives_dns_servers_and_our_host_name(postamt_binary, dns, make_config):
    config = make_config(dns={"servers": [dns.address], "timeout_seconds": 1},
                         server={"hostname": "mx.ours.test"})
    run = run_postamt("--config", str(config), "check", "spf", "--ip", "192.0.2.25", "--helo", "mx.example.test",
                      "--mail-from", "alice@example.test", "--json", binary=postamt_binary)
    assert run.returncode == 0, run.stderr
    outcome = json.loads(run.stdout)
    assert outcome["result"] == "pass"
    assert outcome["mechanism"] == "a:mx.example.test"
    assert "receiver=mx.ours.test" in outcome["received_spf"]


def test_null_sender_and_helo_identity_check_the_helo_name(postamt_binary, dns):
    for extra in ([], ["--mail-from", "alice@example.test", "--identity", "helo"]):
        run = run_postamt("check", "spf", "--ip", "192.0.2.99", "--helo", "mx.example.test", *extra,
                          "--dns-server", dns.address, "--json", binary=postamt_binary)
        assert run.returncode == 0, run.stderr
        outcome = json.loads(run.stdout)
        assert outcome["identity"] == "helo"
        assert outcome["sender"] == "postmaster@mx.example.test"
        assert outcome["result"] == "softfail"
        assert "identity=helo" in outcome["received_spf"]


def test_batch_from_standard_input_in_order(postamt_binary, dns):
    lines = [json.dumps({"id": "a", "ip": "192.0.2.25", "helo": "h.test", "mail_from": "x@example.test"}),
             "this is not json",
             json.dumps({"id": 7, "ip": "192.0.2.26", "helo": "h.test", "mail_from": "x@example.test"}),
             json.dumps({"id": "none", "ip": "192.0.2.26", "helo": "h.test", "mail_from": "x@nowhere.test"})]
    run = run_postamt("check", "spf", "--batch", "-", "--dns-server", dns.address,
                      input="\n".join(lines) + "\n", binary=postamt_binary)
    assert run.returncode == 0, run.stderr
    out = [json.loads(line) for line in run.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", None, 7, "none"]
    assert [o.get("result") for o in out] == ["pass", None, "fail", "none"]
    assert "error" in out[1]


def test_errors(postamt_binary, tmp_path):
    missing = run_postamt("check", "spf", "--ip", "192.0.2.1", binary=postamt_binary)
    assert missing.returncode == 1
    assert "--helo" in missing.stderr
    bad_config = tmp_path / "bad.toml"
    bad_config.write_text("[dns]\nservers = 5\n")
    invalid = run_postamt("--config", str(bad_config), "check", "spf", "--ip", "192.0.2.1", "--helo", "h.test",
                          binary=postamt_binary)
    assert invalid.returncode == 2
    bad_server = run_postamt("check", "spf", "--ip", "192.0.2.1", "--helo", "h.test", "--dns-server", "not a server",
                             binary=postamt_binary)
    assert bad_server.returncode == 1
    assert bad_server.stderr.startswith("postamt: error:")
