"""PrivateRspamd: Debian's `rspamd` as a private instance (issue 15 §2 and §5), our own child
in the foreground (`rspamd -f`), on a configuration written here that takes Debian's rules
and modules from /etc/rspamd but everything else from its own directory: the normal
(scanning) worker and the controller on free loopback ports, its database, run and log
directories, its own local.d. The system service and /var/lib/rspamd are never used.

    with PrivateRspamd() as rspamd:
        config = {"filter": {"rspamd": {"url": rspamd.url}}}
        rspamd.learn("spam", message_bytes)        # through the controller, for checks
        rspamd.pause() / rspamd.resume()           # SIGSTOP/SIGCONT: an rspamd that hangs
        rspamd.stop()                              # an rspamd that is gone

What is left out so nothing leaves the host and nothing needs Redis: DNS goes to a private
ZoneServer that knows no names (every lookup NXDOMAIN at once: RBLs, SPF, DKIM keys find
nothing); the modules that need Redis disable themselves (no `redis` servers configured);
the ones that fetch maps or ask services on the Internet are disabled in local.d; the Bayes
classifier keeps its statistics in SQLite files in the peer's directory (rspamd 3.4 still
has the sqlite3 backend), so /learnspam and /learnham work without Redis.

GTUBE: rspamd 3.x ignores the test pattern for mail from local networks unless
`gtube_patterns = "all"`; Postamt's tests send from 127.0.0.1, so it is set.

The milter proxy (`milter_port`): with `milter=True` an `rspamd_proxy` worker in milter mode
listens on 127.0.0.1:milter_port and scans with this instance's normal worker (self-scan
off), for a Postfix (`smtpd_milters = inet:127.0.0.1:PORT`) that uses the same rspamd.
With `milter_unix_socket=True` it listens on a unix socket in run/ instead (mode 0666, so
Postfix's smtpd, not root, can connect): over loopback TCP milter round trips wait for
delayed ACKs (peers/milters.py), which a benchmark must not measure.

scanners: how many normal workers scan (default 1; Debian's default is one per core).
milter_headers: the milter_headers routines rspamd writes into its reply's milter block
(default x-spamd-bar), e.g. ("x-spamd-bar", "x-spamd-result") for the symbols as well.
log_level: rspamd's logging level (default info, which logs one line per scan).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from .base import PeerError, PrivatePeer, free_port, process_tree, unavailable, wait_for
from .dns_zone import ZoneServer

PASSWORD = "postamt-test-controller"

# Modules that would fetch maps from the Internet or need services the tests do not run.
_DISABLED_MODULES = ("fuzzy_check", "rbl", "asn", "mx_check", "phishing", "url_redirector", "emails",
                     "dkim_signing", "arc", "metadata_exporter", "metric_exporter", "clickhouse", "elastic",
                     "external_services", "antivirus", "dcc", "spamassassin", "maillist", "trie",
                     "reputation", "neural", "ratelimit", "greylist", "replies", "history_redis",
                     "bayes_expiry", "url_reputation", "url_tags", "p0f")


def rspamd_unavailable() -> str | None:
    return unavailable({"rspamd": "rspamd", "rspamadm": "rspamd"})


class PrivateRspamd(PrivatePeer):
    name = "rspamd"
    log_files = ("log/rspamd.log", "stderr.log")

    def __init__(self, directory: Path | None = None, *, milter: bool = False, password: str = PASSWORD,
                 actions: dict[str, float] | None = None, milter_unix_socket: bool = False,
                 scanners: int = 1, milter_headers: tuple[str, ...] = ("x-spamd-bar",),
                 log_level: str = "info"):
        problem = rspamd_unavailable()
        if problem:
            raise PeerError(problem)
        super().__init__(directory)
        self.port = free_port()
        self.controller_port = free_port()
        self.milter_port = free_port() if milter and not milter_unix_socket else None
        self.milter_path = self.directory / "run" / "milter.sock" if milter and milter_unix_socket else None
        self.scanners = scanners
        self.milter_headers = tuple(milter_headers)
        self.log_level = log_level
        self.password = password
        self.actions = actions or {}
        self.process: subprocess.Popen | None = None
        self.dns: ZoneServer | None = None
        self.paused = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def controller_url(self) -> str:
        return f"http://127.0.0.1:{self.controller_port}"

    @property
    def milter_socket(self) -> str:
        """The proxy's address as Postfix names it (smtpd_milters)."""
        if self.milter_path is not None:
            return f"unix:{self.milter_path}"
        return f"inet:127.0.0.1:{self.milter_port}"

    # ---- configuration -----------------------------------------------------------------

    def _write_config(self, dns_address: str) -> Path:
        d = self.directory
        for sub in ("db", "run", "log", "local/local.d", "local/override.d"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        hashed = subprocess.run(["rspamadm", "pw", "-p", self.password], capture_output=True, text=True,
                                timeout=30, check=True).stdout.strip().splitlines()[-1]
        local = d / "local" / "local.d"
        # rspamd's resolver: our zone server only, quick to give up.
        (local / "options.inc").write_text(
            f'dns {{ nameserver = ["{dns_address}"]; timeout = 1s; retransmits = 1; }}\n'
            'gtube_patterns = "all";\n'
            f'tempdir = "{d / "run"}";\n')
        for module in _DISABLED_MODULES:
            (local / f"{module}.conf").write_text("enabled = false;\n")
        # rspamd's own header changes in its reply's milter block (X-Spamd-Bar), also for
        # mail from loopback, so a test sees them applied.
        routines = ", ".join(f'"{r}"' for r in self.milter_headers)
        (local / "milter_headers.conf").write_text(
            f'use = [{routines}];\nskip_local = false;\nskip_authenticated = false;\n')
        if self.actions:
            (local / "actions.conf").write_text("".join(f'{k} = {v};\n' for k, v in self.actions.items()))
        proxy = ""
        if self.milter_port or self.milter_path:
            listen = f"{self.milter_path} mode=0666" if self.milter_path else f"127.0.0.1:{self.milter_port}"
            proxy = f'''
worker "rspamd_proxy" {{
    bind_socket = "{listen}";
    milter = yes;
    timeout = 120s;
    count = 1;
    upstream "local" {{ default = yes; self_scan = no; hosts = "127.0.0.1:{self.port}"; }}
    discard_on_reject = false;
    quarantine_on_reject = false;
    spam_header = "X-Spam";
    reject_message = "Spam message rejected";
}}
'''
        conf = d / "rspamd.conf"
        # Debian's common.conf, but with our own classifier (SQLite, no Redis) in place of
        # statistic.conf.
        conf.write_text(f'''
lua = "$RULESDIR/rspamd.lua"
.include "$CONFDIR/metrics.conf"
.include "$CONFDIR/actions.conf"
.include "$CONFDIR/groups.conf"
.include "$CONFDIR/composites.conf"
.include "$CONFDIR/modules.conf"
.include "$CONFDIR/settings.conf"

modules {{
  path = "${{PLUGINSDIR}}";
  fallback_path = "${{SHAREDIR}}/lua";
  try_path = "${{LOCAL_CONFDIR}}/plugins.d/";
}}

classifier "bayes" {{
  tokenizer {{ name = "osb"; }}
  backend = "sqlite3";
  min_tokens = 11;
  min_learns = 1;
  # The learn cache's default path is the DBDIR rspamd was built with (/var/lib/rspamd), not
  # the --var one: left there, a message learned in one test run is "already learned" in
  # every later private instance on this host.
  cache {{ path = "{d / "db" / "learn_cache.sqlite"}"; }}
  statfile {{ symbol = "BAYES_HAM"; path = "{d / "db" / "bayes.ham.sqlite"}"; spam = false; }}
  statfile {{ symbol = "BAYES_SPAM"; path = "{d / "db" / "bayes.spam.sqlite"}"; spam = true; }}
  learn_condition = 'return require("lua_bayes_learn").can_learn';
}}

options {{
    pidfile = "$RUNDIR/rspamd.pid";
    .include "$CONFDIR/options.inc"
    .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/options.inc"
}}

logging {{
    type = "file";
    filename = "$LOGDIR/rspamd.log";
    level = "{self.log_level}";
    log_usec = false;
    .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/logging.inc"
    color = false;
}}

worker "normal" {{
    bind_socket = "127.0.0.1:{self.port}";
    count = {self.scanners};
    mime = true;
    task_timeout = 8s;
}}

worker "controller" {{
    bind_socket = "127.0.0.1:{self.controller_port}";
    count = 1;
    password = "{hashed}";
    enable_password = "{hashed}";
    secure_ip = "192.0.2.255";
    static_dir = "${{WWWDIR}}";
}}
{proxy}
''')
        return conf

    # ---- life cycle --------------------------------------------------------------------

    def _start(self, timeout: float) -> None:
        self.dns = ZoneServer({})
        self.dns.__enter__()
        conf = self._write_config(f"127.0.0.1:{self.dns.port}")
        d = self.directory
        command = ["rspamd", "-f", "-i", "-u", "root", "-g", "root", "-c", str(conf),
                   f"--var=LOCAL_CONFDIR={d / 'local'}", f"--var=DBDIR={d / 'db'}",
                   f"--var=RUNDIR={d / 'run'}", f"--var=LOGDIR={d / 'log'}"]
        with open(d / "stderr.log", "wb") as stderr:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr,
                                            start_new_session=True)

        def serving() -> bool:
            if self.process.poll() is not None:
                raise PeerError(f"rspamd exited {self.process.returncode}\n{self.log(3000)}")
            return (self._pings(self.url) and self._pings(self.controller_url)
                    and (self.milter_path is None or self.milter_path.exists()))
        wait_for(serving, max(timeout, 60), lambda: f"rspamd on {self.url}\n{self.log(3000)}", interval=0.2)

    @staticmethod
    def _pings(base: str) -> bool:
        try:
            with urllib.request.urlopen(base + "/ping", timeout=2) as answer:
                return answer.status == 200 and answer.read().strip() == b"pong"
        except (OSError, urllib.error.URLError):
            return False

    def _processes(self) -> list[int]:
        if self.process is None or self.process.poll() is not None:
            return []
        return process_tree(self.process.pid)

    def _stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            if self.paused:
                self.resume()
            self.process.terminate()   # our own child, by its pid; it ends its workers

    def _reap(self) -> None:
        if self.process is not None:
            self.process.wait(timeout=10)
        if self.dns is not None:
            self.dns.__exit__(None, None, None)
            self.dns = None

    def cpu_seconds(self) -> float:
        """User + system CPU time of every running rspamd process (main, scanners,
        controller, proxy) so far; a difference over a window is what rspamd spent in it."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self._processes():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            total += int(fields[11]) + int(fields[12])   # utime, stime (proc(5) fields 14, 15)
        return total / tick

    def pause(self) -> None:
        """Freezes every rspamd process (SIGSTOP): connections are accepted by the kernel
        but never answered, as with an rspamd that hangs."""
        for pid in self._processes():
            os.kill(pid, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        for pid in self._processes():
            os.kill(pid, signal.SIGCONT)
        self.paused = False

    # ---- the HTTP API, for checks from tests ---------------------------------------------

    def _post(self, base: str, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(base + path, data=body, method="POST", headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def check(self, message: bytes, **headers: str) -> dict:
        """/checkv2 of a message (as an MTA would ask)."""
        status, reply = self._post(self.url, "/checkv2", message, headers)
        if status != 200:
            raise PeerError(f"rspamd /checkv2 answered {status}: {reply}")
        return reply

    def learn(self, lesson: str, message: bytes) -> tuple[int, dict]:
        """/learnspam or /learnham through the controller (with the password)."""
        return self._post(self.controller_url, f"/learn{lesson}", message, {"Password": self.password})

    def stat(self) -> dict:
        request = urllib.request.Request(self.controller_url + "/stat", headers={"Password": self.password})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def learned(self) -> int:
        """How many messages the Bayes classifier has learned (spam and ham)."""
        return int(self.stat().get("learned", 0))

    def __repr__(self) -> str:
        return f"PrivateRspamd({self.url}, controller {self.controller_url})"
