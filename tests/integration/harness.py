"""Helpers shared by the integration tests: starting the server, config files, raw clients.

The fixtures that use these live in conftest.py. Everything here is bounded in time: every
wait has a deadline, every socket a timeout, every child process is reaped.
"""

from __future__ import annotations

import email.utils
import json
import os
import re
import select
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

# The peer lab (tests/peers, on sys.path through conftest.py) makes the certificates.
from peers.tls import make_self_signed  # noqa: F401  (tests import it from here)

HOSTNAME = "mail.example.test"
PROTOCOLS = ("smtp", "submission", "submissions", "imap", "imaps", "pop3", "pop3s", "http")
IMPLICIT_TLS = ("submissions", "imaps", "pop3s")

# Patterns that fail a test when they show up in the server's log.
FATAL_LOG_PATTERNS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "LeakSanitizer has encountered a fatal error",
    "runtime error:",
    "session.exception",
)

SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}

STARTUP_TIMEOUT = 30.0  # the ASan build on a loaded 2-core CI box can be slow to start
CLI_TIMEOUT = 60.0
IO_TIMEOUT = 10.0


def binary_path() -> Path:
    return Path(os.environ.get("POSTAMT_BINARY", "/work/main/build-asan/postamt"))


def release_binary_path() -> Path | None:
    value = os.environ.get("POSTAMT_RELEASE_BINARY")
    return Path(value) if value else None


