"""POP3 (RFC 1939, CAPA/RESP-CODES RFC 2449, STLS RFC 2595, AUTH RFC 5034) with poplib,
fetchmail and getmail6 against a real server; mail goes in over SMTP (smtplib).

The store is read with the CLI (`postamt debug mailbox|message`).
"""

from __future__ import annotations

import base64
import os
import poplib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from harness import (
    mailbox_listing,
    message,
    provision,
    send_transaction,
    smtplib_client,
    stored_messages,
    unverified_tls_context,
)

ALICE = "alice@example.test"


# --------------------------------------------------------------------------------------
# helpers (kept here: harness.py is shared)
# --------------------------------------------------------------------------------------

def deliver(server, subject: str, body: bytes = b"Hello.\r\n", to: str = ALICE) -> bytes:
    """Sends one message over SMTP to the smtp listener; returns what was sent."""
    sent = message(subject, body, to=to)
    client = smtplib_client(server, "smtp")
    code, reply = send_transaction(client, "sender@example.org", [to], sent)
    assert code == 250, (code, reply)
    client.quit()
    return sent


def connect(server, mode: str) -> poplib.POP3:
    """mode: "stls" (pop3 + STLS), "pop3s" (implicit TLS) or "plain"."""
    if mode == "pop3s":
        host, port = server.address("pop3s")
        return poplib.POP3_SSL(host, port, timeout=30, context=unverified_tls_context())
    host, port = server.address("pop3")
    client = poplib.POP3(host, port, timeout=30)
    if mode == "stls":
        client.stls(context=unverified_tls_context())
    return client


def login(server, mode: str = "stls", user: str = ALICE, password: str = "pw-alice") -> poplib.POP3:
    client = connect(server, mode)
    client.user(user)
    reply = client.pass_(password)
    assert reply.startswith(b"+OK"), reply
    return client


def retr_bytes(client: poplib.POP3, number: int) -> bytes:
    """The message as RETR sent it, dot-unstuffed by poplib, CRLF restored."""
    _, lines, _ = client.retr(number)
    return b"".join(line + b"\r\n" for line in lines)


def uidl_map(client: poplib.POP3) -> dict[int, str]:
    _, lines, _ = client.uidl()
    out = {}
    for line in lines:
        number, uid = line.decode().split()
        out[int(number)] = uid
    return out


def list_map(client: poplib.POP3) -> dict[int, int]:
    _, lines, _ = client.list()
    return {int(n): int(s) for n, s in (line.decode().split() for line in lines)}


class RawPop:
    """A line client for what poplib cannot say (pipelining, AUTH, odd commands)."""

    def __init__(self, server, mode: str = "stls"):
        host, port = server.address("pop3s" if mode == "pop3s" else "pop3")
        sock = socket.create_connection((host, port), timeout=30)
        if mode == "pop3s":
            sock = unverified_tls_context().wrap_socket(sock, server_hostname="mail.example.test")
        self.sock = sock
        self.buffer = b""
        assert self.line().startswith(b"+OK")
        if mode == "stls":
            self.send(b"STLS\r\n")
            assert self.line().startswith(b"+OK")
            self.sock = unverified_tls_context().wrap_socket(self.sock, server_hostname="mail.example.test")
            self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                out, self.buffer = self.buffer, b""
                return out
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def multiline(self) -> list[bytes]:
        lines = []
        while (line := self.line()) != b".":
            lines.append(line)
        return lines

    def close(self) -> None:
        self.sock.close()


