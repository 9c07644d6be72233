#!/usr/bin/env python3
"""Postamt side by side with Postfix + Dovecot: the same workloads against both, alternating.

    bench/run.py [--binary build/postamt] [--quick] [--reps N] [--only W[,W...]] [--big] [--idle N]

Starts a private Postamt and a private Postfix + Dovecot (bench/lab.py) in one temporary
directory, fills the IMAP/POP3 mailboxes identically on both (the same messages over SMTP),
then runs every workload against each side in turn (the side that goes first alternates
between repetitions) and prints one table of medians with the Postamt/peer ratio. The table
is also written to bench/results/ as JSON and Markdown. A measurement, not a test: nothing
here fails on a figure; a workload that errors fails the run.

Workloads (--only takes these names or prefixes such as "smtp"):
  smtp_4k_c1 smtp_4k_c10 smtp_4k_c50 smtp_64k_c1 smtp_64k_c10 smtp_64k_c50
  smtp_auth_c1 smtp_auth_c50   4 KiB DKIM-signed mail with SPF, DKIM and DMARC verified: Postamt
                     with [mailauth] verify = true against Postfix + OpenDKIM + OpenDMARC
                     (bench/auth_lab.py; a second pair of servers, one private DNS zone)
  smtp_rspamd_c1 smtp_rspamd_c50   4 KiB newsletters scanned by one private rspamd: Postamt with
                     [filter.rspamd] (/checkv2) against Postfix with rspamd_proxy as its milter
                     (bench/spam_lab.py; a third pair of servers, the same rspamd for both)
  smtp_readable   accepted (250) to visible over IMAP, one message at a time
  imap_c1 imap_c20   mixed sessions
  pop3_c1 pop3_c20   USER, PASS, STAT, UIDL, RETR all, QUIT
  imap_c20_paced pop3_c20_paced   the same at 8 sessions/s on both sides: latency at equal load
  idle               memory per idle IMAP connection (logged in, INBOX selected, IDLE)
  big                (with --big) SELECT, FETCH 1:* (UID FLAGS) and SEARCH BODY in a big mailbox
The load generator's own ceiling against a sink (bench/sink.py) is measured first.

Passwords: every user has the same hash on both sides; --scheme sha512-crypt (default) or
argon2id (Postamt's own default on both sides: Dovecot has no cache in this set-up, so it
pays the key derivation at every LOGIN). --scheme own gives each side its own default:
Postamt the Argon2id hashes `postamt user add` writes (verified once, then taken from its
verified-credential cache), Dovecot SHA512-CRYPT; e.g. --scheme own --only imap_c1,imap_c20.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import math
import os
import platform
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import auth_lab  # noqa: E402
import loadgen  # noqa: E402
import spam_lab  # noqa: E402
from lab import DOMAIN, PASSWORD, PeerSide, PostamtSide, Side, peer_unavailable, sha512_crypt_hash  # noqa: E402
from sink import Sink  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HEADER_WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
BODY_WORD = "zebra"          # in every tenth message's body


@dataclass
class Sizes:
    smtp_seconds: float
    session_seconds: float
    mailbox_users: int            # at least the most POP3 clients: a maildrop is locked per session
    mailbox_messages: int
    ingest_users: int
    readable_messages: int
    idle: int
    big: int

    @staticmethod
    def of(args) -> "Sizes":
        if args.quick:
            sizes = Sizes(smtp_seconds=0.5, session_seconds=1.0, mailbox_users=20, mailbox_messages=5,
                          ingest_users=4, readable_messages=3, idle=20, big=500)
        else:
            sizes = Sizes(smtp_seconds=4.0, session_seconds=6.0, mailbox_users=20, mailbox_messages=200,
                          ingest_users=10, readable_messages=30, idle=1000, big=100_000)
        if args.idle is not None:
            sizes.idle = args.idle
        if args.big_size is not None:
            sizes.big = args.big_size
        if args.seconds is not None:
            sizes.smtp_seconds = sizes.session_seconds = args.seconds
        return sizes


# --------------------------------------------------------------------------------------
# Results: per workload, per metric, per side, one value per repetition
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Metric:
    workload: str
    name: str
    unit: str
    higher_is_better: bool
    compared: bool = True   # False: shown for both sides, no ratio (the two do different work)


class Results:
    def __init__(self):
        self.metrics: list[Metric] = []
        self.values: dict[tuple[str, str], dict[str, list[float]]] = {}

    def add(self, workload: str, name: str, unit: str, higher_is_better: bool, side: str, value: float,
            compared: bool = True) -> None:
        key = (workload, name)
        if key not in self.values:
            self.metrics.append(Metric(workload, name, unit, higher_is_better, compared))
            self.values[key] = {}
        self.values[key].setdefault(side, []).append(value)

    def median(self, metric: Metric, side: str) -> float:
        values = [v for v in self.values[(metric.workload, metric.name)].get(side, []) if not math.isnan(v)]
        return statistics.median(values) if values else float("nan")

    def rows(self) -> list[dict]:
        out = []
        for metric in self.metrics:
            ours, theirs = self.median(metric, "postamt"), self.median(metric, "peer")
            ratio = ours / theirs if theirs and not math.isnan(theirs) and not math.isnan(ours) else float("nan")
            if not metric.compared:
                ratio = float("nan")
                better = "(info)"
            elif math.isnan(ratio):
                better = "?"
            else:
                better = "yes" if (ratio >= 1.0 if metric.higher_is_better else ratio <= 1.0) else "NO"
            out.append({"workload": metric.workload, "metric": metric.name, "unit": metric.unit,
                        "higher_is_better": metric.higher_is_better, "postamt": ours, "peer": theirs,
                        "ratio": ratio, "postamt_better": better,
                        "reps": {s: v for s, v in self.values[(metric.workload, metric.name)].items()}})
        return out


def fmt(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(rows: list[dict]) -> str:
    lines = ["| workload | metric | Postamt | Postfix/Dovecot | Postamt/peer | Postamt better |",
             "|---|---|---:|---:|---:|:---:|"]
    for row in rows:
        lines.append(f"| {row['workload']} | {row['metric']} ({row['unit']}) | {fmt(row['postamt'])} | "
                     f"{fmt(row['peer'])} | {fmt(row['ratio'])} | {row['postamt_better']} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Mailbox content: the same deterministic messages for both sides
# --------------------------------------------------------------------------------------

def mailbox_message(i: int, recipient: str) -> bytes:
    rng = random.Random(i)
    word = HEADER_WORDS[i % len(HEADER_WORDS)]
    size = rng.randint(1024, 10 * 1024)
    words = ["mail", "server", "queue", "folder", "message", "index", "network", "storage", "client"]
    lines = []
    total = 0
    while total < size:
        line = " ".join(rng.choice(words) for _ in range(10))
        if i % 10 == 3 and not lines:
            line += f" {BODY_WORD}"
        lines.append(line)
        total += len(line) + 2
    body = "\r\n".join(lines) + "\r\n"
    return (f"From: Sender {i % 17} <sender{i % 17}@example.org>\r\nTo: <{recipient}>\r\n"
            f"Subject: {word} report number {i}\r\nMessage-ID: <m{i}@bench.example.org>\r\n"
            f"Date: Mon, 1 Jan 2024 12:{i % 60:02d}:00 +0000\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=us-ascii\r\n\r\n{body}").encode()


async def fill(side: Side, recipients: list[str], count: int, connections: int = 4,
               small: bool = False) -> None:
    """count messages, each to all of recipients, over `connections` SMTP connections."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def sender() -> None:
        conn = await loadgen.smtp_session(side.smtp)
        try:
            while not queue.empty():
                i = queue.get_nowait()
                content = (loadgen.smtp_message(1024, f"big.{i}", recipients[0]) if small
                           else mailbox_message(i, recipients[0]))
                await loadgen.smtp_send_one(conn, "sender@example.org", recipients, content)
        finally:
            await conn.close()
    await asyncio.gather(*(sender() for _ in range(connections)))


