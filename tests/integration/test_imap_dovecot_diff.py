"""Differential test: Postamt's IMAP FETCH answers against Dovecot's, message by message.

A PRIVATE Dovecot (Debian `dovecot-imapd`) from the peer lab (tests/peers/dovecot.py,
DovecotPeer): base_dir, state_dir, log and Maildir storage under a temporary directory, one
passwd-file user, plain IMAP on a free loopback port. Nothing of the system instance
(/etc/dovecot, /run/dovecot) is used. Every MIME vector of tests/data/mime/ (see SOURCES.md there; Crispin's MIME
torture test included) is APPENDed to both servers, then for each message the test FETCHes
ENVELOPE, BODYSTRUCTURE, BODY, RFC822.SIZE, INTERNALDATE, BODY[], BODY[HEADER], BODY[TEXT],
BODY[HEADER.FIELDS (FROM SUBJECT)], and for every part number in the BODYSTRUCTURE
BODY[n], BODY[n.MIME], BODY[n.HEADER], BODY[n.TEXT], plus BINARY[n] and BINARY.SIZE[n] for
the non-multipart parts.

Answers are parsed (a small IMAP response parser below) and compared as values: a quoted
string and a literal with the same octets are equal. Every remaining difference fails the
test, unless DEVIATIONS lists it with the RFC text that permits both answers.

Messages are sent with CRLF line ends (RFC 5322 §2.1: a message is lines ending in CRLF;
the vectors with bare LF are converted before APPEND), and as a literal8 (RFC 3516 §4.4)
when they hold NUL.
"""

from __future__ import annotations

import binascii
import os
import re
import shutil
import socket
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import provision
from peers.dovecot import DovecotPeer, dovecot_unavailable

DATA = Path(__file__).resolve().parents[1] / "data" / "mime"
VECTORS = sorted(p.name for p in DATA.glob("*.eml"))
INTERNALDATE = "01-Jan-2020 12:34:56 +0000"
ALICE = "alice@example.test"


pytestmark = [pytest.mark.slow, pytest.mark.timeout(600),
              pytest.mark.skipif(dovecot_unavailable() is not None, reason=str(dovecot_unavailable()))]


# --------------------------------------------------------------------------------------
# Documented deviations: differences both RFCs allow. (message glob, item glob, normalizer,
# justification). A normalizer is applied to both answers before they are compared, only
# for the listed message/item pairs. Anything not listed here is a failure.
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Deviation:
    message: str
    item: str
    normalizer: str
    why: str


# Patterns: "*" is the only wildcard, "|" separates alternatives; other characters (the
# brackets too) are literal. An item is matched as "ITEM" (BODYSTRUCTURE, BODY.PEEK[2]) and, for an item of one part,
# also as "ITEM type/subtype" of that part in Dovecot's BODYSTRUCTURE ("BINARY.PEEK[3]
# message/rfc822"), lower-case.
_CASE = ("media type, subtype, parameter names and transfer encoding are case-insensitive "
         "(RFC 2045 §5.1, §6.1); Dovecot writes message/rfc822 in lower case whatever the message says")
_CLOSE_DELIMITER_CRLF = (
    "a part that is (or ends in) a multipart whose close delimiter is directly followed by the "
    "enclosing multipart's delimiter: the CRLF between them belongs to that delimiter (RFC 2046 "
    "§5.1.1), so the part ends at the close delimiter, as Postamt answers. Dovecot adds the CRLF to "
    "the part, though its own BODYSTRUCTURE size for the part does not count it")
_BINARY_OF_MESSAGE = (
    "BINARY of a message/rfc822 part: RFC 3516 §4.2 decodes the part's own 7bit/8bit CTE, i.e. "
    "returns it unchanged; Dovecot also decodes every part inside and relabels them "
    "'Content-Transfer-Encoding: binary'. Expected = the reference decoder on BODY[part]")
_DOVECOT_BINARY_FAILS = (
    "Dovecot computes BINARY over the whole message: broken encoded data in any part (invalid "
    "quoted-printable in the torture test, placeholder text in base64 parts of the RFC 2049 "
    "example) makes it refuse BINARY/BINARY.SIZE of every part (NO [PARSE]/[SERVERBUG], then it "
    "drops the connection). Where it fails, expected = RFC 2045 §6.7/§6.8 decoding of BODY[part]")
_RFC2231 = (
    "RFC 9051 §7.5.2: servers SHOULD decode RFC 2231 continuations and charsets and return "
    "'foo*0*' + 'foo*1*' as one 'foo*' parameter in UTF-8, as Postamt does; Dovecot 2.3 returns "
    "the raw segments. Compared after decoding Dovecot's segments the same way")
_MSGID_CFWS = (
    "envelope message-id: the trailing white space after '>' is CFWS, not part of the msg-id "
    "(RFC 5322 §3.6.4); Postamt drops it, Dovecot keeps it")
_INVALID_CONTENT_TYPE = (
    "'Content-Type: BINARY;name=...' (no subtype, part 12.2 of the torture test) is invalid: "
    "RFC 2045 §5.2 recommends taking it as text/plain; charset=us-ascii, as Postamt does (with "
    "the line count a text part has, RFC 9051 §7.5.2); Dovecot answers \"\" \"\" NIL")
