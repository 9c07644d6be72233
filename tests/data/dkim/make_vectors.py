#!/usr/bin/python3
"""Generates the DKIM test vectors signed by dkimpy (Debian's python3-dkim), the other
side of tests/unit/mailauth/dkim_vectors_test.cpp.

Writes, in this directory:
  keys/            the signing keys (made once, kept: rsa2048.pem, rsa512.pem, ed25519.key)
  vectors/*.eml    signed messages, and tampered copies
  zone.txt         "name<TAB>TXT value" for every key record the vectors use
  expected.txt     "file<TAB>status<TAB>notes": the verdict each message must get; for
                   untampered messages it is what dkimpy itself says (checked here), except
                   where RFC 6376 is stricter than dkimpy (noted "dkimpy-lenient": key
                   records with t=s or an h= without sha256, which dkimpy accepts) and for
                   several From fields (DKIM passes; dkimpy refuses them, DMARC's job here)

Run: /usr/bin/python3 tests/data/dkim/make_vectors.py
"""
import base64
import os
import subprocess
import sys

import dkim
import nacl.signing

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = os.path.join(HERE, "keys")
VECTORS = os.path.join(HERE, "vectors")
DOMAIN = b"example.org"

MESSAGE = (
    b"From: Alice Example <alice@example.org>\r\n"
    b"To: Bob <bob@example.net>\r\n"
    b"Cc: carol@example.net\r\n"
    b"Subject: Test   message\r\n"
    b"  folded   subject line \r\n"
    b"Date: Sat, 05 Dec 2026 07:00:00 +0000\r\n"
    b"Message-ID: <vector-1@example.org>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Hello Bob,  \r\n"
    b"\r\n"
    b"this body has\ttabs,  double  spaces and trailing blanks.   \r\n"
    b"-- \r\n"
    b"Alice\r\n"
    b"\r\n"
    b"\r\n"
)


def openssl(*args):
    return subprocess.run(["openssl", *args], check=True, capture_output=True).stdout


def make_keys():
    os.makedirs(KEYS, exist_ok=True)
    for bits in (2048, 512):
        path = os.path.join(KEYS, f"rsa{bits}.pem")
        if not os.path.exists(path):
            with open(path, "wb") as out:
                out.write(openssl("genrsa", "-traditional", str(bits)))
    path = os.path.join(KEYS, "ed25519.key")
    if not os.path.exists(path):
        key = nacl.signing.SigningKey.generate()
        with open(path, "wb") as out:
            out.write(base64.b64encode(key.encode()) + b"\n")


def rsa_public(bits):
    der = openssl("rsa", "-in", os.path.join(KEYS, f"rsa{bits}.pem"), "-pubout", "-outform", "DER")
    return base64.b64encode(der)


def ed25519_keys():
    with open(os.path.join(KEYS, "ed25519.key"), "rb") as f:
        private = f.read().strip()
    public = nacl.signing.SigningKey(base64.b64decode(private)).verify_key.encode()
    return private, base64.b64encode(public)