async def imap_exists(side: Side, user: str, warm: bool) -> int:
    imap = await loadgen.Imap.open(side.imap)
    try:
        await imap.login(user, PASSWORD)
        exists = loadgen.exists_of(await imap.command(b"SELECT INBOX"))
        if warm and exists:
            await imap.command(b"FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)")
            await imap.command(f'SEARCH BODY "{BODY_WORD}"'.encode())
        await imap.command(b"LOGOUT")
        return exists
    finally:
        await imap.conn.close()


def fill_mailboxes(side: Side, users: list[str], count: int, small: bool = False,
                   connections: int = 4) -> float:
    """Delivers the messages, waits until every user sees all of them over IMAP, and warms
    each mailbox once (a FETCH of the envelopes and a body SEARCH). Returns the seconds."""
    started = time.monotonic()
    asyncio.run(fill(side, users, count, connections=connections, small=small))
    side.settle(timeout=600)
    for user in users:
        deadline = time.monotonic() + 600
        while asyncio.run(imap_exists(side, user, warm=True)) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{side.name}: {user} never saw its {count} messages")
            time.sleep(0.5)
    return time.monotonic() - started


# --------------------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------------------

def check(samples: loadgen.Samples, what: str) -> loadgen.Samples:
    if samples.errors:
        raise RuntimeError(f"{what}: " + "; ".join(samples.errors[:5]))
    if samples.operations() == 0:
        raise RuntimeError(f"{what}: no operation completed")
    return samples