# --------------------------------------------------------------------------------------
# every command, over STLS and implicit TLS
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["stls", "pop3s"])
def test_every_command(server, mode):
    provision(server, ["alice"])
    bodies = [b"One.\r\n",
              b".starts with a dot\r\n..two dots\r\n.\r\nafter a lone dot\r\n",
              b"".join(b"line %d\r\n" % i for i in range(1, 21))]
    for i, body in enumerate(bodies):
        deliver(server, f"message {i + 1}", body)
    stored = stored_messages(server, ALICE)
    assert len(stored) == 3

    client = connect(server, mode)
    capa = client.capa()
    for capability in ("TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "EXPIRE", "USER", "SASL",
                       "IMPLEMENTATION"):
        assert capability in capa, capa
    assert capa["SASL"] == ["PLAIN", "LOGIN"]
    assert capa["EXPIRE"] == ["NEVER"]
    assert "STLS" not in capa  # TLS is already on
    client.user(ALICE)
    client.pass_("pw-alice")
    assert "USER" not in client.capa()  # TRANSACTION state: no login capabilities

    count, total = client.stat()
    assert count == 3 and total == sum(len(m) for m in stored)
    sizes = list_map(client)
    assert sizes == {i + 1: len(m) for i, m in enumerate(stored)}
    assert client.list(2) == b"+OK 2 %d" % len(stored[1])
    for number in (1, 2, 3):
        got = retr_bytes(client, number)
        assert got == stored[number - 1]
        assert len(got) == sizes[number]  # LIST size == the octets RETR sends (unstuffed)
    uids = uidl_map(client)
    assert len(set(uids.values())) == 3
    assert client.uidl(3) == f"+OK 3 {uids[3]}".encode()

    # TOP n: the header, the blank line and n body lines (RFC 1939 §7)
    _, lines, _ = client.top(3, 5)
    header, _, body = stored[2].partition(b"\r\n\r\n")
    assert b"\r\n".join(lines) == header + b"\r\n\r\n" + b"\r\n".join(body.split(b"\r\n")[:5])
    _, lines, _ = client.top(2, 0)
    assert lines[-1] == b"" and b"\r\n".join(lines[:-1]) == stored[1].partition(b"\r\n\r\n")[0]

    assert client.noop().startswith(b"+OK")
    assert client.dele(1).startswith(b"+OK")
    with pytest.raises(poplib.error_proto):
        client.retr(1)
    with pytest.raises(poplib.error_proto):
        client.dele(1)
    assert client.stat() == (2, len(stored[1]) + len(stored[2]))
    assert 1 not in list_map(client)
    assert client.rset().startswith(b"+OK")
    assert client.stat()[0] == 3
    assert client.dele(2).startswith(b"+OK")
    with pytest.raises(poplib.error_proto):
        client.retr(4)
    reply = client.quit()
    assert reply.startswith(b"+OK"), reply

    left = mailbox_listing(server, ALICE)
    assert len(left) == 2
    assert stored_messages(server, ALICE) == [stored[0], stored[2]]


def test_large_message_streams_in_pieces(server):
    """Bigger than one blob read (256 KiB): RETR streams it piece by piece, dots intact."""
    provision(server, ["alice"])
    body = b"".join(b".%06d dotted line that goes on for a while to fill the message up\r\n" % i
                    for i in range(12000))
    deliver(server, "large", body)
    [stored] = stored_messages(server, ALICE)
    assert len(stored) > 3 * 256 * 1024
    client = login(server, "pop3s")
    assert list_map(client) == {1: len(stored)}
    assert retr_bytes(client, 1) == stored
    _, lines, _ = client.top(1, 2)
    assert lines[-2:] == [b".000000 dotted line that goes on for a while to fill the message up",
                          b".000001 dotted line that goes on for a while to fill the message up"]
    client.quit()


@pytest.mark.parametrize("mode", ["stls", "pop3s"])
def test_auth_plain_and_login(server, mode):
    provision(server, ["alice"])
    deliver(server, "auth")
    raw = RawPop(server, mode)
    token = base64.b64encode(b"\0" + ALICE.encode() + b"\0pw-alice")
    raw.send(b"AUTH PLAIN " + token + b"\r\n")
    assert raw.line().startswith(b"+OK")
    raw.send(b"STAT\r\nQUIT\r\n")
    assert raw.line().startswith(b"+OK 1 ")
    assert raw.line().startswith(b"+OK")
    raw.close()

    raw = RawPop(server, mode)
    raw.send(b"AUTH LOGIN\r\n")
    assert raw.line().startswith(b"+ ")
    raw.send(base64.b64encode(ALICE.encode()) + b"\r\n")
    assert raw.line().startswith(b"+ ")
    raw.send(base64.b64encode(b"pw-alice") + b"\r\n")
    assert raw.line().startswith(b"+OK")
    raw.send(b"QUIT\r\n")
    assert raw.line().startswith(b"+OK")
    raw.close()

    raw = RawPop(server, mode)
    raw.send(b"AUTH PLAIN\r\n")
    assert raw.line().startswith(b"+ ")
    raw.send(b"*\r\n")
    assert raw.line().startswith(b"-ERR")
    raw.send(b"AUTH PLAIN " + base64.b64encode(b"\0" + ALICE.encode() + b"\0wrong") + b"\r\n")
    assert raw.line().startswith(b"-ERR [AUTH]")
    raw.close()


