"""Certificates for peers that offer TLS (openssl from Debian `openssl`)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def make_self_signed(cert: Path, key: Path, cn: str) -> None:
    """A self-signed P-256 certificate for cn (also its subjectAltName), valid 2 days."""
    done = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-subj", f"/CN={cn}", "-addext", f"subjectAltName=DNS:{cn}", "-days", "2",
         "-keyout", str(key), "-out", str(cert)],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"openssl req failed: {done.stderr}"