def ms(values: list[float], fraction: float) -> float:
    return loadgen.percentile(values, fraction) * 1000.0


def smtp_workload(size: int, connections: int, authenticated: bool = False, spam: bool = False):
    """authenticated: the signed messages of auth_lab to the sides that verify them; spam:
    spam_lab's newsletter to the sides that have rspamd scan it."""
    def run(side: Side, ctx: "Context", results: Results, name: str) -> None:
        side.settle(timeout=300)   # the previous run's mail is delivered before this one starts
        params = {"address": side.smtp, "recipients": ctx.ingest, "size": size,
                  "tag": f"{name}.{side.name}.{time.time_ns()}"}
        if authenticated:
            params |= ctx.auth.load_params()
            queries, cpu = ctx.auth.queries, _own_cpu_seconds()
        if spam:
            params |= ctx.spam.load_params()
            scanner_cpu = ctx.spam.cpu_seconds()
        samples = check(loadgen.drive("smtp", connections, ctx.sizes.smtp_seconds, params), name)
        data = samples.latencies["DATA"]
        results.add(name, "messages/s", "1/s", True, side.name, len(data) / ctx.sizes.smtp_seconds)
        results.add(name, "DATA->250 p50", "ms", False, side.name, ms(data, 0.5))
        results.add(name, "DATA->250 p99", "ms", False, side.name, ms(data, 0.99))
        if authenticated:
            # The zone server runs in this process (its threads; the main thread waits for
            # the generator meanwhile): what the side's lookups cost it during the window.
            results.add(name, "DNS queries per message", "", False, side.name,
                        (ctx.auth.queries - queries) / max(1, len(data)), compared=False)
            results.add(name, "DNS server CPU in the window", "s", False, side.name,
                        _own_cpu_seconds() - cpu, compared=False)
        if spam:   # every rspamd process: the scanners, and the proxy the peer's milter talks to
            spent = ctx.spam.cpu_seconds() - scanner_cpu
            results.add(name, "rspamd CPU in the window", "s", False, side.name, spent, compared=False)
            results.add(name, "rspamd CPU per message", "ms", False, side.name, spent * 1000 / max(1, len(data)),
                        compared=False)
        # What the accepted mail still costs after the window: Postfix delivering its queue
        # into the Maildirs, Postamt indexing the text of the new messages for SEARCH.
        results.add(name, "work left after the window", "s", False, side.name, side.settle(timeout=600),
                    compared=False)
        if authenticated:   # what was stored says spf, dkim and dmarc passed (else the run fails)
            results.add(name, "stored messages checked: spf+dkim+dmarc pass", "", True, side.name,
                        auth_lab.check_sample(side, ctx.ingest), compared=False)
        if spam:   # what was stored carries rspamd's result (else the run fails)
            results.add(name, "stored messages checked: rspamd result", "", True, side.name,
                        spam_lab.check_sample(side, ctx.ingest), compared=False)
    return run


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def readable_workload(side: Side, ctx: "Context", results: Results, name: str) -> None:
    """One message at a time: the 250 to the moment an IMAP client polling with NOOP on the
    selected INBOX sees it (EXISTS grows)."""
    async def measure() -> list[float]:
        side.settle(timeout=300)
        smtp = await loadgen.smtp_session(side.smtp)
        imap = await loadgen.Imap.open(side.imap)
        latencies = []
        try:
            await imap.login(f"watch@{DOMAIN}", PASSWORD)
            exists = loadgen.exists_of(await imap.command(b"SELECT INBOX"))
            for k in range(ctx.sizes.readable_messages):
                message = loadgen.smtp_message(4096, f"readable.{side.name}.{time.time_ns()}", f"watch@{DOMAIN}")
                await loadgen.smtp_send_one(smtp, "sender@example.org", [f"watch@{DOMAIN}"], message)
                accepted = time.monotonic()
                while True:
                    untagged = await imap.command(b"NOOP")
                    grown = [r for r in untagged if r.endswith(b" EXISTS\r\n")]
                    if grown:
                        exists = int(grown[-1].split()[1])
                        break
                    if time.monotonic() - accepted > 30:
                        raise RuntimeError(f"{side.name}: message {k} not visible after 30 s")
                    await asyncio.sleep(0.001)
                latencies.append(time.monotonic() - accepted)
            await imap.command(b"LOGOUT")
        finally:
            await imap.conn.close()
            await smtp.close()
        return latencies
    latencies = asyncio.run(measure())
    results.add(name, "accepted->visible p50", "ms", False, side.name, ms(latencies, 0.5))
    results.add(name, "accepted->visible p99", "ms", False, side.name, ms(latencies, 0.99))