def test_pipelined_commands_are_answered_in_order(server):
    provision(server, ["alice"])
    for i in range(3):
        deliver(server, f"pipelined {i}")
    stored = stored_messages(server, ALICE)
    raw = RawPop(server, "stls")
    raw.send(f"USER {ALICE}\r\nPASS pw-alice\r\nSTAT\r\nRETR 1\r\nLIST\r\nDELE 3\r\nUIDL 3\r\nBOGUS\r\nQUIT\r\n"
             .encode())
    assert raw.line().startswith(b"+OK")
    assert raw.line().startswith(b"+OK Logged in")
    assert raw.line() == b"+OK 3 %d" % sum(len(m) for m in stored)
    assert raw.line() == b"+OK %d octets" % len(stored[0])
    assert b"".join(line + b"\r\n" for line in raw.multiline()) == stored[0]
    assert raw.line().startswith(b"+OK")
    assert len(raw.multiline()) == 3
    assert raw.line().startswith(b"+OK")
    assert raw.line().startswith(b"-ERR")
    assert raw.line().startswith(b"-ERR Unknown command")
    assert raw.line().startswith(b"+OK")
    raw.close()
    assert len(mailbox_listing(server, ALICE)) == 2


# --------------------------------------------------------------------------------------
# the maildrop: UIDL, deletion, locking, snapshot
# --------------------------------------------------------------------------------------

def test_uidl_stable_across_logins_and_deletions(server):
    provision(server, ["alice"])
    for i in range(4):
        deliver(server, f"uidl {i}")
    client = login(server)
    first = uidl_map(client)
    client.quit()
    client = login(server, "pop3s")
    assert uidl_map(client) == first
    client.dele(2)
    client.quit()
    client = login(server)
    after = uidl_map(client)
    assert list(after.values()) == [first[1], first[3], first[4]]
    client.quit()
    deliver(server, "uidl new")
    client = login(server)
    newest = uidl_map(client)
    assert list(newest.values())[:3] == list(after.values())
    assert newest[4] not in first.values()  # never reused
    client.quit()


def test_dele_quit_removes_and_drop_keeps(server):
    provision(server, ["alice"])
    for i in range(3):
        deliver(server, f"dele {i}")
    before = mailbox_listing(server, ALICE)
    client = login(server)
    client.dele(1)
    client.dele(3)
    client.close()  # dropped without QUIT (poplib's close() sends nothing): nothing is deleted
    time.sleep(0.5)
    assert mailbox_listing(server, ALICE) == before

    client = login(server)  # the lock went with the dropped session
    client.dele(1)
    client.dele(3)
    assert client.quit().startswith(b"+OK")
    after = mailbox_listing(server, ALICE)
    assert [m.uid for m in after] == [before[1].uid]


def test_second_session_gets_in_use(server):
    provision(server, ["alice", "bob"])
    deliver(server, "locked")
    first = login(server)
    second = connect(server, "pop3s")
    second.user(ALICE)
    with pytest.raises(poplib.error_proto) as refused:
        second.pass_("pw-alice")
    assert str(refused.value).startswith("b'-ERR [IN-USE]")
    # Another account is not affected.
    other = login(server, "pop3s", "bob@example.test", "pw-bob")
    other.quit()
    second.quit()
    first.quit()
    again = login(server, "pop3s")
    assert again.stat()[0] == 1
    again.quit()


