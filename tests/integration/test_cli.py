"""The command line: quickstart, domain/user/alias administration, check-config."""

from __future__ import annotations

import base64
import re
import stat
import subprocess

import pytest

from harness import HOSTNAME, error_lines, make_config, run_postamt, sanitizer_findings, server_env


def ok(done: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert done.returncode == 0, (f"exit {done.returncode}\nstdout: {done.stdout}\n"
                                  f"stderr: {done.stderr}")
    assert not sanitizer_findings(done.stderr), done.stderr
    return done


def fails_with_one_error_line(done: subprocess.CompletedProcess, *words: str) -> str:
    """A failing admin command: non-zero exit and exactly one 'postamt: error:' line."""
    assert done.returncode != 0, f"expected failure, got exit 0; stdout: {done.stdout}"
    assert not sanitizer_findings(done.stderr), done.stderr
    lines = error_lines(done.stderr)
    assert len(lines) == 1, f"expected one error line, got {lines!r}"
    assert lines[0].startswith("postamt: error: "), lines[0]
    for word in words:
        assert word.lower() in lines[0].lower(), f"{word!r} not in {lines[0]!r}"
    return lines[0]


def stdout_lines(done: subprocess.CompletedProcess) -> list[str]:
    return [line for line in done.stdout.splitlines() if line.strip()]


# --------------------------------------------------------------------------------------
# quickstart
# --------------------------------------------------------------------------------------

def test_quickstart_writes_a_working_setup(tmp_path, postamt_binary):
    target = tmp_path / "qs"
    # --service-user nobody: production as root, without adding a system user to this host
    # (test_quickstart_production.py creates one).
    done = ok(run_postamt("quickstart", "--hostname", HOSTNAME, "--domain", "example.test",
                          "--dir", str(target), "--account", "alice@example.test",
                          "--service-user", "nobody"))
    out = done.stdout

    # The account's password is printed once, on its own line.
    match = re.search(r"^Account alice@example\.test password \(shown once\): (\S+)$", out, re.M)
    assert match, f"no password line in:\n{out}"
    assert len(match.group(1)) >= 12, "a generated password should be long"

    # Files.
    config = target / "postamt.toml"
    assert config.is_file()
    cert, key = target / "tls" / "cert.pem", target / "tls" / "key.pem"
    assert cert.is_file() and key.is_file()
    assert stat.S_IMODE(key.stat().st_mode) & 0o077 == 0, "the TLS key must not be group/world readable"
    # One RSA and one Ed25519 DKIM key (data/dkim/DOMAIN/SELECTOR.pem, test_dkim_signing.py).
    dkim_keys = sorted((target / "data" / "dkim" / "example.test").glob("*.pem"))
    assert len(dkim_keys) == 2, dkim_keys
    assert all(stat.S_IMODE(k.stat().st_mode) & 0o077 == 0 for k in dkim_keys), "the DKIM keys must be private"
    assert (target / "data").is_dir()

    # The config is valid.
    ok(run_postamt("check-config", "--config", str(config)))

    # The certificate is a valid X.509 certificate for the host name, and the key matches it.
    subject = subprocess.run(["openssl", "x509", "-noout", "-subject", "-in", str(cert)],
                             capture_output=True, text=True, timeout=30)
    assert subject.returncode == 0, subject.stderr
    assert HOSTNAME in subject.stdout, subject.stdout
    cert_pub = subprocess.run(["openssl", "x509", "-noout", "-pubkey", "-in", str(cert)],
                              capture_output=True, text=True, timeout=30).stdout
    key_pub = subprocess.run(["openssl", "pkey", "-pubout", "-in", str(key)],
                             capture_output=True, text=True, timeout=30).stdout
    assert cert_pub and cert_pub == key_pub, "tls/key.pem does not belong to tls/cert.pem"

    # DNS records: MX, SPF, DKIM (whose p= is the DKIM key's public half), DMARC.
    assert re.search(rf"example\.test\.\s+\d+\s+IN\s+MX\s+10\s+{re.escape(HOSTNAME)}\.", out), out
    assert "v=spf1" in out, out
    assert "_dmarc.example.test." in out and "v=DMARC1" in out, out
    # The RSA record's value is longer than 255 octets: split into two strings.
    dkim = re.search(r"(\S+)\._domainkey\.example\.test\.\s+\d+\s+IN\s+TXT\s+\"v=DKIM1; k=rsa; p=([A-Za-z0-9+/=]+)\""
                     r" \"([A-Za-z0-9+/=]+)\"", out)
    assert dkim, f"no DKIM record in:\n{out}"
    rsa_key = [k for k in dkim_keys if k.stem == dkim.group(1)]
    assert rsa_key, "the DKIM selector should name the key file"
    der = subprocess.run(["openssl", "pkey", "-in", str(rsa_key[0]), "-pubout", "-outform", "DER"],
                         capture_output=True, timeout=30)
    assert der.returncode == 0, der.stderr
    assert base64.b64encode(der.stdout).decode() == dkim.group(2) + dkim.group(3), "DKIM p= is not the key's public half"
    assert re.search(r"\._domainkey\.example\.test\.\s+\d+\s+IN\s+TXT\s+\"v=DKIM1; k=ed25519; p=", out), out

    # The domain and the account exist.
    assert "example.test" in stdout_lines(ok(run_postamt("--config", str(config), "domain", "list")))
    assert any(line.split()[0] == "alice@example.test"
               for line in stdout_lines(ok(run_postamt("--config", str(config), "user", "list"))))
    # postmaster@ (RFC 5321 §4.5.1) and abuse@ (RFC 2142) exist, and the account dmarc-reports@:
    # the DMARC rua= address printed above must not bounce, and its reports are read from there.
    aliases = stdout_lines(ok(run_postamt("--config", str(config), "alias", "list")))
    assert "postmaster@example.test -> alice@example.test" in aliases, aliases
    assert "abuse@example.test -> alice@example.test" in aliases, aliases
    assert any(line.split()[0] == "dmarc-reports@example.test"
               for line in stdout_lines(ok(run_postamt("--config", str(config), "user", "list"))))
    assert "rua=mailto:dmarc-reports@example.test" in out, out


def test_quickstart_refuses_to_overwrite_without_force(tmp_path, postamt_binary):
    target = tmp_path / "qs"
    args = ["quickstart", "--hostname", HOSTNAME, "--domain", "example.test", "--dir", str(target),
            "--service-user", "nobody"]
    ok(run_postamt(*args))
    before = (target / "postamt.toml").read_text()
    fails_with_one_error_line(run_postamt(*args), "force")
    assert (target / "postamt.toml").read_text() == before
    ok(run_postamt(*args, "--force"))
    ok(run_postamt("check-config", "--config", str(target / "postamt.toml")))


def test_quickstart_dev_ports(tmp_path, postamt_binary):
    target = tmp_path / "qs"
    done = ok(run_postamt("quickstart", "--hostname", "localhost", "--domain", "example.test",
                          "--dir", str(target), "--dev-ports"))
    text = (target / "postamt.toml").read_text()
    # Development: runs as whoever starts it, no unit; without --account the postmaster is
    # an account of its own, its password printed once, and abuse@ goes to it.
    assert "user =" not in text, text
    assert not (target / "postamt.service").exists()
    assert re.search(r"^Account postmaster@example\.test password \(shown once\): \S{12,}$", done.stdout, re.M), \
        done.stdout
    aliases = stdout_lines(ok(run_postamt("--config", str(target / "postamt.toml"), "alias", "list")))
    assert aliases == ["abuse@example.test -> postmaster@example.test"], aliases
    for address in ("127.0.0.1:2525", "127.0.0.1:2587", "127.0.0.1:2465", "127.0.0.1:2143",
                    "127.0.0.1:2993", "127.0.0.1:2110", "127.0.0.1:2995", "127.0.0.1:8025"):
        assert f'"{address}"' in text, f"{address} missing from the dev-ports config:\n{text}"
    ok(run_postamt("check-config", "--config", str(target / "postamt.toml")))


# --------------------------------------------------------------------------------------
# domain / user / alias
# --------------------------------------------------------------------------------------

def test_domain_user_alias_round_trip(cli):
    ok(cli("domain", "add", "example.test"))
    ok(cli("domain", "add", "other.test"))
    assert sorted(stdout_lines(ok(cli("domain", "list")))) == ["example.test", "other.test"]

    ok(cli("user", "add", "bob@example.test", "--password", "correct horse"))
    ok(cli("user", "add", "carol@example.test", "--password", "battery staple", "--quota", "1000000"))
    ok(cli("user", "add", "dave@other.test", "--password", "x1"))
    users = [line.split()[0] for line in stdout_lines(ok(cli("user", "list")))]
    assert sorted(users) == ["bob@example.test", "carol@example.test", "dave@other.test"]
    users = [line.split()[0] for line in stdout_lines(ok(cli("user", "list", "other.test")))]
    assert users == ["dave@other.test"]

    ok(cli("alias", "add", "postmaster@example.test", "bob@example.test"))
    ok(cli("alias", "add", "team@example.test", "bob@example.test", "carol@example.test"))
    ok(cli("alias", "add", "@example.test", "bob@example.test"))             # catch-all
    ok(cli("alias", "add", "ext@other.test", "someone@elsewhere.example"))   # external target
    aliases = set(stdout_lines(ok(cli("alias", "list"))))
    assert aliases == {
        "postmaster@example.test -> bob@example.test",
        "team@example.test -> bob@example.test",
        "team@example.test -> carol@example.test",
        "@example.test -> bob@example.test",
        "ext@other.test -> someone@elsewhere.example",
    }, aliases
    assert set(stdout_lines(ok(cli("alias", "list", "other.test")))) == {
        "ext@other.test -> someone@elsewhere.example"}

    # Delete one destination, then a whole alias, then the catch-all.
    ok(cli("alias", "del", "team@example.test", "carol@example.test"))
    ok(cli("alias", "del", "postmaster@example.test"))
    ok(cli("alias", "del", "@example.test"))
    assert set(stdout_lines(ok(cli("alias", "list")))) == {
        "team@example.test -> bob@example.test",
        "ext@other.test -> someone@elsewhere.example",
    }

    ok(cli("user", "del", "carol@example.test"))
    users = [line.split()[0] for line in stdout_lines(ok(cli("user", "list")))]
    assert sorted(users) == ["bob@example.test", "dave@other.test"]

    # A domain goes once its accounts and aliases are gone.
    ok(cli("alias", "del", "ext@other.test"))
    ok(cli("user", "del", "dave@other.test"))
    ok(cli("domain", "del", "other.test"))
    assert stdout_lines(ok(cli("domain", "list"))) == ["example.test"]


def test_admin_errors_are_one_line_and_non_zero(cli):
    ok(cli("domain", "add", "example.test"))
    ok(cli("user", "add", "bob@example.test", "--password", "pw1"))

    fails_with_one_error_line(cli("user", "add", "eve@unknown.test", "--password", "pw"))
    fails_with_one_error_line(cli("user", "add", "bob@example.test", "--password", "pw"))
    fails_with_one_error_line(cli("user", "add", "not-an-address", "--password", "pw"))
    fails_with_one_error_line(cli("user", "add", "a b@example.test", "--password", "pw"))
    fails_with_one_error_line(cli("domain", "add", "example.test"))
    fails_with_one_error_line(cli("domain", "add", "bad domain!"))
    fails_with_one_error_line(cli("domain", "del", "example.test"))  # still has bob
    fails_with_one_error_line(cli("domain", "del", "never-added.test"))
    fails_with_one_error_line(cli("user", "del", "nobody@example.test"))
    fails_with_one_error_line(cli("user", "passwd", "nobody@example.test", "--password", "x"))
    fails_with_one_error_line(cli("alias", "add", "x@example.test", "not-an-address"))
    fails_with_one_error_line(cli("alias", "add", "x@unknown.test", "bob@example.test"))
    fails_with_one_error_line(cli("alias", "del", "x@example.test"))

    # Nothing of the failed commands took effect.
    assert stdout_lines(ok(cli("domain", "list"))) == ["example.test"]
    assert [line.split()[0] for line in stdout_lines(ok(cli("user", "list")))] == ["bob@example.test"]
    assert stdout_lines(ok(cli("alias", "list"))) == []

    # Usage errors (CLI11) are one line too.
    fails_with_one_error_line(cli("user", "frobnicate"))


def test_password_from_stdin_and_passwd(cli):
    ok(cli("domain", "add", "example.test"))
    ok(cli("user", "add", "carol@example.test", input="from stdin\n"))
    assert "carol@example.test" in [l.split()[0] for l in stdout_lines(ok(cli("user", "list")))]
    # No password at all (empty stdin) is an error, and nothing is added.
    fails_with_one_error_line(cli("user", "add", "dan@example.test", input=""), "password")
    assert "dan@example.test" not in [l.split()[0] for l in stdout_lines(ok(cli("user", "list")))]

    ok(cli("user", "passwd", "carol@example.test", input="new secret\n"))
    ok(cli("user", "passwd", "carol@example.test", "--password", "newer secret"))
    fails_with_one_error_line(cli("user", "passwd", "carol@example.test", input=""), "password")


def test_config_option_placement_and_environment(tmp_path, postamt_binary):
    config = make_config(tmp_path / "c")
    ok(run_postamt("domain", "add", "example.test", "--config", str(config)))
    ok(run_postamt("domain", "list", "--config", str(config)))
    env = server_env(extra={"POSTAMT_CONFIG": str(config)})
    assert stdout_lines(ok(run_postamt("domain", "list", env=env))) == ["example.test"]


def test_missing_config_is_a_clear_error(tmp_path, postamt_binary):
    env = server_env()
    env.pop("POSTAMT_CONFIG", None)
    done = run_postamt("domain", "list", env=env, cwd=tmp_path)
    line = fails_with_one_error_line(done)
    assert "--config" in line and "POSTAMT_CONFIG" in line, line
    done = run_postamt("serve", env=env, cwd=tmp_path)
    fails_with_one_error_line(done, "config")


# --------------------------------------------------------------------------------------
# check-config
# --------------------------------------------------------------------------------------

def line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in config")


def test_check_config_accepts_a_valid_config(tmp_path, postamt_binary):
    config = make_config(tmp_path)
    done = ok(run_postamt("check-config", "--config", str(config)))
    assert done.stderr.strip() == "", done.stderr


def test_check_config_names_a_misspelled_key_and_its_line(tmp_path, postamt_binary):
    config = make_config(tmp_path, server={"hostname": None, "hostnme": HOSTNAME})
    text = config.read_text()
    line = line_of(text, "hostnme")
    done = run_postamt("check-config", "--config", str(config))
    assert done.returncode == 2, f"exit {done.returncode}: {done.stderr}"
    assert re.search(rf"{re.escape(str(config))}:{line}:\d+: .*server\.hostnme", done.stderr), done.stderr
    assert "unknown key" in done.stderr, done.stderr
    # The same config stops `serve` with the same status.
    served = run_postamt("serve", "--config", str(config))
    assert served.returncode == 2, served.stderr
    assert "hostnme" in served.stderr


def test_check_config_reports_every_problem(tmp_path, postamt_binary):
    listeners = [{"protocol": "smtp", "address": "127.0.0.1:70000"},
                 {"protocol": "smtpx", "address": "127.0.0.1:0"}]
    config = make_config(tmp_path, listeners=listeners, limits={"max_conections": 5},
                         log={"level": "loud"})
    text = config.read_text()
    done = run_postamt("check-config", "--config", str(config))
    assert done.returncode == 2, f"exit {done.returncode}: {done.stderr}"
    for needle, key in (("70000", "address"), ("smtpx", "protocol"), ("max_conections", "max_conections"),
                        ('"loud"', "level")):
        line = line_of(text, needle)
        assert re.search(rf"{re.escape(str(config))}:{line}:\d+: .*{key}", done.stderr), \
            f"no report for {key} on line {line}:\n{done.stderr}"


@pytest.mark.parametrize("address", ["127.0.0.1:70000", "127.0.0.1:-1", "not-an-ip:25", "127.0.0.1"])
def test_check_config_rejects_bad_listener_address(tmp_path, postamt_binary, address):
    config = make_config(tmp_path, listeners=[{"protocol": "smtp", "address": address}])
    done = run_postamt("check-config", "--config", str(config))
    assert done.returncode == 2, f"{address}: exit {done.returncode}: {done.stderr}"
    line = line_of(config.read_text(), f'"{address}"')
    assert f":{line}:" in done.stderr and "address" in done.stderr, done.stderr


def test_check_config_rejects_broken_toml_and_missing_file(tmp_path, postamt_binary):
    config = tmp_path / "broken.toml"
    config.write_text('[server]\nhostname = "unterminated\n')
    done = run_postamt("check-config", "--config", str(config))
    assert done.returncode == 2, done.stderr
    assert f"{config}:2:" in done.stderr, done.stderr
    done = run_postamt("check-config", "--config", str(tmp_path / "absent.toml"))
    assert done.returncode == 2, done.stderr
    assert "absent.toml" in done.stderr, done.stderr