def server_env(extra_asan_options: str = "", extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(SANITIZER_ENV)
    if extra_asan_options:
        env["ASAN_OPTIONS"] = SANITIZER_ENV["ASAN_OPTIONS"] + ":" + extra_asan_options
    env.pop("POSTAMT_CONFIG", None)
    if extra:
        env.update(extra)
    return env


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 0.02,
             message: str = "condition") -> Any:
    """Polls predicate until it returns a truthy value; fails with message after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {message}")
        time.sleep(interval)


# --------------------------------------------------------------------------------------
# Configuration files
# --------------------------------------------------------------------------------------

def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string for our values
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):  # an inline table; keys quoted (they may hold dots)
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} as TOML")


def default_sections() -> dict[str, dict[str, Any]]:
    return {
        "server": {
            "hostname": HOSTNAME,
            "data_dir": "data",
            "ports_file": "ports.json",
            "shutdown_grace_seconds": 5,
        },
        "tls": {"cert": "tls/cert.pem", "key": "tls/key.pem", "self_signed": True},
        "auth": {"allow_plaintext_without_tls": True},
        # No test server asks the real DNS: nothing answers here, so outbound attempts fail
        # temporarily and queued mail stays queued (or deferred) until a test says otherwise.
        "dns": {"servers": ["127.0.0.1:1"], "timeout_seconds": 1},
        # Sender authentication needs answers from DNS, which these servers have none of:
        # tests of it turn it on with a zone of their own (test_mailauth_inbound.py).
        "mailauth": {"verify": False},
        "limits": {
            "max_connections": 10000,
            "max_connections_per_ip": 100,
            # Tests open many connections from 127.0.0.1 before logging in (or on SMTP,
            # which never does); test_slow_clients checks the lower default.
            "max_unauthenticated_per_ip": 100,
            "idle_timeout_seconds": 300,
            "max_line_length": 8192,
        },
        "log": {"level": "debug"},
        # Bans (issue 15 §7): tests fail logins and probe recipients from 127.0.0.1 on
        # purpose; that address is never banned. Ban tests use other loopback addresses.
        "security": {"trusted_networks": ["127.0.0.1/32", "::1/128"]},
    }


def default_listeners(host: str = "127.0.0.1") -> list[dict[str, Any]]:
    return [{"protocol": p, "address": f"{host}:0"} for p in PROTOCOLS]


def config_text(sections: dict[str, dict[str, Any]], listeners: Iterable[dict[str, Any]],
                extra_text: str = "") -> str:
    lines: list[str] = []
    for name, keys in sections.items():
        lines.append(f"[{name}]")
        for key, value in keys.items():
            if value is not None:
                lines.append(f"{key} = {toml_value(value)}")
        lines.append("")
    for listener in listeners:
        lines.append("[[listener]]")
        for key, value in listener.items():
            lines.append(f"{key} = {toml_value(value)}")
        lines.append("")
    if extra_text:
        lines.append(extra_text)
    return "\n".join(lines)


def make_config(directory: Path, listeners: Iterable[dict[str, Any]] | None = None,
                extra_text: str = "", filename: str = "postamt.toml",
                **section_overrides: dict[str, Any]) -> Path:
    """Writes directory/postamt.toml: port-0 listeners for all 8 protocols on 127.0.0.1.

    Keyword arguments name a section and give keys to set in it (a value of None removes
    the key): make_config(d, limits={"max_connections_per_ip": 5}, server={"user": "nobody"}).
    listeners replaces the listener list; extra_text is appended verbatim.
    """
    sections = default_sections()
    for name, keys in section_overrides.items():
        sections.setdefault(name, {}).update(keys)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / filename
    path.write_text(config_text(sections, default_listeners() if listeners is None else listeners,
                                extra_text))
    return path


def parse_address(text: str) -> tuple[str, int]:
    """"127.0.0.1:25" or "[::1]:25" -> (host, port)."""
    match = re.fullmatch(r"\[([^\]]+)\]:(\d+)|([^:]+):(\d+)", text)
    if not match:
        raise AssertionError(f"ports file holds a malformed address {text!r}")
    host = match.group(1) or match.group(3)
    return host, int(match.group(2) or match.group(4))


# --------------------------------------------------------------------------------------
# The CLI
# --------------------------------------------------------------------------------------

def run_postamt(*args: str, input: str | None = None, env: dict[str, str] | None = None,
                binary: Path | None = None, timeout: float = CLI_TIMEOUT,
                cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary or binary_path()), *args], input=input if input is not None else "",
                          capture_output=True, text=True, timeout=timeout,
                          env=env or server_env(), cwd=cwd)


def error_lines(stderr: str) -> list[str]:
    """The non-empty lines of stderr."""
    return [line for line in stderr.splitlines() if line.strip()]


def sanitizer_findings(text: str) -> list[str]:
    return [p for p in FATAL_LOG_PATTERNS if p in text]


# --------------------------------------------------------------------------------------
# Raw line clients
# --------------------------------------------------------------------------------------

class LineClient:
    """A socket with a CRLF line reader. line() returns b"" at EOF."""

    def __init__(self, sock: socket.socket | ssl.SSLSocket, timeout: float = IO_TIMEOUT):
        self.sock = sock
        self.sock.settimeout(timeout)
        self.buffer = b""

    def send(self, data: bytes | str) -> None:
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def line(self, timeout: float | None = IO_TIMEOUT) -> bytes:
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self.buffer:
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no complete line within {timeout}s (have {self.buffer[:200]!r})")
                self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, ssl.SSLEOFError, ssl.SSLZeroReturnError):
                chunk = b""
            if not chunk:
                rest, self.buffer = self.buffer, b""
                return rest
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"

    def text_line(self, timeout: float | None = IO_TIMEOUT) -> str:
        return self.line(timeout).decode("utf-8", "replace").rstrip("\r\n")

    def expect(self, prefix: str, timeout: float = IO_TIMEOUT) -> str:
        got = self.text_line(timeout)
        assert got.startswith(prefix), f"expected a line starting {prefix!r}, got {got!r}"
        return got

    def nothing_within(self, seconds: float) -> bytes:
        """Waits seconds and returns whatever arrived (b"" if nothing). EOF raises EOFError."""
        if self.buffer:
            return self.buffer
        self.sock.settimeout(seconds)
        try:
            chunk = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            return b""
        if not chunk:
            raise EOFError("connection closed")
        self.buffer += chunk
        return chunk

    def closed_within(self, seconds: float) -> bool:
        """True when the server closes the connection (EOF or reset) within seconds."""
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except (socket.timeout, TimeoutError):
                return False
            except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError, ssl.SSLZeroReturnError):
                return True
            if not chunk:
                return True
            self.buffer += chunk

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def unverified_tls_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def peer_certificate_pem(sock: ssl.SSLSocket) -> str:
    der = sock.getpeercert(binary_form=True)
    assert der, "the server sent no certificate"
    return ssl.DER_cert_to_PEM_cert(der)


def x509_field(pem: str, option: str) -> str:
    """openssl x509 -noout -subject/-issuer/... on a PEM certificate given as text."""
    done = subprocess.run(["openssl", "x509", "-noout", option], input=pem, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, f"openssl x509 {option} failed: {done.stderr}"
    return done.stdout.strip()


# --------------------------------------------------------------------------------------
# The server process
# --------------------------------------------------------------------------------------

@dataclass
class StopResult:
    returncode: int | None
    seconds: float
    killed: bool


@dataclass
class PostamtServer:
    """One `postamt serve` process with its own directory, config, log and ports."""

    directory: Path
    config_path: Path
    binary: Path = field(default_factory=binary_path)
    extra_asan_options: str = ""
    process: subprocess.Popen | None = None
    ports_by_protocol: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    stop_result: StopResult | None = None
    started: bool = False  # the ports file appeared; a failed start is reported by start()
    crashed: bool = False  # killed on purpose with SIGKILL (crash()): its exit status is not judged
    command_prefix: list[str] = field(default_factory=list)  # e.g. setpriv ... to start as a user
    ports_file: Path | None = None  # where the config puts it, when not DIR/ports.json
    extra_env: dict[str, str] = field(default_factory=dict)  # e.g. NOTIFY_SOCKET

    @property
    def log_path(self) -> Path:
        return self.directory / "postamt.log"

    @property
    def ports_path(self) -> Path:
        return self.ports_file or self.directory / "ports.json"

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def ports(self) -> dict[str, tuple[str, int]]:
        return {proto: addrs[0] for proto, addrs in self.ports_by_protocol.items() if addrs}

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def start(self, timeout: float = STARTUP_TIMEOUT) -> "PostamtServer":
        if not self.binary.exists():
            raise AssertionError(f"postamt binary {self.binary} does not exist: the build is broken "
                                 "(set POSTAMT_BINARY or build build-asan)")
        try:
            self.ports_path.unlink()
        except FileNotFoundError:
            pass
        log = open(self.log_path, "ab")
        try:
            self.process = subprocess.Popen(
                [*self.command_prefix, str(self.binary), "serve", "--config", str(self.config_path)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=server_env(self.extra_asan_options, self.extra_env), start_new_session=True)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        failed_at = None
        while not self.ports_path.exists():
            if self.process.poll() is not None:
                raise AssertionError(f"postamt serve exited with {self.process.returncode} before "
                                     f"writing its ports file; log:\n{self.log_tail()}")
            if failed_at is None and "server.start_failed" in self.log_text():
                failed_at = time.monotonic()
            if failed_at is not None and time.monotonic() - failed_at > 5:
                self.kill()
                raise AssertionError("postamt serve logged server.start_failed but was still running "
                                     f"5 s later (hang on the failure path); log:\n{self.log_tail()}")
            if time.monotonic() >= deadline:
                self.kill()
                raise AssertionError(f"no ports file within {timeout}s; log:\n{self.log_tail()}")
            time.sleep(0.02)
        try:
            document = json.loads(self.ports_path.read_text())
        except json.JSONDecodeError as e:
            raise AssertionError(f"ports file is not complete JSON (not written atomically?): {e}")
        assert isinstance(document, dict), f"ports file is not a JSON object: {document!r}"
        self.ports_by_protocol = {proto: [parse_address(a) for a in addrs]
                                  for proto, addrs in document.items()}
        self.started = True
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        assert self.running(), f"server is not running; log:\n{self.log_tail()}"
        os.kill(self.pid, signum)

    def stop(self, timeout: float = 20.0) -> StopResult:
        """SIGTERM, wait, SIGKILL after timeout. Idempotent: returns the first result."""
        if self.stop_result is not None:
            return self.stop_result
        assert self.process is not None
        started = time.monotonic()
        killed = False
        if self.process.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                killed = True
                self.kill()
        self.stop_result = StopResult(self.process.returncode, time.monotonic() - started, killed)
        return self.stop_result

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=30)

    def crash(self) -> None:
        """SIGKILL on purpose (a simulated crash); the fixture will not judge the exit status."""
        assert self.process is not None
        self.crashed = True
        self.kill()
        self.stop_result = StopResult(self.process.returncode, 0.0, False)

    def problems(self) -> list[str]:
        """What makes the run a failure: bad exit, sanitizer reports, session exceptions."""
        found = []
        result = self.stop_result
        if result is not None and self.started and not self.crashed:
            if result.killed:
                found.append(f"server did not exit within {result.seconds:.1f}s of SIGTERM (killed)")
            elif result.returncode != 0:
                found.append(f"server exited with status {result.returncode} (expected 0)")
        for pattern in sanitizer_findings(self.log_text()):
            found.append(f"log contains {pattern!r}")
        return found

    # ---- clients ------------------------------------------------------------------

    def address(self, protocol: str) -> tuple[str, int]:
        assert protocol in self.ports, f"no {protocol} listener in ports file {self.ports_by_protocol}"
        return self.ports[protocol]

    def connect(self, protocol: str, source_ip: str | None = None,
                timeout: float = IO_TIMEOUT) -> LineClient:
        host, port = self.address(protocol)
        sock = socket.create_connection((host, port), timeout=timeout,
                                        source_address=(source_ip, 0) if source_ip else None)
        if protocol in IMPLICIT_TLS:
            sock = unverified_tls_context().wrap_socket(sock, server_hostname=HOSTNAME)
        return LineClient(sock, timeout)

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return run_postamt("--config", str(self.config_path), *args, input=input, binary=self.binary)

    def rss_kib(self) -> int:
        return proc_status_kib(self.pid, "VmRSS")

    def count_in_log(self, needle: str) -> int:
        return self.log_text().count(needle)


def proc_status(pid: int) -> dict[str, str]:
    out = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def proc_status_kib(pid: int, key: str) -> int:
    value = proc_status(pid)[key]
    number, unit = value.split()
    assert unit == "kB", value
    return int(number)


GREETINGS = {
    "smtp": f"220 {HOSTNAME} ESMTP Postamt",
    "submission": f"220 {HOSTNAME} ESMTP Postamt",
    "submissions": f"220 {HOSTNAME} ESMTP Postamt",
    "imap": "* OK [CAPABILITY IMAP4rev1",
    "imaps": "* OK [CAPABILITY IMAP4rev1",
    "pop3": "+OK Postamt ready",
    "pop3s": "+OK Postamt ready",
}

# What a session says when the server shuts down, per protocol family.
SHUTDOWN_GOODBYES = {
    "smtp": "421 4.3.2 ", "submission": "421 4.3.2 ", "submissions": "421 4.3.2 ",
    "imap": "* BYE ", "imaps": "* BYE ",
    "pop3": "-ERR ", "pop3s": "-ERR ",
}


def wait_readable(sock: socket.socket, timeout: float) -> bool:
    readable, _, _ = select.select([sock], [], [], timeout)
    return bool(readable)


# --------------------------------------------------------------------------------------
# SMTP: raw replies, the store as the CLI shows it, accounts, metrics
# --------------------------------------------------------------------------------------

DOMAIN = "example.test"


@dataclass
class SmtpReply:
    code: int
    lines: list[str]  # the full reply lines, e.g. ["250-mail.example.test", "250 SIZE 10"]

    @property
    def text(self) -> str:
        """The text after the code of every line, joined with newlines."""
        return "\n".join(line[4:] for line in self.lines)

    def __str__(self) -> str:
        return " | ".join(self.lines)


def smtp_reply(client: LineClient, timeout: float = IO_TIMEOUT) -> SmtpReply:
    """Reads one (possibly multi-line) SMTP reply; fails on EOF or a malformed line."""
    lines: list[str] = []
    while True:
        line = client.text_line(timeout)
        if not line:
            raise AssertionError(f"connection closed while reading a reply (have {lines})")
        if not re.match(r"^[2-5]\d\d([ -]|$)", line):
            raise AssertionError(f"malformed SMTP reply line {line!r} (after {lines})")
        if lines and line[:3] != lines[0][:3]:
            raise AssertionError(f"reply code changed inside a multi-line reply: {lines + [line]}")
        lines.append(line)
        if len(line) == 3 or line[3] == " ":
            return SmtpReply(int(line[:3]), lines)


def smtp_command(client: LineClient, command: str | bytes, expect: str | None = None,
                 timeout: float = IO_TIMEOUT) -> SmtpReply:
    """Sends one command line (CRLF added) and reads its reply; expect is a prefix of the
    last reply line, e.g. "250 2.1.0"."""
    data = command.encode() if isinstance(command, str) else command
    client.send(data + b"\r\n")
    reply = smtp_reply(client, timeout)
    if expect is not None:
        assert reply.lines[-1].startswith(expect), f"{command!r}: expected {expect!r}, got {reply}"
    return reply


def smtp_session(server: "PostamtServer", protocol: str = "smtp", helo: str = "client.example.test",
                 timeout: float = IO_TIMEOUT, source_ip: str | None = None) -> LineClient:
    """A raw connection, greeted and EHLO'd."""
    client = server.connect(protocol, timeout=timeout, source_ip=source_ip)
    greeting = smtp_reply(client, timeout)
    assert greeting.code == 220, greeting
    smtp_command(client, f"EHLO {helo}", "250 ")
    return client


