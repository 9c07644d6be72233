"""The Debian package and `make install` (issue 16 §1): the .deb `make deb` built from the
release build is installed on this host with dpkg, checked, removed and purged; the install
rules are run into a scratch DESTDIR. Nothing is built here: `make test` builds the .deb
first (the `deb` target) and names the release build through POSTAMT_RELEASE_BINARY.

Installing for real needs root and dpkg; services never start (policy-rc.d answers 101, as
scripts/install-deps.sh sets it for the test peers). A host where a postamt package, or the
package's directories, already exist is left alone (skipped): the purge would delete them."""

from __future__ import annotations

import gzip
import grp
import os
import pwd
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from harness import release_binary_path

REPO = Path(__file__).resolve().parents[2]
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")
UNIT = Path("/usr/lib/systemd/system/postamt.service")
WANTS = Path("/etc/systemd/system/multi-user.target.wants/postamt.service")
DATA = Path("/var/lib/postamt")
CONFIG_DIR = Path("/etc/postamt")


def run(*argv: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=120, **kwargs)
    if check:
        assert done.returncode == 0, f"{' '.join(argv)}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def release_build_dir() -> Path:
    binary = release_binary_path()
    return binary.parent if binary else REPO / "build"


def project_version() -> str:
    for line in (REPO / "CMakeLists.txt").read_text().splitlines():
        if line.startswith("project(postamt VERSION "):
            return line.split()[2]
    raise AssertionError("no version in CMakeLists.txt")


