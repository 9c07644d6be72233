"""The sides of the smtp_rspamd workloads (issue 15): SMTP ingest with spam filtering on both
sides, by one private rspamd that both use.

- SpamLab: one PrivateRspamd (tests/peers/rspamd.py: Debian's rules, the modules that need
  the Internet or Redis disabled, DNS to a private zone server that knows no names) with two
  scanning workers (Debian's default is one per core; this machine has two), and with its
  rspamd_proxy in milter mode on a unix socket, forwarding to those same scanning workers
  (self_scan off). So both sides' messages are scanned by the same processes, on the same
  configuration. Its milter_headers module writes X-Spamd-Bar and X-Spamd-Result (the score
  and the symbols) into every reply's milter block; each side applies it.
  The message template: about 4 KiB of plain text, a club newsletter; each message sent puts
  a unique Message-ID above it, so no two messages are the same bytes.
- RspamdPostamtSide: a second `postamt serve` with `[filter.rspamd] url` naming rspamd's
  normal worker (POST /checkv2 per message) and sender authentication off (the Postfix side
  checks none either).
- RspamdMilterPeerSide: a second private Postfix with `smtpd_milters` = the rspamd_proxy
  socket (milter protocol 6, `milter_default_action = tempfail`), delivering into Maildirs
  as the plain peer does.

The mail comes from 127.0.0.1 to both: rspamd then skips its network checks of the client
(SPF, DMARC, rDNS, HELO lookups; 0.04 DNS queries per message measured against 9 from a
non-local address), which would otherwise be answers of the zone server in this process.

check_sample() is what makes the figures mean something: after each run it reads what each
side stored and requires rspamd's X-Spamd-Result (a score and symbols, so a scan took place)
on every sampled message, and on Postamt's its own X-Spam-Status with rspamd's score;
check_rejects() sends the GTUBE test message to each side and requires a 5xx refusal.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import textwrap
import time
from pathlib import Path

import loadgen
from lab import DOMAIN, NO_SENDER_AUTHENTICATION, PostamtSide, Side, WAIT_LIMIT, maildir_headers
from peers.postfix import PostfixReceiver
from peers.rspamd import PrivateRspamd, rspamd_unavailable

SENDER_DOMAIN = "cycling-club.example"
SENDER = f"news@{SENDER_DOMAIN}"
HELO = f"mail.{SENDER_DOMAIN}"
PEER_HOSTNAME = f"mx.{DOMAIN}"
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
SCORE = re.compile(r"default: (False|True) \[-?\d+\.\d+ / -?\d+\.\d+\]")

# A newsletter as a person would write it: varied words, a few paragraphs, a list, a link.
_PARAGRAPHS = [
    "Dear members,",
    "the autumn season is nearly over, and what a season it was. Forty-two of you rode the "
    "long loop through the vineyards on the first Sunday of October, which is a record for "
    "the club. Thanks to everyone who helped at the feed station in Oberwinter, and a special "
    "thank you to Marta, who baked enough plum cake for twice as many riders.",
    "Winter training starts on Tuesday the 8th. We meet at the sports hall at 19:00 for an "
    "hour of stretching, core work and balance exercises, followed by a short talk. The first "
    "talk is about tyre pressure and why most of us ride with far too much of it; bring your "
    "own pump if you want to try the numbers on your bike afterwards.",
    "A few things to remember before the first frost:",
    "  - lights: the new rules ask for a rear light that is visible from 150 metres;\r\n"
    "  - chains: clean and oil them after every wet ride, salt eats them in weeks;\r\n"
    "  - brakes: pads wear twice as fast in the rain, check them every month;\r\n"
    "  - clothing: three thin layers keep you warmer than one thick jacket.",
    "The annual meeting is on Friday the 29th of November at the Gasthaus zur Linde. On the "
    "agenda are the accounts for the year, the election of a new treasurer (Georg steps down "
    "after nine years, and we cannot thank him enough), the route calendar for next spring "
    "and a proposal to buy two repair stands for the club room. If you want to add a point, "
    "write to the board before the 15th.",
    "Several of you asked about the group order for club jerseys. The supplier needs at least "
    "twenty orders to print the new design, and we have seventeen so far. Sizes run small, so "
    "try one on at the next training evening before you order. The price stays at 54 euros "
    "for members, bib shorts at 61.",
    "Finally, the photos from the summer tour to the lakes are online in the members' area of "
    "the club site, https://www.cycling-club.example/members/photos. Ask Jonas for the "
    "password if you have forgotten it, and please do not share the pictures of other "
    "members without asking them first.",
    "Ride safely, and see you on Tuesday,",
    "Anna Weber\r\nSecretary, Rhein Valley Cycling Club\r\nVereinsheim, Am Sportplatz 3",
]


def spam_unavailable() -> str | None:
    """Why the smtp_rspamd workloads cannot run here, or None."""
    return rspamd_unavailable()


def newsletter(size: int = 4096) -> bytes:
    """The template: header and text up to about size octets (no Message-ID: the generator
    puts a unique one above it), lines wrapped at 72 columns, CRLF, none starting with a dot."""
    head = (f"From: Rhein Valley Cycling Club <{SENDER}>\r\nTo: <members@{DOMAIN}>\r\n"
            f"Subject: Club news: winter training, annual meeting, jerseys\r\n"
            f"Date: Sat, 5 Dec 2026 08:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=us-ascii\r\n\r\n")
    letter = _wrapped(_PARAGRAPHS)
    postscript = ["P.S. Once more, in case you missed it:", ""] + _wrapped(_PARAGRAPHS[2:7])
    text, total = [], len(head)
    while total < size:   # the letter is about 2.5 KiB: then the middle again, as a P.S.
        k = len(text)
        line = letter[k] if k < len(letter) else postscript[(k - len(letter)) % len(postscript)]
        text.append(line)
        total += len(line) + 2
    return (head + "\r\n".join(text) + "\r\n").encode()


def _wrapped(paragraphs: list[str]) -> list[str]:
    """The paragraphs as lines of at most 72 columns, an empty line after each."""
    lines: list[str] = []
    for paragraph in paragraphs:
        for part in paragraph.split("\r\n"):
            lines += textwrap.wrap(part, 72, subsequent_indent="    " if part.startswith("  -") else "",
                                   break_on_hyphens=False, break_long_words=False) or [""]
        lines.append("")
    return lines


class SpamLab:
    """The shared rspamd and the message template; a context manager."""

    def __init__(self, directory: Path, size: int = 4096, scanners: int = 2):
        self.rspamd = PrivateRspamd(directory / "rspamd", milter=True, milter_unix_socket=True,
                                    scanners=scanners, milter_headers=("x-spamd-bar", "x-spamd-result"))
        self.template = newsletter(size)

    def load_params(self) -> dict:
        """What loadgen's smtp client needs to send the newsletter."""
        return {"signed": self.template, "sender": SENDER, "helo": HELO}

    def cpu_seconds(self) -> float:
        return self.rspamd.cpu_seconds()

    def __enter__(self) -> "SpamLab":
        self.rspamd.start(WAIT_LIMIT)
        self.warm_up()
        return self

    def warm_up(self, messages: int = 200) -> None:
        """Scans messages newsletters before anything is measured, two at a time (each
        scanner a share): an rspamd just started is slower on its first messages (Lua code
        compiled on first use), which would count against whichever side runs first."""
        from concurrent.futures import ThreadPoolExecutor

        def scan(i: int) -> None:
            self.rspamd.check(f"Message-ID: <warm.{i}@bench>\r\n".encode() + self.template,
                              IP="127.0.0.1", Helo=HELO, From=SENDER, Rcpt=f"in00@{DOMAIN}")
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(scan, range(messages)))

    def __exit__(self, *exc) -> None:
        self.rspamd.stop()


