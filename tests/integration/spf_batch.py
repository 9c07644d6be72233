"""Runs SPF checks through `postamt check spf --batch` (one process for many checks)."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path


def run_spf_batch(binary: Path, dns_address: str, cases: list[dict], timeout_ms: int = 300) -> list[dict]:
    """cases: dicts with ip, helo, mail_from (and optional identity, receiver, id).
    Returns one result dict per case, in order."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as batch:
        for index, case in enumerate(cases):
            batch.write(json.dumps({"id": index, **case}) + "\n")
        path = batch.name
    try:
        run = subprocess.run([str(binary), "check", "spf", "--batch", path, "--dns-server", dns_address,
                              "--dns-timeout-ms", str(timeout_ms), "--receiver", "receiver.test"],
                             capture_output=True, text=True, timeout=300)
    finally:
        Path(path).unlink()
    assert run.returncode == 0, run.stderr
    results = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    assert [r["id"] for r in results] == list(range(len(cases))), run.stdout
    return results
