"""The sides of the smtp_auth workloads (issue 14): SMTP ingest with sender authentication
(SPF, DKIM, DMARC) on both sides, against one private DNS zone.

- AuthZone: the sender domain's records (SPF allowing 127.0.0.1 and the address the load
  generator sends from, a DKIM RSA-2048 key made by dkimpy's dknewkey, DMARC p=reject) served
  by a ZoneServer on port 53 of a loopback address of its own; the message template, DKIM
  signed once up front by dkimpy (relaxed/relaxed, about 4 KiB). Each message sent puts a
  unique Message-ID (not signed) above it, so no two messages are the same bytes.
- AuthPostamtSide: a second `postamt serve` with `[mailauth] verify = true` and
  `[dns] servers` naming the zone server.
- MilterPeerSide: a second private Postfix with OpenDKIM and OpenDMARC (tests/peers/milters.py)
  as smtpd milters, delivering into Maildirs as the plain peer does.

Where the load comes from: a non-loopback address of this host when there is one (eth0's),
bound by the client, because libspf2 passes anything from 127.0.0.0/8 without a lookup;
Postamt gets its connections from the same address, so both evaluate the same SPF record.

check_sample() is what makes the figures mean something: after each run it reads what each
side stored and requires its own Authentication-Results to say spf=pass, dkim=pass and
dmarc=pass for the sender domain; check_rejects() sends one tampered message from a domain
without SPF to each side and requires 550 (DMARC p=reject enforced).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import subprocess
import time
from pathlib import Path

import loadgen
from lab import DOMAIN, PostamtSide, Side, WAIT_LIMIT, maildir_headers
from peers.dns_zone import ZoneServer, loopback_address_with_free_port53
from peers.milters import OpenDkimPeer, OpenDmarcPeer, milters_unavailable, non_loopback_address
from peers.postfix import PostfixReceiver

SENDER_DOMAIN = "authsender.example"   # not .test: OpenDKIM's libunbound answers .test itself
SELECTOR = "bench"
SENDER = f"news@{SENDER_DOMAIN}"
HELO = f"mx.{SENDER_DOMAIN}"
PEER_AUTHSERV_ID = f"mx.{DOMAIN}"            # the milters' (Postfix's myhostname)
POSTAMT_AUTHSERV_ID = f"mail.{DOMAIN}"       # Postamt's server.hostname (lab.PostamtSide)


def auth_unavailable() -> str | None:
    """Why the smtp_auth workloads cannot run here, or None."""
    try:
        import dkim  # noqa: F401
    except ImportError:
        return "dkimpy is missing (Debian python3-dkim)"
    return milters_unavailable()


class AuthZone:
    """The zone, its server and the signed message template; a context manager."""

    def __init__(self, directory: Path, size: int = 4096):
        import dkim
        directory.mkdir(parents=True, exist_ok=True)
        base = directory / "dkim-rsa"
        subprocess.run(["dknewkey", "--ktype", "rsa", str(base)], check=True, capture_output=True)
        private = Path(f"{base}.key").read_bytes()
        key_record = Path(f"{base}.dns").read_text().strip()
        self.client_address = non_loopback_address() or "127.0.0.1"
        spf = f"v=spf1 ip4:127.0.0.1 ip4:{self.client_address} -all"
        self.zone = {
            SENDER_DOMAIN: [("TXT", spf), ("MX", (10, HELO))],
            HELO: [("A", self.client_address), ("TXT", spf)],
            f"_dmarc.{SENDER_DOMAIN}": [("TXT", f"v=DMARC1; p=reject; rua=mailto:dmarc@{SENDER_DOMAIN}")],
            f"{SELECTOR}._domainkey.{SENDER_DOMAIN}": [("TXT", key_record)],
        }
        self.host = loopback_address_with_free_port53()
        # Negative answers carry an SOA, so every resolver may cache them (RFC 2308 §5).
        self.server = ZoneServer(self.zone, host=self.host, port=53, cache_answers=True, negative_ttl=300)
        self.template = self._signed(dkim, private, size)

    @staticmethod
    def _signed(dkim, private: bytes, size: int) -> bytes:
        head = (f"From: Newsletter <{SENDER}>\r\nTo: <in00@{DOMAIN}>\r\nSubject: signed bench message\r\n"
                f"Date: Sat, 5 Dec 2026 08:00:00 +0000\r\nMIME-Version: 1.0\r\n"
                f"Content-Type: text/plain; charset=us-ascii\r\n\r\n").encode()
        line = b"The quick brown fox jumps over the lazy dog while the mail server hums.\r\n"
        message = head + line * max(1, (size - len(head) - 500) // len(line))
        signature = dkim.sign(message, SELECTOR.encode(), SENDER_DOMAIN.encode(), private,
                              canonicalize=(b"relaxed", b"relaxed"), signature_algorithm=b"rsa-sha256",
                              include_headers=[b"from", b"to", b"subject", b"date", b"mime-version",
                                               b"content-type"])
        return signature + message

    def load_params(self) -> dict:
        """What loadgen's smtp client needs to send the signed messages."""
        return {"signed": self.template, "sender": SENDER, "helo": HELO, "source": self.client_address}

    @property
    def queries(self) -> int:
        return len(self.server.queries)

    def __enter__(self) -> "AuthZone":
        self.server.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.server.__exit__(*exc)


