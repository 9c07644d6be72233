"""A scripted milter for tests: pymilter (Debian python3-milter, Sendmail's libmilter
underneath) in a child process of ours on inet:PORT@127.0.0.1, its answer at the end of
the message chosen by `behaviour`:

    reject        SMFIR_REJECT
    tempfail      SMFIR_TEMPFAIL
    discard       SMFIR_DISCARD
    replycode     SMFIR_REPLYCODE "550 5.7.1 custom text"
    quarantine    SMFIR_QUARANTINE "scripted" then accept
    headers       adds X-Milter-Added, changes Subject, deletes the first X-Remove-Me
    tag:WORD      adds "X-Milter-Order: WORD" (two milters in a row show their order)
    accept        nothing

    with ScriptedMilter("headers") as milter:   # milter.address: "inet:127.0.0.1:PORT"
        ...
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .base import PeerError, PrivatePeer, free_port, listening, process_tree, wait_for


def pymilter_unavailable() -> str | None:
    done = subprocess.run([sys.executable, "-c", "import Milter"], capture_output=True, timeout=30)
    return None if done.returncode == 0 else "pymilter is missing (Debian python3-milter)"


class ScriptedMilter(PrivatePeer):
    log_files = ("milter.log",)

    def __init__(self, behaviour: str, *, directory: Path | None = None):
        problem = pymilter_unavailable()
        if problem:
            raise PeerError(problem)
        super().__init__(directory)
        self.behaviour = behaviour
        self.port = free_port("127.0.0.1")
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"inet:127.0.0.1:{self.port}"

    def _start(self, timeout: float) -> None:
        with open(self.directory / "milter.log", "wb") as log:
            code = ("import sys; sys.path.insert(0, sys.argv[1]); from peers.scripted_milter import _serve; "
                    "_serve(sys.argv[2], int(sys.argv[3]))")
            tests = str(Path(__file__).resolve().parent.parent)
            self.process = subprocess.Popen([sys.executable, "-c", code, tests, self.behaviour, str(self.port)],
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)

        def serving() -> bool:
            if self.process.poll() is not None:
                raise PeerError(f"scripted milter exited {self.process.returncode}\n{self.log(3000)}")
            return listening("127.0.0.1", self.port)
        wait_for(serving, timeout, lambda: f"scripted milter on {self.port}\n{self.log(3000)}")

    def _processes(self) -> list[int]:
        if self.process is None or self.process.poll() is not None:
            return []
        return process_tree(self.process.pid)

    def _stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()   # our own child, by its pid

    def _reap(self) -> None:
        if self.process is not None:
            self.process.wait(timeout=10)


def _serve(behaviour: str, port: int) -> None:   # the child process
    import Milter

    class Scripted(Milter.Base):
        def __init__(self):
            self.seen = []

        def header(self, name, value):
            self.seen.append((name, value))
            return Milter.CONTINUE

        def eom(self):
            print(f"eom headers={self.seen!r} macros i={self.getsymval('i')!r} "
                  f"client_addr={self.getsymval('{client_addr}')!r}", flush=True)
            if behaviour == "reject":
                return Milter.REJECT
            if behaviour == "tempfail":
                return Milter.TEMPFAIL
            if behaviour == "discard":
                return Milter.DISCARD
            if behaviour == "replycode":
                self.setreply("550", "5.7.1", "custom text")
                return Milter.REJECT
            if behaviour == "quarantine":
                self.quarantine("scripted")
                return Milter.ACCEPT
            if behaviour == "headers":
                self.addheader("X-Milter-Added", "yes  with two spaces")
                self.chgheader("Subject", 1, "changed by milter")
                self.chgheader("X-Remove-Me", 1, "")
                return Milter.ACCEPT
            if behaviour.startswith("tag:"):
                self.addheader("X-Milter-Order", behaviour[4:])
                return Milter.ACCEPT
            return Milter.ACCEPT

    Milter.factory = Scripted
    Milter.set_flags(Milter.ADDHDRS | Milter.CHGHDRS | Milter.QUARANTINE)
    Milter.runmilter("scripted", f"inet:{port}@127.0.0.1", 60)