_NUL_SUBSTITUTE = (
    "BODY[...] of text holding NUL: a literal cannot carry NUL (RFC 9051 §9 / RFC 3501 §9: "
    "literal = {n} CRLF *CHAR8, CHAR8 = %x01-ff), only BINARY's literal8 can. Dovecot sends 0x80 "
    "in place of each NUL; any NUL-free answer of the same length that differs from Dovecot's only "
    "where Dovecot has its 0x80 substitute is accepted")
_NUL_IN_LITERAL = (
    "a message holding NUL octets is put into Dovecot's Maildir directly (the same octets), "
    "because Dovecot 2.3 rewrites the binary parts of a literal8 APPEND as base64")

DEVIATIONS: tuple[Deviation, ...] = (
    Deviation("*", "BODYSTRUCTURE", "mime-tokens-case", _CASE),
    Deviation("*", "BODY", "mime-tokens-case", _CASE),
    Deviation("mailparser-nested.eml", "BODY.PEEK[2]", "dovecot-crlf-after-close-delimiter",
              _CLOSE_DELIMITER_CRLF),
    Deviation("mimekit-rfc2060-part-specifiers.eml|torture-test.eml", "BODYSTRUCTURE|BODY",
              "dovecot-crlf-after-close-delimiter", _CLOSE_DELIMITER_CRLF),
    Deviation("mimekit-rfc2060-part-specifiers.eml",
              "BODY.PEEK[3]|BODY.PEEK[3.TEXT]|BODY.PEEK[4]|BODY.PEEK[4.2]|BODY.PEEK[4.2.TEXT]|BODY.PEEK[4.2.2]",
              "dovecot-crlf-after-close-delimiter", _CLOSE_DELIMITER_CRLF),
    Deviation("torture-test.eml",
              "BODY.PEEK[6.1]|BODY.PEEK[6.2]|BODY.PEEK[11]|BODY.PEEK[11.TEXT]|BODY.PEEK[12]|BODY.PEEK[12.TEXT]"
              "|BODY.PEEK[12.3]|BODY.PEEK[12.3.TEXT]",
              "dovecot-crlf-after-close-delimiter", _CLOSE_DELIMITER_CRLF),
    Deviation("*", "BINARY* message/rfc822", "reference-instead-of-dovecot", _BINARY_OF_MESSAGE),
    Deviation("torture-test.eml", "BINARY*", "reference-when-dovecot-fails", _DOVECOT_BINARY_FAILS),
    Deviation("stalwart-rfc2049-example.eml", "BINARY*", "reference-when-dovecot-fails", _DOVECOT_BINARY_FAILS),
    Deviation("mailparser-nodemailer.eml", "BODYSTRUCTURE", "rfc2231-params", _RFC2231),
    Deviation("torture-test.eml", "ENVELOPE", "envelope-msgid-cfws", _MSGID_CFWS),
    Deviation("torture-test.eml", "BODYSTRUCTURE|BODY", "invalid-content-type", _INVALID_CONTENT_TYPE),
    Deviation("stalwart-thirdparty-005-utf16-eucjp.eml", "(how it is stored)", "maildir-drop", _NUL_IN_LITERAL),
    Deviation("stalwart-thirdparty-005-utf16-eucjp.eml", "BODY.PEEK[]|BODY.PEEK[TEXT]|BODY.PEEK[1]",
              "nul-substitute", _NUL_SUBSTITUTE),
)


# --------------------------------------------------------------------------------------
# IMAP response values and their parser
# --------------------------------------------------------------------------------------

class Str(bytes):
    """A string (quoted or literal): compared by its octets only."""

    def __repr__(self) -> str:
        text = bytes(self)
        return "Str(" + repr(text[:120]) + ("...+%d" % (len(text) - 120) if len(text) > 120 else "") + ")"


class Atom(bytes):
    """An atom or number, kept as sent."""

    def __repr__(self) -> str:
        return "Atom(" + bytes(self).decode("latin-1") + ")"


NIL = None
ATOM_END = b" ()\r\n"


class ParseError(Exception):
    pass


