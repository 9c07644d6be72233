"""The peer lab (tests/peers) keeps its promises: private Postfix and Dovecot instances that
serve, pass mail along, and leave no process and (when they made it) no directory behind.
No Postamt here: the peers alone, chained Postfix relay -> Postfix MX -> Dovecot.
"""

from __future__ import annotations

import email
import email.policy
import imaplib
import poplib
import smtplib
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from peers.base import PeerError, alive, identify, process_tree
from peers.dovecot import DovecotPeer, dovecot_unavailable
from peers.postfix import PostfixReceiver, PostfixRelay, postfix_unavailable

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120),
              pytest.mark.skipif((postfix_unavailable() or dovecot_unavailable(("imap", "pop3"))) is not None,
                                 reason=str(postfix_unavailable() or dovecot_unavailable(("imap", "pop3"))))]

DOMAIN = "lab.test"
MESSAGE = (b"From: <sender@elsewhere.test>\r\nTo: <bob@lab.test>\r\nSubject: through the lab\r\n"
           b"Message-ID: <lab.1@elsewhere.test>\r\n\r\nA line.\r\n.A leading dot.\r\n")


def test_relay_to_receiver_to_dovecot_and_nothing_left():
    directories, processes = [], []
    with PostfixReceiver(DOMAIN, ["bob"], starttls=True) as mx, \
            PostfixRelay(relay_to=mx.smtp) as relay:
        directories += [mx.directory, relay.directory]
        with smtplib.SMTP(*relay.smtp, local_hostname="client.elsewhere.test", timeout=30) as client:
            assert client.sendmail("sender@elsewhere.test", ["bob@lab.test"], MESSAGE) == {}
        stored = mx.wait_for_messages("bob")
        assert len(stored) == 1, stored
        parsed = email.message_from_bytes(stored[0], policy=email.policy.default)
        assert parsed["Subject"] == "through the lab"
        # The relay's smtp client used the receiver's STARTTLS (smtp_tls_security_level = may).
        hops = parsed.get_all("Received")
        assert f"by {mx.hostname} (Postfix)" in hops[0] and "(using TLSv1." in hops[0], hops[0]
        assert f"by {relay.hostname} (Postfix)" in hops[1], hops[1]
        relay.wait_until_queue_empty()
        assert mx.queued() == 0
        processes += identify(process_tree(mx.master_pid())) + identify(process_tree(relay.master_pid()))

        users = {"bob@lab.test": "{PLAIN}pw-bob"}
        with DovecotPeer(users, protocols=("imap", "pop3"), mail_root=mx.mail, mailbox_path="%d/%n",
                         mail_user=("postfix", "postfix")) as dovecot:
            directories.append(dovecot.directory)
            imap = imaplib.IMAP4(*dovecot.imap, timeout=30)
            imap.login("bob@lab.test", "pw-bob")
            assert imap.select("INBOX") == ("OK", [b"1"])
            kind, data = imap.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            assert kind == "OK" and b"Subject: through the lab" in data[0][1], data
            imap.logout()
            pop = poplib.POP3(*dovecot.pop3, timeout=30)
            pop.user("bob@lab.test")
            pop.pass_("pw-bob")
            assert pop.stat()[0] == 1
            pop.quit()
            processes += identify(process_tree(dovecot.pid))
            assert len(processes) >= 6, processes   # masters and their children were seen
    still = [process[0] for process in processes if alive(process)]
    assert still == [], f"processes left after stop: {still}"
    assert [d for d in directories if d.exists()] == [], "a peer's own directory was left behind"


def test_a_peer_that_cannot_start_cleans_up():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))     # bound, so Postfix's master cannot bind it
        peer = PostfixReceiver(DOMAIN, ["bob"], port=taken.getsockname()[1])
        with pytest.raises(PeerError):
            with peer:
                pass
    assert not peer.directory.exists()
    assert peer.master_pid() is None

    broken = DovecotPeer({"bob": "{PLAIN}x"}, settings={"no_such_setting": "1"})
    with pytest.raises(PeerError, match="dovecot exited"):
        with broken:
            pass
    assert broken.process.poll() is not None and not broken.directory.exists()


def test_a_given_directory_is_kept():
    # Not tmp_path: its parents are 0700 root, and Postfix's daemons run as postfix.
    parent = Path(tempfile.mkdtemp(prefix="postamt-lab-test-"))
    try:
        parent.chmod(0o755)
        own = parent / "relay"
        with PostfixRelay(relay_to=("127.0.0.1", 9), directory=own) as relay:
            pid = relay.master_pid()
            assert pid is not None and (own / "conf" / "main.cf").exists()
            processes = identify(process_tree(pid))
        assert processes and not any(alive(p) for p in processes)
        assert (own / "conf" / "main.cf").exists(), "the caller's directory stays for the caller"
    finally:
        shutil.rmtree(parent, ignore_errors=True)
