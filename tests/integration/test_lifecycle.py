"""Start, drain, reload, monitoring, privileges and start-up failures."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from harness import (
    GREETINGS,
    HOSTNAME,
    SHUTDOWN_GOODBYES,
    PostamtServer,
    make_config,
    make_self_signed,
    peer_certificate_pem,
    proc_status,
    run_postamt,
    sanitizer_findings,
    server_env,
    wait_for,
    unverified_tls_context,
    x509_field,
)


def http_get(server, path: str) -> tuple[int, dict[str, str], str]:
    host, port = server.address("http")
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode(errors="replace")


def metric(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
        if not match or match.group(1) != name:
            continue
        if dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or "")) == labels:
            return float(match.group(3))
    return None


# --------------------------------------------------------------------------------------
# SIGTERM drains
# --------------------------------------------------------------------------------------

def test_sigterm_with_100_idle_connections(start_server):
    server = start_server(limits={"max_connections_per_ip": 1000})
    protocols = ["smtp", "submission", "imap", "pop3", "submissions", "imaps", "pop3s"]
    clients = []
    for i in range(100):
        protocol = protocols[i % len(protocols)]
        client = server.connect(protocol)
        client.expect(GREETINGS[protocol])
        clients.append((protocol, client))

    started = time.monotonic()
    server.signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the server did not exit within 5 s of SIGTERM; log:\n{server.log_tail()}")
    elapsed = time.monotonic() - started
    assert server.process.returncode == 0, (server.process.returncode, server.log_tail())

    goodbyes = 0
    for protocol, client in clients:
        line = client.text_line(timeout=5)
        if line:  # the goodbye, then EOF
            assert line.startswith(SHUTDOWN_GOODBYES[protocol]), f"{protocol}: got {line!r}"
            goodbyes += 1
            assert client.closed_within(5), f"{protocol}: open after its goodbye"
        client.close()
    assert "server.draining" in server.log_text()
    print(f"exit after {elapsed:.2f}s; {goodbyes}/100 connections got a goodbye line")


def test_sigterm_goodbye_reaches_every_protocol(start_server):
    server = start_server()
    clients = {}
    for protocol in ("smtp", "imap", "pop3", "submissions", "imaps", "pop3s"):
        client = server.connect(protocol)
        client.expect(GREETINGS[protocol])
        clients[protocol] = client
    server.signal(signal.SIGTERM)
    for protocol, client in clients.items():
        line = client.text_line(timeout=5)
        assert line.startswith(SHUTDOWN_GOODBYES[protocol]), f"{protocol}: got {line!r}"
        if protocol in ("smtp", "submissions"):
            assert line == f"421 4.3.2 {HOSTNAME} Service shutting down", line
        client.close()
    server.process.wait(timeout=5)
    assert server.process.returncode == 0


def test_sigterm_stops_accepting(start_server):
    server = start_server()
    host, port = server.address("smtp")
    held = server.connect("smtp")
    held.expect("220 ")
    server.signal(signal.SIGTERM)
    held.expect("421 4.3.2")
    server.process.wait(timeout=5)
    with pytest.raises(OSError):
        socket.create_connection((host, port), timeout=2).close()


@pytest.mark.parametrize("first_signal", ["SIGHUP", "SIGTERM"])
def test_signals_right_after_the_ports_file_appears(tmp_path, postamt_binary, first_signal):
    """The ports file says "ready": from then on SIGHUP reloads and SIGTERM drains (exit 0).

    A signal that arrives before the handlers are installed takes the default action and
    kills the process, so the handlers must be in place before the ports file is written.
    """
    for attempt in range(8):
        directory = tmp_path / f"run{attempt}"
        server = PostamtServer(directory=directory, config_path=make_config(directory),
                               binary=postamt_binary)
        server.start()
        try:
            os.kill(server.pid, getattr(signal, first_signal))
            if first_signal == "SIGHUP":
                wait_for(lambda: "reload.done" in server.log_text() or not server.running(), 10,
                         message="reload.done")
                assert server.running(), (f"attempt {attempt}: SIGHUP right after start killed the "
                                          f"server (status {server.process.returncode})")
                client = server.connect("smtp")
                client.expect("220 ")
                client.close()
                os.kill(server.pid, signal.SIGTERM)
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pytest.fail(f"attempt {attempt}: no exit within 10 s of SIGTERM; log:\n{server.log_tail()}")
            assert server.process.returncode == 0, (
                f"attempt {attempt}: {first_signal} right after the ports file appeared: exit status "
                f"{server.process.returncode} (negative: killed by that signal)\n{server.log_tail()}")
            assert not sanitizer_findings(server.log_text()), server.log_tail()
        finally:
            server.kill()


# --------------------------------------------------------------------------------------
# SIGHUP reloads certificates
# --------------------------------------------------------------------------------------

def served_subject(server, protocol: str = "imaps") -> str:
    client = server.connect(protocol)
    pem = peer_certificate_pem(client.sock)
    client.close()
    return x509_field(pem, "-subject")


def smtp_starttls_subject(server) -> str:
    """The subject of the certificate SMTP STARTTLS presents (EHLO first, RFC 3207)."""
    client = server.connect("smtp")
    client.expect("220 ")
    client.send("EHLO client.example.test\r\n")
    while not client.text_line().startswith("250 "):
        pass
    client.send("STARTTLS\r\n")
    client.expect("220 ")
    tls = unverified_tls_context().wrap_socket(client.sock, server_hostname=HOSTNAME)
    subject = x509_field(peer_certificate_pem(tls), "-subject")
    tls.close()
    return subject


def replace_cert(server, cn: str) -> None:
    staging = server.directory / "staging"
    staging.mkdir(exist_ok=True)
    make_self_signed(staging / "cert.pem", staging / "key.pem", cn)
    os.replace(staging / "key.pem", server.directory / "tls" / "key.pem")
    os.replace(staging / "cert.pem", server.directory / "tls" / "cert.pem")


def assert_survived_sighup(server) -> None:
    if not server.running():
        raise AssertionError(f"SIGHUP killed the server (exit status {server.process.returncode}); "
                             f"log:\n{server.log_tail()}")


def sighup_and_wait(server, event: str) -> None:
    before = server.count_in_log(event)
    server.signal(signal.SIGHUP)

    def logged():
        assert_survived_sighup(server)
        return server.count_in_log(event) > before
    wait_for(logged, 15, message=f"{event} in the log")


def test_sighup_reloads_the_certificate(server):
    assert HOSTNAME in served_subject(server)
    held = server.connect("imaps")  # a session open across the reload keeps working
    held.expect("* OK")
    replace_cert(server, "new.example.test")
    sighup_and_wait(server, "reload.done")
    for protocol in ("imaps", "submissions", "pop3s"):
        assert "new.example.test" in served_subject(server, protocol), protocol
    # STARTTLS uses the new certificate too.
    assert "new.example.test" in smtp_starttls_subject(server)
    held.send("a NOOP\r\n")
    held.expect("a OK")
    held.close()


@pytest.mark.parametrize("breakage", ["garbage_cert", "mismatched_key", "missing_key"])
def test_sighup_with_a_broken_certificate_keeps_the_old_one(server, breakage):
    tls_dir = server.directory / "tls"
    if breakage == "garbage_cert":
        (tls_dir / "cert.pem").write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    elif breakage == "mismatched_key":
        other = server.directory / "other"
        other.mkdir()
        make_self_signed(other / "cert.pem", other / "key.pem", "other.example.test")
        os.replace(other / "cert.pem", tls_dir / "cert.pem")  # new cert, old key
    else:
        (tls_dir / "key.pem").unlink()
    log_before = len(server.log_text().splitlines())
    server.signal(signal.SIGHUP)

    def error_logged():
        assert_survived_sighup(server)
        new_lines = server.log_text().splitlines()[log_before:]
        return [l for l in new_lines if re.match(r"^\S+ (error|ERROR|err) ", l)]
    errors = wait_for(error_logged, 15, message="an error log line after SIGHUP")
    assert any("tls" in l or "cert" in l for l in errors), errors
    assert "reload.done" not in "\n".join(server.log_text().splitlines()[log_before:])
    # Still serving, with the old certificate.
    assert HOSTNAME in served_subject(server)
    assert HOSTNAME in smtp_starttls_subject(server)


# --------------------------------------------------------------------------------------
# Monitoring
# --------------------------------------------------------------------------------------

def test_metrics_count_connections(server):
    for _ in range(3):
        client = server.connect("smtp")
        client.expect("220 ")
        client.send("QUIT\r\n")
        client.expect("221 ")
        client.close()
    held = [server.connect("imap") for _ in range(2)]
    for client in held:
        client.expect("* OK")

    status, headers, text = http_get(server, "/metrics")
    assert status == 200
    content_type = {k.lower(): v for k, v in headers.items()}["content-type"]
    assert content_type.startswith("text/plain; version=0.0.4"), content_type
    assert "# TYPE postamt_connections_accepted_total counter" in text, text[:2000]
    assert "# HELP postamt_connections_accepted_total" in text
    assert metric(text, "postamt_connections_accepted_total", protocol="smtp") == 3, text
    assert metric(text, "postamt_connections_accepted_total", protocol="imap") == 2, text
    assert metric(text, "postamt_connections_active", protocol="imap") == 2, text
    assert re.search(r"^# TYPE postamt_connections_active gauge$", text, re.M), text[:2000]
    assert re.search(r"^# TYPE postamt_connections_refused_total counter$", text, re.M), text[:2000]
    # Every sample line is well-formed exposition format.
    for line in text.splitlines():
        if line and not line.startswith("#"):
            assert re.match(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_]\w*="[^"]*",?)*\})? -?[0-9.eE+-]+|NaN|[+-]Inf$',
                            line), line

    for client in held:
        client.close()

    def active_imap():
        _, _, now = http_get(server, "/metrics")
        return metric(now, "postamt_connections_active", protocol="imap") == 0
    wait_for(active_imap, 10, interval=0.1, message="postamt_connections_active{protocol=imap} to drop to 0")


def test_healthz(server):
    status, _, body = http_get(server, "/healthz")
    assert status == 200
    assert body.strip() == "ok"
    status, _, _ = http_get(server, "/no-such-page")
    assert status == 404


# --------------------------------------------------------------------------------------
# Privileges
# --------------------------------------------------------------------------------------

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="privilege drop needs the test to run as root")


@pytest.fixture
def dropped_server(postamt_binary):
    """A server started as root with server.user = "nobody", laid out like quickstart's DIR."""
    # A directory like /var/lib/postamt: traversable by the unprivileged user (pytest's own
    # tmp dirs are 0700 root and would lock it out of its data_dir). Config, TLS files and
    # the ports file stay root's, as an operator running quickstart as root gets them.
    directory = Path(tempfile.mkdtemp(prefix="postamt-privdrop-"))
    os.chmod(directory, 0o755)
    server = PostamtServer(directory=directory,
                           config_path=make_config(directory, server={"user": "nobody"}),
                           binary=postamt_binary)
    try:
        yield server
        if server.process is not None:
            server.stop()
            problems = server.problems()
            assert not problems, f"{problems}\n{server.log_tail()}"
    finally:
        server.kill()
        shutil.rmtree(directory, ignore_errors=True)