class ResponseParser:
    """Parses one response's bytes (literals inline as {n}\\r\\n<n octets>) into values:
    Str, Atom, None (NIL) and lists. Bracketed sections of an atom (BODY[1.MIME],
    BODY[HEADER.FIELDS (FROM)]) and a <origin> suffix belong to the atom."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def peek(self) -> int | None:
        return self.data[self.pos] if self.pos < len(self.data) else None

    def skip_spaces(self) -> None:
        while self.peek() == 0x20:
            self.pos += 1

    def value(self, depth: int = 0):
        if depth > 100:
            raise ParseError("nesting too deep")
        self.skip_spaces()
        c = self.peek()
        if c is None:
            raise ParseError("unexpected end")
        if c == ord("("):
            self.pos += 1
            items = []
            while True:
                self.skip_spaces()
                if self.peek() == ord(")"):
                    self.pos += 1
                    return items
                if self.peek() is None:
                    raise ParseError("unclosed list")
                items.append(self.value(depth + 1))
        if c == ord('"'):
            return self.quoted()
        if c == ord("{") or (c == ord("~") and self.data[self.pos + 1:self.pos + 2] == b"{"):
            return self.literal()
        return self.atom()

    def quoted(self) -> Str:
        self.pos += 1
        out = bytearray()
        while True:
            c = self.peek()
            if c is None:
                raise ParseError("unterminated quoted string")
            self.pos += 1
            if c == ord("\\"):
                out.append(self.data[self.pos])
                self.pos += 1
            elif c == ord('"'):
                return Str(bytes(out))
            else:
                out.append(c)

    def literal(self) -> Str:
        if self.peek() == ord("~"):
            self.pos += 1
        match = re.compile(rb"\{(\d+)\+?\}\r\n").match(self.data, self.pos)
        if not match:
            raise ParseError(f"bad literal at {self.data[self.pos:self.pos + 20]!r}")
        size = int(match.group(1))
        start = match.end()
        self.pos = start + size
        if self.pos > len(self.data):
            raise ParseError("literal runs past the end")
        return Str(self.data[start:self.pos])

    def atom(self):
        start = self.pos
        while (c := self.peek()) is not None and c not in ATOM_END:
            if c == ord("["):
                end = self.data.find(b"]", self.pos)
                if end < 0:
                    raise ParseError("unclosed [")
                self.pos = end + 1
            else:
                self.pos += 1
        text = self.data[start:self.pos]
        if not text:
            raise ParseError(f"empty atom at {self.data[self.pos:self.pos + 20]!r}")
        return NIL if text.upper() == b"NIL" else Atom(text)


def parse_fetch_items(data: bytes) -> dict[str, object]:
    """'* 3 FETCH (K V K V ...)' -> {K (upper-case, quotes dropped from its section): V}."""
    match = re.match(rb"\* \d+ FETCH ", data)
    if not match:
        raise ParseError(f"not a FETCH response: {data[:80]!r}")
    parser = ResponseParser(data)
    parser.pos = match.end()
    items = parser.value()
    if not isinstance(items, list) or len(items) % 2:
        raise ParseError(f"FETCH data is not a list of pairs: {items!r}")
    out = {}
    for key, value in zip(items[::2], items[1::2]):
        out[item_key(bytes(key))] = value
    return out


def item_key(key: bytes) -> str:
    return key.decode("latin-1").upper().replace('"', "")


# --------------------------------------------------------------------------------------
# A raw IMAP client: one command at a time, whole responses with their literals
# --------------------------------------------------------------------------------------

@dataclass
class Reply:
    status: str            # OK, NO or BAD
    code: str              # the response code's atom ("UNKNOWN-CTE"), or ""
    text: str              # the whole tagged line
    untagged: list[bytes]  # every untagged response, literals inline


class RawImap:
    def __init__(self, host: str, port: int, timeout: float = 60):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buffer = b""
        self.counter = 0
        greeting = self.line()
        assert greeting.startswith(b"* OK"), greeting

    def line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError(f"connection closed (have {self.buffer[:200]!r})")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line + b"\r\n"

    def exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("connection closed inside a literal")
            self.buffer += chunk
        out, self.buffer = self.buffer[:size], self.buffer[size:]
        return out

    def response(self) -> bytes:
        """One whole response: lines joined with their literals."""
        out = b""
        while True:
            line = self.line()
            out += line
            match = re.search(rb"\{(\d+)\}\r\n\Z", line)
            if not match:
                return out[:-2]
            out += self.exactly(int(match.group(1)))

    def command(self, text: bytes | str, literal: bytes | None = None, literal8: bool = False) -> Reply:
        """Sends TAG SP text; when literal is given, text ends where the literal goes and a
        synchronizing literal (literal8 with ~) follows it."""
        self.counter += 1
        tag = f"t{self.counter}".encode()
        data = text.encode() if isinstance(text, str) else text
        untagged: list[bytes] = []
        if literal is not None:
            self.sock.sendall(tag + b" " + data + (b"~" if literal8 else b"") + b"{%d}\r\n" % len(literal))
            while True:
                response = self.response()
                if response.startswith(b"+"):
                    break
                if response.startswith(tag + b" "):
                    return self.reply(response, untagged)
                untagged.append(response)
            self.sock.sendall(literal + b"\r\n")
        else:
            self.sock.sendall(tag + b" " + data + b"\r\n")
        while True:
            response = self.response()
            if response.startswith(tag + b" "):
                return self.reply(response, untagged)
            untagged.append(response)

    @staticmethod
    def reply(line: bytes, untagged: list[bytes]) -> Reply:
        text = line.decode("utf-8", "replace")
        parts = text.split(" ", 2)
        status = parts[1].upper() if len(parts) > 1 else ""
        code = ""
        if len(parts) > 2 and parts[2].startswith("["):
            code = re.match(r"\[([^\] ]*)", parts[2]).group(1).upper()
        return Reply(status, code, text, untagged)

    def ok(self, text: str, **kwargs) -> Reply:
        reply = self.command(text, **kwargs)
        assert reply.status == "OK", f"{text[:200]!r}: {reply.text}"
        return reply

    def close(self) -> None:
        try:
            self.command("LOGOUT")
        except OSError:
            pass
        self.sock.close()


# --------------------------------------------------------------------------------------
# The private Dovecot
# --------------------------------------------------------------------------------------

USER = "tester"
PASSWORD = "pw-tester"


@pytest.fixture(scope="module")
def dovecot():
    # imap_fetch_failure: a message with broken encoded data gets NO for that FETCH, no disconnect.
    with DovecotPeer({USER: "{PLAIN}" + PASSWORD}, settings={"imap_fetch_failure": "no-after"}) as instance:
        yield instance


def dovecot_client(dovecot: DovecotPeer) -> RawImap:
    client = RawImap(*dovecot.imap)
    client.ok(f"LOGIN {USER} {PASSWORD}")
    return client


# --------------------------------------------------------------------------------------
# The comparison
# --------------------------------------------------------------------------------------

def crlf(data: bytes) -> bytes:
    return re.sub(rb"\r?\n", b"\r\n", data)


def append(client: RawImap, content: bytes) -> int:
    reply = client.command(f'APPEND INBOX () "{INTERNALDATE}" ', literal=content, literal8=b"\0" in content)
    assert reply.status == "OK", reply.text
    match = re.search(r"\[APPENDUID \d+ (\d+)\]", reply.text)
    assert match, f"no APPENDUID in {reply.text}"
    return int(match.group(1))


@dataclass
class Answer:
    status: str
    code: str
    value: object        # the item's value when status is OK
    text: str            # the tagged reply line


def fetch_item(client: RawImap, uid: int, item: str) -> Answer:
    """UID FETCH uid (item): the value of that one item (the answer names it without .PEEK)."""
    reply = client.command(f"UID FETCH {uid} ({item})")
    if reply.status != "OK":
        return Answer(reply.status, reply.code, None, reply.text)
    wanted = item_key(item.replace(".PEEK", "").encode())
    values = []
    for response in reply.untagged:
        if re.match(rb"\* \d+ FETCH ", response):
            items = parse_fetch_items(response)
            if wanted in items:
                values.append(items[wanted])
    assert len(values) == 1, f"UID FETCH {uid} ({item}): {len(values)} answers named {wanted}: {reply.untagged!r}"
    return Answer("OK", "", values[0], reply.text)


def is_multipart(body) -> bool:
    return isinstance(body, list) and body and isinstance(body[0], list)


def is_message_rfc822(body) -> bool:
    return (isinstance(body, list) and len(body) > 8 and isinstance(body[0], bytes) and
            bytes(body[0]).lower() == b"message" and bytes(body[1]).lower() in (b"rfc822", b"global"))


def part_numbers(body, prefix: str = "") -> list[tuple[str, object]]:
    """(part number, its body) for every part, numbered as RFC 9051 §6.4.5 says."""
    out: list[tuple[str, object]] = []
    if is_multipart(body):
        # The parts come before the subtype; the lists after it are parameters and extension data.
        children = body[:next(i for i, child in enumerate(body) if not isinstance(child, list))]
        for index, child in enumerate(children, start=1):
            number = f"{prefix}{index}"
            out.append((number, child))
            out.extend(inner_parts(child, number))
    else:
        number = prefix + "1"
        out.append((number, body))
        out.extend(inner_parts(body, number))
    return out


def inner_parts(body, number: str) -> list[tuple[str, object]]:
    """The parts inside a multipart or an encapsulated message, numbered below number."""
    if is_multipart(body):
        return part_numbers(body, number + ".")
    if is_message_rfc822(body):
        inner = body[8]
        if is_multipart(inner):
            return part_numbers(inner, number + ".")
        # A non-multipart encapsulated body is part number.1 (RFC 9051 §6.4.5).
        out = [(number + ".1", inner)]
        out.extend(inner_parts(inner, number + ".1"))
        return out
    return []


def numbering(body) -> list[tuple[str, bool]]:
    """(part number, is a non-multipart part)."""
    return [(number, not is_multipart(part)) for number, part in part_numbers(body)]


# Normalizers a Deviation may name. Each maps a parsed value to a comparable one.

def _lower_tokens_in_body(body):
    """Media type, subtype, parameter names, transfer encoding and disposition type are
    case-insensitive (RFC 2045 §5.1, §6.1; RFC 2183 §2)."""
    if not isinstance(body, list):
        return body
    if is_multipart(body):
        index = next(i for i, c in enumerate(body) if not isinstance(c, list))
        children = [_lower_tokens_in_body(c) for c in body[:index]] + list(body[index:])
        children[index] = _lower(children[index])
        if len(children) > index + 1:
            children[index + 1] = _lower_param_names(children[index + 1])
        if len(children) > index + 2 and isinstance(children[index + 2], list):
            children[index + 2] = [_lower(children[index + 2][0])] + children[index + 2][1:]
        return children
    out = list(body)
    out[0], out[1] = _lower(out[0]), _lower(out[1])
    out[2] = _lower_param_names(out[2])
    out[5] = _lower(out[5])
    if is_message_rfc822(body):
        out[8] = _lower_tokens_in_body(out[8])
    return out


def _lower(value):
    if isinstance(value, Str):
        return Str(bytes(value).lower())
    if isinstance(value, Atom):
        return Atom(bytes(value).lower())
    return value


def _lower_param_names(params):
    if not isinstance(params, list):
        return params
    return [(_lower(v) if i % 2 == 0 else v) for i, v in enumerate(params)]


def _decode_rfc2231_params(value):
    """Every attribute/value list: name*N / name*N* segments joined (RFC 2231 §3, §4), an
    encoded one decoded to UTF-8 and named "name*" (RFC 9051 §7.5.2)."""
    if not isinstance(value, list):
        return value
    value = [_decode_rfc2231_params(v) for v in value]
    pairs = len(value) % 2 == 0 and value and all(isinstance(v, (Str, Atom)) for v in value)
    if not pairs or not any(b"*" in bytes(v) for v in value[::2]):
        return value
    out: list = []
    segments: dict[bytes, list[tuple[int, bool, bytes]]] = {}
    for name, data in zip(value[::2], value[1::2]):
        match = re.fullmatch(rb"(.+?)\*(\d+)(\*?)", bytes(name).lower())
        encoded = re.fullmatch(rb"([\w.-]*)'[^']*'(.*)", bytes(data), re.DOTALL)
        if not match and bytes(name).endswith(b"*") and encoded:
            # One "name*" parameter still in RFC 2231 §4 form: charset'language'%XX...
            text = urllib.parse.unquote_to_bytes(encoded.group(2))
            out += [name, Str(text.decode(encoded.group(1).decode() or "us-ascii", "replace").encode())]
        elif match:
            segments.setdefault(match.group(1), []).append((int(match.group(2)), bool(match.group(3)), bytes(data)))
        else:
            out += [name, data]
    for name, parts in segments.items():
        parts.sort()
        encoded = any(flag for _, flag, _ in parts)
        charset = "us-ascii"
        octets = b""
        for index, flag, data in parts:
            if flag and index == 0:
                charset_bytes, _, rest = data.split(b"'", 2)
                charset, data = charset_bytes.decode() or "us-ascii", rest
            octets += urllib.parse.unquote_to_bytes(data) if flag else data
        if encoded:
            out += [Str(name + b"*"), Str(octets.decode(charset, "replace").encode())]
        else:
            out += [Str(name), Str(octets)]
    return out


def _envelope_msgid_cfws(envelope):
    if not isinstance(envelope, list) or len(envelope) < 10 or not isinstance(envelope[9], bytes):
        return envelope
    return envelope[:9] + [Str(bytes(envelope[9]).strip(b" \t"))] + envelope[10:]


def _both(function):
    return lambda ours, theirs: (function(ours), function(theirs))


def _crlf_after_close_delimiter(ours, theirs):
    """Section text: Dovecot's = Postamt's + CRLF. BODY/BODYSTRUCTURE: a part's size may be
    2 octets and its line count 1 line more in Dovecot's answer."""
    if isinstance(ours, Str) and isinstance(theirs, Str) and bytes(theirs) == bytes(ours) + b"\r\n":
        return ours, ours
    if isinstance(ours, list) and isinstance(theirs, list):
        return ours, _sizes_like(ours, theirs)
    return ours, theirs