@dataclass
class StoredMessage:
    uid: int
    size: int
    flags: str
    blob_id: str


def cli_bytes(config_path: Path, *args: str, binary: Path | None = None,
              timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
    """postamt --config CONFIG args, with stdout and stderr as bytes (messages hold CRLF and 8-bit)."""
    return subprocess.run([str(binary or binary_path()), "--config", str(config_path), *args],
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                          env=server_env())


def mailbox_listing(server: "PostamtServer", address: str, mailbox: str = "INBOX") -> list[StoredMessage]:
    """`postamt debug mailbox ADDRESS`: the messages of one mailbox, by UID."""
    done = cli_bytes(server.config_path, "debug", "mailbox", address, "--mailbox", mailbox,
                     binary=server.binary)
    out, err = done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0, f"debug mailbox {address}: exit {done.returncode}: {err}"
    assert not sanitizer_findings(err), err
    lines = out.splitlines()
    assert lines and lines[0].startswith("# "), f"debug mailbox {address}: no header line: {out!r}"
    header = dict(re.findall(r"(\w+)=(\d+)", lines[0]))
    messages = []
    for line in lines[1:]:
        uid, size, flags, blob_id = line.split()
        messages.append(StoredMessage(int(uid), int(size), flags, blob_id))
    assert int(header["messages"]) == len(messages), out
    return messages


def stored_message(server: "PostamtServer", address: str, uid: int) -> bytes:
    """`postamt debug message ADDRESS UID`: the stored bytes."""
    done = cli_bytes(server.config_path, "debug", "message", address, str(uid), binary=server.binary)
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0, f"debug message {address} {uid}: exit {done.returncode}: {err}"
    assert not sanitizer_findings(err), err
    return done.stdout


def stored_messages(server: "PostamtServer", address: str) -> list[bytes]:
    """Every message in address's INBOX, in UID order, with its size checked against the index."""
    out = []
    for entry in mailbox_listing(server, address):
        content = stored_message(server, address, entry.uid)
        assert len(content) == entry.size, f"UID {entry.uid}: {len(content)} bytes, index says {entry.size}"
        out.append(content)
    return out


def check_store(server: "PostamtServer") -> str:
    """`postamt debug check-store` must exit 0 and report problems=0; returns its output."""
    done = cli_bytes(server.config_path, "debug", "check-store", binary=server.binary)
    out = done.stdout.decode("utf-8", "replace")
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0 and "problems=0" in out, \
        f"debug check-store: exit {done.returncode}\n{out}\n{err}"
    return out


def provision(server: "PostamtServer", users: Iterable[str] = ("alice", "bob"),
              domain: str = DOMAIN, aliases: dict[str, list[str]] | None = None) -> dict[str, str]:
    """Creates the domain, accounts user@domain (password "pw-USER") and aliases with the CLI.

    Returns {address: password}."""
    def ok(*args: str) -> None:
        done = server.cli(*args)
        assert done.returncode == 0, f"postamt {' '.join(args)}: exit {done.returncode}: {done.stderr}"
    ok("domain", "add", domain)
    passwords = {}
    for user in users:
        address = user if "@" in user else f"{user}@{domain}"
        password = "pw-" + address.split("@")[0]
        ok("user", "add", address, "--password", password)
        passwords[address] = password
    for source, destinations in (aliases or {}).items():
        ok("alias", "add", source, *destinations)
    return passwords


TRACE_RE = re.compile(
    rb"\AReturn-Path: <(?P<return_path>[^>\r\n]*)>\r\n"
    rb"(?P<received>Received: [^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*)")


@dataclass
class Delivered:
    return_path: str
    received: str      # the Received field Postamt prepended, unfolded into one line
    content: bytes     # what follows the two trace fields: the message as the client sent it


def split_trace(stored: bytes) -> Delivered:
    """Splits Postamt's Return-Path and Received fields off a stored message."""
    match = TRACE_RE.match(stored)
    assert match, f"stored message does not start with Return-Path and Received: {stored[:400]!r}"
    received = match.group("received").decode("utf-8", "replace")
    unfolded = re.sub(r"\r\n[ \t]+", " ", received).rstrip("\r\n")
    return Delivered(match.group("return_path").decode("utf-8", "replace"), unfolded,
                     stored[match.end():])


def sqlite_rows(database: Path, query: str) -> list[list[str]]:
    """Runs query with the sqlite3 CLI (Debian `sqlite3`); rows as lists of strings."""
    done = subprocess.run(["sqlite3", "-batch", "-separator", "\x1f", str(database), query],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"sqlite3 {query!r}: {done.stderr}"
    return [line.split("\x1f") for line in done.stdout.splitlines()]


def metrics_text(server: "PostamtServer") -> str:
    import urllib.request
    host, port = server.address("http")
    with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=10) as response:
        return response.read().decode()


def metric_samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    out = []
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
        if match and match.group(1) == name:
            out.append((dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or "")), float(match.group(3))))
    return out


