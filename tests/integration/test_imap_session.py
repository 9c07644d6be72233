"""IMAP sessions (RFC 9051 / RFC 3501): greeting, CAPABILITY, LOGIN, AUTHENTICATE PLAIN
(SASL-IR RFC 4959), STARTTLS and implicit TLS, [PRIVACYREQUIRED] (RFC 5530), ID (RFC 2971),
ENABLE (RFC 5161), NAMESPACE (RFC 2342), LOGOUT, the delay after a bad password.

Clients: imaplib where it can say the command, else the raw line client of harness.py.
"""

from __future__ import annotations

import base64
import imaplib
import re
import ssl
import time

import pytest

from harness import (
    HOSTNAME,
    LineClient,
    imap_command,
    imap_connect,
    imap_login,
    imap_ok,
    imap_status_word,
    imap_until_tagged,
    imaplib_client,
    imaplib_login,
    provision,
    unverified_tls_context,
)

ALICE = "alice@example.test"
PLAIN_IR = base64.b64encode(b"\0" + ALICE.encode() + b"\0pw-alice").decode()

AUTHENTICATED_ONLY = ("IDLE", "NAMESPACE", "UIDPLUS", "MOVE", "UNSELECT", "CHILDREN", "LIST-EXTENDED",
                      "LIST-STATUS", "SPECIAL-USE", "ESEARCH", "SEARCHRES", "CONDSTORE", "QRESYNC",
                      "SORT", "SORT=DISPLAY", "ESORT", "PARTIAL", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES")


def caps_of(line: bytes | str) -> set[str]:
    """The capability names of a CAPABILITY response or [CAPABILITY ...] code, upper-cased."""
    text = line.decode() if isinstance(line, bytes) else line
    match = re.search(r"CAPABILITY ([^\]\r\n]*)", text)
    assert match, text
    return {word.upper() for word in match.group(1).split()}


# --------------------------------------------------------------------------------------
# greeting and CAPABILITY
# --------------------------------------------------------------------------------------

def test_greeting_and_capabilities_before_and_after_login(server):
    provision(server, ["alice"])
    client = server.connect("imap")
    greeting = client.text_line()
    # RFC 9051 §7.1.1 / §7.2.2: a greeting may carry the capabilities as a response code.
    assert greeting.startswith("* OK [CAPABILITY "), greeting
    before = caps_of(greeting)
    assert {"IMAP4REV1", "IMAP4REV2", "STARTTLS", "AUTH=PLAIN", "SASL-IR", "LITERAL+", "ENABLE", "ID"} <= before
    assert "LOGINDISABLED" not in before
    untagged, done = imap_command(client, "CAPABILITY")
    assert imap_status_word(done) == "OK"
    assert len(untagged) == 1 and caps_of(untagged[0]) == before

    _, done = imap_command(client, f'LOGIN "{ALICE}" "pw-alice"')
    assert imap_status_word(done) == "OK"
    assert b"[CAPABILITY " in done, "LOGIN OK should carry the new capabilities (RFC 9051 §6.2.3)"
    after_login = caps_of(done)
    untagged, _ = imap_command(client, "CAPABILITY")
    after = caps_of(untagged[0])
    assert after == after_login
    # RFC 9051 §6.2.1: STARTTLS and AUTH= are not offered once authenticated.
    assert "STARTTLS" not in after and not any(c.startswith("AUTH=") for c in after)
    assert set(AUTHENTICATED_ONLY) <= after, set(AUTHENTICATED_ONLY) - after
    assert any(c.startswith("APPENDLIMIT=") for c in after)
    client.close()


def test_imaplib_login_over_starttls_and_logout(server):
    provision(server, ["alice"])
    client = imaplib_client(server, "imap")
    assert "STARTTLS" in client.capabilities
    typ, _ = client.starttls(ssl_context=unverified_tls_context())
    assert typ == "OK"
    assert isinstance(client.sock, ssl.SSLSocket)
    # imaplib asks CAPABILITY again after TLS: no STARTTLS any more (RFC 9051 §6.2.1).
    assert "STARTTLS" not in client.capabilities and "AUTH=PLAIN" in client.capabilities
    typ, data = client.login(ALICE, "pw-alice")
    assert typ == "OK", data
    typ, data = client.noop()
    assert typ == "OK"
    typ, data = client.logout()
    assert typ == "BYE"


def test_implicit_tls_on_imaps(server):
    provision(server, ["alice"])
    client = imaplib_client(server, "imaps")
    assert isinstance(client.sock, ssl.SSLSocket)
    assert "STARTTLS" not in client.capabilities
    assert client.login(ALICE, "pw-alice")[0] == "OK"
    client.logout()
    # STARTTLS where TLS is already on is an error (RFC 9051 §6.2.1).
    raw = imap_connect(server, "imaps")
    _, done = imap_command(raw, "STARTTLS")
    assert imap_status_word(done) in ("BAD", "NO"), done
    imap_ok(raw, "NOOP")
    raw.close()


def test_starttls_discards_pipelined_commands(server):
    provision(server, ["alice"])
    client = imap_connect(server, "imap")
    # RFC 9051 §6.2.1 / RFC 2595 §3.1: commands sent with STARTTLS before the handshake
    # are not executed afterwards (no command injection into the TLS session).
    client.send(b"S1 STARTTLS\r\nS2 LOGIN " + ALICE.encode() + b" pw-alice\r\n")
    assert client.text_line().startswith("S1 OK")
    tls = unverified_tls_context().wrap_socket(client.sock, server_hostname=HOSTNAME)
    secure = LineClient(tls)
    untagged, done = imap_command(secure, "CAPABILITY")
    assert imap_status_word(done) == "OK"
    assert all(not line.startswith(b"S2 ") for line in untagged), untagged
    assert "AUTH=PLAIN" in caps_of(untagged[0]), "still not authenticated: S2 was dropped"
    _, done = imap_command(secure, "SELECT INBOX")
    assert imap_status_word(done) == "BAD", f"SELECT before authentication: {done!r}"
    secure.close()


# --------------------------------------------------------------------------------------
# LOGIN and AUTHENTICATE
# --------------------------------------------------------------------------------------

def test_authenticate_plain_with_initial_response(server):
    provision(server, ["alice"])
    client = imap_connect(server)
    untagged, done = imap_command(client, f"AUTHENTICATE PLAIN {PLAIN_IR}")
    assert untagged == [] and imap_status_word(done) == "OK", (untagged, done)
    imap_ok(client, "SELECT INBOX")
    client.close()


def test_authenticate_plain_after_continuation(server):
    provision(server, ["alice"])
    client = imap_connect(server)
    client.send(b"P1 AUTHENTICATE PLAIN\r\n")
    # RFC 9051 §6.2.2: an empty challenge is "+ " (the base64 of nothing).
    assert client.text_line().rstrip() == "+"
    client.send(PLAIN_IR.encode() + b"\r\n")
    _, done = imap_until_tagged(client, "P1")
    assert imap_status_word(done) == "OK", done
    client.close()
    # imaplib's own authenticate() does the same dance.
    lib = imaplib_client(server, "imap")
    typ, _ = lib.authenticate("PLAIN", lambda _challenge: b"\0" + ALICE.encode() + b"\0pw-alice")
    assert typ == "OK"
    lib.logout()


def test_authenticate_cancel_and_garbage(server):
    provision(server, ["alice"])
    client = imap_connect(server)
    client.send(b"C1 AUTHENTICATE PLAIN\r\n")
    assert client.text_line().startswith("+")
    client.send(b"*\r\n")  # RFC 9051 §6.2.2: "*" cancels, the server answers BAD
    _, done = imap_until_tagged(client, "C1")
    assert imap_status_word(done) == "BAD", done
    _, done = imap_command(client, "AUTHENTICATE PLAIN !!!notbase64!!!")
    assert imap_status_word(done) in ("BAD", "NO"), done
    _, done = imap_command(client, "AUTHENTICATE X-UNKNOWN-MECH")
    assert imap_status_word(done) == "NO", done
    # Still usable afterwards.
    _, done = imap_command(client, f"AUTHENTICATE PLAIN {PLAIN_IR}")
    assert imap_status_word(done) == "OK", done
    client.close()


def test_bad_passwords_are_refused_after_a_delay(start_server):
    server = start_server(auth={"failure_delay_ms": 400})
    provision(server, ["alice"])
    client = imaplib_client(server, "imap")
    started = time.monotonic()
    with pytest.raises(imaplib.IMAP4.error) as refused:
        client.login(ALICE, "wrong")
    assert time.monotonic() - started >= 0.35
    assert "AUTHENTICATIONFAILED" in str(refused.value)  # RFC 5530 §3
    # An unknown user looks the same.
    with pytest.raises(imaplib.IMAP4.error) as refused:
        client.login("nobody@example.test", "wrong")
    assert "AUTHENTICATIONFAILED" in str(refused.value)
    assert client.login(ALICE, "pw-alice")[0] == "OK"
    client.logout()
    raw = imap_connect(server)
    started = time.monotonic()
    _, done = imap_command(raw, "AUTHENTICATE PLAIN " +
                           base64.b64encode(b"\0" + ALICE.encode() + b"\0bad").decode())
    assert imap_status_word(done) == "NO" and b"[AUTHENTICATIONFAILED]" in done, done
    assert time.monotonic() - started >= 0.35
    raw.close()


def test_login_refused_without_tls_when_plaintext_is_not_allowed(start_server):
    server = start_server(auth={"allow_plaintext_without_tls": False})
    provision(server, ["alice"])
    client = imap_connect(server, "imap")
    untagged, _ = imap_command(client, "CAPABILITY")
    caps = caps_of(untagged[0])
    # RFC 9051 §6.2.3 / §7.2.2: LOGINDISABLED, and no AUTH= mechanisms without TLS.
    assert "LOGINDISABLED" in caps and "STARTTLS" in caps
    assert not any(c.startswith("AUTH=") for c in caps), caps
    _, done = imap_command(client, f'LOGIN "{ALICE}" "pw-alice"')
    assert imap_status_word(done) == "NO" and b"[PRIVACYREQUIRED]" in done, done
    _, done = imap_command(client, f"AUTHENTICATE PLAIN {PLAIN_IR}")
    assert imap_status_word(done) == "NO" and b"[PRIVACYREQUIRED]" in done, done
    _, done = imap_command(client, "SELECT INBOX")
    assert imap_status_word(done) == "BAD"
    client.close()

    lib = imaplib_client(server, "imap", starttls=True)
    assert "LOGINDISABLED" not in lib.capabilities and "AUTH=PLAIN" in lib.capabilities
    assert lib.login(ALICE, "pw-alice")[0] == "OK"
    lib.logout()
    lib = imaplib_client(server, "imaps")
    assert lib.login(ALICE, "pw-alice")[0] == "OK"
    lib.logout()


def test_login_with_literals_and_quoted_specials(server):
    server.cli("domain", "add", "example.test")
    done = server.cli("user", "add", ALICE, "--password", 'p"w\\ ö')
    assert done.returncode == 0, done.stderr
    client = imap_connect(server)
    password = 'p"w\\ ö'.encode()
    client.send(b"L1 LOGIN {18}\r\n")
    assert client.text_line().startswith("+")
    client.send(ALICE.encode() + b" {" + str(len(password)).encode() + b"+}\r\n" + password + b"\r\n")
    _, done = imap_until_tagged(client, "L1")
    assert imap_status_word(done) == "OK", done
    client.close()
    client = imap_connect(server)
    _, done = imap_command(client, 'LOGIN "alice@example.test" "p\\"w\\\\ \xc3\xb6"'.encode("latin-1"))
    assert imap_status_word(done) == "OK", done
    client.close()


def test_commands_in_the_wrong_state(server):
    provision(server, ["alice"])
    client = imap_connect(server)
    for command in ("SELECT INBOX", "LIST \"\" *", "FETCH 1 FLAGS", "ENABLE CONDSTORE", "IDLE",
                    "CREATE foo", "STATUS INBOX (MESSAGES)", "NAMESPACE"):
        _, done = imap_command(client, command)
        assert imap_status_word(done) in ("BAD", "NO"), (command, done)
    # Still not logged in, and the connection still works.
    imap_ok(client, "NOOP")
    _, done = imap_command(client, f'LOGIN "{ALICE}" "pw-alice"')
    assert imap_status_word(done) == "OK"
    for command in (f'LOGIN "{ALICE}" "pw-alice"', f"AUTHENTICATE PLAIN {PLAIN_IR}", "STARTTLS"):
        _, done = imap_command(client, command)
        assert imap_status_word(done) == "BAD", (command, done)
    for command in ("FETCH 1 FLAGS", "STORE 1 +FLAGS (\\Seen)", "EXPUNGE", "CLOSE", "SEARCH ALL"):
        _, done = imap_command(client, command)
        assert imap_status_word(done) == "BAD", f"{command} without a selected mailbox: {done!r}"
    _, done = imap_command(client, "XYZZY")
    assert imap_status_word(done) == "BAD"
    client.close()


# --------------------------------------------------------------------------------------
# ID, ENABLE, NAMESPACE, LOGOUT
# --------------------------------------------------------------------------------------

def test_id_before_and_after_login(server):
    provision(server, ["alice"])
    client = imap_connect(server)
    untagged, done = imap_command(client, 'ID ("name" "pytest" "version" "1.0")')
    assert imap_status_word(done) == "OK"
    ids = [line for line in untagged if line.startswith(b"* ID ")]
    assert len(ids) == 1 and b'"name"' in ids[0], untagged
    untagged, done = imap_command(client, "ID NIL")
    assert imap_status_word(done) == "OK" and any(line.startswith(b"* ID ") for line in untagged)
    lib = imaplib_login(server)
    typ, data = lib.xatom("ID", '("name" "imaplib")')
    assert typ == "OK"
    assert lib.untagged_responses.get("ID") or data
    lib.logout()
    client.close()


def test_enable(server):
    provision(server, ["alice"])
    client = imap_login(server)
    untagged, done = imap_command(client, "ENABLE CONDSTORE X-NOT-A-THING")
    assert imap_status_word(done) == "OK"
    # RFC 5161 §3.1: ENABLED lists only what got enabled; unknown names are ignored.
    assert untagged == [b"* ENABLED CONDSTORE"], untagged
    # Enabling again does not list it again (it was already on).
    untagged, _ = imap_command(client, "ENABLE CONDSTORE")
    assert untagged == [b"* ENABLED"] or untagged == [b"* ENABLED "], untagged
    untagged, _ = imap_command(client, "ENABLE UTF8=ACCEPT")
    assert untagged[0].upper() == b"* ENABLED UTF8=ACCEPT", untagged
    # RFC 7162 §3.2.3: QRESYNC implies CONDSTORE (already on here).
    untagged, _ = imap_command(client, "ENABLE QRESYNC")
    assert b"QRESYNC" in untagged[0], untagged
    imap_ok(client, "SELECT INBOX")
    _, done = imap_command(client, "ENABLE IMAP4rev2")
    assert imap_status_word(done) == "BAD", "ENABLE in the selected state (RFC 5161 §3.1)"
    client.close()

    lib = imaplib_login(server)
    typ, _ = lib.enable("IMAP4rev2")
    assert typ == "OK"
    lib.logout()


def test_namespace(server):
    provision(server, ["alice"])
    lib = imaplib_login(server)
    typ, data = lib.namespace()
    assert typ == "OK"
    # RFC 2342 §5: one personal namespace with an empty prefix and "/" as delimiter.
    assert data == [b'(("" "/")) NIL NIL'], data
    lib.logout()


def test_logout_in_every_state(server):
    provision(server, ["alice"])
    for setup in ([], [f'LOGIN "{ALICE}" "pw-alice"'], [f'LOGIN "{ALICE}" "pw-alice"', "SELECT INBOX"]):
        client = imap_connect(server)
        for command in setup:
            imap_ok(client, command)
        untagged, done = imap_command(client, "LOGOUT")
        # RFC 9051 §6.1.3: BYE first, then the tagged OK, then the server closes.
        assert untagged and untagged[0].startswith(b"* BYE"), untagged
        assert imap_status_word(done) == "OK"
        assert client.closed_within(5.0)
        client.close()


def test_rev2_client_gets_esearch_and_no_recent(server):
    provision(server, ["alice"])
    client = imap_login(server)
    imap_ok(client, "ENABLE IMAP4rev2")
    untagged = imap_ok(client, "SELECT INBOX")
    # RFC 9051 §7.3.2 (RECENT is gone from rev2) and §6.3.2: the LIST response names it.
    assert not any(line.endswith(b" RECENT") for line in untagged), untagged
    assert any(line.startswith(b"* LIST ") and b"INBOX" in line for line in untagged), untagged
    untagged = imap_ok(client, "SEARCH ALL")
    assert any(line.startswith(b"* ESEARCH") for line in untagged), untagged
    assert not any(line.startswith(b"* SEARCH") for line in untagged)
    client.close()
