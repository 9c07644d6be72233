"""Least privilege and what an operator sees of it (issue 13 §3, §5): private file modes in
the data directory, the warnings at start, the service user without a chown walk,
`postamt setup-permissions`, `postamt --version` with postamt_build_info, and a reload
that says "done" only when it was.

Tests run as root here (a container); the service-user tests need root and skip otherwise.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from harness import (
    make_config,
    message,
    metric_samples,
    metrics_text,
    provision,
    run_postamt,
    send_transaction,
    server_env,
    smtplib_client,
    wait_for,
)

REPO = Path(__file__).resolve().parents[2]
SERVICE_USER = "nobody"


def project_version() -> str:
    match = re.search(r"project\(postamt VERSION (\S+)", (REPO / "CMakeLists.txt").read_text())
    assert match, "CMakeLists.txt names the project version"
    return match.group(1)


def modes_in(data_dir: Path) -> dict[str, str]:
    """Every entry under data_dir (links not followed) -> its mode, e.g. "0600"."""
    found = {".": oct(stat.S_IMODE(os.lstat(data_dir).st_mode))}
    for root, dirs, files in os.walk(data_dir):
        for name in dirs + files:
            path = Path(root) / name
            found[str(path.relative_to(data_dir))] = oct(stat.S_IMODE(os.lstat(path).st_mode))
    return found


def log_events(server, event: str) -> list[str]:
    return [line for line in server.log_text().splitlines() if event in line]


# --------------------------------------------------------------------------------------
# --version and postamt_build_info
# --------------------------------------------------------------------------------------

def test_version_and_build_info_metric_agree(server, postamt_binary):
    done = run_postamt("--version", binary=postamt_binary)
    assert done.returncode == 0, done.stderr
    match = re.fullmatch(r"postamt (\S+) \(commit ([0-9a-f]{12}(?:-dirty)?|unknown)\)\n", done.stdout)
    assert match, done.stdout
    version, commit = match.groups()
    assert version == project_version()
    samples = metric_samples(metrics_text(server), "postamt_build_info")
    assert samples == [({"version": version, "commit": commit}, 1.0)], samples


# --------------------------------------------------------------------------------------
# SIGHUP: "reload.done" only after a reload that worked
# --------------------------------------------------------------------------------------

def test_reload_done_only_after_a_valid_config(server):
    good = server.config_path.read_text()
    server.config_path.write_text(good + "\n[server\nthis is not toml\n")
    before_invalid = server.count_in_log("reload.config_invalid")
    before_done = server.count_in_log("reload.done")
    server.signal(signal.SIGHUP)
    wait_for(lambda: server.count_in_log("reload.config_invalid") > before_invalid, 15,
             message="reload.config_invalid")
    # One signal handler does the whole reload: a "done" of the bad one would follow at once.
    time.sleep(1.0)
    assert server.count_in_log("reload.done") == before_done, server.log_tail()
    server.config_path.write_text(good)
    server.signal(signal.SIGHUP)
    wait_for(lambda: server.count_in_log("reload.done") > before_done, 15, message="reload.done")
    assert server.count_in_log("reload.done") == before_done + 1, server.log_tail()
    assert server.running()


# --------------------------------------------------------------------------------------
# File modes in the data directory
# --------------------------------------------------------------------------------------

def test_everything_in_the_data_dir_is_private(start_server, tmp_path):
    server = start_server()
    provision(server, ["alice"])
    client = smtplib_client(server, "smtp")
    send_transaction(client, "someone@example.org", ["alice@example.test"], message("private"))
    client.quit()
    modes = modes_in(server.data_dir)
    assert any(name.startswith("blobs/") and len(name) > 20 for name in modes), modes  # a blob file
    wider = {name: mode for name, mode in modes.items()
             if mode != ("0o700" if (server.data_dir / name).is_dir() else "0o600")}
    assert wider == {}, wider
    assert log_events(server, "privileges.mode_too_wide") == []


def test_a_store_made_by_the_cli_is_private(cli, tmp_path):
    """The CLI runs with umask 077 too: a store it creates is as private as the server's."""
    done = cli("domain", "add", "example.test")
    assert done.returncode == 0, done.stderr
    data_dir = tmp_path / "cli" / "data"
    modes = modes_in(data_dir)
    assert any("index.sqlite3" in name for name in modes), modes
    wider = {name: mode for name, mode in modes.items()
             if mode != ("0o700" if (data_dir / name).is_dir() else "0o600")}
    assert wider == {}, wider


def test_quickstart_keeps_secrets_private_and_its_directory_reachable(tmp_path, postamt_binary):
    """quickstart under umask 077: keys and the store are the owner's alone, while the
    directory and tls/ stay reachable for a service user (the certificate is public)."""
    directory = tmp_path / "qs"
    done = run_postamt("quickstart", "--hostname", "mail.example.test", "--domain", "example.test",
                       "--dir", str(directory), "--dev-ports", binary=postamt_binary)
    assert done.returncode == 0, done.stderr
    mode = lambda path: stat.S_IMODE(os.lstat(path).st_mode)  # noqa: E731
    assert mode(directory) == 0o755 and mode(directory / "tls") == 0o755
    assert mode(directory / "tls" / "key.pem") == 0o600
    dkim_keys = list((directory / "data" / "dkim").rglob("*.pem"))
    assert len(dkim_keys) == 2 and all(mode(key) == 0o600 for key in dkim_keys)
    assert mode(directory / "postamt.toml") == 0o640
    data_modes = modes_in(directory / "data")
    assert set(data_modes.values()) <= {"0o700", "0o600"}, data_modes