def metric_sum(server: "PostamtServer", name: str, **labels: str) -> float:
    """Sum of all samples of metric name whose labels include the given ones."""
    return sum(value for found, value in metric_samples(metrics_text(server), name)
               if all(found.get(k) == v for k, v in labels.items()))


def smtplib_client(server: "PostamtServer", protocol: str = "smtp", starttls: bool = False,
                   helo: str = "client.example.test", timeout: float = 30.0):
    """An smtplib client after EHLO: SMTP_SSL on implicit TLS, else SMTP (+ STARTTLS)."""
    import smtplib
    host, port = server.address(protocol)
    if protocol in IMPLICIT_TLS:
        client = smtplib.SMTP_SSL(host, port, local_hostname=helo, timeout=timeout,
                                  context=unverified_tls_context())
    else:
        client = smtplib.SMTP(host, port, local_hostname=helo, timeout=timeout)
    code, _ = client.ehlo()
    assert code == 250
    if starttls:
        client.starttls(context=unverified_tls_context())
        code, _ = client.ehlo()
        assert code == 250
    return client


def send_transaction(client, sender: str, recipients: list[str], message: bytes,
                     mail_options: Iterable[str] = ()) -> tuple[int, bytes]:
    """MAIL, RCPT..., DATA with smtplib's primitives; returns the reply to the end of data.

    Every RCPT must be accepted (asserted). Unlike sendmail(), this returns the final
    reply, whose text names the queue id."""
    code, reply = client.mail(sender, list(mail_options))
    assert code == 250, (code, reply)
    for recipient in recipients:
        code, reply = client.rcpt(recipient)
        assert code == 250, (recipient, code, reply)
    return client.data(message)


