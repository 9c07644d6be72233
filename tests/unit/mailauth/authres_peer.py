#!/usr/bin/python3
"""The other side for the Authentication-Results tests: Debian's python3-authres.

  authres_peer.py read    stdin: NUL-separated whole fields ("Authentication-Results: ...");
                          stdout: one JSON object per field as authres reads it
                          ({"authserv_id", "results": [[method, result, reason, [[ptype, property, value]...]]]}
                          or {"error": "..."}).
  authres_peer.py write   stdout: JSON list of [field text authres wrote, what it means].
"""
import json
import sys

import authres


def meaning(header):
    return {
        "authserv_id": header.authserv_id,
        "results": [
            [r.method, r.result, r.reason or "", [[p.type, p.name, p.value] for p in r.properties]]
            for r in header.results
        ],
    }


def read():
    out = []
    for field in sys.stdin.buffer.read().decode("utf-8", "replace").split("\0"):
        if not field:
            continue
        try:
            out.append(meaning(authres.AuthenticationResultsHeader.parse(field)))
        except Exception as e:  # noqa: BLE001 - the test reports whatever authres refused
            out.append({"error": f"{type(e).__name__}: {e}"})
    json.dump(out, sys.stdout)


def write():
    headers = [
        authres.AuthenticationResultsHeader(authserv_id="mx.example.org", results=[]),
        authres.AuthenticationResultsHeader(
            authserv_id="mx.example.org",
            results=[
                authres.SPFAuthenticationResult(result="pass", smtp_mailfrom="bounce@example.net"),
                authres.DKIMAuthenticationResult(result="fail", reason="bad signature",
                                                 header_d="example.net", header_i="@example.net"),
                authres.AuthenticationResult(
                    method="dmarc", result="fail", reason="no aligned identifier",
                    properties=[authres.AuthenticationResultProperty("header", "from", "bank.example"),
                                authres.AuthenticationResultProperty("policy", "dmarc", "reject")]),
                authres.IPRevAuthenticationResult(result="pass", policy_iprev="192.0.2.200"),
            ],
        ),
    ]
    json.dump([[str(h), meaning(h)] for h in headers], sys.stdout)


if __name__ == "__main__":
    {"read": read, "write": write}[sys.argv[1]]()
