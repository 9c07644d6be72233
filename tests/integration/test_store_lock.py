"""One server per data directory (issue 13, section 1).

The issue's race, scaled to be fast: SMTP senders push messages while a second `postamt
serve` on the same data directory is started again and again. Each second server must exit
with status 2 and "data directory <path> is in use by pid N", touching nothing (the ports
file stays the running server's); afterwards every acknowledged message is there over IMAP
and `debug check-store` is clean. Also: which CLI commands work beside a running server and
which refuse, and the start-up order (the lock before the ports file).
"""

from __future__ import annotations

import os
import smtplib
import subprocess
import threading
import time

import pytest

from harness import (
    check_store,
    imaplib_login,
    provision,
    release_binary_path,
    server_env,
    wait_for,
)

pytestmark = [pytest.mark.timeout(240)]

SENDERS = 6
SECOND_STARTS = 10


def second_serve(server) -> subprocess.CompletedProcess:
    return subprocess.run([str(server.binary), "serve", "--config", str(server.config_path)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
                          env=server_env())


def in_use_message(server) -> str:
    return f"data directory {server.data_dir} is in use by pid {server.pid}"


def test_second_serve_under_load_touches_nothing(start_server, tmp_path, postamt_binary):
    release = release_binary_path()
    binary = release if release is not None and release.exists() else postamt_binary
    total = 1200 if binary == release else 400
    server = start_server(directory=tmp_path / "live", binary=binary,
                          limits={"max_connections_per_ip": 200}, log={"level": "info"})
    provision(server, ["alice"])
    host, port = server.address("smtp")
    ports_before = server.ports_path.read_bytes()
    ports_inode = server.ports_path.stat().st_ino
    lock_file = server.data_dir / "postamt.lock"
    assert lock_file.read_text().strip() == str(server.pid), "the lock file holds the owner's pid"

    acked: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    done = threading.Event()

    def sender(worker: int) -> None:
        client = smtplib.SMTP(host, port, local_hostname=f"s{worker}.example.test", timeout=60)
        try:
            for n in range(worker, total, SENDERS):
                msgid = f"<race-{n}@example.test>"
                body = (f"From: <s{worker}@example.org>\r\nTo: <alice@example.test>\r\n"
                        f"Subject: race {n}\r\nMessage-ID: {msgid}\r\n\r\nnumber {n}\r\n").encode()
                refused = client.sendmail(f"s{worker}@example.org", ["alice@example.test"], body)
                if refused:
                    errors.append(f"{msgid}: {refused}")
                    continue
                with lock:
                    acked.append(msgid)
        except (smtplib.SMTPException, OSError) as e:
            errors.append(f"sender {worker}: {e!r}")
        finally:
            client.close()

    threads = [threading.Thread(target=sender, args=(w,)) for w in range(SENDERS)]
    for thread in threads:
        thread.start()
    outcomes = []
    try:
        for _ in range(SECOND_STARTS):
            outcomes.append(second_serve(server))
            time.sleep(0.05)
    finally:
        for thread in threads:
            thread.join(timeout=180)
        done.set()
    assert not errors, errors[:5]
    for outcome in outcomes:
        output = outcome.stdout + outcome.stderr
        assert outcome.returncode == 2, f"second serve: exit {outcome.returncode}\n{output}"
        assert in_use_message(server) in output, output
        assert "store." not in output and "listen" not in output, f"the second serve went on:\n{output}"
    assert server.running()
    assert server.ports_path.read_bytes() == ports_before, "the second serve rewrote the ports file"
    assert server.ports_path.stat().st_ino == ports_inode

    # Every acknowledged message is there, readable, over IMAP.
    client = imaplib_login(server)
    try:
        typ, data = client.select("INBOX", readonly=True)
        assert typ == "OK"
        assert int(data[0]) == len(acked) == total
        typ, data = client.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)] RFC822.SIZE)")
        assert typ == "OK"
        found = {part[1].decode().split(":", 1)[1].strip() for part in data if isinstance(part, tuple)}
        assert found == set(acked)
        typ, data = client.fetch("1:*", "(BODY.PEEK[TEXT])")
        assert typ == "OK", data
        assert sum(1 for part in data if isinstance(part, tuple)) == total
    finally:
        client.logout()
    check_store(server)


