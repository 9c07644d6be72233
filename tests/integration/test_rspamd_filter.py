"""rspamd as the external filter at SMTP time (issue 15 §2) and its controller as a learner
(§5), against Debian's rspamd run as a private instance (tests/peers/rspamd.py): the GTUBE
test string is refused with 550 at the end of DATA and nothing is stored; a clean message is
delivered with its score in X-Spam-Status and rspamd's own header (its reply's milter
block); an rspamd that is gone or hangs fails open (delivered, the failure metric counts)
or, with fail_closed, 451; `postamt filter learn` gives rspamd's controller a lesson, and so
does a user moving a message into Junk (spam) and out of it again (ham) over IMAP."""

from __future__ import annotations

import smtplib

import pytest

from harness import (cli_bytes, imaplib_login, mailbox_listing, make_config, metric_sum, provision, run_postamt,
                     wait_for)
from peers.base import free_port
from peers.rspamd import PrivateRspamd, rspamd_unavailable

LOCAL = "example.test"
# rspamd's GTUBE: the reject pattern (rspamd 3.x matches its own strings, not SpamAssassin's).
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

pytestmark = pytest.mark.skipif(rspamd_unavailable() is not None, reason=str(rspamd_unavailable()))


@pytest.fixture(scope="module")
def rspamd():
    with PrivateRspamd() as peer:
        yield peer


def start(start_server, rspamd, **options):
    settings = {"url": rspamd.url, "timeout_seconds": 2, "controller_url": rspamd.controller_url,
                "password": rspamd.password}
    settings.update(options)
    server = start_server(filter={"rspamd": settings})
    provision(server, users=["alice"])
    return server


def message(subject: str, body: str = "Hello Alice, the minutes of Tuesday's meeting are attached below.") -> bytes:
    return (f"From: Bob Sender <bob@sender.example>\r\nTo: Alice <alice@{LOCAL}>\r\nSubject: {subject}\r\n"
            f"Date: Sat, 05 Dec 2026 12:00:00 +0000\r\n"
            f"Message-ID: <{subject.replace(' ', '.')}@sender.example>\r\n\r\n{body}\r\n").encode()


def send(server, data: bytes):
    host, port = server.address("smtp")
    client = smtplib.SMTP(host, port, local_hostname="mx.sender.example", timeout=60)
    try:
        client.ehlo()
        assert client.mail("bob@sender.example")[0] == 250
        assert client.rcpt(f"alice@{LOCAL}")[0] == 250
        try:
            return client.data(data)
        except smtplib.SMTPDataError as error:
            return error.smtp_code, error.smtp_error
    finally:
        client.close()


def stored(server, mailbox: str = "INBOX") -> list[bytes]:
    out = []
    for entry in mailbox_listing(server, f"alice@{LOCAL}", mailbox):
        done = cli_bytes(server.config_path, "debug", "message", f"alice@{LOCAL}", str(entry.uid),
                         "--mailbox", mailbox, binary=server.binary)
        assert done.returncode == 0, done.stderr
        out.append(done.stdout)
    return out