IMAP_COMMANDS = ["LOGIN", "SELECT", "FETCH-ENVELOPE", "FETCH-BODY", "SEARCH-HEADER", "SEARCH-BODY",
                 "STORE", "LOGOUT"]
POP3_COMMANDS = ["USER", "PASS", "STAT", "UIDL", "RETR", "QUIT"]


def session_metrics(samples: loadgen.Samples, commands: list[str], seconds: float, name: str,
                    side: str, results: Results) -> None:
    operations = sum(len(samples.latencies.get(c, [])) for c in commands)
    results.add(name, "operations/s", "1/s", True, side, operations / seconds)
    results.add(name, "sessions/s", "1/s", True, side, samples.counters.get("sessions", 0) / seconds)
    for command in commands:
        values = samples.latencies.get(command, [])
        results.add(name, f"{command} p50", "ms", False, side, ms(values, 0.5))
        results.add(name, f"{command} p99", "ms", False, side, ms(values, 0.99))


def imap_workload(clients: int):
    def run(side: Side, ctx: "Context", results: Results, name: str) -> None:
        side.settle(timeout=300)   # no background work of an earlier run in this one
        params = {"address": side.imap, "users": ctx.boxes, "password": PASSWORD,
                  "header_words": HEADER_WORDS, "body_word": BODY_WORD, "bodies": 20}
        samples = check(loadgen.drive("imap", clients, ctx.sizes.session_seconds, params), name)
        session_metrics(samples, IMAP_COMMANDS, ctx.sizes.session_seconds, name, side.name, results)
    return run


def pop3_workload(clients: int):
    def run(side: Side, ctx: "Context", results: Results, name: str) -> None:
        side.settle(timeout=300)
        params = {"address": side.pop3, "users": ctx.boxes, "password": PASSWORD}
        samples = check(loadgen.drive("pop3", clients, ctx.sizes.session_seconds, params), name)
        session_metrics(samples, POP3_COMMANDS, ctx.sizes.session_seconds, name, side.name, results)
    return run


# Paced runs: both servers get the same sessions per second, below what either sustains
# (Dovecot manages about 20 IMAP or POP3 sessions/s at 20 clients here). A closed loop gives
# the faster server more load, and with it longer queues on the shared 2 cores (the load
# generator's own included), so its per-command latencies there do not compare like with like.
PACED_SESSIONS_PER_SECOND = 8.0


def paced_workload(kind: str, clients: int):
    commands = IMAP_COMMANDS if kind == "imap" else POP3_COMMANDS

    def run(side: Side, ctx: "Context", results: Results, name: str) -> None:
        side.settle(timeout=300)
        seconds = 2 * ctx.sizes.session_seconds
        params = {"address": side.imap if kind == "imap" else side.pop3, "users": ctx.boxes,
                  "password": PASSWORD, "clients": clients,
                  "session_interval": clients / PACED_SESSIONS_PER_SECOND}
        if kind == "imap":
            params.update({"header_words": HEADER_WORDS, "body_word": BODY_WORD, "bodies": 20})
        samples = check(loadgen.drive(kind, clients, seconds, params), name)
        for command in commands:
            values = samples.latencies.get(command, [])
            results.add(name, f"{command} p50", "ms", False, side.name, ms(values, 0.5))
            results.add(name, f"{command} p99", "ms", False, side.name, ms(values, 0.99))
    return run


