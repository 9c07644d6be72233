"""Production quickstart as root: a system user of its own, ownership set once at set-up,
and a systemd unit whose way of starting (as that user from the first instruction, with
CAP_NET_BIND_SERVICE only) is reproduced here with setpriv(1)."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import smtplib
import stat
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from harness import PostamtServer, proc_status, run_postamt, wait_for

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="creates a system user: needs root")

# A loopback address of its own, so port 25 is free whatever else runs on this host.
SMTP_ADDRESS = "127.77.0.1"


@pytest.fixture
def service_user():
    name = "pa-qs-" + uuid.uuid4().hex[:8]
    yield name
    subprocess.run(["userdel", name], capture_output=True, timeout=30)
    subprocess.run(["groupdel", name], capture_output=True, timeout=30)


@pytest.fixture
def setup_dir():
    # Like /etc/postamt: traversable by the service user (pytest's tmp dirs are 0700 root).
    directory = Path(tempfile.mkdtemp(prefix="postamt-qs-"))
    os.chmod(directory, 0o755)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def unit_settings(text: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


@needs_root
def test_production_quickstart_runs_as_its_own_user(setup_dir, service_user, postamt_binary):
    done = run_postamt("quickstart", "--hostname", "mail.example.test", "--domain", "example.test",
                       "--dir", str(setup_dir), "--account", "alice@example.test",
                       "--service-user", service_user)
    assert done.returncode == 0, done.stderr
    assert f"runs as:     {service_user} (system user created now)" in done.stdout, done.stdout
    account = pwd.getpwnam(service_user)
    assert account.pw_uid < 1000, "a system user"
    assert account.pw_shell.endswith("nologin")

    config = setup_dir / "postamt.toml"
    text = config.read_text()
    assert f'user = "{service_user}"' in text, text

    # Ownership and modes, set once now: the data tree and the private keys are the
    # service user's and private; the config stays root's.
    data = setup_dir / "data"
    assert data.stat().st_uid == account.pw_uid
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for path in data.rglob("*"):
        info = path.lstat()
        assert info.st_uid == account.pw_uid, f"{path} not the service user's"
        assert stat.S_IMODE(info.st_mode) & 0o077 == 0, f"{path} is {oct(info.st_mode)}"
    for key in [setup_dir / "tls" / "key.pem", *(setup_dir / "data" / "dkim").rglob("*.pem")]:
        assert key.stat().st_uid == account.pw_uid, key
        assert stat.S_IMODE(key.stat().st_mode) & 0o077 == 0, key
    # `postamt dkim` run as root hands the keys it makes to the service user (the server,
    # started below as that user, reads every active key or refuses to start).
    rotated = run_postamt("--config", str(config), "dkim", "rotate", "example.test")
    assert rotated.returncode == 0, rotated.stderr
    keys = list((data / "dkim" / "example.test").iterdir())
    assert len(keys) == 5, keys  # four keys (two retiring) and the state file
    for path in [data / "dkim", data / "dkim" / "example.test", *keys]:
        info = path.lstat()
        assert info.st_uid == account.pw_uid, f"{path} not the service user's"
        assert stat.S_IMODE(info.st_mode) & 0o077 == 0, f"{path} is {oct(info.st_mode)}"
    assert config.stat().st_uid == 0 and config.stat().st_gid == account.pw_gid
    assert stat.S_IMODE(config.stat().st_mode) == 0o640, "readable by the server, not writable"

    # The unit runs the server as the user from the start, with only the bind capability.
    unit = unit_settings((setup_dir / "postamt.service").read_text())
    # Ready when the server says so (sd_notify READY=1), reload = SIGHUP.
    assert unit["Type"] == ["notify"]
    assert unit["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert unit["PrivateTmp"] == ["yes"]
    assert unit["User"] == [service_user] and unit["Group"] == [service_user]
    assert unit["AmbientCapabilities"] == ["CAP_NET_BIND_SERVICE"]
    assert unit["CapabilityBoundingSet"] == ["CAP_NET_BIND_SERVICE"]
    assert unit["NoNewPrivileges"] == ["yes"]
    assert unit["ProtectSystem"] == ["strict"]
    assert unit["ReadWritePaths"] == [str(data)]
    assert unit["ExecStart"][0].endswith(f"serve --config {config}")
    if shutil.which("systemd-analyze"):
        verified = subprocess.run(["systemd-analyze", "verify", str(setup_dir / "postamt.service")],
                                  capture_output=True, text=True, timeout=60)
        assert verified.returncode == 0 and "postamt.service" not in verified.stderr, verified.stderr

    # Start it as the unit does: as the user, with CAP_NET_BIND_SERVICE ambient. Port 25 on
    # a loopback address of its own; everything else on free ports.
    text = text.replace('"0.0.0.0:25"', f'"{SMTP_ADDRESS}:25"')
    text = re.sub(r'"(0\.0\.0\.0|127\.0\.0\.1):\d+"', '"127.0.0.1:0"', text)
    # No DNS answers here: sender authentication (on in a production set-up) would defer
    # every message with 451 4.7.0; test_mailauth_inbound.py tests it with a zone of its own.
    text += "\n[mailauth]\nverify = false\n"
    config.write_text(text)
    server = PostamtServer(directory=setup_dir, config_path=config, binary=postamt_binary,
                           ports_file=data / "ports.json")
    server.command_prefix = ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}",
                             "--clear-groups", "--inh-caps=+net_bind_service",
                             "--ambient-caps=+net_bind_service"]
    try:
        server.start()
        status = proc_status(server.pid)
        assert all(int(u) == account.pw_uid for u in status["Uid"].split()), status["Uid"]
        assert server.ports["smtp"] == (SMTP_ADDRESS, 25)
        # Mail to postmaster@ reaches the account quickstart made (it must exist: the DMARC
        # record printed points at it).
        with smtplib.SMTP(SMTP_ADDRESS, 25, timeout=30) as smtp:
            smtp.sendmail("someone@remote.test", ["postmaster@example.test"],
                          b"From: someone@remote.test\r\nSubject: hello\r\n\r\nto the postmaster\r\n")
        stopped = server.stop()
        assert stopped.returncode == 0, server.log_tail()
        assert not server.problems(), server.log_tail()
    finally:
        server.kill()