@needs_root
def test_privilege_drop_to_nobody(dropped_server):
    server = dropped_server
    nobody = pwd.getpwnam("nobody")
    server.start()
    # The ports file is written while still privileged (its directory may be root's);
    # the drop follows immediately after it.
    wait_for(lambda: all(int(u) == nobody.pw_uid for u in proc_status(server.pid)["Uid"].split()),
             5, message="the privilege drop")
    status = proc_status(server.pid)
    uids = status["Uid"].split()
    gids = status["Gid"].split()
    assert all(int(u) == nobody.pw_uid for u in uids), f"Uid: {status['Uid']}"
    assert all(int(g) == nobody.pw_gid for g in gids), f"Gid: {status['Gid']}"
    assert status.get("Groups", "").strip() in ("", str(nobody.pw_gid)), status.get("Groups")
    assert server.data_dir.stat().st_uid == nobody.pw_uid
    for path in server.data_dir.rglob("*"):
        assert path.stat().st_uid == nobody.pw_uid, f"{path} not handed to nobody"
    # It still serves, on every protocol family, TLS included, and the CLI (run as root)
    # still works on the handed-over store.
    for protocol in ("smtp", "imaps", "pop3"):
        client = server.connect(protocol)
        client.expect(GREETINGS[protocol])
        client.close()
    done = server.cli("domain", "add", "example.test")
    assert done.returncode == 0, done.stderr
    stopped = server.stop()
    assert stopped.returncode == 0, server.log_tail()


