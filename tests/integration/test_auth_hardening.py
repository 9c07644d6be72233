"""Logins cheap for users, dear for attackers (issue 13 §4), against the built server.

The verified-credential cache follows the store (a password change or an account removal by
the CLI, another process, takes effect at the next login); the throttle locks one address
and not its neighbour, never locks a trusted network, slows an account with a growing delay
without locking its owner out, counts a repeated password once; `security locks|unlock`
see and lift the running server's locks; a flood of failing logins leaves deliveries alone.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from harness import (
    imap_command,
    imap_connect,
    message,
    metric_sum,
    provision,
    send_transaction,
    smtplib_client,
    stored_messages,
)

ALICE = "alice@example.test"


def imap_try_login(server, user: str, password: str, source_ip: str | None = None) -> tuple[bytes, float]:
    """One LOGIN on a fresh connection (optionally from a chosen loopback address):
    the tagged reply and how long it took."""
    client = server.connect("imap", source_ip=source_ip)
    try:
        assert client.text_line().startswith("* OK ")
        started = time.monotonic()
        _, done = imap_command(client, f'LOGIN "{user}" "{password}"')
        return done, time.monotonic() - started
    finally:
        client.close()


def status(done: bytes) -> bytes:
    return done.split(b" ", 2)[1]


def test_password_change_and_account_removal_take_effect_at_once(server):
    provision(server, users=["alice"])
    hits_before = metric_sum(server, "postamt_auth_cache_hits_total")
    for _ in range(3):
        done, _ = imap_try_login(server, ALICE, "pw-alice")
        assert status(done) == b"OK", done
    assert metric_sum(server, "postamt_auth_cache_hits_total") >= hits_before + 2, \
        "the second and third logins come from the cache"

    changed = server.cli("user", "passwd", ALICE, "--password", "new-secret")
    assert changed.returncode == 0, changed.stderr
    done, _ = imap_try_login(server, ALICE, "pw-alice")
    assert status(done) == b"NO" and b"AUTHENTICATIONFAILED" in done, done
    done, _ = imap_try_login(server, ALICE, "new-secret")
    assert status(done) == b"OK", done
    done, _ = imap_try_login(server, ALICE, "new-secret")  # now cached too
    assert status(done) == b"OK", done

    deleted = server.cli("user", "del", ALICE)
    assert deleted.returncode == 0, deleted.stderr
    done, _ = imap_try_login(server, ALICE, "new-secret")
    assert status(done) == b"NO", done


def locks_listing(server) -> str:
    listed = server.cli("security", "locks")
    assert listed.returncode == 0, listed.stderr
    return listed.stdout


def test_failures_lock_one_address_not_its_neighbour_and_the_cli_lifts_it(start_server):
    server = start_server(auth={"allow_plaintext_without_tls": True, "max_failures_per_ip": 3,
                                "failure_delay_ms": 0, "account_delay_after": 0})
    provision(server, users=["alice"])
    for guess in ("guess-1", "guess-2", "guess-3"):
        done, _ = imap_try_login(server, ALICE, guess, source_ip="127.0.0.7")
        assert b"AUTHENTICATIONFAILED" in done, done
    done, _ = imap_try_login(server, ALICE, "pw-alice", source_ip="127.0.0.7")
    assert status(done) == b"NO" and b"UNAVAILABLE" in done, "locked: even the right password is refused"
    done, _ = imap_try_login(server, ALICE, "pw-alice", source_ip="127.0.0.8")
    assert status(done) == b"OK", "the neighbour is not locked"

    # A stale phone behind an office NAT retrying its one old password: counted once.
    for _ in range(10):
        done, _ = imap_try_login(server, ALICE, "old-password", source_ip="127.0.0.9")
        assert b"AUTHENTICATIONFAILED" in done, done
    done, _ = imap_try_login(server, ALICE, "pw-alice", source_ip="127.0.0.9")
    assert status(done) == b"OK", done

    # The operator sees the lock (written within a quarter second) and lifts it.
    deadline = time.monotonic() + 3
    while "127.0.0.7" not in locks_listing(server) and time.monotonic() < deadline:
        time.sleep(0.05)
    listing = locks_listing(server)
    assert "source\t127.0.0.7\tfailures=3" in listing, listing
    assert "127.0.0.8" not in listing and "127.0.0.9" not in listing, listing
    unlocked = server.cli("security", "unlock", "127.0.0.7")
    assert unlocked.returncode == 0, unlocked.stderr
    assert "unlocked source 127.0.0.7" in unlocked.stdout, unlocked.stdout
    done, _ = imap_try_login(server, ALICE, "pw-alice", source_ip="127.0.0.7")
    assert status(done) == b"OK", "lifted at once"
    assert "127.0.0.7" not in locks_listing(server)
    again = server.cli("security", "unlock", "127.0.0.7")
    assert again.returncode == 0 and "nothing was locked" in again.stdout, again.stdout


def test_smtp_pop3_and_imap_share_one_throttle(start_server):
    server = start_server(auth={"allow_plaintext_without_tls": True, "max_failures_per_ip": 2,
                                "failure_delay_ms": 0, "account_delay_after": 0})
    provision(server, users=["alice"])
    import smtplib
    host, port = server.address("submission")
    client = smtplib.SMTP(host, port, source_address=("127.0.0.11", 0), timeout=10)
    client.ehlo()
    with pytest.raises(smtplib.SMTPAuthenticationError) as failed:
        client.login(ALICE, "smtp-guess")
    assert failed.value.smtp_code == 535
    client.close()
    pop = server.connect("pop3", source_ip="127.0.0.11")
    assert pop.text_line().startswith("+OK")
    pop.send(f"USER {ALICE}\r\n")
    assert pop.text_line().startswith("+OK")
    pop.send("PASS pop-guess\r\n")
    assert pop.text_line().startswith("-ERR [AUTH]")
    pop.close()
    # Two failures over two protocols: the address is locked for all of them.
    done, _ = imap_try_login(server, ALICE, "pw-alice", source_ip="127.0.0.11")
    assert b"UNAVAILABLE" in done, done
    client = smtplib.SMTP(host, port, source_address=("127.0.0.11", 0), timeout=10)
    client.ehlo()
    with pytest.raises(smtplib.SMTPAuthenticationError) as failed:
        client.login(ALICE, "pw-alice")
    assert failed.value.smtp_code == 454
    client.close()


def test_trusted_network_is_never_locked(start_server):
    server = start_server(auth={"allow_plaintext_without_tls": True, "max_failures_per_ip": 2,
                                "failure_delay_ms": 0, "account_delay_after": 0,
                                "trusted_networks": ["127.0.0.30/31"]})
    provision(server, users=["alice"])
    for n in range(6):
        done, _ = imap_try_login(server, ALICE, f"guess-{n}", source_ip="127.0.0.31")
        assert b"AUTHENTICATIONFAILED" in done, done
    done, _ = imap_try_login(server, ALICE, "pw-alice", source_ip="127.0.0.31")
    assert status(done) == b"OK", done
    time.sleep(0.5)
    assert "127.0.0.31" not in locks_listing(server)


def test_account_delay_grows_but_the_right_password_still_logs_in(start_server):
    server = start_server(auth={"allow_plaintext_without_tls": True, "max_failures_per_ip": 1000,
                                "failure_delay_ms": 0, "account_delay_after": 2,
                                "account_delay_ms": 300, "max_account_delay_ms": 1200})
    provision(server, users=["alice"])
    took = []
    for n in range(6):  # a distributed guesser: a new address each time
        done, seconds = imap_try_login(server, ALICE, f"guess-{n}", source_ip=f"127.0.0.{40 + n}")
        assert b"AUTHENTICATIONFAILED" in done, done
        took.append(seconds)
    # Delays before attempts 3..6: 0.3, 0.6, 1.2, 1.2 s (capped).
    assert took[0] < 0.3 and took[1] < 0.3, took
    assert took[2] >= 0.28 and took[3] >= 0.58 and took[4] >= 1.18 and took[5] >= 1.18, took
    assert took[5] < 1.2 + 2.0, took
    deadline = time.monotonic() + 3
    while ALICE not in locks_listing(server) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert f"account\t{ALICE}\tfailures=6\tdelay=1200ms" in locks_listing(server)
    # The owner is slowed, never locked out: the right password logs in, and clears the delay.
    done, seconds = imap_try_login(server, ALICE, "pw-alice", source_ip="127.0.0.60")
    assert status(done) == b"OK" and seconds >= 1.18, (done, seconds)
    done, seconds = imap_try_login(server, ALICE, "pw-alice", source_ip="127.0.0.60")
    assert status(done) == b"OK" and seconds < 1.0, (done, seconds)


def test_ipv6_failures_are_counted_per_network(start_server):
    try:
        probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        pytest.skip("no IPv6 loopback here (the /64 rule is unit-tested in auth_throttle_test)")
    server = start_server(auth={"allow_plaintext_without_tls": True, "max_failures_per_ip": 2,
                                "failure_delay_ms": 0, "account_delay_after": 0},
                          listeners=[{"protocol": "imap", "address": "[::1]:0"},
                                     {"protocol": "imap", "address": "127.0.0.1:0"}])
    provision(server, users=["alice"])
    v6 = next(address for address in server.ports_by_protocol["imap"] if ":" in address[0])

    def login_v6(password: str) -> bytes:
        sock = socket.create_connection(v6, timeout=10)
        try:
            reader = sock.makefile("rb")
            assert reader.readline().startswith(b"* OK")
            sock.sendall(f'a LOGIN "{ALICE}" "{password}"\r\n'.encode())
            return reader.readline()
        finally:
            sock.close()

    assert b"AUTHENTICATIONFAILED" in login_v6("guess-1")
    assert b"AUTHENTICATIONFAILED" in login_v6("guess-2")
    assert b"UNAVAILABLE" in login_v6("pw-alice")
    deadline = time.monotonic() + 3
    while "::/64" not in locks_listing(server) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "source\t::/64\tfailures=2" in locks_listing(server), "::1 is counted as its /64"
    unlocked = server.cli("security", "unlock", "::1")
    assert unlocked.returncode == 0 and "unlocked source ::/64" in unlocked.stdout, unlocked.stdout
    assert login_v6("pw-alice").startswith(b"a OK")


def test_security_unlock_without_a_running_server_says_so(cli):
    done = cli("security", "unlock", "192.0.2.1")
    assert done.returncode == 1 and "no running server" in done.stderr, (done.stdout, done.stderr)
    listed = cli("security", "locks")
    assert listed.returncode == 0 and "nothing locked" in listed.stdout


def test_a_login_flood_does_not_stall_deliveries(start_server):
    server = start_server(auth={"allow_plaintext_without_tls": True, "max_failures_per_ip": 1_000_000,
                                "failure_delay_ms": 0, "account_delay_after": 0})
    provision(server, users=["alice", "bob"])
    stop = threading.Event()
    attempts = [0]

    def flood(index: int) -> None:
        n = 0
        while not stop.is_set():
            try:
                client = server.connect("imap")
                client.text_line()
                for _ in range(5):
                    n += 1
                    imap_command(client, f'LOGIN "{ALICE}" "flood-{index}-{n}"')
                    attempts[0] += 1
                client.close()
            except OSError:
                pass

    threads = [threading.Thread(target=flood, args=(i,), daemon=True) for i in range(24)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)  # the flood is on
        client = smtplib_client(server)
        slowest = 0.0
        for n in range(15):
            started = time.monotonic()
            code, _ = send_transaction(client, "sender@example.org", ["bob@example.test"],
                                       message(f"during the flood {n}"))
            slowest = max(slowest, time.monotonic() - started)
            assert code == 250
        client.quit()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    print(f"login flood: {attempts[0]} failing logins; slowest of 15 deliveries {slowest:.3f} s")
    assert attempts[0] >= 50, f"the flood ran ({attempts[0]} logins)"
    # Generous: a delivery waits for the storage pool, never for password hashing.
    assert slowest < 3.0, f"slowest delivery {slowest:.2f} s during {attempts[0]} failing logins"
    assert len(stored_messages(server, "bob@example.test")) == 15
