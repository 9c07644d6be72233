#!/usr/bin/env bash
# Installs the Debian 12 packages Postamt needs.
#   install-deps.sh run   what building and running need (make build, make run)
#   install-deps.sh test  that plus the test tools and private test peers (make test)
# Idempotent: runs `apt-get update` and `apt-get install` only when a package is missing.
# Packages install with service start-up disabled (policy-rc.d), so no system Postfix or
# Dovecot (or OpenDKIM/OpenDMARC, or Prometheus) ever takes a host's ports; tests start their own private instances.
set -euo pipefail

what=${1:-run}

run_packages=(
  # build
  build-essential cmake ninja-build pkg-config ccache
  # libraries
  libasio-dev libssl-dev libsqlite3-dev libgmime-3.0-dev libc-ares-dev
  libtomlplusplus-dev libspdlog-dev libfmt-dev libcli11-dev libsodium-dev libcrypt-dev
  nlohmann-json3-dev libcpp-httplib-dev zlib1g-dev
  libexpat1-dev                          # XML of DMARC aggregate reports
  libjemalloc-dev                        # the server's allocator (many threads, many small strings)
  libpsl-dev publicsuffix                # DMARC RFC 7489 mode: the Public Suffix List
  libidn2-dev                            # DMARC: UTF-8 (EAI) domains to A-labels before DNS
  openssl procps
  dpkg-dev                               # make deb: dpkg-shlibdeps computes the package's Depends
)

test_packages=(
  clang-19 libclang-rt-19-dev            # libFuzzer build (clang 14 cannot read libstdc++ 12)
  libgtest-dev libgmock-dev python3 python3-pytest python3-pytest-xdist python3-pytest-timeout
  swaks libnet-ssleay-perl sqlite3
  postfix                                # a real peer MTA, run as a private instance in tests
  fetchmail getmail6                     # real POP3 clients
  isync offlineimap3                     # real IMAP clients (mbsync, offlineimap)
  dovecot-imapd dovecot-pop3d            # the reference IMAP server for differential tests
  python3-dnslib                         # a private DNS server for outbound delivery tests
  python3-aiosmtpd                       # scripted receiving SMTP peers for outbound delivery tests
  python3-dkim python3-nacl              # dkimpy: DKIM signs/verifies against Postamt (Ed25519 needs PyNaCl)
  python3-yaml                           # reads the RFC 7208 SPF test suite (tests/data/spf)
  python3-spf                            # pyspf: the second SPF implementation the SPF tests compare with
  python3-authres                        # another RFC 8601 reader/writer for the Authentication-Results tests
  opendkim opendkim-tools opendmarc      # the milter stack the sender-authentication benchmark compares with
  rspamd                                 # the external filter (issue 15 §2), run as a private instance in tests
  python3-milter                         # pymilter (libmilter): the scripted milters of the milter filter tests
  prometheus                             # promtool: checks and unit-tests docs/alerts.yml (issue 15 §8); no server runs
  systemd                                # systemd-analyze verify of the units (never started: policy-rc.d)
  adduser init-system-helpers            # the .deb's Depends, which `dpkg -i` in test_package.py does not fetch
)

case "$what" in
  run) packages=("${run_packages[@]}") ;;
  test) packages=("${run_packages[@]}" "${test_packages[@]}") ;;
  *) echo "usage: $0 [run|test]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive

# No service a package brings may start (exit 101 = "action forbidden", invoke-rc.d(8));
# an operator's own policy-rc.d is kept and put back afterwards.
policy=/usr/sbin/policy-rc.d
saved=""
if [[ -e $policy ]]; then
  saved=$(mktemp)
  "${sudo_cmd[@]}" cp -p "$policy" "$saved"
fi
restore_policy() {
  if [[ -n $saved ]]; then
    "${sudo_cmd[@]}" cp -p "$saved" "$policy"
    rm -f "$saved"
  else
    "${sudo_cmd[@]}" rm -f "$policy"
  fi
}
trap restore_policy EXIT
printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
"${sudo_cmd[@]}" chmod 0755 "$policy"

# Postfix must install without questions and without configuring the system instance.
echo "postfix postfix/main_mailer_type select No configuration" | "${sudo_cmd[@]}" debconf-set-selections
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

# The prometheus package also enables its server's unit (port 9090 from the next boot);
# the tests want only promtool. Disabled when this run installed it, never an operator's own.
if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null; then
  "${sudo_cmd[@]}" systemctl disable prometheus.service >/dev/null 2>&1 || true
fi
