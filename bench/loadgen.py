"""Load generators for SMTP, IMAP and POP3: asyncio clients on raw sockets, spread over
worker processes.

drive(client, clients, duration, ...) starts min(clients, workers) processes (fork), each
running its share of the clients as coroutines on one event loop. All start at the same
instant and stop starting commands at the deadline; a command counts when it completed
before the deadline. Each command's latency is the time from sending it to reading its
whole reply; for SMTP the latency that matters is from the end of the message data
(<CRLF>.<CRLF>) to the 250.

Clients never use smtplib/imaplib/poplib: those cost more client CPU per command than the
servers under test spend. The generator shares the machine's cores with the server; its
own ceiling is measured against sink.py (a server that answers at once).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import re
import time
from dataclasses import dataclass, field

READ_LIMIT = 1 << 24          # the longest line/reply a client buffers
COMMAND_TIMEOUT = 60.0        # a reply that takes longer fails the run


class ProtocolError(Exception):
    pass


# --------------------------------------------------------------------------------------
# Samples
# --------------------------------------------------------------------------------------

@dataclass
class Samples:
    """What one worker (or all of them) measured: per command name, the latencies (s) of
    the commands that completed before the deadline; plus counters."""
    latencies: dict[str, list[float]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, name: str, seconds: float) -> None:
        self.latencies.setdefault(name, []).append(seconds)

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + n

    def merge(self, other: "Samples") -> None:
        for name, values in other.latencies.items():
            self.latencies.setdefault(name, []).extend(values)
        for name, n in other.counters.items():
            self.count(name, n)
        self.errors.extend(other.errors)

    def operations(self) -> int:
        return sum(len(v) for v in self.latencies.values())


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(fraction * len(ordered) + 0.5)) - 1))
    return ordered[rank]


# --------------------------------------------------------------------------------------
# A line-oriented connection
# --------------------------------------------------------------------------------------

class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, address: tuple[str, int], source: str | None = None) -> "Connection":
        """source: the local address to send from (default: the kernel's choice)."""
        local = (source, 0) if source else None
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(address[0], address[1], limit=READ_LIMIT, local_addr=local), COMMAND_TIMEOUT)
        return cls(reader, writer)

    # Measured against the sink: wait_for for single lines, asyncio.timeout for the long
    # reads (the other way round halved the POP3 rate).
    async def line(self) -> bytes:
        data = await asyncio.wait_for(self.reader.readline(), COMMAND_TIMEOUT)
        if not data:
            raise ProtocolError("connection closed")
        return data

    async def until(self, separator: bytes) -> bytes:
        async with asyncio.timeout(COMMAND_TIMEOUT):
            return await self.reader.readuntil(separator)

    async def exactly(self, count: int) -> bytes:
        async with asyncio.timeout(COMMAND_TIMEOUT):
            return await self.reader.readexactly(count)

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def close(self) -> None:
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 5)
        except (OSError, asyncio.TimeoutError):
            pass


# --------------------------------------------------------------------------------------
# SMTP
# --------------------------------------------------------------------------------------

async def smtp_reply(conn: Connection) -> tuple[int, bytes]:
    """One reply, multi-line ones whole (RFC 5321 §4.2: "250-" continues, "250 " ends)."""
    text = b""
    while True:
        line = await conn.line()
        text += line
        if len(line) < 4 or line[3:4] != b"-":
            try:
                return int(line[:3]), text
            except ValueError:
                raise ProtocolError(f"malformed SMTP reply {line[:80]!r}") from None