def _sizes_like(ours, theirs):
    """theirs with every size (one more CRLF) and line count of a non-multipart body that is
    exactly Postamt's + 2 octets / + 1 line replaced by Postamt's value."""
    if not (isinstance(ours, list) and isinstance(theirs, list)) or len(ours) != len(theirs):
        return theirs
    out = [_sizes_like(a, b) for a, b in zip(ours, theirs)]
    if ours and not is_multipart(ours) and isinstance(ours[0], bytes) and len(ours) > 6:
        fields = [6] + ([7] if bytes(ours[0]).lower() == b"text" else []) + \
                 ([9] if is_message_rfc822(ours) else [])
        for index, extra in zip(fields, [2, 1, 1]):
            a, b = ours[index], theirs[index]
            if isinstance(a, Atom) and isinstance(b, Atom) and a.isdigit() and b.isdigit() and \
                    int(b) - int(a) in (0, extra):
                out[index] = a
    return out


def _invalid_content_type(ours, theirs):
    """theirs with each body whose type and subtype are empty read as Postamt's default type."""
    if not (isinstance(ours, list) and isinstance(theirs, list)):
        return ours, theirs
    if len(theirs) > 6 and theirs[0] == b"" and theirs[1] == b"" and len(ours) == len(theirs) + 1 and \
            bytes(ours[0] or b"").lower() == b"text":
        return ours, [Str(b"text"), Str(b"plain"), [Str(b"charset"), Str(b"us-ascii")]] + theirs[3:7] + \
            [ours[7]] + theirs[7:]
    if len(ours) != len(theirs):
        return ours, theirs
    return ours, [_invalid_content_type(a, b)[1] for a, b in zip(ours, theirs)]