def queued_id(reply: bytes) -> str:
    match = re.match(rb"^2\.0\.0 Ok: queued as (\S+)$", reply)
    assert match, f"unexpected end-of-data reply {reply!r}"
    return match.group(1).decode()


def message(subject: str, body: bytes = b"Hello.\r\n", sender: str = "sender@example.org",
            to: str = "alice@example.test", extra: bytes = b"") -> bytes:
    msgid = f"<{subject.replace(' ', '-')}.{time.monotonic_ns()}@example.org>"
    return (f"From: Sender <{sender}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n"
            f"Message-ID: {msgid}\r\nDate: {email.utils.formatdate()}\r\n").encode() + extra + \
        b"MIME-Version: 1.0\r\n\r\n" + body


RECEIVED_RE = re.compile(
    r"^Received: from (?P<helo>\S+) \(\[(?P<ip>[^\]]+)\]\) by (?P<by>\S+) \(Postamt\) "
    r"with (?P<protocol>\S+) id (?P<id>\w+)(?P<rest>.*?);? (?P<date>\w{3}, \d{1,2} \w{3} \d{4} "
    r"\d\d:\d\d:\d\d [+-]\d{4})$")


def parse_received(received: str) -> dict[str, str]:
    match = RECEIVED_RE.match(received)
    assert match, f"Received field not in the expected form: {received!r}"
    fields = match.groupdict()
    when = email.utils.parsedate_to_datetime(fields["date"]).timestamp()
    assert abs(when - time.time()) < 300, f"Received date far from now: {fields['date']}"
    return fields


