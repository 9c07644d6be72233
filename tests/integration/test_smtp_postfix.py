"""A real Postfix (Debian `postfix`) relays mail into Postamt.

A PRIVATE Postfix instance runs from a config directory this test writes (its own
main.cf, master.cf, queue and data directories under a temporary directory, its smtpd on
a free loopback port, relayhost = Postamt's smtp listener). The system instance and
/etc/postfix are never touched: every postfix command gets `-c DIR`.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from harness import (
    check_store,
    mailbox_listing,
    message,
    parse_received,
    provision,
    split_trace,
    stored_messages,
    wait_for,
)


def postfix_unavailable() -> str | None:
    if shutil.which("postfix") is None:
        return "Debian postfix is not installed (scripts/install-deps.sh installs it)"
    if os.geteuid() != 0:
        return "a private Postfix instance needs root (master starts as root and drops to mail_owner)"
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        return "the postfix user does not exist (the Debian package creates it)"
    return None


pytestmark = [pytest.mark.slow, pytest.mark.timeout(150),
              pytest.mark.skipif(postfix_unavailable() is not None, reason=str(postfix_unavailable()))]

MASTER_CF = """\
{listen} inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivatePostfix:
    """postfix -c DIR start|stop on a config written here; nothing outside DIR is used."""

    def __init__(self, relay_port: int):
        # Not pytest's tmp_path: that is 0700 root, and Postfix's daemons run as `postfix`.
        self.directory = Path(tempfile.mkdtemp(prefix="postamt-postfix-"))
        os.chmod(self.directory, 0o755)
        self.conf = self.directory / "conf"
        self.queue = self.directory / "queue"
        self.data = self.directory / "data"
        self.maillog = self.directory / "maillog"
        for path in (self.conf, self.queue, self.data):
            path.mkdir()
        postfix = pwd.getpwnam("postfix")
        os.chown(self.data, postfix.pw_uid, postfix.pw_gid)
        self.port = free_port()
        (self.conf / "main.cf").write_text(f"""\
compatibility_level = 3.6
queue_directory = {self.queue}
data_directory = {self.data}
mail_owner = postfix
setgid_group = postdrop
maillog_file = {self.maillog}
maillog_file_prefixes = {self.directory}
myhostname = relay.example.test
mydomain = example.test
myorigin = relay.example.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:{relay_port}
smtp_tls_security_level = may
smtp_tls_loglevel = 1
smtp_dns_support_level = disabled
alias_maps =
alias_database =
local_recipient_maps =
local_transport = error:no local delivery here
biff = no
""")
        (self.conf / "master.cf").write_text(MASTER_CF.format(listen=f"127.0.0.1:{self.port}"))

    def postfix(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["postfix", "-c", str(self.conf), *args], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60)

    def log(self) -> str:
        try:
            return self.maillog.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def master_pid(self) -> int | None:
        try:
            return int((self.queue / "pid" / "master.pid").read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None

    def start(self) -> None:
        done = self.postfix("start")
        assert done.returncode == 0, f"postfix start: {done.stdout}{done.stderr}\n{self.log()}"

        def listening():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        wait_for(listening, 30, interval=0.1, message=f"Postfix smtpd on port {self.port}\n{self.log()}")

    def stop(self) -> None:
        pid = self.master_pid()
        self.postfix("stop")
        if pid is not None:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                self.postfix("abort")
                try:
                    os.kill(pid, 9)   # our own instance's master, by its pid file
                except ProcessLookupError:
                    pass
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def postfix_in_front(server):
    postfix = PrivatePostfix(relay_port=server.address("smtp")[1])
    try:
        postfix.start()
        yield postfix
    finally:
        postfix.stop()


POSTFIX_RECEIVED = re.compile(rb"\AReceived: from [^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*")


def test_postfix_relays_into_postamt(server, postfix_in_front):
    postfix = postfix_in_front
    provision(server, ["alice", "bob"])
    sent = [
        message("via postfix 1", b"Plain body.\r\n.A dot line.\r\n..Two dots.\r\nEnd.\r\n",
                to="alice@example.test"),
        message("via postfix 2", "Grüße, 8-bit.\r\n".encode() + bytes(range(0xa0, 0x100)) + b"\r\n",
                to="alice@example.test",
                extra=b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n"),
        message("via postfix 3", b"To two local users.\r\n" * 50, to="alice@example.test"),
    ]
    client = smtplib.SMTP("127.0.0.1", postfix.port, local_hostname="client.example.test", timeout=30)
    assert client.sendmail("sender@example.org", ["alice@example.test"], sent[0]) == {}
    assert client.sendmail("sender@example.org", ["alice@example.test"], sent[1],
                           mail_options=["BODY=8BITMIME"]) == {}
    assert client.sendmail("sender@example.org", ["alice@example.test", "bob@example.test"], sent[2]) == {}
    client.quit()

    def arrived():
        return len(mailbox_listing(server, "alice@example.test")) >= 3 and \
            len(mailbox_listing(server, "bob@example.test")) >= 1
    try:
        wait_for(arrived, 60, interval=0.5, message="the relayed messages in Postamt")
    except AssertionError as e:
        raise AssertionError(f"{e}\n--- postfix maillog ---\n{postfix.log()}\n"
                             f"--- postamt log ---\n{server.log_tail(40)}") from None

    alice = [split_trace(m) for m in stored_messages(server, "alice@example.test")]
    bob = [split_trace(m) for m in stored_messages(server, "bob@example.test")]
    assert len(alice) == 3 and len(bob) == 1, (len(alice), len(bob))
    # Postfix may deliver in any order: match by Subject.
    by_subject = {re.search(rb"Subject: ([^\r\n]+)", d.content).group(1): d for d in alice}
    for original in sent:
        subject = re.search(rb"Subject: ([^\r\n]+)", original).group(1)
        delivered = by_subject[subject]
        # Postamt's trace: Postfix's smtp client, over STARTTLS (smtp_tls_security_level=may).
        assert delivered.return_path == "sender@example.org"
        fields = parse_received(delivered.received)
        assert fields["helo"] == "relay.example.test", delivered.received
        assert fields["protocol"] == "ESMTPS", delivered.received
        assert "(using TLSv1." in fields["rest"], delivered.received
        # Then Postfix's own Received field, then the message exactly as submitted.
        match = POSTFIX_RECEIVED.match(delivered.content)
        assert match and b"by relay.example.test (Postfix)" in match.group(0), delivered.content[:400]
        assert delivered.content[match.end():] == original, subject
    assert POSTFIX_RECEIVED.sub(b"", bob[0].content) == sent[2]
    # Postfix logged the delivery to Postamt as sent.
    assert postfix.log().count("status=sent") >= 3, postfix.log()
    check_store(server)