def _nul_substitute(ours, theirs):
    if isinstance(ours, Str) and isinstance(theirs, Str) and b"\0" not in ours and len(ours) == len(theirs) \
            and all(a == b or b == 0x80 for a, b in zip(bytes(ours), bytes(theirs))):
        return ours, ours
    return ours, theirs


NORMALIZERS = {
    "nul-substitute": _nul_substitute,
    "invalid-content-type": _invalid_content_type,
    "mime-tokens-case": _both(_lower_tokens_in_body),
    "rfc2231-params": _both(_decode_rfc2231_params),
    "envelope-msgid-cfws": _both(_envelope_msgid_cfws),
    "dovecot-crlf-after-close-delimiter": _crlf_after_close_delimiter,
    # The expected answer itself is replaced (see Reference.binary); nothing to normalize.
    "reference-instead-of-dovecot": lambda ours, theirs: (ours, theirs),
    "reference-when-dovecot-fails": lambda ours, theirs: (ours, theirs),
    "maildir-drop": lambda ours, theirs: (ours, theirs),
}


def comparable(value):
    """Str and Atom compare by octets; lists element-wise; numbers as numbers."""
    if isinstance(value, list):
        return [comparable(v) for v in value]
    if isinstance(value, Atom) and bytes(value).isdigit():
        return int(value)
    if isinstance(value, (Str, Atom)):
        return bytes(value)
    return value


