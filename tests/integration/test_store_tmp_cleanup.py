"""A crash in the middle of a large SMTP transaction leaves its spool file in blobs/tmp;
the next start (the data directory's lock holder) removes it, so no file is left behind
by a message that was never acknowledged."""

from __future__ import annotations

import socket

from harness import provision, wait_for


def test_spool_file_of_a_crashed_transaction_is_removed_at_start(start_server, tmp_path):
    directory = tmp_path / "crash"
    server = start_server(directory=directory)
    provision(server, ["alice"])
    tmp = server.data_dir / "blobs" / "tmp"

    sock = socket.create_connection(server.address("smtp"), timeout=30)
    reader = sock.makefile("rb")
    reader.readline()
    sock.sendall(b"EHLO client.test\r\n")
    while not reader.readline().startswith(b"250 "):
        pass
    sock.sendall(b"MAIL FROM:<a@remote.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n")
    for expected in (b"250", b"250", b"354"):
        assert reader.readline().startswith(expected)
    # Past the in-memory threshold (256 KiB): the rest goes to a spool file.
    line = b"x" * 998 + b"\r\n"
    sock.sendall(b"Subject: big\r\n\r\n" + line * 1024)
    wait_for(lambda: any(p.name.startswith("spool-") for p in tmp.iterdir()), 20,
             message="a spool file in blobs/tmp")

    server.crash()
    sock.close()
    assert any(p.name.startswith("spool-") for p in tmp.iterdir())

    server.start()
    # The ports file goes out before the store opens: wait for the start to complete.
    wait_for(lambda: server.count_in_log("server.started") == 2, 20, message="the second server.started")
    assert not list(tmp.iterdir()), sorted(p.name for p in tmp.iterdir())
    assert "store.tmp_removed" in server.log_text()
