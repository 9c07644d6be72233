"""Listeners, greetings, STARTTLS and implicit TLS, driven by real clients."""

from __future__ import annotations

import base64
import imaplib
import poplib
import smtplib
import socket
import ssl
import subprocess

import pytest

from harness import (
    HOSTNAME,
    IMPLICIT_TLS,
    PROTOCOLS,
    LineClient,
    peer_certificate_pem,
    provision,
    smtp_command,
    smtp_reply,
    unverified_tls_context,
    x509_field,
)


def test_ports_file_lists_every_protocol_and_every_port_accepts(server):
    assert set(server.ports_by_protocol) == set(PROTOCOLS), server.ports_by_protocol
    seen = set()
    for protocol, addresses in server.ports_by_protocol.items():
        assert len(addresses) == 1, (protocol, addresses)
        host, port = addresses[0]
        assert host == "127.0.0.1" and 0 < port < 65536, (protocol, host, port)
        seen.add(port)
        with socket.create_connection((host, port), timeout=10):
            pass
    assert len(seen) == len(PROTOCOLS), "two listeners share a port"
    # The file is the JSON the contract describes, nothing more.
    assert server.ports_path.stat().st_size < 4096


@pytest.mark.parametrize("protocol", ["smtp", "submission"])
def test_smtp_greeting_noop_quit(server, protocol):
    host, port = server.address(protocol)
    client = smtplib.SMTP(timeout=10)
    code, message = client.connect(host, port)
    assert code == 220, (code, message)
    assert message.decode() == f"{HOSTNAME} ESMTP Postamt", message
    code, message = client.noop()
    assert code == 250 and message.startswith(b"2.0.0"), (code, message)
    assert client.rset()[0] == 250
    # VRFY reveals nothing (RFC 5321 §3.5.3): the same 252 for any argument.
    code, message = client.docmd("VRFY", "someone")
    assert code == 252 and message.startswith(b"2.1.5"), (code, message)
    assert client.docmd("VRFY", "postmaster") == (code, message)
    code, message = client.quit()
    assert code == 221 and message.decode() == f"2.0.0 {HOSTNAME} closing connection", message


def test_imap_greeting_capability_logout(server):
    host, port = server.address("imap")
    client = imaplib.IMAP4(host, port, timeout=10)
    assert client.welcome.startswith(b"* OK [CAPABILITY IMAP4rev1"), client.welcome
    assert "STARTTLS" in client.capabilities
    typ, data = client.capability()
    assert typ == "OK" and b"IMAP4rev1" in data[0] and b"STARTTLS" in data[0], (typ, data)
    assert client.noop()[0] == "OK"
    # Commands the line session does not know yet are BAD, not a crash or a hang.
    with pytest.raises(imaplib.IMAP4.error):
        client.select("INBOX")
    typ, _ = client.logout()
    assert typ == "BYE"


def test_pop3_greeting_capa_quit(server):
    host, port = server.address("pop3")
    client = poplib.POP3(host, port, timeout=10)
    assert client.getwelcome() == b"+OK Postamt ready"
    assert "STLS" in client.capa()
    assert client.noop().startswith(b"+OK")
    with pytest.raises(poplib.error_proto):
        client.stat()
    assert client.quit().startswith(b"+OK")


# --------------------------------------------------------------------------------------
# STARTTLS
# --------------------------------------------------------------------------------------

def verifying_context(server) -> ssl.SSLContext:
    """Trusts exactly the server's own (self-signed) certificate, and checks the host name."""
    context = ssl.create_default_context(cafile=str(server.directory / "tls" / "cert.pem"))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


@pytest.mark.parametrize("protocol", ["smtp", "submission"])
def test_smtp_starttls(server, protocol):
    host, port = server.address(protocol)
    client = smtplib.SMTP(timeout=10)
    code, _ = client.connect(host, port)
    assert code == 220
    code, _ = client.ehlo("client.example.test")
    assert code == 250
    assert client.has_extn("starttls"), client.esmtp_features
    client._host = HOSTNAME  # starttls verifies the certificate against _host (we dialled an IP)
    client.starttls(context=verifying_context(server))
    assert client.sock.version() in ("TLSv1.2", "TLSv1.3")
    # After the upgrade the session starts over (RFC 3207 §4.2): EHLO again, and STARTTLS
    # is no longer offered.
    code, _ = client.ehlo("client.example.test")
    assert code == 250
    assert not client.has_extn("starttls"), client.esmtp_features
    assert client.noop()[0] == 250
    # A second STARTTLS inside TLS is refused.
    code, message = client.docmd("STARTTLS")
    assert code == 503 and message.startswith(b"5.5.1"), (code, message)
    assert client.quit()[0] == 221


