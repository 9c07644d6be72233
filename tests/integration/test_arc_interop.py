"""ARC against dkimpy (Debian's python3-dkim), both ways: what `postamt arc seal` seals,
dkim.arc_verify accepts; what dkim.arc_sign seals, `postamt arc verify` accepts; and a chain
that crosses both (dkimpy seals i=1, Postamt i=2, dkimpy i=3) verifies on both sides.
Tampering after the seal makes both sides fail."""
import subprocess
from pathlib import Path

import dkim
import pytest

AUTHSERV_ID = "mx.forward.test"
MESSAGE = (
    b"Authentication-Results: mx.forward.test; spf=pass smtp.mailfrom=alice@origin.test;\r\n"
    b"  dkim=pass header.d=origin.test; dmarc=pass header.from=origin.test\r\n"
    b"From: Alice <alice@origin.test>\r\n"
    b"To: list@forward.test\r\n"
    b"Subject: Forwarding keeps passing\r\n"
    b"Date: Sat, 05 Dec 2026 07:00:00 +0000\r\n"
    b"Message-ID: <arc-interop-1@origin.test>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Hello  world,\r\n"
    b"a forwarded message.   \r\n"
    b"\r\n\r\n"
)


def make_rsa_key(directory: Path, name: str):
    key = directory / f"{name}.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    der = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    import base64
    return key, "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


@pytest.fixture
def keys(tmp_path):
    """Two sealers: Postamt's forward.test (s1) and dkimpy's lists.relay.test (r1)."""
    postamt_key, postamt_record = make_rsa_key(tmp_path, "postamt")
    dkimpy_key, dkimpy_record = make_rsa_key(tmp_path, "dkimpy")
    zone = {"s1._domainkey.forward.test": postamt_record, "r1._domainkey.lists.relay.test": dkimpy_record}
    zone_file = tmp_path / "zone.txt"
    zone_file.write_text("".join(f"{name} {record}\n" for name, record in zone.items()))
    return {"postamt_key": postamt_key, "dkimpy_key": dkimpy_key.read_bytes(), "zone": zone, "zone_file": zone_file}


def dnsfunc_for(zone):
    def dnsfunc(name, timeout=5):
        record = zone.get(name.decode().rstrip("."))
        return record.encode() if record else None
    return dnsfunc


def postamt_seal(postamt_binary, keys, message: bytes, time=None):
    command = [str(postamt_binary), "arc", "seal", "--key", str(keys["postamt_key"]), "--domain", "forward.test",
               "--selector", "s1", "--authserv-id", AUTHSERV_ID, "--txt-file", str(keys["zone_file"])]
    if time is not None:
        command += ["--time", str(time)]
    result = subprocess.run(command, input=message, capture_output=True, timeout=60)
    return result


def postamt_verify(postamt_binary, keys, message: bytes):
    result = subprocess.run([str(postamt_binary), "arc", "verify", "--txt-file", str(keys["zone_file"])],
                            input=message, capture_output=True, timeout=60)
    fields = dict(part.split("=", 1) for part in result.stdout.decode().split(" reason=")[0].split() if "=" in part)
    return result.returncode, fields, result.stdout.decode()