class RspamdPostamtSide(PostamtSide):
    """Postamt asking rspamd's normal worker about every message on its smtp listener."""

    def __init__(self, binary: Path, directory: Path, users: list[str], max_connections: int, lab: SpamLab):
        super().__init__(binary, directory, users, max_connections, extra_config=(
            NO_SENDER_AUTHENTICATION + f'\n[filter.rspamd]\nurl = "{lab.rspamd.url}"\ntimeout_seconds = 30\n'))


class RspamdMilterPeerSide(Side):
    """Postfix with rspamd_proxy as its smtpd milter, receiving for DOMAIN into Maildirs."""

    name = "peer"

    def __init__(self, directory: Path, users: list[str], lab: SpamLab):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.postfix = PostfixReceiver(DOMAIN, users, directory=directory / "postfix", mail_root=directory / "mail",
                                       mailbox_owner=("nobody", "nogroup"), hostname=PEER_HOSTNAME,
                                       milters=[lab.rspamd.milter_socket])
        self.smtp = self.postfix.smtp

    def start(self) -> "RspamdMilterPeerSide":
        self.postfix.start(WAIT_LIMIT)
        return self

    def settle(self, timeout: float = WAIT_LIMIT) -> float:
        start = time.monotonic()
        self.postfix.wait_until_queue_empty(timeout)
        return time.monotonic() - start

    def stored_headers(self, users: list[str], per_user: int = 2) -> list[bytes]:
        return maildir_headers(self.postfix, users, per_user)

    def stop(self) -> None:
        self.postfix.stop()