def idle_workload(side: Side, ctx: "Context", results: Results, name: str) -> None:
    """Memory of the server's processes (Postamt: its one process; Dovecot: the master and
    every descendant, imap processes included) before and after `idle` more connections
    that logged in, selected INBOX and entered IDLE. RSS sums count shared pages once per
    process; PSS splits them, so both are reported."""
    params = {"address": side.imap, "user": f"idle@{DOMAIN}", "password": PASSWORD}

    async def measure() -> tuple[tuple[int, int], tuple[int, int]]:
        pause = 0.3 if ctx.sizes.idle <= 100 else 2.0   # for allocations and processes to settle
        warm = await loadgen.imap_idle_hold(params, 10, 4)
        await asyncio.sleep(pause)
        before = side.memory()
        held = await loadgen.imap_idle_hold(params, ctx.sizes.idle, 8)
        await asyncio.sleep(pause)
        after = side.memory()
        for imap in held + warm:
            imap.conn.writer.close()
        await asyncio.sleep(pause)
        return before, after
    (rss0, pss0), (rss1, pss1) = asyncio.run(measure())
    n = ctx.sizes.idle
    results.add(name, f"RSS per connection ({n} conns)", "KiB", False, side.name, (rss1 - rss0) / n)
    results.add(name, f"PSS per connection ({n} conns)", "KiB", False, side.name, (pss1 - pss0) / n)
    results.add(name, "RSS total with the connections", "MiB", False, side.name, rss1 / 1024)
    time.sleep(0.3 if ctx.sizes.idle <= 100 else 2.0)   # Dovecot's imap processes exit


def big_workload(side: Side, ctx: "Context", results: Results, name: str) -> None:
    async def measure() -> dict[str, float]:
        imap = await loadgen.Imap.open(side.imap)
        out = {}
        try:
            await imap.login(f"big@{DOMAIN}", PASSWORD)
            for label, command in (("SELECT", b"SELECT INBOX"), ("FETCH 1:* (UID FLAGS)", b"FETCH 1:* (UID FLAGS)"),
                                   ("SEARCH BODY", b'SEARCH BODY "nonexistentword"')):
                t0 = time.monotonic()
                await imap.command(command)
                out[label] = time.monotonic() - t0
            await imap.command(b"LOGOUT")
        finally:
            await imap.conn.close()
        return out
    for label, seconds in asyncio.run(measure()).items():
        results.add(name, f"{label}", "ms", False, side.name, seconds * 1000)


# --------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------

@dataclass
class Context:
    sizes: Sizes
    boxes: list[str]
    ingest: list[str]
    auth: "auth_lab.AuthZone | None" = None
    spam: "spam_lab.SpamLab | None" = None


PLAIN, AUTH, SPAM = "plain", "auth", "spam"   # which pair of servers a workload runs against


def workloads(big: bool) -> list[tuple[str, Callable, bool, str]]:
    """(name, run, repeat, pair): repeat=False runs once per side whatever --reps says; pair
    PLAIN is Postamt against Postfix + Dovecot, AUTH Postamt verifying against Postfix with
    OpenDKIM + OpenDMARC, SPAM Postamt asking rspamd against Postfix with rspamd_proxy."""
    out = [(f"smtp_{k}k_c{c}", smtp_workload(k * 1024, c), True, PLAIN) for k in (4, 64) for c in (1, 10, 50)]
    out += [(f"smtp_auth_c{c}", smtp_workload(4096, c, authenticated=True), True, AUTH) for c in (1, 50)]
    out += [(f"smtp_rspamd_c{c}", smtp_workload(4096, c, spam=True), True, SPAM) for c in (1, 50)]
    out.append(("smtp_readable", readable_workload, True, PLAIN))
    out += [(f"imap_c{c}", imap_workload(c), True, PLAIN) for c in (1, 20)]
    out += [(f"pop3_c{c}", pop3_workload(c), True, PLAIN) for c in (1, 20)]
    out += [(f"{kind}_c20_paced", paced_workload(kind, 20), True, PLAIN) for kind in ("imap", "pop3")]
    out.append(("idle", idle_workload, False, PLAIN))
    if big:
        out.append(("big", big_workload, True, PLAIN))
    return out