# --------------------------------------------------------------------------------------
# IMAP: a raw client for what imaplib cannot say, and a response parser
# --------------------------------------------------------------------------------------

_imap_tags = iter(range(1, 1 << 30))


def imap_next_tag() -> str:
    return f"T{next(_imap_tags)}"


def imap_read_exact(client: LineClient, count: int, timeout: float = IO_TIMEOUT) -> bytes:
    """Exactly count octets from the connection (after what the line reader buffered)."""
    deadline = time.monotonic() + timeout
    while len(client.buffer) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"only {len(client.buffer)} of {count} literal octets within {timeout}s")
        client.sock.settimeout(remaining)
        chunk = client.sock.recv(max(65536, count - len(client.buffer)))
        if not chunk:
            raise EOFError(f"connection closed inside a {count}-octet literal")
        client.buffer += chunk
    data, client.buffer = client.buffer[:count], client.buffer[count:]
    return data


_IMAP_LITERAL_AT_END = re.compile(rb"~?\{(\d+)\}\r?\n\Z")


def imap_response(client: LineClient, timeout: float = IO_TIMEOUT) -> bytes:
    """One whole server response (a line plus any literals it announces, inlined).
    Returns b"" at EOF."""
    out = client.line(timeout)
    if not out:
        return b""
    while (match := _IMAP_LITERAL_AT_END.search(out)):
        out += imap_read_exact(client, int(match.group(1)), timeout)
        more = client.line(timeout)
        if not more:
            raise EOFError(f"connection closed after a literal in {out[:200]!r}")
        out += more
    return out


