"""IMAP COMPRESS=DEFLATE (RFC 4978): raw DEFLATE both ways after the tagged OK, on top of
implicit TLS and of STARTTLS; [COMPRESSIONACTIVE] for a second COMPRESS; a broken stream
or an expanding line from the client costs the server neither its memory nor its life.

The client is the raw line client of harness.py over a socket wrapper that compresses with
zlib (wbits -15, a sync flush after every send) and inflates whatever arrives.
"""

from __future__ import annotations

import re
import socket
import ssl
import zlib

from harness import (
    HOSTNAME,
    LineClient,
    imap_command,
    imap_connect,
    imap_fetch_responses,
    imap_login,
    imap_ok,
    imap_status_word,
    imap_until_tagged,
    message,
    provision,
    unverified_tls_context,
)

ALICE = "alice@example.test"


class DeflateSocket:
    """The socket calls LineClient and the harness helpers make, through raw DEFLATE."""

    def __init__(self, sock: socket.socket | ssl.SSLSocket):
        self.sock = sock
        self.deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.inflater = zlib.decompressobj(-15)
        self.pending = b""

    def sendall(self, data: bytes) -> None:
        self.sock.sendall(self.deflater.compress(data) + self.deflater.flush(zlib.Z_SYNC_FLUSH))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv(self, size: int) -> bytes:
        # The server sync-flushes every response burst, so each read inflates to whole data.
        while not self.pending:
            raw = self.sock.recv(65536)
            if not raw:
                return b""
            self.pending += self.inflater.decompress(raw)
        out, self.pending = self.pending[:size], self.pending[size:]
        return out

    def settimeout(self, timeout: float | None) -> None:
        self.sock.settimeout(timeout)

    def close(self) -> None:
        self.sock.close()


def caps_of(line: bytes) -> set[str]:
    match = re.search(rb"CAPABILITY ([^\]\r\n]*)", line)
    assert match, line
    return {word.upper() for word in match.group(1).decode().split()}


def start_compression(client: LineClient) -> DeflateSocket:
    """COMPRESS DEFLATE; the OK arrives uncompressed, and everything after it is DEFLATE."""
    untagged, done = imap_command(client, "COMPRESS DEFLATE")
    assert untagged == [], untagged
    assert re.match(rb"\S+ OK DEFLATE active$", done), done
    assert client.buffer == b"", f"bytes after the OK before compressing: {client.buffer!r}"
    wrapped = DeflateSocket(client.sock)
    client.sock = wrapped
    return wrapped


def append_and_fetch(client: LineClient, content: bytes) -> None:
    """APPEND with a synchronizing literal, then FETCH it back, all compressed."""
    tag = "A1"
    client.send(f"{tag} APPEND INBOX (\\Seen) {{{len(content)}}}\r\n".encode())
    assert client.text_line().startswith("+ "), "no continuation request for the literal"
    client.send(content + b"\r\n")
    untagged, done = imap_until_tagged(client, tag)
    assert imap_status_word(done) == "OK", done
    uid = int(re.search(rb"\[APPENDUID \d+ (\d+)\]", done).group(1))
    untagged = imap_ok(client, f"UID FETCH {uid} (UID FLAGS BODY.PEEK[])")
    fetched = imap_fetch_responses(untagged)
    assert len(fetched) == 1, untagged[:3]
    items = fetched[0][1]
    assert int(items["UID"]) == uid
    assert items["BODY[]"] == content


def logout(client: LineClient) -> None:
    untagged, done = imap_command(client, "LOGOUT")
    assert imap_status_word(done) == "OK", done
    assert any(line.startswith(b"* BYE") for line in untagged), untagged
    assert client.closed_within(10), "the server did not close after LOGOUT"


def test_compress_over_imaps(server):
    provision(server, ["alice"])
    client = imap_login(server, protocol="imaps")
    try:
        untagged = imap_ok(client, "CAPABILITY")
        assert "COMPRESS=DEFLATE" in caps_of(untagged[0])
        start_compression(client)

        untagged = imap_ok(client, "SELECT INBOX")
        assert any(b"EXISTS" in line for line in untagged), untagged
        append_and_fetch(client, message("compressed append", body=b"Hello through DEFLATE.\r\n" * 20))
        # A response far larger than one write slice, still decodable as it arrives.
        big_body = b"".join(b"line %06d of a long message body that compresses well\r\n" % i
                            for i in range(20000))
        append_and_fetch(client, message("big one", body=big_body))

        # RFC 4978 §3: compression cannot be turned on twice.
        _, done = imap_command(client, "COMPRESS DEFLATE")
        assert re.match(rb"\S+ NO \[COMPRESSIONACTIVE\]", done), done
        imap_ok(client, "NOOP")
        logout(client)
    finally:
        client.close()


