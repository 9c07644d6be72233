"""Writes the seed corpus of fuzz_milter_reply (tests/fuzz/corpus/milter_reply/): real
milter reply streams, captured from Sendmail's libmilter (Debian python3-milter) answering
the conversation Postamt has with a milter.

For each behaviour below a pymilter milter runs in a child process on 127.0.0.1; this
script plays the MTA side as proto/milter/milter_conversation does (OPTNEG with Postamt's
offer, then CONNECT, HELO, MAIL, two RCPTs, DATA, the header fields, EOH, the body and EOM,
each step's macros first, steps the milter skips left out, answers it will not give not
awaited) and saves every byte the milter sent back, unchanged, as one seed file. The
`envelope` behaviour is offered every action (as Sendmail would) so that libmilter sends
ADDRCPT, DELRCPT, CHGFROM and REPLBODY, which Postamt never offers and must refuse.
libmilter sent no macro lists in its OPTNEG answer here, so one seed is built by hand
(`handmade_optneg_symlists`): an OPTNEG answer with SMFIR_SETSYMLIST lists for CONNECT and
MAIL, then CONTINUE to every step up to an ACCEPT at EOM.

    /usr/bin/python3 tests/fuzz/milter_reply_seeds.py   # rewrites the milter_reply corpus
"""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

OFFERED_ACTIONS = 0x01 | 0x10 | 0x20 | 0x100  # add/change headers, quarantine, SETSYMLIST
ALL_ACTIONS = 0x1FF
OFFERED_PROTOCOL = 0xFF7FF  # every NO*/NR_* flag and SKIP (milter_conversation.hpp)
NO = {"connect": 0x1, "helo": 0x2, "mail": 0x4, "rcpt": 0x8, "body": 0x10, "header": 0x20, "eoh": 0x40,
      "data": 0x200}
NR = {"connect": 0x1000, "helo": 0x2000, "mail": 0x4000, "rcpt": 0x8000, "data": 0x10000, "header": 0x80,
      "eoh": 0x40000, "body": 0x80000}
MESSAGE_HEADERS = [("From", "Alice <alice@example.org>"), ("To", "bob@example.com"), ("Subject", "hello"),
                   ("X-Remove-Me", "yes")]
BODY = b"Body line\r\n"

BEHAVIOURS = ["accept", "continue", "reject", "tempfail", "discard", "replycode", "replycode_multiline",
              "quarantine", "headers", "reject_rcpt", "tempfail_mail", "skip_body", "symlist", "progress",
              "envelope"]


def packet(command: bytes, data: bytes = b"") -> bytes:
    return struct.pack(">I", len(data) + 1) + command + data


def cstr(text: str) -> bytes:
    return text.encode() + b"\0"


def macros(for_command: bytes, pairs: list[tuple[str, str]]) -> bytes:
    return packet(b"D", for_command + b"".join(cstr(k) + cstr(v) for k, v in pairs))


class Capture:
    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.received = b""
        self.pending = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_packet(self) -> tuple[bytes, bytes]:
        while True:
            if len(self.pending) >= 4:
                (length,) = struct.unpack(">I", self.pending[:4])
                if len(self.pending) >= 4 + length:
                    whole = self.pending[:4 + length]
                    self.pending = self.pending[4 + length:]
                    return whole[4:5], whole[5:]
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("milter closed the connection")
            self.received += chunk
            self.pending += chunk

    # Reads to the step's answer: 'c' (or 's') goes on, any other verdict ends the message.
    def answer(self, final_at_eom: bool = False) -> bool:
        while True:
            command, _ = self.read_packet()
            if command in (b"p", b"h", b"i", b"m", b"q", b"+", b"-", b"2", b"e", b"b", b"l"):
                continue  # progress and the end-of-message changes come before the verdict
            if final_at_eom:
                return False
            return command in (b"c", b"s")


def converse(port: int, actions: int) -> bytes:
    mta = Capture(port)
    mta.send(packet(b"O", struct.pack(">III", 6, actions, OFFERED_PROTOCOL)))
    command, data = mta.read_packet()
    assert command == b"O", command
    protocol = struct.unpack(">I", data[8:12])[0]

    def step(name: str, macro_command: bytes, pairs, bytes_: bytes) -> bool:
        if pairs:
            mta.send(macros(macro_command, pairs))
        if protocol & NO.get(name, 0):
            return True
        mta.send(bytes_)
        if protocol & NR.get(name, 0):
            return True
        return mta.answer()

    going = (step("connect", b"C", [("j", "mx.example.com"), ("{client_addr}", "192.0.2.7")],
                  packet(b"C", cstr("client.example.org") + b"4" + struct.pack(">H", 40000) + cstr("192.0.2.7")))
             and step("helo", b"H", [], packet(b"H", cstr("client.example.org")))
             and step("mail", b"M", [("i", "Q1"), ("{mail_addr}", "alice@example.org")],
                      packet(b"M", cstr("<alice@example.org>")))
             and step("rcpt", b"R", [("{rcpt_addr}", "bob@example.com")], packet(b"R", cstr("<bob@example.com>")))
             and step("rcpt", b"R", [("{rcpt_addr}", "carol@example.com")],
                      packet(b"R", cstr("<carol@example.com>")))
             and step("data", b"T", [("i", "Q1")], packet(b"T")))
    if going:
        for name, value in MESSAGE_HEADERS:
            if not step("header", b"L", [], packet(b"L", cstr(name) + cstr(value))):
                going = False
                break
    if going:
        going = step("eoh", b"N", [("i", "Q1")], packet(b"N")) and step("body", b"B", [], packet(b"B", BODY))
    if going:
        mta.send(macros(b"E", [("i", "Q1")]) + packet(b"E"))
        mta.answer(final_at_eom=True)
    mta.send(packet(b"Q"))
    mta.sock.close()
    return mta.received