def selected(name: str, only: list[str] | None) -> bool:
    return not only or any(name == o or name.startswith(o) for o in only)


def ceiling(results: Results, sizes: Sizes) -> None:
    """The load generator against the sink: what it can drive at most on this machine."""
    sink = Sink()
    try:
        runs = [("smtp_4k_c50", "smtp", 50, {"address": sink.smtp, "recipients": ["x@y"], "size": 4096,
                                              "tag": "sink"}),
                ("imap_c20", "imap", 20, {"address": sink.imap, "users": ["x"], "password": "x",
                                          "header_words": HEADER_WORDS, "body_word": BODY_WORD, "bodies": 20}),
                ("pop3_c20", "pop3", 20, {"address": sink.pop3, "users": ["x"], "password": "x"})]
        for name, kind, clients, params in runs:
            seconds = sizes.smtp_seconds if kind == "smtp" else sizes.session_seconds
            samples = check(loadgen.drive(kind, clients, seconds, params), f"sink {name}")
            operations = sum(len(v) for k, v in samples.latencies.items() if k != "connect")
            unit = "messages/s" if kind == "smtp" else "operations/s"
            results.add(name, unit, "1/s", True, "sink", operations / seconds)
    finally:
        sink.stop()


def machine() -> dict:
    def out(*command: str) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"
    memory = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "?")
    commit = out("git", "-C", str(ROOT), "rev-parse", "--short", "HEAD")
    dirty = out("git", "-C", str(ROOT), "status", "--porcelain", "--", "src")
    return {"cpus": os.cpu_count(), "cpu": model, "memory_gib": round(int(memory) / 1024 / 1024, 1),
            "kernel": platform.release(), "os": out("sh", "-c", ". /etc/os-release; echo $PRETTY_NAME"),
            "postfix": out("postconf", "-d", "-h", "mail_version"), "dovecot": out("dovecot", "--version"),
            "postamt_commit": commit + ("+uncommitted src changes" if dirty else ""),
            "python": platform.python_version(), "filesystem": out("sh", "-c", "df -T /tmp | tail -1"),
            "load_average_at_start": Path("/proc/loadavg").read_text().split()[:3]}


