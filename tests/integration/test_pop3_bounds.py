"""POP3 output under pipelining (issue 13 §2): a client that pipelines thousands of UIDL
and does not read must not make the server queue their answers. The session takes no
further command while more than 256 KiB of answers wait (ServerOptions::max_output_backlog),
so the rest wait in the socket, and all arrive once the client reads.

Figure (release build): 3,000 pipelined UIDL on a 300-message maildrop (~12 MB of answers):
RSS grows by < 6 MiB (the answers, 12 MB and more, were queued in memory before).
"""

from __future__ import annotations

import re
import socket
import time

import pytest

from harness import (
    imap_login,
    imap_ok,
    message,
    proc_status_kib,
    provision,
    release_binary_path,
)

MIB = 1024 * 1024
ALICE = "alice@example.test"
MESSAGES = 300
COMMANDS = 3000


def fill_maildrop(server, count: int) -> None:
    """count small messages into alice's INBOX, pipelined APPENDs with LITERAL+."""
    client = imap_login(server)
    try:
        batch = b""
        for i in range(count):
            literal = message(f"pop3 bounds {i}")
            batch += b"p%d APPEND INBOX {%d+}\r\n" % (i, len(literal)) + literal + b"\r\n"
        client.send(batch)
        for i in range(count):
            while True:
                line = client.text_line(timeout=60)
                if line.startswith(f"p{i} "):
                    assert " OK " in line, line
                    break
        imap_ok(client, "LOGOUT")
    finally:
        client.close()


def test_pipelined_uidl_flood_is_bounded(start_server):
    binary = release_binary_path()
    if binary is None:
        pytest.skip("POSTAMT_RELEASE_BINARY is not set: memory bounds are measured on the release build")
    server = start_server(binary=binary)
    provision(server, ["alice"])
    fill_maildrop(server, MESSAGES)

    client = server.connect("pop3", timeout=60)
    client.expect("+OK")
    client.send(f"USER {ALICE}\r\nPASS pw-alice\r\n")
    client.expect("+OK")
    reply = client.expect("+OK")
    assert f"{MESSAGES} messages" in reply, reply
    # A small receive buffer, so that the socket itself holds little of the answers.
    client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    before = max(proc_status_kib(server.pid, "VmRSS") for _ in range(3))
    client.send(b"UIDL\r\n" * COMMANDS + b"QUIT\r\n")
    peak = before
    for _ in range(100):  # 2 s without reading
        peak = max(peak, proc_status_kib(server.pid, "VmRSS"))
        time.sleep(0.02)
    growth = peak - before
    print(f"{COMMANDS} pipelined UIDL, {MESSAGES} messages: RSS baseline {before} KiB, growth {growth} KiB")
    assert growth < 6 * 1024, f"RSS grew by {growth} KiB while the client did not read"

    # Now read everything: every answer is there, complete and in order.
    data = bytearray()
    client.sock.settimeout(60)
    data += client.buffer
    while True:  # QUIT ends the session: read to the end
        chunk = client.sock.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    client.close()
    text = data.decode()
    answers = text.split("+OK Unique-ID listing follows\r\n")
    assert len(answers) == COMMANDS + 1, f"{len(answers) - 1} UIDL answers of {COMMANDS}"
    bye = f"+OK Bye (0 messages deleted, {MESSAGES} left)\r\n"
    assert answers[-1].endswith(bye), answers[-1][-200:]
    first = answers[1]
    listing = re.findall(r"^(\d+) (\S+)\r$", first, re.M)
    assert [int(n) for n, _ in listing] == list(range(1, MESSAGES + 1))
    assert first.endswith("\r\n.\r\n")
    assert all(answer == first for answer in answers[1:-1])
    assert answers[-1] == first + bye
