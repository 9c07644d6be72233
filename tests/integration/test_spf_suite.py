"""The RFC 7208 test suite (openspf.org, release 2014.04; tests/data/spf/rfc7208-tests.yml),
every case, through the built server's `postamt check spf --batch`, each scenario's zone
served by a private DNS server (tests/peers/dns_zone.py).

The suite's zones are written for its Python driver (pyspf's testspf.py), and are served
the way that driver serves them:
- "SPF" records (type 99, dropped by RFC 7208 §3.1) are served as TXT records when the name
  has no TXT record of its own, after its other records; never as type 99.
- "TXT: NONE" / "SPF: NONE" stand for no record.
- "TIMEOUT" is positional: a query for a type with no record listed before it is never
  answered (ZoneServer's ("TIMEOUT", None) entry).
A result given as a list accepts any of them; an explanation "DEFAULT" means the default
explanation (no usable exp=), any other is compared exactly.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from peers.dns_zone import ZoneServer
from spf_batch import run_spf_batch

SUITE = Path(__file__).resolve().parent.parent / "data" / "spf" / "rfc7208-tests.yml"
SCENARIOS = list(yaml.safe_load_all(SUITE.read_text()))


def zone_for(zonedata: dict) -> dict:
    zone = {}
    for name, records in zonedata.items():
        entries, generated_txt = [], []
        has_txt = any(isinstance(r, dict) and "TXT" in r for r in records)
        for record in records:
            if record == "TIMEOUT":
                entries.append(("TIMEOUT", None))
                continue
            (rtype, value), = record.items()
            if value == "NONE":
                continue
            if rtype == "SPF":
                if not has_txt:
                    generated_txt.append(("TXT", value))
                continue
            if rtype == "MX":
                value = (value[0], value[1])
            entries.append((rtype, value))
        zone[name] = entries + generated_txt
    return zone


CASES = [(index, name) for index, scenario in enumerate(SCENARIOS) for name in scenario["tests"]]


@pytest.fixture(scope="module")
def suite_results(postamt_binary):
    """Every scenario's cases in one batch each, against that scenario's zone."""
    results = {}
    for index, scenario in enumerate(SCENARIOS):
        names = list(scenario["tests"])
        cases = [{"ip": str(t["host"]), "helo": str(t.get("helo", "")), "mail_from": str(t.get("mailfrom", ""))}
                 for t in (scenario["tests"][n] for n in names)]
        with ZoneServer(zone_for(scenario["zonedata"])) as dns:
            for name, outcome in zip(names, run_spf_batch(postamt_binary, dns.address, cases)):
                results[(index, name)] = outcome
    return results


@pytest.mark.parametrize("index,name", CASES, ids=[f"{SCENARIOS[i]['description']}/{n}" for i, n in CASES])
def test_rfc7208_case(suite_results, index, name):
    case = SCENARIOS[index]["tests"][name]
    outcome = suite_results[(index, name)]
    expected = case["result"] if isinstance(case["result"], list) else [case["result"]]
    assert outcome["result"] in expected, (
        f"{name} ({case.get('spec')}): {case.get('description', '').strip()}\n"
        f"expected {expected}, got {outcome}")
    if "explanation" in case:
        if case["explanation"] == "DEFAULT":
            assert not outcome["explanation_from_record"], outcome
        else:
            assert outcome["explanation"] == case["explanation"], outcome
