"""The benchmark harness works: `bench/run.py --quick` runs every workload once at a tiny size
against Postamt and a private Postfix + Dovecot (and, for smtp_auth, Postamt verifying
sender authentication against Postfix + OpenDKIM + OpenDMARC; for smtp_rspamd, Postamt
asking a private rspamd against Postfix with that rspamd's milter proxy), and prints the table.

Never asserts a speed figure (docs/benchmarks.md has those); only that each workload
produced a number for both sides and the table and the JSON were written. Uses the release
binary when POSTAMT_RELEASE_BINARY is set (as `make test` does), else POSTAMT_BINARY.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from harness import binary_path, release_binary_path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from auth_lab import auth_unavailable  # noqa: E402
from lab import peer_unavailable  # noqa: E402
from spam_lab import spam_unavailable  # noqa: E402

WORKLOADS = ["smtp_4k_c1", "smtp_4k_c10", "smtp_4k_c50", "smtp_64k_c1", "smtp_64k_c10", "smtp_64k_c50",
             "smtp_readable", "imap_c1", "imap_c20", "pop3_c1", "pop3_c20", "idle"]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(320),
              pytest.mark.skipif(peer_unavailable() is not None, reason=str(peer_unavailable()))]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One `bench/run.py --quick` for the tests below: (its output, its results directory)."""
    binary = release_binary_path() or binary_path()
    results = tmp_path_factory.mktemp("bench") / "results"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--binary", str(binary),
                           "--results", str(results)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"bench/run.py --quick failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done, results


def test_quick_benchmark_runs_every_workload_against_both_sides(quick_run):
    done, results = quick_run
    assert "| workload | metric | Postamt | Postfix/Dovecot |" in done.stdout, done.stdout[-3000:]
    documents = list(results.glob("*.json"))
    assert len(documents) == 1, list(results.iterdir())
    assert len(list(results.glob("*.md"))) == 1
    document = json.loads(documents[0].read_text())
    rows = document["rows"]
    for workload in WORKLOADS:
        mine = [r for r in rows if r["workload"] == workload]
        assert mine, f"no figures for {workload}"
        # Each workload's first metric (its rate or its main latency) has a number on both sides.
        first = mine[0]
        for side in ("postamt", "peer"):
            assert isinstance(first[side], (int, float)) and not math.isnan(first[side]), (workload, side, first)
    assert {c["workload"] for c in document["ceiling"]} == {"smtp_4k_c50", "imap_c20", "pop3_c20"}
    assert document["machine"]["cpus"] >= 1


@pytest.mark.skipif(auth_unavailable() is not None, reason=f"smtp_auth workloads: {auth_unavailable()}")
def test_quick_benchmark_measures_verified_mail_on_both_sides(quick_run):
    """smtp_auth_c1 and smtp_auth_c50 ran against both sides, and what each side stored was
    checked to carry its own spf=pass, dkim=pass and dmarc=pass (the run fails otherwise)."""
    done, results = quick_run
    assert "a message failing DMARC was refused with 550 by postamt, peer" in done.stdout, done.stdout[-3000:]
    rows = json.loads(next(results.glob("*.json")).read_text())["rows"]
    for workload in ("smtp_auth_c1", "smtp_auth_c50"):
        mine = {r["metric"]: r for r in rows if r["workload"] == workload}
        assert "messages/s" in mine, f"no figures for {workload}"
        checked = mine["stored messages checked: spf+dkim+dmarc pass"]
        for side in ("postamt", "peer"):
            assert mine["messages/s"][side] > 0, (workload, side)
            assert checked[side] >= 1, (workload, side, checked)


@pytest.mark.skipif(spam_unavailable() is not None, reason=f"smtp_rspamd workloads: {spam_unavailable()}")
def test_quick_benchmark_measures_rspamd_scanned_mail_on_both_sides(quick_run):
    """smtp_rspamd_c1 and smtp_rspamd_c50 ran against both sides, each refused GTUBE with a
    5xx, and what each side stored carried rspamd's X-Spamd-Result (the run fails otherwise)."""
    done, results = quick_run
    assert "GTUBE refused by postamt '550 5.7.1" in done.stdout, done.stdout[-3000:]
    assert "; peer '5" in done.stdout, done.stdout[-3000:]
    rows = json.loads(next(results.glob("*.json")).read_text())["rows"]
    for workload in ("smtp_rspamd_c1", "smtp_rspamd_c50"):
        mine = {r["metric"]: r for r in rows if r["workload"] == workload}
        assert "messages/s" in mine, f"no figures for {workload}"
        checked = mine["stored messages checked: rspamd result"]
        for side in ("postamt", "peer"):
            assert mine["messages/s"][side] > 0, (workload, side)
            assert checked[side] >= 1, (workload, side, checked)
            assert mine["rspamd CPU in the window"][side] > 0, (workload, side)