def test_message_delivered_during_session_waits_for_next_login(server):
    provision(server, ["alice"])
    deliver(server, "before")
    client = login(server)
    assert client.stat()[0] == 1
    deliver(server, "during")
    assert len(mailbox_listing(server, ALICE)) == 2
    assert client.stat()[0] == 1
    assert list(list_map(client)) == [1]
    with pytest.raises(poplib.error_proto):
        client.retr(2)
    client.dele(1)
    client.quit()
    client = login(server)
    assert client.stat()[0] == 1
    assert b"Subject: during" in retr_bytes(client, 1)
    client.quit()


# --------------------------------------------------------------------------------------
# authentication policy
# --------------------------------------------------------------------------------------

def test_bad_passwords_are_delayed_and_throttled(start_server):
    server = start_server(auth={"max_failures_per_ip": 3, "failure_delay_ms": 300, "lockout_seconds": 60})
    provision(server, ["alice"])
    for n in range(3):
        client = connect(server, "stls")
        client.user(ALICE)
        started = time.monotonic()
        with pytest.raises(poplib.error_proto) as refused:
            client.pass_(f"wrong-{n}")  # distinct: a repeated password counts once
        assert time.monotonic() - started >= 0.25
        assert str(refused.value).startswith("b'-ERR [AUTH]")
        client.quit()
    client = connect(server, "stls")
    client.user(ALICE)
    with pytest.raises(poplib.error_proto) as refused:
        client.pass_("pw-alice")  # the right password, but the IP is locked out
    assert "[SYS/TEMP]" in str(refused.value) and "too many" in str(refused.value).lower()
    client.quit()
    # The server keeps serving (here: greeting and CAPA).
    assert "TOP" in connect(server, "pop3s").capa()


def test_passwords_refused_without_tls(start_server):
    server = start_server(auth={"allow_plaintext_without_tls": False})
    provision(server, ["alice"])
    client = connect(server, "plain")
    capa = client.capa()
    assert "STLS" in capa and "USER" not in capa and "SASL" not in capa
    with pytest.raises(poplib.error_proto) as refused:
        client.user(ALICE)
    assert b"TLS" in str(refused.value).encode()
    with pytest.raises(poplib.error_proto):
        client._shortcmd("AUTH PLAIN " + base64.b64encode(b"\0" + ALICE.encode() + b"\0pw-alice").decode())
    client.stls(context=unverified_tls_context())
    capa = client.capa()
    assert "USER" in capa and "STLS" not in capa
    client.user(ALICE)
    assert client.pass_("pw-alice").startswith(b"+OK")
    client.quit()


def test_stls_discards_pipelined_commands(start_server):
    server = start_server(auth={"allow_plaintext_without_tls": False})
    provision(server, ["alice"])
    host, port = server.address("pop3")
    sock = socket.create_connection((host, port), timeout=30)
    assert sock.recv(100).startswith(b"+OK")
    sock.sendall(b"STLS\r\nCAPA\r\n")  # CAPA rides in before the handshake
    reply = b""
    while not reply.endswith(b"\r\n"):
        reply += sock.recv(1)
    assert reply.startswith(b"+OK")
    tls = unverified_tls_context().wrap_socket(sock, server_hostname="mail.example.test")
    tls.sendall(b"STAT\r\n")
    assert tls.recv(100).startswith(b"-ERR Not logged in")  # STAT answered; CAPA was dropped
    tls.close()


def test_hostile_lines(server):
    raw = RawPop(server, "stls")
    raw.send(b"USER " + b"a" * 300 + b"\r\n")
    assert raw.line() == b"-ERR Line too long"
    raw.send(b"x" * 100_000 + b"\r\nCAPA\r\n")
    assert raw.line() == b"-ERR Line too long"
    assert raw.line().startswith(b"+OK Capability")
    raw.multiline()
    raw.send(b"RETR 1\r\n")
    assert raw.line().startswith(b"-ERR Not logged in")
    raw.close()


# --------------------------------------------------------------------------------------
# real clients: fetchmail and getmail6
# --------------------------------------------------------------------------------------