def test_compress_after_starttls(server):
    provision(server, ["alice"])
    client = imap_connect(server, "imap")
    try:
        imap_ok(client, "STARTTLS")
        client.sock = unverified_tls_context().wrap_socket(client.sock, server_hostname=HOSTNAME)
        untagged = imap_ok(client, "CAPABILITY")
        assert "COMPRESS=DEFLATE" not in caps_of(untagged[0])  # only once logged in
        imap_ok(client, f'LOGIN "{ALICE}" "pw-alice"')
        start_compression(client)
        imap_ok(client, "SELECT INBOX")
        append_and_fetch(client, message("after starttls"))
        untagged = imap_ok(client, "CAPABILITY")
        assert "COMPRESS=DEFLATE" in caps_of(untagged[0])
        logout(client)
    finally:
        client.close()


def test_compress_over_plain_imap(server):
    """Without TLS (the test config allows plaintext login) the layering is the same."""
    provision(server, ["alice"])
    client = imap_login(server, protocol="imap")
    try:
        start_compression(client)
        untagged = imap_ok(client, "STATUS INBOX (MESSAGES)")
        assert any(b"MESSAGES 0" in line for line in untagged), untagged
        logout(client)
    finally:
        client.close()


def test_compress_needs_login_and_a_known_mechanism(server):
    provision(server, ["alice"])
    client = imap_connect(server, "imaps")
    try:
        _, done = imap_command(client, "COMPRESS DEFLATE")
        assert imap_status_word(done) == "BAD", done
        imap_ok(client, f'LOGIN "{ALICE}" "pw-alice"')
        _, done = imap_command(client, "COMPRESS LZ4")
        assert imap_status_word(done) == "BAD", done
        # Nothing changed: the connection still speaks plain IMAP.
        imap_ok(client, "NOOP")
        start_compression(client)
        imap_ok(client, "NOOP")
    finally:
        client.close()


def test_commands_pipelined_behind_compress_are_not_taken_as_deflate(server):
    """The client may compress only after it has the OK (RFC 4978 §3): plain bytes that came
    along with COMPRESS are dropped, not inflated into garbage, and the session goes on."""
    provision(server, ["alice"])
    client = imap_login(server, protocol="imaps")
    try:
        client.send(b"C1 COMPRESS DEFLATE\r\nC2 NOOP\r\n")
        assert client.text_line() == "C1 OK DEFLATE active"
        assert client.buffer == b""
        client.sock = DeflateSocket(client.sock)
        untagged, done = imap_command(client, "NOOP", tag="C3")
        assert imap_status_word(done) == "OK", (untagged, done)
        assert not any(line.startswith(b"C2 ") for line in untagged), untagged
        logout(client)
    finally:
        client.close()


def test_a_broken_stream_ends_only_that_connection(server):
    provision(server, ["alice"])
    client = imap_login(server, protocol="imaps")
    try:
        wrapped = start_compression(client)
        imap_ok(client, "NOOP")
        wrapped.send_raw(b"\xff" * 64)  # BTYPE 11 is reserved (RFC 1951 §3.2.3)
        assert client.closed_within(10), "the server kept a connection with a corrupt stream"
    finally:
        client.close()
    assert server.count_in_log("conn.decompress_failed") >= 1
    other = imap_login(server, protocol="imaps")
    try:
        imap_ok(other, "NOOP")
    finally:
        other.close()


def test_an_expanding_line_stays_bounded(start_server):
    """64 MiB of one line in ~64 KiB of DEFLATE: refused like any over-long line, without the
    server holding the expanded bytes. ASan build: its quarantine is capped at 8 MiB so that
    RSS shows what is really held (see test_limits.py); a bounded server grows by a few MiB,
    one that inflated the whole line would grow by 64 MiB or more."""
    server = start_server(extra_asan_options="quarantine_size_mb=8")
    provision(server, ["alice"])
    client = imap_login(server, protocol="imaps")
    try:
        start_compression(client)
        baseline = max(server.rss_kib() for _ in range(3))
        client.send(b"A1 NOOP " + b"x" * (64 * 1024 * 1024) + b"\r\n")
        refused = client.text_line(timeout=120)
        # Tagged: the tag is kept from the dropped line's first octets (issue 17 §1).
        assert refused.startswith("A1 BAD ") and "too long" in refused, refused
        growth = server.rss_kib() - baseline
        print(f"RSS growth over one 64 MiB compressed line: {growth} KiB")
        assert growth < 32 * 1024, f"the server grew by {growth} KiB for one expanding line"
        imap_ok(client, "NOOP")
        logout(client)
    finally:
        client.close()