def matches(pattern: str, text: str) -> bool:
    """"*" matches anything, "|" separates alternatives; everything else is literal."""
    return any(re.fullmatch(".*".join(re.escape(piece) for piece in alternative.split("*")), text)
               for alternative in pattern.split("|"))


def deviations_for(message: str, item: str, media_type: str = "") -> list[Deviation]:
    labels = [item] + ([f"{item} {media_type}"] if media_type else [])
    return [d for d in DEVIATIONS if matches(d.message, message) and
            any(matches(d.item, label) for label in labels)]


def differ(message: str, item: str, ours: Answer, theirs: Answer, media_type: str = "") -> str | None:
    """None when the answers agree (after the listed deviations), else a report."""
    same = (ours.status, ours.code) == (theirs.status, theirs.code)
    if same and ours.status == "OK":
        a, b = ours.value, theirs.value
        for deviation in deviations_for(message, item, media_type):
            a, b = NORMALIZERS[deviation.normalizer](a, b)
        same = comparable(a) == comparable(b)
    if same:
        return None
    return (f"{message}: FETCH {item}\n  postamt: {ours.status} {ours.code} {short(ours.value)}  [{ours.text}]\n"
            f"  dovecot: {theirs.status} {theirs.code} {short(theirs.value)}  [{theirs.text}]")


def short(value, limit: int = 600) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"...({len(text)} chars)"


def items_to_compare(structure) -> list[str]:
    items = ["ENVELOPE", "BODYSTRUCTURE", "BODY", "RFC822.SIZE", "INTERNALDATE", "BODY.PEEK[]",
             "BODY.PEEK[HEADER]", "BODY.PEEK[TEXT]", "BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)]"]
    for number, leaf in numbering(structure):
        items += [f"BODY.PEEK[{number}]", f"BODY.PEEK[{number}.MIME]",
                  f"BODY.PEEK[{number}.HEADER]", f"BODY.PEEK[{number}.TEXT]"]
        if leaf:
            items += [f"BINARY.PEEK[{number}]", f"BINARY.SIZE[{number}]"]
    return items


def test_part_numbering_of_the_rfc_example():
    """The part walk follows RFC 9051 §6.4.5 (checked on a hand-written BODYSTRUCTURE)."""
    text = (b'* 1 FETCH (BODYSTRUCTURE (("TEXT" "PLAIN" NIL NIL NIL "7BIT" 3 1)'
            b'("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 9 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) '
            b'(("TEXT" "PLAIN" NIL NIL NIL "7BIT" 1 1)("IMAGE" "GIF" NIL NIL NIL "BASE64" 4) "MIXED") 3)'
            b'("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 9 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) '
            b'("TEXT" "PLAIN" NIL NIL NIL "7BIT" 1 1) 3) "MIXED"))')
    structure = parse_fetch_items(text)["BODYSTRUCTURE"]
    assert numbering(structure) == [("1", True), ("2", True), ("2.1", True), ("2.2", True),
                                       ("3", True), ("3.1", True)]
    assert numbering(parse_fetch_items(b'* 1 FETCH (BODY ("TEXT" "PLAIN" NIL NIL NIL "7BIT" 3 1))')["BODY"]) \
        == [("1", True)]
    parsed = parse_fetch_items(b'* 2 FETCH (BODY[HEADER.FIELDS ("FROM" SUBJECT)] {5}\r\nab\r\n\r'
                               b' BINARY[1]<0> ~{2}\r\n\0\1 X "q\\"s")')
    assert parsed == {"BODY[HEADER.FIELDS (FROM SUBJECT)]": b"ab\r\n\r", "BINARY[1]<0>": b"\0\1",
                      "X": b'q"s'}


class Reference:
    """Dovecot's answers, with a reconnect when Dovecot drops the connection (it does after
    some FETCH failures), and the reference decoder for BINARY where DEVIATIONS says so."""

    def __init__(self, dovecot: DovecotPeer, message: str):
        self.dovecot = dovecot
        self.message = message
        self.client = self.connect()

    def connect(self) -> RawImap:
        client = dovecot_client(self.dovecot)
        client.ok("SELECT INBOX")
        return client

    def store(self, content: bytes) -> int:
        """APPENDs content; one holding NUL goes into the Maildir directly (see DEVIATIONS)."""
        if b"\0" not in content:
            return append(self.client, content)
        assert deviations_for(self.message, "(how it is stored)"), f"{self.message}: NUL, but no maildir-drop entry"
        maildir = self.dovecot.maildir(USER)
        target = maildir / "new" / f"{time.time_ns()}.P{os.getpid()}.diff"
        target.write_bytes(content)
        shutil.chown(target, "nobody", "nogroup")
        when = time.mktime(time.strptime(INTERNALDATE[:-6], "%d-%b-%Y %H:%M:%S")) - time.timezone
        os.utime(target, (when, when))  # Dovecot's INTERNALDATE for a Maildir file: its mtime
        self.client.ok("NOOP")
        reply = self.client.ok("UID SEARCH ALL")
        uids = [int(n) for line in reply.untagged if line.startswith(b"* SEARCH")
                for n in line.split()[2:]]
        assert uids, reply
        return max(uids)

    def fetch(self, uid: int, item: str) -> Answer:
        try:
            return fetch_item(self.client, uid, item)
        except (EOFError, OSError):
            self.client = self.connect()
            return Answer("BYE", "", None, "Dovecot closed the connection")

    def binary(self, uid: int, item: str, part, media_type: str, our_body: Answer) -> Answer:
        """BINARY[.SIZE][part]: Dovecot's answer, or where DEVIATIONS says so the reference
        decoding of Postamt's BODY[part] (which is compared with Dovecot's on its own)."""
        kinds = {d.normalizer for d in deviations_for(self.message, item, media_type)}
        if "reference-instead-of-dovecot" not in kinds:
            answer = self.fetch(uid, item)
            if answer.status == "OK" or answer.code == "UNKNOWN-CTE" or "reference-when-dovecot-fails" not in kinds:
                return answer
        assert our_body.status == "OK", our_body.text
        decoded = reference_decode(bytes(our_body.value), bytes(part[5] or b"7bit").decode("latin-1"))
        if decoded is None:
            return Answer("NO", "UNKNOWN-CTE", None, "(reference decoder) unknown encoding")
        if item.startswith("BINARY.SIZE"):
            return Answer("OK", "", Atom(str(len(decoded)).encode()), "(reference decoder)")
        return Answer("OK", "", Str(decoded), "(reference decoder)")

    def close(self) -> None:
        self.client.close()