def unit_settings(text: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def check_unit(text: str, binary: str) -> None:
    unit = unit_settings(text)
    assert unit["Type"] == ["notify"], "ready when the server says so (sd_notify)"
    assert unit["ExecStart"] == [f"{binary} serve --config /etc/postamt/postamt.toml"]
    assert unit["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert unit["User"] == ["postamt"] and unit["Group"] == ["postamt"]
    assert unit["AmbientCapabilities"] == ["CAP_NET_BIND_SERVICE"]
    assert unit["CapabilityBoundingSet"] == ["CAP_NET_BIND_SERVICE"]
    assert unit["ProtectSystem"] == ["strict"]
    assert unit["ReadWritePaths"] == ["/var/lib/postamt"]
    assert unit["NoNewPrivileges"] == ["yes"] and unit["PrivateTmp"] == ["yes"]


def installed(package: str) -> bool:
    done = run("dpkg-query", "-W", "-f=${Status}", package, check=False)
    return done.returncode == 0 and "install ok installed" in done.stdout


def postamt_processes() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "exe").startswith("/usr/bin/postamt"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


@pytest.fixture
def deb_file() -> Path:
    if shutil.which("dpkg") is None:
        pytest.skip("dpkg is missing: not a Debian host")
    if os.geteuid() != 0:
        pytest.skip("installing a package needs root")
    if installed("postamt"):
        pytest.skip("a postamt package is installed on this host: the test would remove it")
    for path in (DATA, CONFIG_DIR):
        if path.exists():
            pytest.skip(f"{path} exists without the package: the purge would delete it")
    deb = release_build_dir() / f"postamt_{project_version()}_amd64.deb"
    if not deb.exists():
        pytest.fail(f"{deb} does not exist: build it with `make deb` (make test does)", pytrace=False)
    return deb


@pytest.fixture
def services_may_not_start():
    """policy-rc.d answering 101 ("action forbidden") for the test's length, then as it was."""
    saved = POLICY_RC_D.read_bytes() if POLICY_RC_D.exists() else None
    saved_mode = POLICY_RC_D.stat().st_mode if saved is not None else None
    POLICY_RC_D.write_text("#!/bin/sh\nexit 101\n")
    POLICY_RC_D.chmod(0o755)
    yield
    if saved is None:
        POLICY_RC_D.unlink()
    else:
        POLICY_RC_D.write_bytes(saved)
        POLICY_RC_D.chmod(stat.S_IMODE(saved_mode))


@pytest.fixture
def system_user_cleanup():
    """The postamt user the package creates goes again after the test, if it is new."""
    try:
        pwd.getpwnam("postamt")
        existed = True
    except KeyError:
        existed = False
    yield
    if not existed:
        run("userdel", "postamt", check=False)
        run("groupdel", "postamt", check=False)


def test_package_installs_removes_and_purges(deb_file, services_may_not_start, system_user_cleanup):
    # The control data: dependencies computed from the binary's libraries (dpkg-shlibdeps)
    # plus what the maintainer scripts use.
    fields = run("dpkg-deb", "--field", str(deb_file), "Package", "Version", "Architecture", "Depends").stdout
    assert "Package: postamt" in fields and f"Version: {project_version()}" in fields, fields
    assert "Architecture: amd64" in fields, fields
    depends = next(line for line in fields.splitlines() if line.startswith("Depends:"))
    for library in ("libc6", "libssl3", "libsqlite3-0", "libsodium23", "adduser"):
        assert library in depends, f"{library} missing from {depends}"
    info = run("dpkg-deb", "--info", str(deb_file)).stdout
    for script in ("postinst", "prerm", "postrm"):
        assert f" {script} " in info, f"no {script} in the package:\n{info}"

    try:
        done = run("dpkg", "-i", str(deb_file))
        assert installed("postamt"), done.stdout

        # Files where Debian puts them.
        binary = Path("/usr/bin/postamt")
        assert binary.is_file() and os.access(binary, os.X_OK)
        man = Path("/usr/share/man/man8/postamt.8.gz")
        assert gzip.decompress(man.read_bytes()).startswith(b".\\\""), "a roff page, gzip-compressed"
        docs = Path("/usr/share/doc/postamt")
        for name in ("README.md", "OPERATIONS.md", "CONFIGURATION.md"):
            assert (docs / name).is_file(), f"{docs / name} missing"
        check_unit(UNIT.read_text(), "/usr/bin/postamt")

        # The system user and its directories.
        user = pwd.getpwnam("postamt")
        assert user.pw_uid < 1000, "a system user"
        assert user.pw_dir == str(DATA) and user.pw_shell.endswith("nologin")
        assert grp.getgrgid(user.pw_gid).gr_name == "postamt", "a group of its own"
        info = DATA.stat()
        assert (info.st_uid, info.st_gid) == (user.pw_uid, user.pw_gid)
        assert stat.S_IMODE(info.st_mode) == 0o700, oct(info.st_mode)
        info = CONFIG_DIR.stat()
        assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (0, user.pw_gid, 0o750)

        # It runs from /usr/bin, with the libraries dpkg said it needs.
        version = run("/usr/bin/postamt", "--version").stdout
        assert version.startswith(f"postamt {project_version()}"), version
        assert "serve" in run("/usr/bin/postamt", "--help").stdout
        assert "quickstart" in run("/usr/bin/postamt", "--help").stdout

        if shutil.which("systemd-analyze"):
            verified = run("systemd-analyze", "verify", str(UNIT), check=False)
            assert verified.returncode == 0, verified.stderr
            assert "postamt.service" not in verified.stderr, verified.stderr

        # Enabled for boot, but not started: policy-rc.d forbids it, and there is no
        # configuration yet anyway.
        assert WANTS.is_symlink() and os.readlink(WANTS).endswith("postamt.service")
        assert postamt_processes() == [], "the package started a server"

        # Mail the server would have stored: remove must keep it, purge must not.
        (DATA / "mail.sqlite").write_text("stand-in for the store\n")
        (CONFIG_DIR / "postamt.toml").write_text("# stand-in for the configuration\n")

        run("dpkg", "-r", "postamt")
        assert not installed("postamt")
        assert not binary.exists() and not UNIT.exists() and not man.exists()
        assert not docs.exists()
        assert (DATA / "mail.sqlite").exists(), "dpkg -r deleted the mail"
        assert (CONFIG_DIR / "postamt.toml").exists(), "dpkg -r deleted the configuration"
        assert postamt_processes() == []

        run("dpkg", "-P", "postamt")
        assert "postamt" not in run("dpkg-query", "-W", "-f=${Package}\\n", check=False).stdout.split()
        assert not DATA.exists(), "purge keeps the data directory"
        assert not CONFIG_DIR.exists(), "purge keeps /etc/postamt"
        assert not WANTS.is_symlink(), "purge keeps the enable link"
        pwd.getpwnam("postamt")  # kept on purge: files it owns may remain elsewhere
    finally:
        if installed("postamt") or run("dpkg-query", "-W", "postamt", check=False).returncode == 0:
            run("dpkg", "-P", "postamt", check=False)
        shutil.rmtree(DATA, ignore_errors=True)
        shutil.rmtree(CONFIG_DIR, ignore_errors=True)


def test_make_install_into_a_destdir(tmp_path):
    """What `make install DESTDIR=...` runs (cmake --install on the release build) puts
    exactly these files under the prefix, the unit naming the installed binary."""
    build = release_build_dir()
    if not (build / "cmake_install.cmake").exists():
        pytest.fail(f"{build} is not a configured release build (make build)", pytrace=False)
    root = tmp_path / "root"
    env = dict(os.environ, DESTDIR=str(root))
    run("cmake", "--install", str(build), "--prefix", "/usr/local", env=env)
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    expected = ["usr/local/bin/postamt", "usr/local/lib/systemd/system/postamt.service",
                "usr/local/share/doc/postamt/README.md", "usr/local/share/man/man8/postamt.8.gz"]
    expected += [f"usr/local/share/doc/postamt/{p.name}" for p in (REPO / "docs").glob("*.md")]
    if (REPO / "docs" / "alerts.yml").exists():
        expected.append("usr/local/share/doc/postamt/examples/alerts.yml")
    assert files == sorted(expected)
    check_unit((root / "usr/local/lib/systemd/system/postamt.service").read_text(), "/usr/local/bin/postamt")
    assert os.access(root / "usr/local/bin/postamt", os.X_OK)
    page = gzip.decompress((root / "usr/local/share/man/man8/postamt.8.gz").read_bytes())
    assert page == (REPO / "docs" / "postamt.8").read_bytes()