def start_perf(directory: Path | None, side: Side, label: str) -> subprocess.Popen | None:
    """perf on the server's process for one timed run (cpu-clock: the event this VM offers)."""
    if directory is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", "499", "--call-graph", "dwarf,16384",
                             "-p", str(side.pid()), "-o", str(directory / f"{label}.data")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_perf(recorder: subprocess.Popen | None) -> None:
    if recorder is not None:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", type=Path, default=ROOT / "build" / "postamt")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 1 repetition (make test)")
    parser.add_argument("--reps", type=int, help="repetitions per workload and side (default 3; --quick: 1)")
    parser.add_argument("--only", help="comma-separated workload names or prefixes")
    parser.add_argument("--big", action="store_true", help="add the big-mailbox workload")
    parser.add_argument("--big-size", type=int, help="messages in the big mailbox (default 100000)")
    parser.add_argument("--idle", type=int, help="idle IMAP connections (default 1000; --quick: 20)")
    parser.add_argument("--seconds", type=float, help="length of each timed run")
    parser.add_argument("--scheme", choices=("argon2id", "sha512-crypt", "own"),
                        help="password hash of every user on both sides (default sha512-crypt, "
                             "Dovecot's default scheme; argon2id is what `postamt user add` makes and "
                             "costs ~250 ms of CPU per LOGIN here on both sides; own: Argon2id "
                             "for Postamt as `user add` writes it, SHA512-CRYPT for Dovecot)")
    parser.add_argument("--no-ceiling", action="store_true", help="skip the generator-vs-sink ceiling")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--postamt-only", action="store_true",
                        help="run Postamt alone (no ratios; for profiling and quick checks)")
    parser.add_argument("--perf", type=Path, metavar="DIR",
                        help="record `perf record -e cpu-clock --call-graph dwarf` of Postamt during each "
                             "of its timed runs into DIR/<workload>-<rep>.data")
    args = parser.parse_args()
    # SIGTERM ends the run like Ctrl-C: the private servers are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    reps = args.reps or (1 if args.quick else 3)
    scheme = args.scheme or "sha512-crypt"
    sizes = Sizes.of(args)
    only = [o.strip() for o in args.only.split(",")] if args.only else None
    problem = peer_unavailable()
    if problem:
        print(f"bench: {problem}", file=sys.stderr)
        return 2
    if not args.binary.exists():
        print(f"bench: {args.binary} does not exist (make build)", file=sys.stderr)
        return 2
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4 * sizes.idle + 4000   # Dovecot's master and anvil hold several per connection
    if hard < wanted and os.geteuid() == 0:
        try:   # root may raise the hard limit (up to fs.nr_open)
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            hard = wanted
        except (ValueError, OSError) as error:
            print(f"bench: could not raise the file descriptor limit to {wanted}: {error}", file=sys.stderr)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # The limit is per process: the generator's process holds the client ends, the server
    # (inheriting this limit) the other ends.
    if sizes.idle + 500 > hard:
        print(f"bench: --idle {sizes.idle} needs about {sizes.idle + 500} file descriptors per process; "
              f"the hard limit is {hard}", file=sys.stderr)
        return 2

    chosen = [w for w in workloads(args.big) if selected(w[0], only)]
    if any(w[3] == AUTH for w in chosen) and (problem := auth_lab.auth_unavailable()):
        print(f"bench: skipping the smtp_auth workloads: {problem}", file=sys.stderr, flush=True)
        chosen = [w for w in chosen if w[3] != AUTH]
    if any(w[3] == SPAM for w in chosen) and (problem := spam_lab.spam_unavailable()):
        print(f"bench: skipping the smtp_rspamd workloads: {problem}", file=sys.stderr, flush=True)
        chosen = [w for w in chosen if w[3] != SPAM]
    pairs_needed = {w[3] for w in chosen}
    results = Results()
    ceilings_measured = Results()
    info = machine()
    started = time.monotonic()
    info["password_scheme"] = scheme
    print(f"bench: {len(chosen)} workloads x {reps} repetitions, {scheme} passwords; machine: {info['cpus']} cores, "
          f"{info['memory_gib']} GiB, {info['kernel']}; Postfix {info['postfix']}, Dovecot {info['dovecot']}, "
          f"Postamt {info['postamt_commit']}", flush=True)
    if not args.no_ceiling:
        ceiling(ceilings_measured, sizes)
        print("bench: load generator ceiling against a sink measured", flush=True)

    directory = Path(tempfile.mkdtemp(prefix="postamt-bench-"))
    os.chmod(directory, 0o755)
    boxes = [f"box{i:02d}@{DOMAIN}" for i in range(sizes.mailbox_users)]
    ingest = [f"in{i:02d}@{DOMAIN}" for i in range(sizes.ingest_users)]
    users = [u.split("@")[0] for u in boxes + ingest] + ["watch", "idle", "big"]
    connections = max(sizes.idle + 50, 200)
    pairs: dict[str, list[Side]] = {}
    zone = None
    spam = None
    fill_seconds: dict[str, float] = {}
    try:
        if PLAIN in pairs_needed:
            postamt = PostamtSide(args.binary, directory / "postamt", users, connections)
            pairs[PLAIN] = [postamt]
            if scheme == "sha512-crypt":
                postamt.use_sha512_crypt()
            postamt.start()
            if not args.postamt_only:
                hashes = postamt.password_hashes()
                if scheme == "own":  # each side its default: Dovecot's is SHA512-CRYPT
                    hashes = dict.fromkeys(hashes, sha512_crypt_hash())
                peer = PeerSide(directory / "peer", hashes, connections)
                pairs[PLAIN].append(peer)
                peer.start()
        if AUTH in pairs_needed:
            zone = auth_lab.AuthZone(directory / "zone").__enter__()
            postamt_auth = auth_lab.AuthPostamtSide(args.binary, directory / "postamt-auth",
                                                   [u.split("@")[0] for u in ingest], connections, zone)
            pairs[AUTH] = [postamt_auth]
            postamt_auth.start()
            if not args.postamt_only:
                milter_peer = auth_lab.MilterPeerSide(directory / "peer-auth", ingest, zone)
                pairs[AUTH].append(milter_peer)
                milter_peer.start()
            for side in pairs[AUTH]:   # p=reject is enforced, before anything is measured
                auth_lab.check_rejects(side, zone, ingest[0])
            print(f"bench: sender authentication: zone on {zone.host}:53, mail sent from {zone.client_address}; "
                  f"a message failing DMARC was refused with 550 by {', '.join(s.name for s in pairs[AUTH])}",
                  flush=True)
        if SPAM in pairs_needed:
            spam = spam_lab.SpamLab(directory / "spam").__enter__()
            postamt_spam = spam_lab.RspamdPostamtSide(args.binary, directory / "postamt-rspamd",
                                                     [u.split("@")[0] for u in ingest], connections, spam)
            pairs[SPAM] = [postamt_spam]
            postamt_spam.start()
            if not args.postamt_only:
                rspamd_peer = spam_lab.RspamdMilterPeerSide(directory / "peer-rspamd", ingest, spam)
                pairs[SPAM].append(rspamd_peer)
                rspamd_peer.start()
            refusals = [f"{side.name} {spam_lab.check_rejects(side, ingest[0])!r}" for side in pairs[SPAM]]
            print(f"bench: rspamd on {spam.rspamd.url}, its milter proxy on {spam.rspamd.milter_socket}; "
                  f"GTUBE refused by {'; '.join(refusals)}", flush=True)
        needs_boxes = any(w[0].startswith(("imap", "pop3")) for w in chosen)
        for side in pairs.get(PLAIN, []):
            if needs_boxes:
                fill_seconds[side.name] = fill_mailboxes(side, boxes, sizes.mailbox_messages)
            if any(w[0] == "big" for w in chosen):
                fill_seconds[side.name + " big"] = fill_mailboxes(side, [f"big@{DOMAIN}"], sizes.big,
                                                                  small=True, connections=10)
        print(f"bench: mailboxes filled ({', '.join(f'{k} {v:.0f} s' for k, v in fill_seconds.items())})",
              flush=True)
        context = Context(sizes, boxes, ingest, zone, spam)
        for name, run, repeat, pair in chosen:
            sides = pairs[pair]
            for rep in range(reps if repeat else 1):
                order = sides if rep % 2 == 0 else list(reversed(sides))
                for side in order:
                    t0 = time.monotonic()
                    recorder = (start_perf(args.perf, side, f"{name}-{rep + 1}") if isinstance(side, PostamtSide)
                                else None)
                    try:
                        run(side, context, results, name)
                    finally:
                        stop_perf(recorder)
                    print(f"bench: {name} rep {rep + 1} {side.name}: {time.monotonic() - t0:.1f} s", flush=True)
    finally:
        for side in [s for pair in pairs.values() for s in reversed(pair)]:
            try:
                side.stop()
            except Exception as error:   # the other sides are still stopped
                print(f"bench: stopping {side.name}: {error}", file=sys.stderr)
        if zone is not None:
            zone.__exit__(None, None, None)
        if spam is not None:
            spam.__exit__(None, None, None)
        if args.keep:
            print(f"bench: kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)

    compared = results.rows()
    ceilings = ceilings_measured.rows()
    text = table(compared)
    ceiling_text = "\n".join(
        ["| generator vs sink | rate |", "|---|---:|"] +
        [f"| {r['workload']} | {fmt(statistics.median(r['reps']['sink']))} {r['metric']} |" for r in ceilings])
    command = "bench/run.py " + " ".join(sys.argv[1:])
    elapsed = time.monotonic() - started
    print()
    print(text)
    if ceilings:
        print()
        print("Load generator ceiling (the same generator against bench/sink.py, which answers at once; "
              "generator and server share the cores):")
        print(ceiling_text)
    print(f"\nbench: {elapsed:.0f} s; medians of {reps} repetition(s) (idle: 1); ratio = Postamt / peer")

    args.results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + ("-quick" if args.quick else "")
    info["load_average_at_end"] = Path("/proc/loadavg").read_text().split()[:3]
    document = {"command": command, "machine": info, "reps": reps, "sizes": sizes.__dict__,
                "fill_seconds": fill_seconds, "elapsed_seconds": elapsed, "rows": compared,
                "ceiling": [{"workload": r["workload"], "metric": r["metric"],
                             "value": statistics.median(r["reps"]["sink"])} for r in ceilings]}
    (args.results / f"{stamp}.json").write_text(json.dumps(document, indent=1, default=str) + "\n")
    (args.results / f"{stamp}.md").write_text(
        f"# Benchmark {stamp}\n\n`{command}`\n\nMachine: {json.dumps(info)}\n\n{text}\n\n"
        f"Load generator ceiling:\n\n{ceiling_text}\n")
    print(f"bench: wrote {args.results / stamp}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