def test_commands_beside_a_running_server(start_server, tmp_path):
    server = start_server()
    provision(server, ["alice"])
    # The account, domain, alias and queue commands write the index beside the server
    # (SQLite WAL) and never delete a blob file.
    for args in (("domain", "add", "other.test"), ("user", "add", "carol@other.test", "--password", "pw"),
                 ("user", "passwd", "carol@other.test", "--password", "pw2"),
                 ("user", "quota", "carol@other.test", "100000"), ("alias", "add", "x@other.test", "carol@other.test"),
                 ("alias", "del", "x@other.test"), ("user", "del", "carol@other.test"), ("queue", "flush"),
                 ("user", "list"), ("debug", "mailbox", "alice@example.test")):
        done = server.cli(*args)
        assert done.returncode == 0, f"postamt {' '.join(args)}: exit {done.returncode}: {done.stderr}"
    check_store(server)
    # quickstart into the running server's directory would rewrite its config and keys.
    config_before = server.config_path.read_bytes()
    done = server.cli("quickstart", "--hostname", "mail.example.test", "--domain", "example.test",
                      "--dir", str(server.directory), "--force")
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert in_use_message(server) in done.stderr
    assert server.config_path.read_bytes() == config_before


def test_lock_is_released_at_exit_and_taken_before_the_ports_file(start_server, tmp_path):
    server = start_server()
    pid = server.pid
    assert server.stop().returncode == 0
    # The kernel dropped the lock with the process: a new server starts on the same
    # directory and records its own pid.
    again = start_server(directory=server.directory)
    assert again.pid != pid
    assert (again.data_dir / "postamt.lock").read_text().strip() == str(again.pid)
    os.unlink(again.ports_path)
    outcome = second_serve(again)
    assert outcome.returncode == 2
    assert not again.ports_path.exists(), "the refused server wrote a ports file"
    wait_for(lambda: again.running(), 1, message="first server still running")


def test_store_opened_after_the_privilege_drop(start_server):
    """Started as root with server.user: the lock and the listeners come first, the store,
    its migrations and the blob collection only after the drop, so what they create belongs
    to the service user."""
    import pwd
    import shutil
    import tempfile
    from pathlib import Path

    if os.geteuid() != 0:
        pytest.skip("needs root")
    nobody = pwd.getpwnam("nobody")
    # Outside pytest's 0700 tree, so the service user can reach its data directory.
    base = Path(tempfile.mkdtemp(prefix="postamt-drop-", dir="/tmp"))
    try:
        os.chmod(base, 0o755)
        server = start_server(directory=base / "srv", server={"user": "nobody"})
        os.chmod(base / "srv", 0o755)
        wait_for(lambda: "server.started" in server.log_text(), 30, message="server.started")
        for name in ("index.sqlite3", "blobs"):
            owner = (server.data_dir / name).stat().st_uid
            assert owner == nobody.pw_uid, f"{name} belongs to uid {owner}, not the service user"
        assert (server.data_dir / "postamt.lock").read_text().strip() == str(server.pid)
        assert server.stop().returncode == 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_planted_lock_file_link_is_not_followed(tmp_path, make_config, postamt_binary):
    """The lock file is opened with O_NOFOLLOW: a symbolic link planted in its place is
    refused (exit 1, nothing written through it), never followed."""
    config = make_config(tmp_path / "planted")
    data = tmp_path / "planted" / "data"
    data.mkdir(parents=True)
    target = tmp_path / "victim"
    target.write_text("precious\n")
    (data / "postamt.lock").symlink_to(target)
    done = subprocess.run([str(postamt_binary), "serve", "--config", str(config)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
                          env=server_env())
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert "cannot open the lock file" in done.stdout + done.stderr
    assert target.read_text() == "precious\n"
    assert not (tmp_path / "planted" / "ports.json").exists()