def reference_decode(data: bytes, encoding: str) -> bytes | None:
    """Content-Transfer-Encoding decoding as RFC 2045 describes it; None for an unknown one."""
    encoding = encoding.lower()
    if encoding in ("7bit", "8bit", "binary"):
        return data
    if encoding == "base64":
        # §6.8: characters outside the alphabet are ignored; "=" ends the data.
        text = re.sub(rb"[^A-Za-z0-9+/]", b"", data.split(b"=", 1)[0])
        usable = len(text) - (len(text) % 4 == 1)
        text = text[:usable]
        return binascii.a2b_base64(text + b"=" * (-len(text) % 4)) if text else b""
    if encoding == "quoted-printable":
        # §6.7 (3): trailing white space on a line was added in transport and is deleted.
        return binascii.a2b_qp(re.sub(rb"[ \t]+(?=\r?\n|\Z)", b"", data))
    return None


def media_type(part) -> str:
    if is_multipart(part):
        subtype = next(c for c in part if not isinstance(c, list))
        return "multipart/" + bytes(subtype).decode("latin-1").lower()
    return (bytes(part[0]) + b"/" + bytes(part[1])).decode("latin-1").lower()


def item_part(item: str) -> str | None:
    match = re.search(r"\[([\d.]+?)(?:\.(?:MIME|HEADER|TEXT))?\]", item)
    return match.group(1) if match else None


@pytest.mark.parametrize("vector", VECTORS)
def test_fetch_matches_dovecot(server, dovecot, vector):
    provision(server, ["alice"])
    content = crlf((DATA / vector).read_bytes())
    host, port = server.address("imap")
    ours = RawImap(host, port)
    ours.ok(f"LOGIN {ALICE} pw-alice")
    theirs = Reference(dovecot, vector)
    try:
        ours.ok("SELECT INBOX")
        our_uid, their_uid = append(ours, content), theirs.store(content)
        ours.ok("NOOP")
        theirs.client.ok("NOOP")
        structure = theirs.fetch(their_uid, "BODYSTRUCTURE").value
        # Postamt's own BODYSTRUCTURE must name the same parts, or nothing else can match.
        our_structure = fetch_item(ours, our_uid, "BODYSTRUCTURE").value
        assert numbering(our_structure) == numbering(structure), (vector, short(our_structure, 3000))
        parts = dict(part_numbers(structure))
        items = items_to_compare(structure)
        # BINARY last: Dovecot may give up on the message (and the connection) there.
        items.sort(key=lambda item: item.startswith("BINARY"))
        differences = []
        for item in items:
            number = item_part(item)
            kind = media_type(parts[number]) if number else ""
            if item.startswith("BINARY"):
                our_body = fetch_item(ours, our_uid, f"BODY.PEEK[{number}]")
                expected = theirs.binary(their_uid, item, parts[number], kind, our_body)
            else:
                expected = theirs.fetch(their_uid, item)
            report = differ(vector, item, fetch_item(ours, our_uid, item), expected, kind)
            if report:
                differences.append(report)
    finally:
        ours.close()
        theirs.close()
    assert not differences, f"{len(differences)} of {len(items)} items differ:\n" + "\n".join(differences)


# --------------------------------------------------------------------------------------
# SORT, THREAD and ESORT answers (RFC 5256, RFC 5267 §3.2, RFC 5957) on the whole corpus
# --------------------------------------------------------------------------------------

