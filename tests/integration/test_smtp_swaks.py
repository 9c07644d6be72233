"""The happy paths with swaks (Debian `swaks`), a client that is not ours and not Python's."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from harness import message, parse_received, provision, split_trace, stored_messages

def swaks_missing() -> str | None:
    if shutil.which("swaks") is None:
        return "swaks is not installed (scripts/install-deps.sh installs it)"
    done = subprocess.run(["perl", "-MNet::SSLeay", "-e", "1"], capture_output=True)
    if done.returncode != 0:
        return "swaks needs Net::SSLeay for TLS: Debian libnet-ssleay-perl (scripts/install-deps.sh)"
    return None


pytestmark = pytest.mark.skipif(swaks_missing() is not None, reason=str(swaks_missing()))


def swaks(server, protocol: str, data_file, *options: str, to: str = "bob@example.test",
          sender: str = "alice@example.test") -> subprocess.CompletedProcess:
    host, port = server.address(protocol)
    done = subprocess.run(["swaks", "--server", host, "--port", str(port), "--ehlo", "swaks.example.test",
                           "--from", sender, "--to", to, "--data", f"@{data_file}", "--timeout", "30",
                           *options],
                          capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, f"swaks {' '.join(options)}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


CASES = {
    # name: (listener, swaks options, Received protocol keyword)
    "plain": ("smtp", [], "ESMTP"),
    "starttls": ("smtp", ["--tls"], "ESMTPS"),
    "pipeline": ("smtp", ["--pipeline"], "ESMTP"),
    "submission-plain": ("submission", ["--tls", "--auth", "PLAIN"], "ESMTPSA"),
    "submission-login": ("submission", ["--tls", "--auth", "LOGIN"], "ESMTPSA"),
    "submissions": ("submissions", ["--tlsc", "--auth", "PLAIN"], "ESMTPSA"),
    "submissions-pipeline": ("submissions", ["--tlsc", "--auth", "LOGIN", "--pipeline"], "ESMTPSA"),
}


def test_swaks_happy_paths(start_server, tmp_path):
    server = start_server(auth={"allow_plaintext_without_tls": False})
    passwords = provision(server, ["alice", "bob"])
    expected = []
    for name, (protocol, options, keyword) in CASES.items():
        sent = message(f"swaks {name}", b"Sent by swaks.\r\n.A dot line.\r\nEnd.\r\n",
                       sender="alice@example.test", to="bob@example.test")
        data_file = tmp_path / f"{name}.eml"
        # swaks ends the data with CRLF "." CRLF after the file's last line.
        data_file.write_bytes(sent.removesuffix(b"\r\n"))
        if "--auth" in options:
            options = [*options, "--auth-user", "alice@example.test",
                       "--auth-password", passwords["alice@example.test"]]
        done = swaks(server, protocol, data_file, *options)
        if "--pipeline" in options:
            assert "PIPELINING" in done.stdout, done.stdout
        expected.append((name, sent, keyword))

    stored = [split_trace(m) for m in stored_messages(server, "bob@example.test")]
    assert len(stored) == len(expected), f"{len(stored)} stored, {len(expected)} sent"
    for (name, sent, keyword), delivered in zip(expected, stored):
        assert delivered.content == sent, name
        assert delivered.return_path == "alice@example.test", name
        fields = parse_received(delivered.received)
        assert fields["helo"] == "swaks.example.test", (name, delivered.received)
        assert fields["protocol"] == keyword, (name, delivered.received)
        if keyword.endswith("A"):
            assert "(authenticated as alice@example.test)" in fields["rest"], (name, delivered.received)


def test_swaks_sees_refusals(server, tmp_path):
    """swaks reports a refused recipient with a non-zero exit (24: no recipients accepted)."""
    provision(server, ["bob"])
    data_file = tmp_path / "m.eml"
    data_file.write_bytes(message("refused"))
    host, port = server.address("smtp")
    done = subprocess.run(["swaks", "--server", host, "--port", str(port), "--from", "a@example.org",
                           "--to", "nobody@example.test", "--data", f"@{data_file}"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 24, f"exit {done.returncode}\n{done.stdout}"
    assert "550 5.1.1" in done.stdout, done.stdout


def test_swaks_submission_with_a_forged_from_header_is_refused(start_server, tmp_path):
    """Submission: the envelope is alice's own, the From header bob's: refused at the end
    of the data (550 5.7.1, swaks exit 26); the same message with her own From goes."""
    server = start_server(auth={"allow_plaintext_without_tls": False})
    passwords = provision(server, ["alice", "bob"])
    auth = ["--tls", "--auth", "PLAIN", "--auth-user", "alice@example.test",
            "--auth-password", passwords["alice@example.test"]]
    host, port = server.address("submission")
    forged = tmp_path / "forged.eml"
    forged.write_bytes(message("forged", sender="bob@example.test", to="bob@example.test").removesuffix(b"\r\n"))
    done = subprocess.run(["swaks", "--server", host, "--port", str(port), "--from", "alice@example.test",
                           "--to", "bob@example.test", "--data", f"@{forged}", *auth],
                          capture_output=True, text=True, timeout=90)
    assert done.returncode == 26, f"exit {done.returncode}\n{done.stdout}"
    assert "550 5.7.1 From header address <bob@example.test>" in done.stdout, done.stdout
    own = tmp_path / "own.eml"
    sent = message("own", sender="alice@example.test", to="bob@example.test")
    own.write_bytes(sent.removesuffix(b"\r\n"))
    swaks(server, "submission", own, *auth)
    assert [split_trace(m).content for m in stored_messages(server, "bob@example.test")] == [sent]