def _field(header: bytes, name: str) -> str:
    """The values of one header field, unfolded, joined."""
    parsed = email.message_from_bytes(header, policy=email.policy.compat32)
    return " | ".join(re.sub(r"\s+", " ", v) for v in parsed.get_all(name, []))


def check_sample(side: Side, users: list[str]) -> int:
    """Requires every sampled stored message to carry rspamd's X-Spamd-Result with a score
    (rspamd scanned it and the side applied the reply's header changes), and on Postamt's
    side its X-Spam-Status with the score rspamd gave (not the unchecked "No" of a failed
    ask). Returns how many were checked."""
    headers = side.stored_headers(users)
    if not headers:
        raise RuntimeError(f"{side.name}: no stored message to check the scan on")
    for header in headers:
        result = _field(header, "X-Spamd-Result")
        if not SCORE.search(result):
            raise RuntimeError(f"{side.name}: a stored message lacks rspamd's X-Spamd-Result with a score: "
                               f"{result or header[:1500]!r}")
        if isinstance(side, PostamtSide) and "score=" not in _field(header, "X-Spam-Status"):
            raise RuntimeError(f"{side.name}: a stored message lacks X-Spam-Status with rspamd's score: "
                               f"{header[:1500]!r}")
    return len(headers)


def check_rejects(side: Side, recipient: str) -> str:
    """The GTUBE test message: the side must refuse it with a 5xx at the end of DATA (Postamt
    answers 550 5.7.1; Postfix gives the milter's reply, 554 5.7.1 from rspamd_proxy).
    Returns the reply."""
    message = (f"Message-ID: <gtube.{side.name}@bench>\r\n".encode() + newsletter(1024).replace(
        b"Dear members,", f"Dear members,\r\n\r\n{GTUBE}".encode(), 1))

    async def send() -> tuple[int, bytes]:
        conn = await loadgen.Connection.open(side.smtp)
        try:
            await loadgen.smtp_reply(conn)
            conn.send(f"EHLO {HELO}\r\n".encode())
            await loadgen.smtp_reply(conn)
            for command in (f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{recipient}>", "DATA"):
                conn.send(command.encode() + b"\r\n")
                code, text = await loadgen.smtp_reply(conn)
                if code >= 400:
                    return code, text
            conn.send(message + b".\r\n")
            code, text = await loadgen.smtp_reply(conn)
            conn.send(b"QUIT\r\n")
            return code, text
        finally:
            await conn.close()
    code, text = asyncio.run(send())
    if not 500 <= code < 600:
        raise RuntimeError(f"{side.name}: the GTUBE message got {code} {text[:200]!r}, not a 5xx refusal")
    return text.decode(errors="replace").strip()   # the reply line, its code included