def head_of(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


def test_gtube_is_refused_at_end_of_data_and_nothing_is_stored(start_server, rspamd):
    server = start(start_server, rspamd)
    code, reply = send(server, message("gtube", f"This is the test pattern:\r\n{GTUBE}"))
    assert code == 550, reply
    assert reply.startswith(b"5.7.1"), reply
    assert b"Gtube pattern" in reply     # rspamd's smtp_message
    assert stored(server, "INBOX") == [] and stored(server, "Junk") == []
    assert metric_sum(server, "postamt_filter_verdicts_total", filter="rspamd", action="reject") >= 1


def test_clean_message_is_delivered_with_score_and_rspamds_header(start_server, rspamd):
    server = start(start_server, rspamd)
    code, reply = send(server, message("minutes"))
    assert code == 250, reply
    [delivered] = stored(server)
    head = head_of(delivered)
    assert b"X-Spam-Status: No, score=" in head, head
    assert b"X-Spamd-Bar:" in head, head          # the reply's milter block, applied
    assert metric_sum(server, "postamt_filter_failures_total", filter="rspamd") == 0


def test_unreachable_rspamd_fails_open_with_the_metric_and_closed_with_451(start_server):
    # Nothing listens there: connection refused.
    url, controller = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    server = start_server(filter={"rspamd": {"url": url, "controller_url": controller, "timeout_seconds": 2}})
    provision(server, users=["alice"])
    code, reply = send(server, message("while down"))
    assert code == 250, reply
    [delivered] = stored(server)
    assert b"X-Spam-Status: No" in head_of(delivered)
    assert metric_sum(server, "postamt_filter_failures_total", filter="rspamd", reason="connect") >= 1
    assert server.count_in_log("filter.rspamd_failed") >= 1

    closed = start_server(filter={"rspamd": {"url": url, "timeout_seconds": 2, "fail_closed": True}})
    provision(closed, users=["alice"])
    code, reply = send(closed, message("while down closed"))
    assert code == 451, reply
    assert reply.startswith(b"4.7.1"), reply
    assert stored(closed) == []


def test_hanging_rspamd_times_out_and_fails_open(start_server):
    with PrivateRspamd() as rspamd:
        server = start(start_server, rspamd, timeout_seconds=1)
        rspamd.pause()
        try:
            code, reply = send(server, message("while hung"))
        finally:
            rspamd.resume()
        assert code == 250, reply
        assert len(stored(server)) == 1
        assert metric_sum(server, "postamt_filter_failures_total", filter="rspamd", reason="timeout") >= 1


def test_filter_learn_gives_rspamds_controller_a_lesson(start_server, rspamd, tmp_path):
    server = start(start_server, rspamd)
    body = " ".join(f"cheap watches and pills, offer {i}, buy now with a discount" for i in range(40))
    spam = tmp_path / "spam.eml"
    spam.write_bytes(message("offer", body).replace(b"\r\n", b"\n"))
    before = rspamd.learned()
    done = server.cli("filter", "learn", "--spam", str(spam), "--account", f"alice@{LOCAL}")
    assert done.returncode == 0, done.stderr
    assert "learned as spam" in done.stdout, done.stdout
    assert rspamd.learned() == before + 1, (done.stdout, done.stderr)
    # The same lesson again: rspamd says it knows it already, which is no failure.
    again = server.cli("filter", "learn", "--spam", str(spam))
    assert again.returncode == 0, again.stderr
    # A wrong controller password is.
    wrong = start_server(filter={"rspamd": {"url": rspamd.url, "controller_url": rspamd.controller_url,
                                            "password": "not-the-password"}})
    refused = wrong.cli("filter", "learn", "--ham", str(spam))
    assert refused.returncode == 1
    assert "Unauthorized" in refused.stderr


def test_imap_moves_into_and_out_of_junk_are_lessons_for_rspamds_controller(start_server, rspamd):
    server = start(start_server, rspamd)
    words = " ".join(f"exclusive replica watch number {i} at a miracle price, reply today" for i in range(40))
    before = rspamd.learned()
    client = imaplib_login(server, f"alice@{LOCAL}")
    try:
        # APPEND (a client filing a message) teaches nothing; the move does.
        assert client.append("INBOX", None, None, message("replica watches", words))[0] == "OK"
        assert client.select("INBOX")[0] == "OK"
        assert client.uid("MOVE", "1", "Junk")[0] == "OK"
        wait_for(lambda: rspamd.learned() == before + 1, 20, interval=0.25)
        assert metric_sum(server, "postamt_spam_lessons_total", learner="rspamd", lesson="spam") == 1
        # The user changes their mind: out of Junk again is a lesson in ham. rspamd counts a
        # message it learned as spam and now learns as ham as one learned message (it
        # relearns it), so the controller's own log of the lesson is what changes.
        assert client.select("Junk")[0] == "OK"
        assert client.uid("MOVE", "1", "INBOX")[0] == "OK"
        wait_for(lambda: metric_sum(server, "postamt_spam_lessons_total", learner="rspamd", lesson="ham") == 1,
                 20, interval=0.25)
    finally:
        client.logout()
    assert "filter.rspamd_learned" in server.log_text()
    assert metric_sum(server, "postamt_spam_lessons_total", learner="rspamd", result="failed") == 0


def test_https_url_is_refused_at_start_up_with_a_clear_error(tmp_path):
    config = make_config(tmp_path / "https", filter={"rspamd": {"url": "https://127.0.0.1:11333"}})
    done = run_postamt("check-config", "--config", str(config))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "filter.rspamd.url" in done.stderr and "http URL" in done.stderr, done.stderr