def main():
    make_keys()
    os.makedirs(VECTORS, exist_ok=True)
    for name in os.listdir(VECTORS):
        os.remove(os.path.join(VECTORS, name))
    with open(os.path.join(KEYS, "rsa2048.pem"), "rb") as f:
        rsa2048 = f.read()
    with open(os.path.join(KEYS, "rsa512.pem"), "rb") as f:
        rsa512 = f.read()
    ed_private, ed_public = ed25519_keys()
    zone = {
        b"rsa._domainkey.example.org": b"v=DKIM1; k=rsa; p=" + rsa_public(2048),
        b"weak._domainkey.example.org": b"v=DKIM1; k=rsa; p=" + rsa_public(512),
        b"ed._domainkey.example.org": b"v=DKIM1; k=ed25519; p=" + ed_public,
        b"revoked._domainkey.example.org": b"v=DKIM1; k=rsa; p=",
        # The same RSA key under key records with flags (RFC 6376 §3.6.1).
        b"testing._domainkey.example.org": b"v=DKIM1; k=rsa; t=y; p=" + rsa_public(2048),
        b"strict._domainkey.example.org": b"v=DKIM1; k=rsa; t=s; p=" + rsa_public(2048),
        b"sha1only._domainkey.example.org": b"v=DKIM1; k=rsa; h=sha1; p=" + rsa_public(2048),
        b"notmail._domainkey.example.org": b"v=DKIM1; k=rsa; s=tlsrpt; p=" + rsa_public(2048),
        b"wrongtype._domainkey.example.org": b"v=DKIM1; k=ed25519; p=" + ed_public,
    }

    def dnsfunc(name, timeout=5):
        return zone.get(name.rstrip(b".").lower() if isinstance(name, bytes) else name.encode().rstrip(b"."), None)

    expected = []

    def write(name, message, status, notes=""):
        with open(os.path.join(VECTORS, name), "wb") as out:
            out.write(message)
        expected.append(f"{name}\t{status}\t{notes}".rstrip())

    def sign(message, selector, key, algorithm, canon, length=False, headers=None):
        return dkim.sign(message, selector, DOMAIN, key, canonicalize=canon, signature_algorithm=algorithm,
                         include_headers=headers, length=length, linesep=b"\r\n")

    def dkimpy_verdict(message):
        # dkimpy's own verdict: every signature (dkimpy's verify checks the first one).
        d = dkim.DKIM(message, minkey=1024)
        results = []
        for index in range(sum(1 for name, _ in d.headers if name.lower() == b"dkim-signature")):
            try:
                results.append(d.verify(idx=index, dnsfunc=dnsfunc))
            except dkim.DKIMException:
                results.append(False)
        return results

    algorithms = [(b"rsa", rsa2048, b"rsa-sha256"), (b"ed", ed_private, b"ed25519-sha256")]
    for selector, key, algorithm in algorithms:
        tag = selector.decode()
        for header_canon in (b"simple", b"relaxed"):
            for body_canon in (b"simple", b"relaxed"):
                canon = (header_canon, body_canon)
                base = f"{tag}_{header_canon.decode()}_{body_canon.decode()}"
                signed = sign(MESSAGE, selector, key, algorithm, canon) + MESSAGE
                assert dkimpy_verdict(signed) == [True], base
                write(base + ".eml", signed, "pass")
                # Tampered: a signed header changed, then the body changed.
                write(base + "_bad_header.eml", signed.replace(b"Subject: Test", b"Subject: Jest"), "fail")
                assert dkimpy_verdict(signed.replace(b"Subject: Test", b"Subject: Jest")) == [False]
                write(base + "_bad_body.eml", signed.replace(b"Hello Bob", b"Hello Eve"), "fail")
                assert dkimpy_verdict(signed.replace(b"Hello Bob", b"Hello Eve")) == [False]
                # Canonicalisation-neutral changes pass under relaxed only.
                if body_canon == b"relaxed":
                    respaced = signed.replace(b"double  spaces", b"double \t spaces") + b"\r\n \r\n"
                    assert dkimpy_verdict(respaced) == [True]
                    write(base + "_respaced_body.eml", respaced, "pass")
        # l=: the signed length; text appended after it keeps the signature valid.
        for body_canon in (b"simple", b"relaxed"):
            base = f"{tag}_length_{body_canon.decode()}"
            signed = sign(MESSAGE, selector, key, algorithm, (b"relaxed", body_canon), length=True) + MESSAGE
            assert dkimpy_verdict(signed) == [True]
            write(base + ".eml", signed, "pass", "l=")
            appended = signed + b"Appended by a list: click here\r\n"
            assert dkimpy_verdict(appended) == [True]
            write(base + "_appended.eml", appended, "pass", "l= partly-unsigned")
            write(base + "_bad_body.eml", signed.replace(b"Hello Bob", b"Hello Eve"), "fail", "l=")

    # Both algorithms on one message (what Postamt sends).
    both = sign(MESSAGE, b"rsa", rsa2048, b"rsa-sha256", (b"relaxed", b"relaxed"))
    both = sign(both + MESSAGE, b"ed", ed_private, b"ed25519-sha256", (b"relaxed", b"relaxed")) + both + MESSAGE
    assert dkimpy_verdict(both) == [True, True]
    write("two_signatures.eml", both, "pass,pass")

    # RFC 8301 §3.2: a 512-bit RSA key is refused by the verifier (dkimpy: minkey=1024).
    weak = sign(MESSAGE, b"weak", rsa512, b"rsa-sha256", (b"relaxed", b"relaxed")) + MESSAGE
    assert dkimpy_verdict(weak) == [False]
    write("weak_rsa512.eml", weak, "permerror")

    # A signature naming a revoked key, and one whose selector has no record.
    signed = sign(MESSAGE, b"rsa", rsa2048, b"rsa-sha256", (b"relaxed", b"relaxed")) + MESSAGE
    write("revoked_key.eml", signed.replace(b"s=rsa;", b"s=revoked;", 1), "fail")
    write("missing_key.eml", signed.replace(b"s=rsa;", b"s=missing;", 1), "permerror")

    # Key record flags and restrictions, with the same RSA key.
    def with_selector(selector, identity=None):
        return dkim.sign(MESSAGE, selector, DOMAIN, rsa2048, identity=identity,
                         canonicalize=(b"relaxed", b"relaxed"), linesep=b"\r\n") + MESSAGE
    testing = with_selector(b"testing")
    assert dkimpy_verdict(testing) == [True]
    write("key_testing.eml", testing, "pass", "testing")
    write("key_strict_same_domain.eml", with_selector(b"strict", b"alice@example.org"), "pass")
    # RFC 6376 §3.6.1 t=s, §6.1.2 step 6 h=: PERMFAIL.
    write("key_strict_subdomain.eml", with_selector(b"strict", b"alice@eng.example.org"), "permerror",
          "dkimpy-lenient")
    write("key_sha1_only.eml", with_selector(b"sha1only"), "permerror", "dkimpy-lenient")
    write("key_not_for_email.eml", with_selector(b"notmail"), "permerror")
    write("key_wrong_type.eml", with_selector(b"wrongtype"), "permerror")

    # rsa-sha1 is parsed and refused (RFC 8301 §3.1).
    sha1 = sign(MESSAGE, b"rsa", rsa2048, b"rsa-sha1", (b"relaxed", b"relaxed")) + MESSAGE
    write("rsa_sha1.eml", sha1, "policy")

    # Empty body, header-only message.
    empty_body = MESSAGE.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    for selector, key, algorithm in algorithms:
        for body_canon in (b"simple", b"relaxed"):
            name = f"{selector.decode()}_empty_body_{body_canon.decode()}.eml"
            signed = sign(empty_body, selector, key, algorithm, (b"relaxed", body_canon)) + empty_body
            assert dkimpy_verdict(signed) == [True], name
            write(name, signed, "pass")
    header_only = MESSAGE.split(b"\r\n\r\n", 1)[0] + b"\r\n"
    signed = sign(header_only, b"rsa", rsa2048, b"rsa-sha256", (b"relaxed", b"simple")) + header_only
    assert dkimpy_verdict(signed) == [True]
    write("header_only.eml", signed, "pass")

    # Several From fields: a signature over h=from covers the last one (RFC 6376 §5.4.2);
    # a From added on top of a message that over-signs From breaks it.
    two_from = b"From: mallory@example.com\r\n" + MESSAGE
    signed = sign(two_from, b"rsa", rsa2048, b"rsa-sha256", (b"relaxed", b"relaxed"),
                  headers=[b"from", b"to", b"subject"])
    write("several_from.eml", signed + two_from, "pass", "dkimpy refuses several From")
    signed = sign(MESSAGE, b"rsa", rsa2048, b"rsa-sha256", (b"relaxed", b"relaxed"),
                  headers=[b"from", b"from", b"to", b"subject"])
    added = signed + b"From: mallory@example.com\r\n" + MESSAGE
    assert dkimpy_verdict(added) == [False]
    write("several_from_oversigned.eml", added, "fail")

    with open(os.path.join(HERE, "zone.txt"), "wb") as out:
        out.write(b"# name\tTXT value (written by make_vectors.py)\n")
        for name, value in sorted(zone.items()):
            out.write(name + b"\t" + value + b"\n")
    with open(os.path.join(HERE, "expected.txt"), "w") as out:
        out.write("# file\tstatuses (one per signature, header order)\tnotes (written by make_vectors.py)\n")
        out.write("\n".join(expected) + "\n")
    print(f"{len(expected)} vectors written")


if __name__ == "__main__":
    sys.exit(main())