def new_lines_since(server, before: int) -> str:
    return "\n".join(server.log_text().splitlines()[before:])


def sighup_outcome(server) -> str:
    """SIGHUP, then the log lines up to the reload's outcome (reload.done or reload.tls_failed)."""
    before = len(server.log_text().splitlines())
    server.signal(signal.SIGHUP)

    def outcome():
        assert_survived_sighup(server)
        return re.search(r"reload\.(done|tls_failed)", new_lines_since(server, before))
    wait_for(outcome, 15, message="the reload outcome in the log")
    return new_lines_since(server, before)


@needs_root
def test_privilege_drop_then_sighup_reloads_a_certificate_renewed_in_place(dropped_server):
    """At start (as root) the server makes the TLS key group-readable for the service
    user's group when that user could not read it, so a renewal that rewrites the files in
    place (keeping owner, group and mode) is picked up by SIGHUP after the drop."""
    server = dropped_server
    nobody = pwd.getpwnam("nobody")
    server.start()
    key = server.directory / "tls" / "key.pem"
    # The ports file is written just before the drop: wait for the drop's log line.
    wait_for(lambda: re.search(r"privileges\.file_group_readable.*key\.pem", server.log_text()), 5,
             message="a privileges.file_group_readable line for the key")
    wait_for(lambda: all(int(u) == nobody.pw_uid for u in proc_status(server.pid)["Uid"].split()),
             5, message="the privilege drop")
    info = key.stat()
    assert info.st_gid == nobody.pw_gid and info.st_mode & stat.S_IRGRP, \
        f"key.pem: gid {info.st_gid} mode {oct(info.st_mode)}"
    assert not info.st_mode & stat.S_IROTH, "the key became world-readable"
    assert HOSTNAME in served_subject(server)

    staging = server.directory / "staging"
    staging.mkdir()
    make_self_signed(staging / "cert.pem", staging / "key.pem", "new.example.test")
    for name in ("key.pem", "cert.pem"):   # rewrite in place: same inode, owner, group, mode
        target = server.directory / "tls" / name
        inode = target.stat().st_ino
        with open(target, "r+b") as out:
            out.write((staging / name).read_bytes())
            out.truncate()
        assert target.stat().st_ino == inode
    assert key.stat().st_gid == nobody.pw_gid and key.stat().st_mode & stat.S_IRGRP

    outcome = sighup_outcome(server)
    assert "reload.done" in outcome and "reload.tls_failed" not in outcome, outcome
    for protocol in ("imaps", "submissions"):
        assert "new.example.test" in served_subject(server, protocol), protocol
    assert "new.example.test" in smtp_starttls_subject(server)