# Compared on one mailbox holding every vector (in the same order on both servers, each with
# its own INTERNALDATE so ARRIVAL means something) plus the crafted messages of
# test_imap_sort.py (list tags, nested Re:/Fwd:, "(fwd)", encoded words, zones, missing
# Date:, References to a missing parent). A vector holding NUL is left out: Dovecot takes it
# only through its Maildir (see _NUL_IN_LITERAL), which would change its order.
SORT_COMMANDS = [
    "SORT (ARRIVAL) UTF-8 ALL",
    "SORT (REVERSE ARRIVAL) UTF-8 ALL",
    "SORT (DATE) UTF-8 ALL",
    "SORT (REVERSE DATE) UTF-8 ALL",
    "SORT (SIZE) UTF-8 ALL",
    "SORT (SUBJECT) UTF-8 ALL",
    "SORT (SUBJECT REVERSE DATE) UTF-8 ALL",
    "SORT (FROM) UTF-8 ALL",
    "SORT (TO) UTF-8 ALL",
    "SORT (CC) UTF-8 ALL",
    "SORT (REVERSE CC DATE) UTF-8 ALL",
    "SORT (DISPLAYFROM) UTF-8 ALL",
    "SORT (DISPLAYTO) UTF-8 ALL",
    "SORT (DATE) US-ASCII NOT SUBJECT lunch",
    "UID SORT (SUBJECT ARRIVAL) UTF-8 ALL",
    "SORT RETURN (MIN MAX COUNT ALL) (DATE) UTF-8 ALL",
    "UID SORT RETURN (COUNT ALL) (REVERSE SUBJECT) UTF-8 ALL",
    "THREAD ORDEREDSUBJECT UTF-8 ALL",
    "THREAD REFERENCES UTF-8 ALL",
    "UID THREAD REFERENCES UTF-8 ALL",
    "THREAD REFERENCES US-ASCII NOT SUBJECT lunch",
]


# More threads than test_imap_sort.py has: a loop between References, a duplicate
# Message-ID, a message referring to itself, In-Reply-To with junk around the id, two
# originals with one subject (step 5 gives them a dummy), "[fwd: ...]", "Re[2]:", tabs and
# runs of spaces, an unparseable Date: and one east of UTC crossing midnight.
THREAD_EXTRA = [
    ("Subject: Budget\r\nMessage-ID: <b1@x>\r\nReferences: <b2@x>\r\nDate: Mon, 01 Mar 2021 10:00:00 +0000\r\n"),
    ("Subject: Re: Budget\r\nMessage-ID: <b2@x>\r\nReferences: <b1@x>\r\nDate: Mon, 01 Mar 2021 11:00:00 +0000\r\n"),
    ("Subject: Budget\r\nMessage-ID: <b1@x>\r\nDate: Mon, 01 Mar 2021 12:00:00 +0000\r\n"),
    ("Subject: Self\r\nMessage-ID: <s1@x>\r\nReferences: <s1@x>\r\nDate: Tue, 02 Mar 2021 01:00:00 +0900\r\n"),
    ("Subject: [fwd: Re[2]:\t Plans   for  May]\r\nMessage-ID: <p1@x>\r\n"
     "In-Reply-To: Your message of today <p0@x> (sent earlier)\r\nDate: not a date\r\n"),
    ("Subject: Plans for May\r\nMessage-ID: <p2@x>\r\nDate: Wed, 03 Mar 2021 10:00:00 -0200\r\n"),
    ("Subject: plans FOR may\r\nMessage-ID: <p3@x>\r\nDate: Wed, 03 Mar 2021 09:00:00 -0200\r\n"),
    ("Subject: Re: Plans for May (fwd)\r\nMessage-ID: <p4@x>\r\nReferences: <p0@x> <p3@x>\r\n"
     "Date: Thu, 04 Mar 2021 10:00:00 +0000\r\n"),
]


def sort_answer(reply: Reply) -> tuple[str, list[bytes]]:
    """The status and the SORT / THREAD / ESEARCH responses, the ESEARCH tag left out."""
    lines = []
    for line in reply.untagged:
        if line.startswith((b"* SORT", b"* THREAD", b"* ESEARCH")):
            lines.append(re.sub(rb'^\* ESEARCH \(TAG "[^"]*"\)', b"* ESEARCH", line.rstrip()))
    return reply.status, lines


def test_sort_and_thread_match_dovecot(server, dovecot):
    from test_imap_sort import MESSAGES, raw_message
    provision(server, ["alice"])
    host, port = server.address("imap")
    ours = RawImap(host, port)
    ours.ok(f"LOGIN {ALICE} pw-alice")
    theirs = dovecot_client(dovecot)
    mailbox = f"Sort{time.time_ns()}"
    contents = [crlf((DATA / vector).read_bytes()) for vector in VECTORS]
    contents = [content for content in contents if b"\0" not in content]
    contents += [raw_message(m[0], m[1], m[2], m[3], m[4], m[6], m[7]) for m in MESSAGES]
    contents += [f"From: t{n}@example.org\r\n{head}\r\nbody {n}\r\n".encode() for n, head in enumerate(THREAD_EXTRA)]
    differences = []
    try:
        for client in (ours, theirs):
            client.ok(f"CREATE {mailbox}")
            for number, content in enumerate(contents):
                date = f"{1 + number % 28:02d}-Feb-2021 {number % 24:02d}:00:00 +0000"
                reply = client.command(f'APPEND {mailbox} () "{date}" ', literal=content)
                assert reply.status == "OK", reply.text
            client.ok(f"SELECT {mailbox}")
        for command in SORT_COMMANDS:
            mine, reference = sort_answer(ours.command(command)), sort_answer(theirs.command(command))
            # Something real is compared: an OK with one answer naming messages.
            assert mine[0] == "OK" and len(mine[1]) == 1 and re.search(rb"\d", mine[1][0]), (command, mine)
            if os.environ.get("POSTAMT_SHOW_SORT"):
                print(command, mine[1][0][:300])
            if mine != reference:
                differences.append(f"{command}\n  postamt: {mine}\n  dovecot: {reference}")
    finally:
        ours.close()
        theirs.close()
    assert not differences, f"{len(differences)} of {len(SORT_COMMANDS)} answers differ:\n" + "\n".join(differences)