def test_smtp_starttls_needs_ehlo_first(server):
    """RFC 3207 §4: STARTTLS is an extension, so it needs EHLO; before it: 503."""
    client = server.connect("smtp")
    client.expect("220 ")
    client.send("STARTTLS\r\n")
    client.expect("503 5.5.1")
    client.send("HELO client.example.test\r\n")   # HELO announces no extensions
    client.expect("250 ")
    client.send("STARTTLS\r\n")
    client.expect("503 5.5.1")
    client.close()


def test_imap_starttls(server):
    host, port = server.address("imap")
    client = imaplib.IMAP4(host, port, timeout=10)
    client.host = HOSTNAME  # starttls verifies the certificate against .host (we dialled an IP)
    typ, _ = client.starttls(ssl_context=verifying_context(server))
    assert typ == "OK"
    assert client.sock.version() in ("TLSv1.2", "TLSv1.3")
    # After the upgrade, STARTTLS is no longer offered (RFC 3501 §6.2.1).
    assert "STARTTLS" not in client.capabilities, client.capabilities
    assert client.noop()[0] == "OK"
    assert client.logout()[0] == "BYE"


def test_pop3_stls(server):
    host, port = server.address("pop3")
    client = poplib.POP3(host, port, timeout=10)
    client.host = HOSTNAME  # stls verifies the certificate against .host (we dialled an IP)
    assert client.stls(context=verifying_context(server)).startswith(b"+OK")
    assert client.sock.version() in ("TLSv1.2", "TLSv1.3")
    assert "STLS" not in client.capa()
    assert client.noop().startswith(b"+OK")
    assert client.quit().startswith(b"+OK")


def test_certificate_is_self_signed_for_the_hostname(server):
    for protocol in IMPLICIT_TLS:
        client = server.connect(protocol)
        pem = peer_certificate_pem(client.sock)
        client.close()
        subject = x509_field(pem, "-subject")
        issuer = x509_field(pem, "-issuer")
        assert HOSTNAME in subject, subject
        assert subject.split("=", 1)[1] == issuer.split("=", 1)[1], (subject, issuer)
        done = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName"], input=pem,
                              capture_output=True, text=True, timeout=30)
        assert f"DNS:{HOSTNAME}" in done.stdout, done.stdout + done.stderr
        # The served certificate is the one the server wrote next to its config.
        assert pem.strip() == (server.directory / "tls" / "cert.pem").read_text().strip()
    # And a verifying client that trusts that certificate accepts it for the host name.
    host, port = server.address("imaps")
    with socket.create_connection((host, port), timeout=10) as raw:
        with verifying_context(server).wrap_socket(raw, server_hostname=HOSTNAME) as tls:
            assert LineClient(tls).text_line().startswith("* OK")


# --------------------------------------------------------------------------------------
# Implicit TLS with openssl s_client
# --------------------------------------------------------------------------------------

IMPLICIT_DIALOGUES = {
    "submissions": ("QUIT\n", f"220 {HOSTNAME} ESMTP Postamt", "221 "),
    "imaps": ("a LOGOUT\n", "* OK [CAPABILITY IMAP4rev1", "a OK"),
    "pop3s": ("QUIT\n", "+OK Postamt ready", "+OK Bye"),
}


