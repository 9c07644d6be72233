#!/usr/bin/env python3
"""Resident memory of Postamt per idle IMAP connection (logged in, INBOX selected, IDLE).

    bench/idle_memory.py --binary build/postamt --connections 1000 [--tls]

Starts a private server in a temporary directory on loopback port-0 listeners, opens the
connections with non-blocking sockets (one client process; no thread per connection),
and prints the server's RSS before and after and the cost per connection. A measurement,
not a test: nothing here fails on a figure.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import selectors
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def start_server(binary: str, directory: Path, connections: int) -> tuple[subprocess.Popen, dict]:
    config = directory / "postamt.toml"
    listeners = "".join(f'[[listener]]\nprotocol = "{p}"\naddress = "127.0.0.1:0"\n\n'
                        for p in ("smtp", "imap", "imaps"))
    config.write_text(f"""[server]
hostname = "mail.example.test"
data_dir = "data"
ports_file = "ports.json"

[tls]
cert = "tls/cert.pem"
key = "tls/key.pem"
self_signed = true

[auth]
allow_plaintext_without_tls = true

[limits]
max_connections = {connections + 100}
max_connections_per_ip = {connections + 100}
max_unauthenticated_connections = {connections + 100}
max_unauthenticated_per_ip = {connections + 100}

[log]
level = "warn"

{listeners}""")
    def cli(*args: str, stdin: str | None = None) -> None:
        subprocess.run([binary, "--config", str(config), *args], input=stdin, text=True,
                       check=True, capture_output=True)
    cli("domain", "add", "example.test")
    cli("user", "add", "idle@example.test", "--password", "pw")
    server = subprocess.Popen([binary, "serve", "--config", str(config)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ports_file = directory / "ports.json"
    deadline = time.monotonic() + 30
    while not ports_file.exists():
        if time.monotonic() > deadline or server.poll() is not None:
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    time.sleep(0.2)
    return server, json.loads(ports_file.read_text())


def open_idle(address: tuple[str, int], count: int, tls: bool) -> list[socket.socket]:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    script = [b"a LOGIN idle@example.test pw\r\n", b"b SELECT INBOX\r\n", b"c IDLE\r\n"]
    done_marks = [b"a OK", b"b OK", b"+ "]
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(address)
        if tls:
            sock = context.wrap_socket(sock, server_hostname="mail.example.test")
        sock.settimeout(30)
        buffer = b""
        while b"\r\n" not in buffer:
            buffer += sock.recv(4096)
        for command, mark in zip(script, done_marks):
            sock.sendall(command)
            buffer = b""
            while mark not in buffer:
                chunk = sock.recv(65536)
                if not chunk:
                    raise RuntimeError("connection closed")
                buffer += chunk
        sockets.append(sock)
    return sockets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--tls", action="store_true", help="IMAPS instead of plain IMAP")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.connections + 1024), hard))
    with tempfile.TemporaryDirectory() as tmp:
        server, ports = start_server(args.binary, Path(tmp), args.connections)
        try:
            host, port = ports["imaps" if args.tls else "imap"][0].rsplit(":", 1)
            warm = open_idle((host, int(port)), 10, args.tls)  # first-use allocations
            time.sleep(0.5)
            before = rss_kib(server.pid)
            held = open_idle((host, int(port)), args.connections, args.tls)
            time.sleep(1.0)
            after = rss_kib(server.pid)
            per = (after - before) / args.connections
            print(f"connections={args.connections} tls={args.tls} rss_before_kib={before} "
                  f"rss_after_kib={after} per_connection_kib={per:.1f}")
            for sock in held + warm:
                sock.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