MDA_SCRIPT = """#!/bin/sh
# Stores one message from stdin as a new numbered file.
dir="$1"
n=$(ls "$dir" | wc -l)
cat > "$dir/$(printf %04d $((n + 1)))"
"""


def fetchmail(server, tmp: Path, keep: bool) -> subprocess.CompletedProcess:
    out = tmp / "out"
    out.mkdir(exist_ok=True)
    mda = tmp / "mda.sh"
    mda.write_text(MDA_SCRIPT)
    mda.chmod(0o755)
    host, port = server.address("pop3s")
    rc = tmp / "fetchmailrc"
    rc.write_text(
        f'poll {host} service {port} protocol POP3 uidl\n'
        f'  user "{ALICE}" there with password "pw-alice" is "root" here\n'
        f'  ssl no sslcertck {"keep" if keep else "nokeep"} fetchall no stripcr\n'
        f'  mda "{mda} {out}"\n')
    rc.chmod(0o600)
    env = dict(os.environ, HOME=str(tmp), FETCHMAILHOME=str(tmp))
    return subprocess.run(["fetchmail", "-f", str(rc), "--nosyslog", "--invisible", "-d0", "-v",
                           "--pidfile", str(tmp / "fetchmail.pid"), "--idfile", str(tmp / "fetchids")],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.skipif(shutil.which("fetchmail") is None, reason="Debian fetchmail is not installed")
@pytest.mark.parametrize("keep", [True, False])
def test_fetchmail_pulls_byte_identical_copies(server, tmp_path, keep):
    provision(server, ["alice"])
    for i in range(3):
        deliver(server, f"fetchmail {i}", b".dot\r\nline\r\n" * (i + 1))
    stored = stored_messages(server, ALICE)
    done = fetchmail(server, tmp_path, keep)
    assert done.returncode == 0, done.stdout + done.stderr
    copies = [p.read_bytes() for p in sorted((tmp_path / "out").iterdir())]
    assert copies == stored
    assert len(mailbox_listing(server, ALICE)) == (3 if keep else 0)


@pytest.mark.skipif(shutil.which("getmail") is None, reason="Debian getmail6 is not installed")
@pytest.mark.parametrize("keep", [True, False])
def test_getmail_pulls_identical_copies(server, tmp_path, keep):
    provision(server, ["alice"])
    for i in range(3):
        deliver(server, f"getmail {i}", b".dot\r\nline\r\n" * (i + 1))
    stored = stored_messages(server, ALICE)
    # getmail refuses to deliver as root: as root, deliver as nobody into a Maildir that
    # nobody can reach (pytest's tmp_path is private to root).
    as_root = os.geteuid() == 0
    base = Path(tempfile.mkdtemp(prefix="postamt-getmail-"))
    base.chmod(0o755)
    maildir = base / "Maildir"
    for sub in ("", "cur", "new", "tmp"):
        (maildir / sub).mkdir(exist_ok=True)
        if as_root:
            shutil.chown(maildir / sub, "nobody")
    host, port = server.address("pop3s")
    rc = tmp_path / "getmailrc"
    rc.write_text(
        "[retriever]\ntype = SimplePOP3SSLRetriever\n"
        f"server = {host}\nport = {port}\nusername = {ALICE}\npassword = pw-alice\n"
        "[destination]\ntype = Maildir\n"
        f"path = {maildir}/\n" + ("user = nobody\n" if as_root else "") +
        "[options]\nread_all = true\n"
        f"delete = {'false' if keep else 'true'}\n"
        "delivered_to = false\nreceived = false\nverbose = 2\n")
    try:
        done = subprocess.run(["getmail", f"--getmaildir={tmp_path}", f"--rcfile={rc}"],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "error" not in done.stdout.lower() + done.stderr.lower(), done.stdout + done.stderr
        copies = sorted(p.read_bytes() for p in (maildir / "new").iterdir())
    finally:
        shutil.rmtree(base, ignore_errors=True)
    # Maildir holds messages with LF line ends (getmail converts); otherwise identical.
    assert copies == sorted(m.replace(b"\r\n", b"\n") for m in stored)
    assert len(mailbox_listing(server, ALICE)) == (3 if keep else 0)
