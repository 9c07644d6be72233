"""A trivial SMTP/IMAP/POP3 server that answers every command at once from canned replies of
the same shape and size as a real server's, so the load generator can be run against it
to show the generator's own ceiling. It stores nothing and checks nothing.

Runs in two child processes (one per core) that share each 127.0.0.1 port through SO_REUSEPORT.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import re

MESSAGES = 200          # what SELECT/STAT announce
MESSAGE_SIZE = 4096


def _message() -> bytes:
    line = b"The quick brown fox jumps over the lazy dog while the mail server hums.\r\n"
    return b"Subject: sink\r\n\r\n" + line * (MESSAGE_SIZE // len(line))


BODY = _message()
ENVELOPE = (b'ENVELOPE ("Mon, 1 Jan 2024 12:00:00 +0000" "bench message" (("Bench" NIL "sender" '
            b'"example.org")) (("Bench" NIL "sender" "example.org")) (("Bench" NIL "sender" '
            b'"example.org")) ((NIL NIL "box00" "bench.test")) NIL NIL NIL "<x@bench.example.org>")')


async def smtp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"220 sink ESMTP\r\n")
    while True:
        line = await reader.readline()
        if not line:
            break
        verb = line[:4].upper()
        if verb == b"EHLO":
            writer.write(b"250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
        elif verb == b"DATA":
            writer.write(b"354 go ahead\r\n")
            await reader.readuntil(b"\r\n.\r\n")
            writer.write(b"250 2.0.0 Ok: queued\r\n")
        elif verb == b"QUIT":
            writer.write(b"221 bye\r\n")
            break
        else:
            writer.write(b"250 2.1.0 Ok\r\n")
    writer.close()


_SEQUENCE = re.compile(rb"FETCH ([0-9,]+) BODY")


async def imap(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"* OK sink ready\r\n")
    fetch_all = b"".join(b"* %d FETCH (FLAGS (\\Seen) RFC822.SIZE %d %s)\r\n" % (n, len(BODY), ENVELOPE)
                         for n in range(1, MESSAGES + 1))
    while True:
        line = await reader.readline()
        if not line:
            break
        tag, _, rest = line.rstrip(b"\r\n").partition(b" ")
        verb = rest.split(b" ", 1)[0].upper()
        out = b""
        if verb == b"SELECT":
            out = b"* %d EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen \\Flagged)\r\n" % MESSAGES
        elif verb == b"FETCH":
            match = _SEQUENCE.match(rest)
            if match:
                out = b"".join(b"* %s FETCH (BODY[] {%d}\r\n%s)\r\n" % (n, len(BODY), BODY)
                               for n in match.group(1).split(b","))
            else:
                out = fetch_all
        elif verb == b"SEARCH":
            out = b"* SEARCH 1 5 9 13 17\r\n"
        elif verb == b"STORE":
            out = b""
        elif verb == b"IDLE":
            writer.write(b"+ idling\r\n")
            await reader.readline()
        elif verb == b"LOGOUT":
            writer.write(b"* BYE\r\n" + tag + b" OK done\r\n")
            break
        writer.write(out + tag + b" OK done\r\n")
    writer.close()


async def pop3(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"+OK sink\r\n")
    uidl = b"+OK\r\n" + b"".join(b"%d %08d\r\n" % (n, n) for n in range(1, MESSAGES + 1)) + b".\r\n"
    retr = b"+OK %d octets\r\n" % len(BODY) + BODY + b".\r\n"
    while True:
        line = await reader.readline()
        if not line:
            break
        verb = line[:4].upper()
        if verb == b"STAT":
            writer.write(b"+OK %d %d\r\n" % (MESSAGES, MESSAGES * len(BODY)))
        elif verb == b"UIDL":
            writer.write(uidl)
        elif verb == b"RETR":
            writer.write(retr)
        elif verb == b"QUIT":
            writer.write(b"+OK bye\r\n")
            break
        else:
            writer.write(b"+OK\r\n")
    writer.close()


def _wrap(handler):
    async def run(reader, writer):
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()
    return run


def _serve(wanted: list[int], ports) -> None:
    async def main() -> None:
        servers = [await asyncio.start_server(_wrap(h), "127.0.0.1", port, limit=1 << 24, backlog=1024,
                                              reuse_port=True)
                   for h, port in zip((smtp, imap, pop3), wanted)]
        ports.put([s.sockets[0].getsockname()[1] for s in servers])
        await asyncio.Event().wait()
    asyncio.run(main())


class Sink:
    """The sink in `processes` child processes sharing each port (SO_REUSEPORT):
    .smtp, .imap, .pop3 addresses; stop() ends them."""

    def __init__(self, processes: int = 2):
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        self.processes = []
        wanted = [0, 0, 0]
        for _ in range(processes):
            process = context.Process(target=_serve, args=(wanted, queue), daemon=True)
            process.start()
            self.processes.append(process)
            wanted = queue.get(timeout=30)
        self.smtp = ("127.0.0.1", wanted[0])
        self.imap = ("127.0.0.1", wanted[1])
        self.pop3 = ("127.0.0.1", wanted[2])

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()   # our own children, by their Process handles
        for process in self.processes:
            process.join(timeout=10)