def dkimpy_seal(keys, message: bytes, srv_id=b"lists.relay.test"):
    # dkimpy takes the A-R of srv_id from the message as the new AAR.
    stamped = (b"Authentication-Results: " + srv_id + b"; arc=" + dkimpy_cv(keys, message) +
               b"; spf=pass smtp.mailfrom=alice@origin.test\r\n" + message)
    headers = dkim.arc_sign(stamped, b"r1", b"lists.relay.test", keys["dkimpy_key"], srv_id,
                            include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    assert headers, "dkimpy added no ARC set"
    return b"".join(headers) + stamped


def dkimpy_cv(keys, message: bytes) -> bytes:
    cv, _, _ = dkim.arc_verify(message, dnsfunc=dnsfunc_for(keys["zone"]))
    return cv if cv else b"fail"


def test_dkimpy_accepts_what_postamt_seals(postamt_binary, keys):
    sealed = postamt_seal(postamt_binary, keys, MESSAGE, time=1796457600)
    assert sealed.returncode == 0, sealed.stderr
    assert sealed.stdout.startswith(b"ARC-Seal: ")
    cv, results, reason = dkim.arc_verify(sealed.stdout, dnsfunc=dnsfunc_for(keys["zone"]))
    assert cv == b"pass", reason
    assert results[0]["as-valid"] and results[0]["ams-valid"]
    assert results[0]["cv"] == b"none" and results[0]["as-domain"] == b"forward.test"
    # The AAR carries our A-R.
    assert b"i=1; mx.forward.test; spf=pass" in results[0]["aar-value"]
    # And Postamt agrees with itself.
    status, fields, _ = postamt_verify(postamt_binary, keys, sealed.stdout)
    assert status == 0 and fields["cv"] == "pass" and fields["sealers"] == "forward.test"


def test_postamt_accepts_what_dkimpy_seals(postamt_binary, keys):
    sealed = dkimpy_seal(keys, MESSAGE)
    assert dkim.arc_verify(sealed, dnsfunc=dnsfunc_for(keys["zone"]))[0] == b"pass"
    status, fields, output = postamt_verify(postamt_binary, keys, sealed)
    assert status == 0, output
    assert fields["cv"] == "pass", output
    assert fields["instances"] == "1" and fields["sealers"] == "lists.relay.test"


def test_a_chain_across_both_verifies_on_both_sides(postamt_binary, keys):
    first = dkimpy_seal(keys, MESSAGE)                                 # i=1 dkimpy
    second = postamt_seal(postamt_binary, keys, first)                 # i=2 Postamt, cv=pass
    assert second.returncode == 0, second.stderr
    assert b"cv=pass" in second.stdout.split(b"ARC-Message-Signature")[0]
    # (another authserv-id: dkimpy merges every A-R of its id, and two arc= results fail)
    third = dkimpy_seal(keys, second.stdout, srv_id=b"hop3.relay.test")  # i=3 dkimpy
    cv, results, reason = dkim.arc_verify(third, dnsfunc=dnsfunc_for(keys["zone"]))
    assert cv == b"pass", reason
    assert [r["instance"] for r in results] == [3, 2, 1]
    status, fields, output = postamt_verify(postamt_binary, keys, third)
    assert status == 0 and fields["cv"] == "pass", output
    assert fields["sealers"] == "lists.relay.test,forward.test,lists.relay.test"
    assert fields["oldest-pass"] == "0"


def test_tampering_after_the_seal_fails_on_both_sides(postamt_binary, keys):
    sealed = postamt_seal(postamt_binary, keys, dkimpy_seal(keys, MESSAGE)).stdout
    for tampered in (sealed.replace(b"a forwarded message.", b"a forwarded messagE."),
                     sealed.replace(b"Subject: Forwarding keeps passing", b"Subject: Forwarding keeps failing")):
        assert dkim.arc_verify(tampered, dnsfunc=dnsfunc_for(keys["zone"]))[0] == b"fail"
        status, fields, output = postamt_verify(postamt_binary, keys, tampered)
        assert status == 1 and fields["cv"] == "fail", output
    # A chain that failed is sealed with cv=fail once, and never again after that.
    failed_once = postamt_seal(postamt_binary, keys, sealed.replace(b"Hello  world", b"Hello  World"))
    assert failed_once.returncode == 0, failed_once.stderr
    assert b"cv=fail" in failed_once.stdout.split(b"ARC-Message-Signature")[0]
    assert dkim.arc_verify(failed_once.stdout, dnsfunc=dnsfunc_for(keys["zone"]))[0] != b"pass"
    again = postamt_seal(postamt_binary, keys, failed_once.stdout)
    assert again.returncode == 1 and again.stdout == failed_once.stdout  # passed on unchanged


def test_a_message_with_lf_line_ends_is_sealed_in_its_own_line_ends(postamt_binary, keys):
    lf_message = MESSAGE.replace(b"\r\n", b"\n")
    sealed = postamt_seal(postamt_binary, keys, lf_message)
    assert sealed.returncode == 0, sealed.stderr
    assert b"\r" not in sealed.stdout and sealed.stdout.endswith(lf_message)
    status, fields, output = postamt_verify(postamt_binary, keys, sealed.stdout)
    assert status == 0 and fields["cv"] == "pass", output
    cv, _, reason = dkim.arc_verify(sealed.stdout.replace(b"\n", b"\r\n"), dnsfunc=dnsfunc_for(keys["zone"]))
    assert cv == b"pass", reason