class AuthPostamtSide(PostamtSide):
    """Postamt verifying SPF, DKIM and DMARC on its smtp listener, DNS from the zone server."""

    def __init__(self, binary: Path, directory: Path, users: list[str], max_connections: int, zone: AuthZone):
        super().__init__(binary, directory, users, max_connections, extra_config=(
            f'[mailauth]\nverify = true\n\n[dns]\nservers = ["{zone.host}:53"]\ntimeout_seconds = 5\n'))


class MilterPeerSide(Side):
    """Postfix + OpenDKIM + OpenDMARC receiving for DOMAIN into Maildirs under directory."""

    name = "peer"

    def __init__(self, directory: Path, users: list[str], zone: AuthZone):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        # Unix sockets, as Debian's packages configure them: over loopback TCP each milter
        # waits for delayed ACKs (about 130 ms per message for the pair, peers/milters.py).
        self.dkim = OpenDkimPeer(zone.host, authserv_id=PEER_AUTHSERV_ID, directory=directory / "opendkim",
                                 unix_socket=True)
        self.dmarc = OpenDmarcPeer(zone.host, authserv_id=PEER_AUTHSERV_ID, directory=directory / "opendmarc",
                                   unix_socket=True)
        self.postfix = PostfixReceiver(DOMAIN, users, directory=directory / "postfix", mail_root=directory / "mail",
                                       mailbox_owner=("nobody", "nogroup"), hostname=PEER_AUTHSERV_ID,
                                       milters=[self.dkim.socket, self.dmarc.socket])
        self.smtp = self.postfix.smtp

    def start(self) -> "MilterPeerSide":
        self.dkim.start(WAIT_LIMIT)
        self.dmarc.start(WAIT_LIMIT)
        self.postfix.start(WAIT_LIMIT)
        return self

    def settle(self, timeout: float = WAIT_LIMIT) -> float:
        start = time.monotonic()
        self.postfix.wait_until_queue_empty(timeout)
        return time.monotonic() - start

    def stored_headers(self, users: list[str], per_user: int = 2) -> list[bytes]:
        return maildir_headers(self.postfix, users, per_user)

    def stop(self) -> None:
        for peer in (self.postfix, self.dmarc, self.dkim):
            try:
                peer.stop()
            except Exception as error:   # the others are still stopped
                print(f"bench: stopping {peer!r}: {error}")


def _results(header: bytes, authserv_id: str) -> str:
    """The Authentication-Results values with authserv_id, unfolded, joined."""
    parsed = email.message_from_bytes(header, policy=email.policy.compat32)
    values = [re.sub(r"\s+", " ", v) for v in parsed.get_all("Authentication-Results", [])]
    return " | ".join(v for v in values if v.strip().lower().startswith(authserv_id.lower() + ";"))


def check_sample(side: Side, users: list[str]) -> int:
    """Requires every sampled stored message to carry the side's own spf=pass, dkim=pass
    (header.d = the sender domain) and dmarc=pass. Returns how many were checked."""
    authserv_id = PEER_AUTHSERV_ID if isinstance(side, MilterPeerSide) else POSTAMT_AUTHSERV_ID
    headers = side.stored_headers(users)
    if not headers:
        raise RuntimeError(f"{side.name}: no stored message to check the verification on")
    for header in headers:
        results = _results(header, authserv_id)
        missing = [word for word in ("spf=pass", "dkim=pass", "dmarc=pass") if word not in results]
        if missing or SENDER_DOMAIN not in results:
            raise RuntimeError(f"{side.name}: a stored message lacks {missing or [SENDER_DOMAIN]} in its "
                               f"Authentication-Results ({authserv_id}): {results or header[:1500]!r}")
    return len(headers)


def check_rejects(side: Side, zone: AuthZone, recipient: str) -> None:
    """A message whose body was changed after signing, from a domain with no SPF record
    (aligned with the From domain, relaxed): DKIM fails, SPF is none, so DMARC fails under
    p=reject; the side must refuse it with 550."""
    tampered = zone.template.replace(b"lazy dog", b"lazy cat", 1)

    async def send() -> tuple[int, bytes]:
        conn = await loadgen.Connection.open(side.smtp, source=zone.client_address)
        try:
            await loadgen.smtp_reply(conn)
            conn.send(f"EHLO {HELO}\r\n".encode())
            await loadgen.smtp_reply(conn)
            for command in (f"MAIL FROM:<bounce@nospf.{SENDER_DOMAIN}>", f"RCPT TO:<{recipient}>", "DATA"):
                conn.send(command.encode() + b"\r\n")
                code, text = await loadgen.smtp_reply(conn)
                if code >= 400:
                    return code, text
            conn.send(b"Message-ID: <tampered@bench>\r\n" + tampered + b".\r\n")
            code, text = await loadgen.smtp_reply(conn)
            conn.send(b"QUIT\r\n")
            return code, text
        finally:
            await conn.close()
    code, text = asyncio.run(send())
    if code != 550:
        raise RuntimeError(f"{side.name}: a message failing DMARC under p=reject got {code} {text[:200]!r}, not 550")
