"""docs/alerts.yml (issue 15 §8): Prometheus' own promtool checks the rules and runs their
unit tests (tests/data/alerts_test.yml), every alert has a test that fires it and one that
must not, and every metric (and label value) the rules use is in a real server's /metrics,
whose exposition promtool's linter accepts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from harness import metric_samples, metrics_text, wait_for
from peers.base import unavailable

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "docs" / "alerts.yml"
RULE_TESTS = ROOT / "tests" / "data" / "alerts_test.yml"

pytestmark = pytest.mark.skipif(unavailable({"promtool": "prometheus"}) is not None,
                                reason=str(unavailable({"promtool": "prometheus"})))

# Series Prometheus makes itself for every target (not the server's).
PROMETHEUS_SERIES = {"up"}

PROMQL_WORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
                "bool", "offset"}


def promtool(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], input=input, capture_output=True, text=True, timeout=120,
                          cwd=ROOT)


def alert_rules() -> list[dict]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def selectors(expr: str) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """The metric selectors of a PromQL expression: (metric name, [(label, op, value)])."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', lambda m: m.group(0).replace("(", " ").replace(")", " "), expr)
    # Grouping clauses name labels, not metrics.
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    found = []
    for match in re.finditer(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?(\s*\()?", text):
        name, braces, call = match.group(1), match.group(2), match.group(3)
        start = match.start()
        if call or name in PROMQL_WORDS:
            continue
        if start > 0 and (text[start - 1].isdigit() or text[start - 1] in "[."):
            continue  # a duration (10m) or part of a number (2e9)
        if re.fullmatch(r"\d+[smhdwy]", name):
            continue
        matchers = re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"', braces or "")
        found.append((name, matchers))
    return found


def test_selectors_are_parsed():
    parsed = selectors('sum without (reason) (rate(postamt_a_total{filter="x",kind=~"b|c"}[10m])) '
                       '/ sum by (instance) (postamt_b) > 0.5 and up{job="postamt"} == 0')
    assert parsed == [("postamt_a_total", [("filter", "=", "x"), ("kind", "=~", "b|c")]),
                      ("postamt_b", []), ("up", [("job", "=", "postamt")])]


def test_promtool_check_rules():
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    rules = alert_rules()
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout, result.stdout
    # Each alert tells the operator how bad and what to do.
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert "docs/OPERATIONS.md" in rule["annotations"]["description"], rule["alert"]


def test_promtool_unit_tests_pass_and_cover_every_alert():
    result = promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout, result.stdout

    fires: set[str] = set()
    stays_quiet: set[str] = set()
    for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for check in test.get("alert_rule_test", []):
            (fires if check.get("exp_alerts") else stays_quiet).add(check["alertname"])
    names = {rule["alert"] for rule in alert_rules()}
    assert len(names) >= 5
    assert names - fires == set(), "alerts no test fires"
    assert names - stays_quiet == set(), "alerts without a case that must not fire"
    assert (fires | stays_quiet) - names == set(), "tests of alerts that do not exist"


def test_every_metric_of_the_rules_is_exported(start_server):
    used = [selector for rule in alert_rules() for selector in selectors(rule["expr"])]
    names = {name for name, _ in used}
    assert {"postamt_security_holds_active", "postamt_filter_failures_total", "postamt_queue_messages",
            "postamt_data_free_floor_bytes"} <= names, names
    assert all(name.startswith("postamt_") or name in PROMETHEUS_SERIES for name in names), names

    # A filter configured (an rspamd and a milter that are not there): their counters are
    # exported at 0 before any message, like every counter the rules watch.
    server = start_server(extra_text='[filter.rspamd]\nurl = "http://127.0.0.1:1"\n\n'
                                     '[[filter.milter]]\nname = "absent"\naddress = "inet:127.0.0.1:1"\n')
    def started_metrics() -> str | None:  # the listeners' series come with the start time
        text = metrics_text(server)
        return text if "\npostamt_start_time_seconds " in text else None

    text = wait_for(started_metrics, timeout=20, message="postamt_start_time_seconds in /metrics")

    families = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.MULTILINE))
    for name, matchers in used:
        if name in PROMETHEUS_SERIES:
            continue
        assert name in families, f"{name} is not in /metrics:\n{text}"
        if name.endswith("_total"):
            assert families[name] == "counter", name
        samples = metric_samples(text, name)
        assert samples, f"{name} has no series yet:\n{text}"
        for label, op, value in matchers:
            values = {found.get(label) for found, _ in samples}
            wanted = value.split("|") if op == "=~" else [value]
            for one in wanted:
                assert one in values, f'{name}{{{label}{op}"{value}"}}: no series with {label}="{one}" ({values})'

    # The filter series the filter alerts divide are there for the configured filters.
    for filter_name in ("rspamd", "milter:absent"):
        assert [v for labels, v in metric_samples(text, "postamt_filter_failures_total")
                if labels.get("filter") == filter_name and labels.get("reason") == "connect"] == [0]
        assert [v for labels, v in metric_samples(text, "postamt_filter_verdicts_total")
                if labels.get("filter") == filter_name and labels.get("action") == "accept"] == [0]
    assert [v for labels, v in metric_samples(text, "postamt_security_events_total")
            if labels.get("kind") == "ban"] == [0]
    assert {labels["reason"] for labels, v in metric_samples(text, "postamt_security_holds_total") if v == 0} >= {
        "messages_per_hour", "burst", "bounces", "logins"}

    lint = promtool("check", "metrics", input=text)
    assert lint.returncode == 0, lint.stdout + lint.stderr
