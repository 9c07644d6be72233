"""systemd readiness (Type=notify) without systemd: the test holds the socket $NOTIFY_SOCKET
names and reads what the real server sends there — READY=1 only once the ports file lists
every listener, RELOADING=1/READY=1 around a SIGHUP, STOPPING=1 at SIGTERM."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

from harness import PROTOCOLS, STARTUP_TIMEOUT, PostamtServer, make_config, wait_for


def parse(datagram: bytes) -> dict[str, str]:
    fields = {}
    for line in datagram.decode().splitlines():
        key, _, value = line.partition("=")
        fields[key] = value
    return fields


@pytest.fixture(params=["path", "abstract"])
def notify_socket(request):
    """(address for $NOTIFY_SOCKET, bound datagram socket)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    directory = None
    if request.param == "path":
        directory = tempfile.mkdtemp(prefix="pa-notify-")  # short: sun_path holds 108 bytes
        address = os.path.join(directory, "notify")
        sock.bind(address)
    else:
        name = f"postamt-test-{uuid.uuid4().hex}"
        sock.bind("\0" + name)
        address = "@" + name
    yield address, sock
    sock.close()
    if directory:
        shutil.rmtree(directory, ignore_errors=True)


def receive(sock: socket.socket, timeout: float) -> dict[str, str]:
    sock.settimeout(timeout)
    try:
        return parse(sock.recv(4096))
    except (socket.timeout, TimeoutError):
        raise AssertionError(f"no notification within {timeout}s") from None


def test_ready_after_the_listeners_then_reload_and_stop(tmp_path, postamt_binary, notify_socket):
    address, sock = notify_socket
    server = PostamtServer(directory=tmp_path, config_path=make_config(tmp_path), binary=postamt_binary,
                           extra_env={"NOTIFY_SOCKET": address})
    # start() waits for the ports file; meanwhile this thread waits for READY=1 and looks at
    # the ports file the moment it arrives.
    starting = threading.Thread(target=server.start, daemon=True)
    starting.start()
    try:
        ready = receive(sock, STARTUP_TIMEOUT)
        listed_at_ready = json.loads(server.ports_path.read_text()) if server.ports_path.exists() else {}
        starting.join(STARTUP_TIMEOUT)
        assert server.started, server.log_tail()
        assert ready.get("READY") == "1", f"the first notification is READY=1, got {ready}"
        assert ready.get("MAINPID") == str(server.pid)
        assert sorted(listed_at_ready) == sorted(PROTOCOLS), (
            f"READY=1 came before the ports file listed every listener: {listed_at_ready}")
        assert "server.started" in server.log_text()
        client = server.connect("smtp")  # ready means accepting
        client.expect("220 ")
        client.close()

        before = time.monotonic_ns() // 1000
        server.signal(signal.SIGHUP)
        reloading = receive(sock, 15)
        assert reloading.get("RELOADING") == "1", reloading
        assert int(reloading["MONOTONIC_USEC"]) >= before, "CLOCK_MONOTONIC in microseconds"
        again = receive(sock, 15)
        assert again.get("READY") == "1", again
        assert "reload.done" in server.log_text(), "READY=1 comes after the reload's outcome"

        server.signal(signal.SIGTERM)
        stopping = receive(sock, 15)
        assert stopping.get("STOPPING") == "1", stopping
        stopped = server.stop()
        assert stopped.returncode == 0, server.log_tail()
        sock.settimeout(0.2)
        with pytest.raises((socket.timeout, TimeoutError)):
            sock.recv(4096)  # nothing after STOPPING=1
        assert not server.problems(), server.log_tail()
    finally:
        server.kill()


def test_a_socket_nobody_holds_is_logged_not_fatal(tmp_path, postamt_binary):
    missing = str(Path(tempfile.gettempdir()) / f"pa-no-notify-{uuid.uuid4().hex[:8]}")
    server = PostamtServer(directory=tmp_path, config_path=make_config(tmp_path), binary=postamt_binary,
                           extra_env={"NOTIFY_SOCKET": missing})
    try:
        server.start()
        wait_for(lambda: "sd_notify.failed" in server.log_text(), 10, message="sd_notify.failed logged")
        server.signal(signal.SIGHUP)
        wait_for(lambda: "reload.done" in server.log_text(), 15, message="reload.done")
        assert server.log_text().count("sd_notify.failed") == 1, "said once, not at every notification"
        client = server.connect("smtp")
        client.expect("220 ")
        client.close()
        assert server.stop().returncode == 0, server.log_tail()
    finally:
        server.kill()
