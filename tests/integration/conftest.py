"""Fixtures for the integration tests: a real `postamt serve` per test, on port-0 listeners.

Run: /usr/bin/python3 -m pytest -n 2 tests/integration
Env: POSTAMT_BINARY (default /work/main/build-asan/postamt, the ASan+UBSan build),
     POSTAMT_RELEASE_BINARY (optional release build, used where noted).

Every server started through these fixtures is stopped with SIGTERM at the end of the test;
the test fails when the exit status is not 0 or the log shows a sanitizer report or a
session exception. A missing binary fails (a broken build), it never skips.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/peers: the peer lab

from harness import (  # noqa: E402
    PostamtServer,
    binary_path,
    make_config as _make_config,
    run_postamt,
)


@pytest.fixture(scope="session")
def postamt_binary() -> Path:
    binary = binary_path()
    if not binary.exists():
        pytest.fail(f"postamt binary {binary} does not exist: the build is broken "
                    "(build it with `make build-asan` or set POSTAMT_BINARY)", pytrace=False)
    if not os.access(binary, os.X_OK):
        pytest.fail(f"postamt binary {binary} is not executable", pytrace=False)
    return binary


@pytest.fixture
def make_config(tmp_path):
    """make_config(directory=None, listeners=None, extra_text="", **sections) -> config path.

    Writes a config with port-0 listeners for all 8 protocols on 127.0.0.1 into directory
    (default: the test's tmp_path). Section overrides: make_config(limits={...}).
    """
    def make(directory: Path | None = None, **kwargs) -> Path:
        return _make_config(directory or tmp_path, **kwargs)
    return make


@pytest.fixture
def start_server(tmp_path, postamt_binary, request):
    """start_server(directory=None, binary=None, extra_asan_options="", **config_overrides).

    Starts a server with make_config(**config_overrides) in its own directory and returns
    the PostamtServer; all servers are stopped and checked at the end of the test.
    """
    servers: list[PostamtServer] = []

    def start(directory: Path | None = None, binary: Path | None = None,
              extra_asan_options: str = "", **config_overrides) -> PostamtServer:
        directory = directory or tmp_path / f"server{len(servers)}"
        config = _make_config(directory, **config_overrides)
        server = PostamtServer(directory=directory, config_path=config,
                               binary=binary or postamt_binary,
                               extra_asan_options=extra_asan_options)
        servers.append(server)
        server.start()
        return server

    yield start

    failures = []
    for server in servers:
        if server.process is None:
            continue
        server.stop()
        problems = server.problems()
        if problems:
            failures.append(f"server in {server.directory}: " + "; ".join(problems) +
                            f"\n--- log tail ---\n{server.log_tail(80)}")
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)


@pytest.fixture
def server(start_server) -> PostamtServer:
    """A running server with the default config (all 8 protocols, self-signed TLS)."""
    return start_server()


@pytest.fixture
def cli(tmp_path, postamt_binary):
    """cli(*args, input=None, config=None): runs postamt --config CONFIG args without a server.

    The config (default: one written by make_config into tmp_path/cli) is created on first use.
    """
    default = {}

    def run(*args: str, input: str | None = None, config: Path | None = None):
        if config is None:
            if "path" not in default:
                default["path"] = _make_config(tmp_path / "cli")
            config = default["path"]
        return run_postamt("--config", str(config), *args, input=input, binary=postamt_binary)

    return run
