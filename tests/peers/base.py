"""The common shape of a peer that is a private process: PrivatePeer, and the small helpers
every peer module uses (bounded waits, loopback ports, the processes a peer leaves behind).

A PrivatePeer owns one directory for everything it writes (configuration, state, logs):
either one the caller gives (kept at stop, the caller removes it) or a fresh one under
/tmp (removed at stop). Not pytest's tmp_path: that is 0700 root, and the daemons of
Postfix and Dovecot run as their own users, so the directory is made 0755.

    with SomePeer(...) as peer:     # start(): bounded wait until it serves
        ...                         # stop(): its processes are gone, checked by pid
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable

WAIT_LIMIT = 30.0        # the default bound of every wait here, in seconds
STOP_LIMIT = 15.0        # how long a peer's processes get to exit before they are killed


class PeerError(AssertionError):
    """A peer did not do what it must (start, serve, deliver, stop) within its bound.
    An AssertionError, so a test that adds context to a failed wait catches it."""


def wait_for(predicate: Callable[[], object], timeout: float, message: str | Callable[[], str],
             interval: float = 0.1) -> object:
    """Polls predicate until it returns a truthy value; PeerError after timeout seconds.
    message may be a function, called only then (e.g. to show a log as it is by then)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise PeerError(f"timed out after {timeout:.1f}s waiting for {text}")
        time.sleep(interval)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on at this moment (the peer binds it a little later)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def listening(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def greets(host: str, port: int, prefix: bytes) -> bool:
    """Whether a connection to host:port gets a first line starting with prefix."""
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            return sock.recv(100).startswith(prefix)
    except OSError:
        return False


def unavailable(programs: dict[str, str], users: Iterable[str] = (), why_root: str = "") -> str | None:
    """Why a private instance cannot run here, or None. programs: executable -> Debian
    package; users: the system users its daemons switch to (the packages create them)."""
    for program, package in programs.items():
        if shutil.which(program) is None:
            return f"{program} is missing (Debian {package}; scripts/install-deps.sh installs it)"
    if why_root and os.geteuid() != 0:
        return why_root
    for user in users:
        try:
            pwd.getpwnam(user)
        except KeyError:
            return f"the {user} user does not exist (the Debian package creates it)"
    return None


# --------------------------------------------------------------------------------------
# Processes, by pid and start time (a pid alone may be reused by then)
# --------------------------------------------------------------------------------------

Process = tuple[int, str]      # (pid, start time in clock ticks since boot, from /proc)


def _stat_fields(pid: int) -> list[str] | None:
    try:
        # The command name (field 2) may hold spaces and parentheses: split after the last ")".
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError, PermissionError):
        return None


def process_tree(root: int) -> list[int]:
    """root and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def identify(pids: Iterable[int]) -> list[Process]:
    """The processes behind pids that still exist, each with its start time."""
    out = []
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None and fields[0] != "Z":
            out.append((pid, fields[19]))    # field 22 of stat: starttime
    return out


def alive(process: Process) -> bool:
    fields = _stat_fields(process[0])
    return fields is not None and fields[0] != "Z" and fields[19] == process[1]


def end_processes(processes: list[Process], timeout: float = STOP_LIMIT) -> list[int]:
    """Waits until processes (already asked to exit) are gone; the ones still there after
    timeout get SIGKILL, by pid and only if the pid is still the same process. Returns the
    pids that had to be killed."""
    deadline = time.monotonic() + timeout
    while any(alive(p) for p in processes) and time.monotonic() < deadline:
        time.sleep(0.05)
    killed = []
    for process in processes:
        if alive(process):
            try:
                os.kill(process[0], signal.SIGKILL)
                killed.append(process[0])
            except ProcessLookupError:
                pass
    if killed:
        wait_for(lambda: not any(alive(p) for p in processes), 10, f"killed processes {killed} to go")
    return killed


# --------------------------------------------------------------------------------------
# PrivatePeer
# --------------------------------------------------------------------------------------

class PrivatePeer:
    """A private instance of a real program: its own directory, start() with a bounded wait
    until it serves, stop() that leaves no process behind. Subclasses implement _start,
    _processes (what must be gone after stop), _stop and, for a child of ours, _reap, and
    name their log files."""

    name = "peer"
    log_files: tuple[str, ...] = ()     # relative to the directory, shown by log()

    def __init__(self, directory: Path | None = None):
        if directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix=f"postamt-{self.name}-"))
            self._owns_directory = True
        else:
            self.directory = Path(directory)
            self.directory.mkdir(parents=True, exist_ok=True)
            self._owns_directory = False
        os.chmod(self.directory, 0o755)
        self.started = False

    # ---- for subclasses ----------------------------------------------------------------

    def _start(self, timeout: float) -> None:
        raise NotImplementedError

    def _processes(self) -> list[int]:
        """The pids of the running instance (its master and every child)."""
        raise NotImplementedError

    def _stop(self) -> None:
        """Asks the instance to stop (does not wait)."""
        raise NotImplementedError

    def _reap(self) -> None:
        """Collects the exit status of a process that is our own child, once it is gone."""

    # ---- life cycle --------------------------------------------------------------------

    def start(self, timeout: float = WAIT_LIMIT) -> "PrivatePeer":
        self.started = True      # from here on stop() cleans up, whatever start() did
        self._start(timeout)
        return self

    def stop(self) -> None:
        """Stops the instance and waits until every one of its processes is gone (killing,
        by pid, what remains after STOP_LIMIT); removes the directory if it made it."""
        try:
            if self.started:
                self.started = False
                running = identify(self._processes())
                self._stop()
                end_processes(running)
                self._reap()
        finally:
            if self._owns_directory:
                shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- diagnostics -------------------------------------------------------------------

    def log(self, limit: int | None = None) -> str:
        """The peer's log files (the last `limit` characters of each)."""
        found = []
        for name in self.log_files:
            try:
                text = (self.directory / name).read_text(errors="replace")
            except FileNotFoundError:
                continue
            found.append((name, text if limit is None else text[-limit:]))
        if len(self.log_files) == 1:
            return found[0][1] if found else ""
        return "".join(f"--- {name}\n{text}" for name, text in found)