def imap_command(client: LineClient, command: str | bytes, tag: str | None = None,
                 timeout: float = IO_TIMEOUT) -> tuple[list[bytes], bytes]:
    """Sends `TAG command` (CRLF added) and reads up to the tagged reply.

    Returns (the untagged and continuation responses, the tagged response line), each
    without the final CRLF. EOF before the tagged reply raises EOFError."""
    tag = tag or imap_next_tag()
    data = command.encode() if isinstance(command, str) else command
    client.send(tag.encode() + b" " + data + b"\r\n")
    return imap_until_tagged(client, tag, timeout)


def imap_until_tagged(client: LineClient, tag: str, timeout: float = IO_TIMEOUT) -> tuple[list[bytes], bytes]:
    untagged: list[bytes] = []
    prefix = tag.encode() + b" "
    while True:
        response = imap_response(client, timeout)
        if not response:
            raise EOFError(f"connection closed before the reply to {tag} (have {untagged[-5:]})")
        response = response[:-2] if response.endswith(b"\r\n") else response.rstrip(b"\n")
        if response.startswith(prefix):
            return untagged, response
        untagged.append(response)


def imap_connect(server: "PostamtServer", protocol: str = "imap", timeout: float = IO_TIMEOUT) -> LineClient:
    """A raw IMAP connection whose greeting was read and checked."""
    client = server.connect(protocol, timeout=timeout)
    greeting = client.text_line(timeout)
    assert greeting.startswith("* OK "), greeting
    return client


def imap_login(server: "PostamtServer", user: str = "alice@example.test", password: str | None = None,
               protocol: str = "imap", timeout: float = IO_TIMEOUT) -> LineClient:
    """A raw IMAP connection, logged in with LOGIN."""
    client = imap_connect(server, protocol, timeout)
    password = password or "pw-" + user.split("@")[0]
    _, done = imap_command(client, f'LOGIN "{user}" "{password}"', timeout=timeout)
    assert b" OK " in done, done
    return client


def imap_ok(client: LineClient, command: str | bytes, timeout: float = IO_TIMEOUT) -> list[bytes]:
    """imap_command that must end in tagged OK; returns the untagged responses."""
    untagged, done = imap_command(client, command, timeout=timeout)
    assert done.split(b" ", 2)[1:2] == [b"OK"], f"{command!r}: {done!r} (untagged {untagged[-5:]!r})"
    return untagged


def imap_status_word(tagged: bytes) -> str:
    """OK / NO / BAD of a tagged response line."""
    parts = tagged.split(b" ", 2)
    return parts[1].decode() if len(parts) > 1 else ""


class ImapAtom(str):
    """An IMAP atom (as opposed to a string): NIL, numbers, flags, section names."""


def imap_parse(data: bytes) -> list:
    """Parses IMAP response data into Python values: ImapAtom for atoms (incl. NIL and
    numbers), bytes for quoted strings and literals, lists for parenthesised lists.
    An atom may carry a bracketed part with spaces (BODY[HEADER.FIELDS (A B)]<0>)."""
    values, position = _imap_parse_sequence(data, 0, closing=None)
    return values