@needs_root
def test_privilege_drop_then_sighup_with_a_root_only_key_keeps_the_old_certificate(dropped_server):
    """A renewed key installed as root-only 0600 cannot be read after the drop: the reload
    says so (Permission denied) and the old certificate keeps serving (docs/OPERATIONS.md:
    install renewed keys readable by the service user's group)."""
    server = dropped_server
    nobody = pwd.getpwnam("nobody")
    server.start()
    wait_for(lambda: all(int(u) == nobody.pw_uid for u in proc_status(server.pid)["Uid"].split()),
             5, message="the privilege drop")
    assert HOSTNAME in served_subject(server)
    replace_cert(server, "new.example.test")   # fresh files, renamed over the old ones
    key = server.directory / "tls" / "key.pem"
    os.chown(key, 0, 0)
    os.chmod(key, 0o600)

    outcome = sighup_outcome(server)
    failed = [line for line in outcome.splitlines() if "reload.tls_failed" in line]
    assert failed and "Permission denied" in failed[0], outcome
    assert "reload.done" not in outcome, outcome
    assert server.running()
    for protocol in ("imaps", "submissions"):
        assert HOSTNAME in served_subject(server, protocol), protocol
    assert HOSTNAME in smtp_starttls_subject(server)
    # Fixing the permissions as documented makes the next SIGHUP succeed.
    os.chown(key, 0, nobody.pw_gid)
    os.chmod(key, 0o640)
    outcome = sighup_outcome(server)
    assert "reload.done" in outcome, outcome
    assert "new.example.test" in served_subject(server)


# --------------------------------------------------------------------------------------
# Start-up failures
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("occupied", ["smtp", "imaps", "http"])
def test_occupied_port_stops_the_start(tmp_path, postamt_binary, occupied):
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        listeners = [{"protocol": p, "address": f"127.0.0.1:{port if p == occupied else 0}"}
                     for p in ("smtp", "imaps", "http")]
        config = make_config(tmp_path, listeners=listeners)
        started = time.monotonic()
        done = subprocess.run([str(postamt_binary), "serve", "--config", str(config)],
                              capture_output=True, text=True, timeout=30, env=server_env())
        elapsed = time.monotonic() - started
    finally:
        blocker.close()
    assert done.returncode != 0, f"serve started on an occupied port:\n{done.stderr}"
    assert elapsed < 15, f"took {elapsed:.1f}s to give up"
    assert f"127.0.0.1:{port}" in done.stderr, done.stderr
    assert not (tmp_path / "ports.json").exists(), "ports file written although a listener failed"
    assert not sanitizer_findings(done.stderr), done.stderr


def test_invalid_config_stops_serve_with_status_2(tmp_path, postamt_binary):
    config = make_config(tmp_path, limits={"max_connections": "many"})
    done = run_postamt("serve", "--config", str(config), timeout=30)
    assert done.returncode == 2, done.stderr
    assert "max_connections" in done.stderr, done.stderr
    assert not (tmp_path / "ports.json").exists()
    assert not sanitizer_findings(done.stderr), done.stderr


def test_missing_certificate_without_self_signed_stops_the_start(tmp_path, postamt_binary):
    config = make_config(tmp_path, tls={"self_signed": False})
    done = run_postamt("serve", "--config", str(config), timeout=30)
    assert done.returncode != 0, done.stderr
    assert "cert.pem" in done.stderr or "tls" in done.stderr, done.stderr
    assert not (tmp_path / "ports.json").exists()