def s_client(host: str, port: int, *options: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        ["openssl", "s_client", "-connect", f"{host}:{port}", "-servername", HOSTNAME, "-brief",
         "-crlf", "-ign_eof", *options],
        input=stdin, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("protocol", IMPLICIT_TLS)
def test_implicit_tls_with_openssl_s_client(server, protocol):
    host, port = server.address(protocol)
    command, greeting, goodbye = IMPLICIT_DIALOGUES[protocol]
    for version, name in (("-tls1_3", "TLSv1.3"), ("-tls1_2", "TLSv1.2")):
        done = s_client(host, port, version, stdin=command)
        output = done.stdout + done.stderr
        assert "CONNECTION ESTABLISHED" in output, output
        assert f"Protocol version: {name}" in output, output
        assert greeting in done.stdout, output
        assert goodbye in done.stdout, output
        if protocol == "imaps":  # STARTTLS is not offered inside implicit TLS
            assert "STARTTLS" not in done.stdout, output


@pytest.mark.parametrize("protocol", IMPLICIT_TLS)
def test_tls_below_1_2_is_refused(server, protocol):
    host, port = server.address(protocol)
    # SECLEVEL=0 lets this client offer TLS 1.1 at all (Debian's default refuses it
    # client-side, which would make the test prove nothing about the server).
    for version in ("-tls1_1", "-tls1"):
        done = s_client(host, port, version, "-cipher", "DEFAULT@SECLEVEL=0", stdin="")
        output = done.stdout + done.stderr
        assert done.returncode != 0, output
        assert "CONNECTION ESTABLISHED" not in output, output
        assert "no protocols available" not in output, "the client never offered " + version
    # The server is fine afterwards.
    client = server.connect(protocol)
    assert client.text_line().startswith(("220 ", "* OK", "+OK"))
    client.close()


# --------------------------------------------------------------------------------------
# Pipelined bytes after STARTTLS are discarded
# --------------------------------------------------------------------------------------

PIPELINE_CASES = {
    # protocol: (greeting prefix, pipelined STARTTLS + command, STARTTLS reply, fresh command, reply)
    "imap": ("* OK", b"a STARTTLS\r\nb NOOP\r\n", "a OK", b"c NOOP\r\n", "c OK"),
    "pop3": ("+OK", b"STLS\r\nNOOP\r\n", "+OK", b"NOOP\r\n", "+OK"),
}


@pytest.mark.parametrize("protocol", sorted(PIPELINE_CASES))
def test_bytes_pipelined_after_starttls_are_discarded(server, protocol):
    greeting, pipelined, tls_reply, fresh, fresh_reply = PIPELINE_CASES[protocol]
    host, port = server.address(protocol)
    raw = socket.create_connection((host, port), timeout=10)
    client = LineClient(raw)
    client.expect(greeting)
    raw.sendall(pipelined)  # one write: STARTTLS and the command behind it
    client.expect(tls_reply)
    # Nothing may follow in plaintext: the pipelined command must not be answered here.
    assert client.buffer == b"", f"plaintext after the STARTTLS reply: {client.buffer!r}"
    tls = unverified_tls_context().wrap_socket(raw, server_hostname=HOSTNAME)
    secure = LineClient(tls)
    # The command pipelined before the handshake never gets a reply over TLS either.
    assert secure.nothing_within(1.5) == b"", f"reply to a discarded command: {secure.buffer!r}"
    secure.send(fresh)
    secure.expect(fresh_reply)
    assert secure.nothing_within(1.0) == b"", f"more than one reply: {secure.buffer!r}"
    secure.close()


def smtp_starttls_with_injection(server, protocol: str, injected: bytes) -> LineClient:
    """EHLO, then "STARTTLS" and an injected command in ONE write (the STARTTLS command
    injection of CVE-2011-0411); returns the TLS session, greeted by nothing yet."""
    host, port = server.address(protocol)
    raw = socket.create_connection((host, port), timeout=10)
    client = LineClient(raw)
    assert smtp_reply(client).code == 220
    smtp_command(client, "EHLO client.example.test", "250 ")
    raw.sendall(b"STARTTLS\r\n" + injected)
    client.expect("220 2.0.0")
    assert client.buffer == b"", f"plaintext after the STARTTLS reply: {client.buffer!r}"
    tls = unverified_tls_context().wrap_socket(raw, server_hostname=HOSTNAME)
    secure = LineClient(tls)
    # The injected command never gets a reply over TLS.
    assert secure.nothing_within(1.5) == b"", f"reply to a discarded command: {secure.buffer!r}"
    return secure


def test_smtp_command_pipelined_after_starttls_is_discarded(server):
    secure = smtp_starttls_with_injection(server, "smtp", b"MAIL FROM:<a@b.example>\r\n")
    smtp_command(secure, "EHLO client.example.test", "250 ")
    # Had the injected MAIL been taken over TLS, this one would be a nested MAIL (503).
    smtp_command(secure, "MAIL FROM:<a@b.example>", "250 2.1.0")
    assert secure.nothing_within(1.0) == b"", f"more than one reply: {secure.buffer!r}"
    smtp_command(secure, "QUIT", "221 ")
    secure.close()


def test_submission_auth_pipelined_after_starttls_is_discarded(server):
    provision(server, users=["alice"])
    credentials = base64.b64encode(b"\0alice@example.test\0pw-alice")
    secure = smtp_starttls_with_injection(server, "submission", b"AUTH PLAIN " + credentials + b"\r\n")
    smtp_command(secure, "EHLO client.example.test", "250 ")
    # Had the injected AUTH been taken over TLS, the session would be authenticated now.
    smtp_command(secure, "MAIL FROM:<alice@example.test>", "530 5.7.0")
    # The same AUTH sent over TLS works (so the injected one would have, too).
    smtp_command(secure, b"AUTH PLAIN " + credentials, "235 2.7.0")
    smtp_command(secure, "MAIL FROM:<alice@example.test>", "250 2.1.0")
    smtp_command(secure, "QUIT", "221 ")
    secure.close()


def test_cli_works_while_serving(server):
    done = server.cli("domain", "add", "example.test")
    assert done.returncode == 0, done.stderr
    done = server.cli("user", "add", "alice@example.test", "--password", "pw")
    assert done.returncode == 0, done.stderr
    assert "alice@example.test" in server.cli("user", "list").stdout
    client = server.connect("smtp")
    client.expect("220 ")
    client.send("QUIT\r\n")
    client.expect("221 ")
    client.close()