def _imap_parse_sequence(data: bytes, i: int, closing: bytes | None) -> tuple[list, int]:
    out: list = []
    n = len(data)
    while i < n:
        c = data[i:i + 1]
        if c in (b" ", b"\r", b"\n"):
            i += 1
        elif c == b"(":
            inner, i = _imap_parse_sequence(data, i + 1, b")")
            out.append(inner)
        elif c == b")":
            if closing == b")":
                return out, i + 1
            raise ValueError(f"unbalanced ')' at {i} in {data[:200]!r}")
        elif c == b'"':
            j = i + 1
            value = bytearray()
            while data[j:j + 1] != b'"':
                if j >= n:
                    raise ValueError(f"unterminated quoted string in {data[:200]!r}")
                if data[j:j + 1] == b"\\":
                    j += 1
                value += data[j:j + 1]
                j += 1
            out.append(bytes(value))
            i = j + 1
        elif c in (b"{", b"~") and re.match(rb"~?\{\d+\}\r\n", data[i:]):
            match = re.match(rb"~?\{(\d+)\}\r\n", data[i:])
            start = i + match.end()
            length = int(match.group(1))
            out.append(data[start:start + length])
            i = start + length
        else:
            j = i
            depth = 0
            while j < n:
                d = data[j:j + 1]
                if d == b"[":
                    depth += 1
                elif d == b"]":
                    depth -= 1
                elif depth == 0 and d in (b" ", b"(", b")", b"\r", b"\n"):
                    break
                j += 1
            out.append(ImapAtom(data[i:j].decode("utf-8", "replace")))
            i = j
    if closing is not None:
        raise ValueError(f"missing ')' in {data[:200]!r}")
    return out, i


def imap_fetch_responses(untagged: Iterable[bytes]) -> list[tuple[int, dict[str, Any]]]:
    """The `* n FETCH (...)` responses among untagged ones as (n, {ITEM: value}); item names
    upper-cased as sent (e.g. "BODY[HEADER.FIELDS (SUBJECT)]")."""
    out = []
    for response in untagged:
        match = re.match(rb"\* (\d+) FETCH ", response)
        if not match:
            continue
        parsed = imap_parse(response[match.end():])
        assert len(parsed) == 1 and isinstance(parsed[0], list), response[:300]
        items = parsed[0]
        assert len(items) % 2 == 0, f"odd FETCH item list: {response[:300]!r}"
        out.append((int(match.group(1)), {str(items[k]).upper(): items[k + 1] for k in range(0, len(items), 2)}))
    return out


def imaplib_fetch_responses(data: list) -> list[tuple[int, dict[str, Any]]]:
    """imaplib's FETCH data (bytes and (prefix, literal) tuples) parsed like
    imap_fetch_responses."""
    joined = b""
    for item in data:
        if isinstance(item, tuple):
            joined += item[0] + b"\r\n" + item[1]
        elif item is not None:
            joined += item
    out = []
    values = imap_parse(joined)  # imaplib keeps "n (items)" of each "* n FETCH (items)"
    k = 0
    while k < len(values):
        number = values[k]
        items = values[k + 1]
        assert isinstance(items, list), values
        out.append((int(number), {str(items[j]).upper(): items[j + 1] for j in range(0, len(items), 2)}))
        k += 2
    return out


def imaplib_client(server: "PostamtServer", protocol: str = "imap", starttls: bool = False,
                   timeout: float = 30.0):
    """An imaplib client: IMAP4_SSL on implicit TLS, else IMAP4 (+ STARTTLS)."""
    import imaplib
    host, port = server.address(protocol)
    if protocol in IMPLICIT_TLS:
        client = imaplib.IMAP4_SSL(host, port, ssl_context=unverified_tls_context(), timeout=timeout)
    else:
        client = imaplib.IMAP4(host, port, timeout=timeout)
        if starttls:
            typ, _ = client.starttls(ssl_context=unverified_tls_context())
            assert typ == "OK"
    return client


def imaplib_login(server: "PostamtServer", user: str = "alice@example.test", password: str | None = None,
                  protocol: str = "imap", starttls: bool = False, timeout: float = 30.0):
    """An imaplib client after LOGIN (password default: "pw-" + local part)."""
    client = imaplib_client(server, protocol, starttls, timeout)
    typ, _ = client.login(user, password or "pw-" + user.split("@")[0])
    assert typ == "OK"
    return client


def deliver_smtp(server: "PostamtServer", to: str, content: bytes, sender: str = "sender@example.org") -> None:
    """One message over SMTP (smtplib, the smtp listener) to one local recipient."""
    client = smtplib_client(server, "smtp")
    code, reply = send_transaction(client, sender, [to], content)
    assert code == 250, (code, reply)
    client.quit()