def test_a_wider_file_is_named_at_start_and_root_without_user_warns(start_server, tmp_path):
    directory = tmp_path / "wide"
    server = start_server(directory=directory)
    server.stop()
    database = server.data_dir / "index.sqlite3"
    os.chmod(database, 0o644)
    os.chmod(server.data_dir, 0o755)
    again = start_server(directory=directory)
    warnings = log_events(again, "privileges.mode_too_wide")
    assert any(str(database) in line and "0644" in line for line in warnings), warnings
    assert any(str(again.data_dir) in line and "0755" in line for line in warnings), warnings
    if os.geteuid() == 0:
        # Both starts ran as root without server.user: each said so.
        assert len(log_events(again, "privileges.running_as_root")) == 2, again.log_tail()


# --------------------------------------------------------------------------------------
# The service user: ownership once, then only checks
# --------------------------------------------------------------------------------------

@pytest.fixture
def world_traversable(request):
    """A directory the service user can reach (pytest's tmp_path is root's, 0700).

    Tests list it before start_server, so their servers stop before it is removed."""
    if os.geteuid() != 0:
        pytest.skip("dropping to a service user needs root")
    base = Path(tempfile.mkdtemp(prefix="postamt-priv-", dir="/tmp"))
    os.chmod(base, 0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def test_service_user_owns_a_fresh_data_dir_and_no_chown_walk_happens(world_traversable, start_server):
    service = pwd.getpwnam(SERVICE_USER)
    directory = world_traversable / "server"
    server = start_server(directory=directory, server={"user": SERVICE_USER})
    data_info = os.lstat(server.data_dir)
    assert (data_info.st_uid, data_info.st_gid) == (service.pw_uid, service.pw_gid)
    assert stat.S_IMODE(data_info.st_mode) == 0o700
    assert log_events(server, "privileges.data_dir_created")
    assert log_events(server, "privileges.running_as_root") == []
    server.stop()

    # A compromised service user plants links to root's files in its data directory.
    victim = world_traversable / "root-owned-secret"
    victim.write_text("root's\n")
    os.chmod(victim, 0o600)
    (server.data_dir / "planted-symlink").symlink_to(victim)
    os.link(victim, server.data_dir / "planted-hardlink")
    again = start_server(directory=directory, server={"user": SERVICE_USER})
    victim_info = os.stat(victim)
    assert (victim_info.st_uid, stat.S_IMODE(victim_info.st_mode)) == (0, 0o600), \
        "start-up must not hand a linked file to the service user"
    assert any("planted-symlink" in line for line in log_events(again, "privileges.link_in_data_dir"))
    assert any("planted-hardlink" in line for line in log_events(again, "privileges.foreign_owner"))


def test_a_data_dir_of_another_owner_is_refused_until_setup_permissions(world_traversable, start_server):
    service = pwd.getpwnam(SERVICE_USER)
    directory = world_traversable / "server"
    config = make_config(directory, server={"user": SERVICE_USER})
    data = directory / "data"
    data.mkdir(mode=0o755)
    (data / "left-by-root").write_text("x")
    os.chmod(data / "left-by-root", 0o644)
    with pytest.raises(AssertionError, match="setup-permissions"):
        start_server(directory=directory, server={"user": SERVICE_USER})

    done = run_postamt("--config", str(config), "setup-permissions")
    assert done.returncode == 0, done.stdout + done.stderr
    for path in (data, data / "left-by-root"):
        info = os.lstat(path)
        assert (info.st_uid, info.st_gid) == (service.pw_uid, service.pw_gid), path
        assert stat.S_IMODE(info.st_mode) == (0o700 if path.is_dir() else 0o600), path
    server = start_server(directory=directory, server={"user": SERVICE_USER})
    assert server.running()


def test_a_link_planted_as_the_index_is_refused(tmp_path, postamt_binary):
    """The index is opened with SQLITE_OPEN_NOFOLLOW: a link planted in its place stops
    the start with a clear error, and what it points at is not touched."""
    directory = tmp_path / "linked"
    config = make_config(directory)
    data = directory / "data"
    data.mkdir(mode=0o700)
    target = tmp_path / "elsewhere.sqlite3"
    target.write_bytes(b"")
    os.symlink(target, data / "index.sqlite3")
    done = subprocess.run([str(postamt_binary), "serve", "--config", str(config)],
                          capture_output=True, text=True, timeout=60, env=server_env())
    assert done.returncode == 1, done.stderr
    assert "cannot open the index database" in done.stderr, done.stderr
    assert target.read_bytes() == b""