def serve(behaviour: str, port: int) -> None:  # the child process
    import Milter

    class Scripted(Milter.Base):
        if behaviour == "symlist":
            @Milter.symlist("{client_addr}", "j")
            def connect(self, hostname, family, hostaddr):
                return Milter.CONTINUE

        if behaviour in ("reject_rcpt", "continue"):
            def envrcpt(self, to, *params):
                if behaviour == "reject_rcpt" and "carol" in to:
                    self.setreply("550", "5.1.1", "no such user")
                    return Milter.REJECT
                return Milter.CONTINUE

        if behaviour == "tempfail_mail":
            def envfrom(self, sender, *params):
                return Milter.TEMPFAIL

        if behaviour in ("headers", "continue"):
            def header(self, name, value):
                return Milter.CONTINUE

        if behaviour == "skip_body":
            def body(self, chunk):
                return Milter.SKIP

        def eom(self):
            if behaviour == "reject":
                return Milter.REJECT
            if behaviour == "tempfail":
                return Milter.TEMPFAIL
            if behaviour == "discard":
                return Milter.DISCARD
            if behaviour == "replycode":
                self.setreply("550", "5.7.1", "custom text")
                return Milter.REJECT
            if behaviour == "replycode_multiline":
                self.setreply("451", "4.7.1", "first line", "second line")
                return Milter.TEMPFAIL
            if behaviour == "quarantine":
                self.quarantine("scripted")
                return Milter.ACCEPT
            if behaviour == "headers":
                self.addheader("X-Milter-Added", "yes  with two spaces")
                self.addheader("X-Milter-First", "inserted", 1)
                self.chgheader("Subject", 1, "changed by milter")
                self.chgheader("X-Remove-Me", 1, "")
                return Milter.ACCEPT
            if behaviour == "progress":
                self.progress()
                return Milter.CONTINUE
            if behaviour == "envelope":
                self.addrcpt("<dave@example.com>")
                self.delrcpt("<carol@example.com>")
                self.chgfrom("<bounce@example.org>")
                self.replacebody(b"replaced\r\n")
                return Milter.ACCEPT
            return Milter.CONTINUE if behaviour == "continue" else Milter.ACCEPT

    Milter.factory = Scripted
    flags = Milter.ADDHDRS | Milter.CHGHDRS | Milter.QUARANTINE
    if behaviour == "symlist":
        flags |= Milter.SETSYMLIST
    if behaviour == "envelope":
        flags |= Milter.ADDRCPT | Milter.DELRCPT | Milter.CHGFROM | Milter.MODBODY
    Milter.set_flags(flags)
    Milter.runmilter("seeds", f"inet:{port}@127.0.0.1", 60)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def capture(behaviour: str) -> bytes:
    port = free_port()
    child = subprocess.Popen([sys.executable, __file__, "--serve", behaviour, str(port)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or child.poll() is not None:
                    raise RuntimeError(f"milter for {behaviour} did not start")
                time.sleep(0.05)
        return converse(port, ALL_ACTIONS if behaviour == "envelope" else OFFERED_ACTIONS)
    finally:
        child.terminate()  # our own child, by its pid
        child.wait(timeout=10)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]))
        return
    out = Path(__file__).resolve().parent / "corpus" / "milter_reply"
    out.mkdir(parents=True, exist_ok=True)
    for behaviour in BEHAVIOURS:
        data = capture(behaviour)
        (out / behaviour).write_bytes(data)
        print(f"{behaviour}: {len(data)} octets")
    lists = struct.pack(">I", 0) + cstr("{client_addr} j") + struct.pack(">I", 2) + cstr("{mail_addr},i")
    handmade = packet(b"O", struct.pack(">III", 6, OFFERED_ACTIONS, 0x7F) + lists) + packet(b"c") * 4 + packet(b"a")
    (out / "handmade_optneg_symlists").write_bytes(handmade)


if __name__ == "__main__":
    main()