def smtp_message(size: int, serial: str, recipient: str) -> bytes:
    """A message of about size octets whose Message-ID and first line are unique (so a
    content-addressed store cannot share one file between messages), CRLF lines, no line
    starting with a dot, ending with CRLF (the end-of-data dot is added by the sender)."""
    head = (f"From: Bench Sender <sender@example.org>\r\nTo: <{recipient}>\r\n"
            f"Subject: bench message {serial}\r\nMessage-ID: <{serial}@bench.example.org>\r\n"
            f"Date: Mon, 1 Jan 2024 12:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=us-ascii\r\n\r\nserial {serial}\r\n").encode()
    line = b"The quick brown fox jumps over the lazy dog while the mail server hums.\r\n"
    lines = max(0, (size - len(head)) // len(line))
    return head + line * lines


async def smtp_client(index: int, params: dict, deadline: float, samples: Samples) -> None:
    """One connection: EHLO once, then transactions (MAIL, RCPT, DATA pipelined as RFC 2920
    allows, then the data) until the deadline, then QUIT. Latency: end of data -> 250.

    Optional params: "signed" (a message, e.g. DKIM-signed once up front, sent with a unique
    Message-ID field above it instead of a generated one), "sender" (MAIL FROM), "helo",
    "source" (the local address to connect from)."""
    conn = await Connection.open(params["address"], params.get("source"))
    sender = params.get("sender", "sender@example.org").encode()
    signed = params.get("signed")
    try:
        code, _ = await smtp_reply(conn)
        if code != 220:
            raise ProtocolError(f"greeting {code}")
        conn.send(b"EHLO " + params.get("helo", "loadgen.example.org").encode() + b"\r\n")
        code, text = await smtp_reply(conn)
        if code != 250 or b"PIPELINING" not in text.upper():
            raise ProtocolError(f"EHLO {code} {text[:200]!r}")
        recipients = params["recipients"]
        serial = 0
        while time.monotonic() < deadline:
            serial += 1
            recipient = recipients[(index * 7919 + serial) % len(recipients)]
            if signed is None:
                message = smtp_message(params["size"], f"{params['tag']}.{index}.{serial}", recipient)
            else:
                message = f"Message-ID: <{params['tag']}.{index}.{serial}@bench.example.org>\r\n".encode() + signed
            conn.send(b"MAIL FROM:<" + sender + b">\r\nRCPT TO:<" + recipient.encode() + b">\r\nDATA\r\n")
            for expected in (250, 250, 354):
                code, text = await smtp_reply(conn)
                if code != expected:
                    raise ProtocolError(f"expected {expected}, got {text[:200]!r}")
            started = time.monotonic()
            conn.send(message + b".\r\n")
            code, text = await smtp_reply(conn)
            done = time.monotonic()
            if code != 250:
                raise ProtocolError(f"end of data: {text[:200]!r}")
            if done <= deadline:
                samples.add("DATA", done - started)
        conn.send(b"QUIT\r\n")
        await smtp_reply(conn)
    finally:
        await conn.close()


async def smtp_send_one(conn: Connection, sender: str, recipients: list[str], message: bytes) -> None:
    conn.send(f"MAIL FROM:<{sender}>\r\n".encode())
    code, text = await smtp_reply(conn)
    if code != 250:
        raise ProtocolError(f"MAIL: {text[:200]!r}")
    for recipient in recipients:
        conn.send(f"RCPT TO:<{recipient}>\r\n".encode())
        code, text = await smtp_reply(conn)
        if code != 250:
            raise ProtocolError(f"RCPT {recipient}: {text[:200]!r}")
    conn.send(b"DATA\r\n")
    code, text = await smtp_reply(conn)
    if code != 354:
        raise ProtocolError(f"DATA: {text[:200]!r}")
    conn.send(message + b".\r\n")
    code, text = await smtp_reply(conn)
    if code != 250:
        raise ProtocolError(f"end of data: {text[:200]!r}")


async def smtp_session(address: tuple[str, int]) -> Connection:
    conn = await Connection.open(address)
    await smtp_reply(conn)
    conn.send(b"EHLO loadgen.example.org\r\n")
    await smtp_reply(conn)
    return conn


# --------------------------------------------------------------------------------------
# IMAP
# --------------------------------------------------------------------------------------

_LITERAL = re.compile(rb"\{(\d+)\}\r\n\Z")


class Imap:
    def __init__(self, conn: Connection):
        self.conn = conn
        self.serial = 0

    @classmethod
    async def open(cls, address: tuple[str, int]) -> "Imap":
        conn = await Connection.open(address)
        greeting = await conn.line()
        if not greeting.startswith(b"* OK"):
            raise ProtocolError(f"IMAP greeting {greeting[:100]!r}")
        return cls(conn)

    async def response(self) -> bytes:
        """One response line with the literals it announces inlined."""
        out = await self.conn.line()
        while (match := _LITERAL.search(out)):
            out += await self.conn.exactly(int(match.group(1)))
            out += await self.conn.line()
        return out

    async def command(self, text: bytes) -> list[bytes]:
        """Sends a command and reads to its tagged reply; anything but OK fails."""
        self.serial += 1
        tag = b"b%d" % self.serial
        self.conn.send(tag + b" " + text + b"\r\n")
        untagged = []
        while True:
            response = await self.response()
            if response.startswith(tag + b" "):
                if response[len(tag) + 1:len(tag) + 3] != b"OK":
                    raise ProtocolError(f"{text[:60]!r}: {response[:200]!r}")
                return untagged
            untagged.append(response)

    async def login(self, user: str, password: str) -> None:
        await self.command(f'LOGIN "{user}" "{password}"'.encode())


def exists_of(untagged: list[bytes]) -> int:
    for response in untagged:
        match = re.match(rb"\* (\d+) EXISTS", response)
        if match:
            return int(match.group(1))
    raise ProtocolError("SELECT without EXISTS")


class Pacer:
    """Paced sessions (params["session_interval"] seconds apart per client, the clients'
    starts spread evenly over one interval): the same offered load for both servers, so
    per-command latencies compare the servers rather than how much load each drew in.
    Without the parameter every session starts as soon as the last one ended (closed loop)."""

    def __init__(self, index: int, params: dict):
        self.interval = params.get("session_interval")
        if self.interval:
            self.next = time.monotonic() + self.interval * index / params["clients"]

    async def wait(self, deadline: float) -> bool:
        """Waits for this client's next start; False when it would fall after the deadline."""
        if not self.interval:
            return True
        if self.next >= deadline:
            return False
        await asyncio.sleep(max(0.0, self.next - time.monotonic()))
        self.next += self.interval
        return True


async def imap_client(index: int, params: dict, deadline: float, samples: Samples) -> None:
    """Mixed sessions until the deadline, each: LOGIN, SELECT INBOX, FETCH 1:* (FLAGS
    RFC822.SIZE ENVELOPE), FETCH <20 random> BODY[], SEARCH HEADER, SEARCH BODY, STORE +FLAGS,
    LOGOUT. The client's own user is users[index % len(users)]."""
    users = params["users"]
    user = users[index % len(users)]
    rng = random.Random(index)
    pacer = Pacer(index, params)
    while time.monotonic() < deadline and await pacer.wait(deadline):
        started = time.monotonic()
        imap = await Imap.open(params["address"])
        samples.add("connect", time.monotonic() - started)
        try:
            async def timed(name: str, text: bytes) -> list[bytes] | None:
                if time.monotonic() >= deadline:
                    return None
                t0 = time.monotonic()
                untagged = await imap.command(text)
                t1 = time.monotonic()
                if t1 <= deadline:
                    samples.add(name, t1 - t0)
                return untagged

            if await timed("LOGIN", f'LOGIN "{user}" "{params["password"]}"'.encode()) is None:
                break
            selected = await timed("SELECT", b"SELECT INBOX")
            if selected is None:
                break
            exists = exists_of(selected)
            if exists == 0:
                raise ProtocolError(f"{user}: empty INBOX")
            word = params["header_words"][rng.randrange(len(params["header_words"]))]
            picks = ",".join(str(rng.randint(1, exists)) for _ in range(params["bodies"]))
            flag_on = rng.randint(1, exists)
            script = [
                ("FETCH-ENVELOPE", b"FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)"),
                ("FETCH-BODY", f"FETCH {picks} BODY[]".encode()),
                ("SEARCH-HEADER", f'SEARCH HEADER Subject "{word}"'.encode()),
                ("SEARCH-BODY", f'SEARCH BODY "{params["body_word"]}"'.encode()),
                ("STORE", f"STORE {flag_on} +FLAGS (\\Flagged)".encode()),
                ("LOGOUT", b"LOGOUT"),
            ]
            for name, text in script:
                if await timed(name, text) is None:
                    break
            else:
                if time.monotonic() <= deadline:
                    samples.count("sessions")
        finally:
            await imap.conn.close()


async def imap_idle_hold(params: dict, count: int, concurrency: int) -> list[Imap]:
    """count connections that logged in, selected INBOX and are in IDLE (returned, held)."""
    held: list[Imap] = []
    semaphore = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with semaphore:
            imap = await Imap.open(params["address"])
            await imap.login(params["user"], params["password"])
            await imap.command(b"SELECT INBOX")
            imap.conn.send(b"i IDLE\r\n")
            line = await imap.conn.line()
            if not line.startswith(b"+"):
                raise ProtocolError(f"IDLE: {line[:100]!r}")
            held.append(imap)
    await asyncio.gather(*(one() for _ in range(count)))
    return held


# --------------------------------------------------------------------------------------
# POP3
# --------------------------------------------------------------------------------------

async def pop3_line(conn: Connection) -> bytes:
    line = await conn.line()
    if not line.startswith(b"+OK"):
        raise ProtocolError(f"POP3: {line[:200]!r}")
    return line


async def pop3_multiline(conn: Connection) -> bytes:
    """A multi-line reply whole: the status line to the terminating "." line (RFC 1939 §3:
    lines starting with "." are dot-stuffed, so CRLF "." CRLF ends it)."""
    data = await conn.until(b"\n.\r\n")
    if not data.startswith(b"+OK"):
        raise ProtocolError(f"POP3: {data[:200]!r}")
    return data


async def pop3_client(index: int, params: dict, deadline: float, samples: Samples) -> None:
    """Sessions until the deadline, each: USER, PASS, STAT, UIDL, RETR every message, QUIT."""
    users = params["users"]
    user = users[index % len(users)]
    pacer = Pacer(index, params)
    while time.monotonic() < deadline and await pacer.wait(deadline):
        conn = await Connection.open(params["address"])
        try:
            await pop3_line(conn)

            async def timed(name: str, text: bytes, multiline: bool = False) -> bytes | None:
                if time.monotonic() >= deadline:
                    return None
                t0 = time.monotonic()
                conn.send(text)
                reply = await (pop3_multiline(conn) if multiline else pop3_line(conn))
                t1 = time.monotonic()
                if t1 <= deadline:
                    samples.add(name, t1 - t0)
                return reply

            if await timed("USER", f"USER {user}\r\n".encode()) is None:
                break
            try:
                if await timed("PASS", f"PASS {params['password']}\r\n".encode()) is None:
                    break
            except ProtocolError as error:
                # The previous run's session on this maildrop may still be ending on the
                # server (its connection was cut at the deadline): RFC 2449 [IN-USE] is
                # temporary, so wait a moment and start a new session.
                if b"[IN-USE]" not in str(error).encode() or time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(0.05)
                continue
            stat = await timed("STAT", b"STAT\r\n")
            if stat is None:
                break
            count = int(stat.split()[1])
            if await timed("UIDL", b"UIDL\r\n", multiline=True) is None:
                break
            finished = True
            for number in range(1, count + 1):
                if await timed("RETR", b"RETR %d\r\n" % number, multiline=True) is None:
                    finished = False
                    break
            if finished and await timed("QUIT", b"QUIT\r\n") is not None:
                samples.count("sessions")
        finally:
            await conn.close()


# --------------------------------------------------------------------------------------
# Driving clients from worker processes
# --------------------------------------------------------------------------------------

CLIENTS = {"smtp": smtp_client, "imap": imap_client, "pop3": pop3_client}


def _worker(kind: str, indexes: list[int], params: dict, start_at: float, duration: float,
            results) -> None:
    samples = Samples()

    async def main() -> None:
        delay = start_at - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        deadline = time.monotonic() + duration

        async def guarded(index: int) -> None:
            try:
                await CLIENTS[kind](index, params, deadline, samples)
            except Exception as error:   # reported, and the run counts as failed
                samples.errors.append(f"client {index}: {type(error).__name__}: {error}")
        await asyncio.gather(*(guarded(i) for i in indexes))
    asyncio.run(main())
    results.put(samples)


def drive(kind: str, clients: int, duration: float, params: dict, workers: int = 2) -> Samples:
    """Runs `clients` clients of `kind` for `duration` seconds over min(clients, workers)
    processes; returns everyone's samples merged (ops completed within the window)."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = min(clients, workers)
    start_at = time.time() + 0.3
    children = []
    for w in range(processes):
        indexes = list(range(w, clients, processes))
        child = context.Process(target=_worker, args=(kind, indexes, params, start_at, duration, results))
        child.start()
        children.append(child)
    merged = Samples()
    limit = time.monotonic() + duration + COMMAND_TIMEOUT + 30
    for _ in children:
        remaining = limit - time.monotonic()
        try:
            merged.merge(results.get(timeout=max(1.0, remaining)))
        except Exception:
            merged.errors.append("a load generator process did not report")
    for child in children:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()   # our own worker, by its Process handle
            child.join(timeout=5)
    return merged
