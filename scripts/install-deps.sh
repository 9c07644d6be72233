#!/usr/bin/env bash
# Installs every Debian 12 package Postamt needs to build, run and test.
# Idempotent: runs `apt-get update` and `apt-get install` only when a package is missing.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config ccache
  clang-19 libclang-rt-19-dev            # libFuzzer build (clang 14 cannot read libstdc++ 12)
  # libraries
  libasio-dev libssl-dev libsqlite3-dev libgmime-3.0-dev libc-ares-dev
  libtomlplusplus-dev libspdlog-dev libfmt-dev libcli11-dev libsodium-dev libcrypt-dev
  nlohmann-json3-dev libcpp-httplib-dev zlib1g-dev
  libjemalloc-dev                        # the server's allocator (many threads, many small strings)
  # tests
  libgtest-dev libgmock-dev python3 python3-pytest python3-pytest-xdist python3-pytest-timeout
  openssl swaks libnet-ssleay-perl procps sqlite3
  postfix                                # a real peer MTA, run as a private instance in tests
  fetchmail getmail6                     # real POP3 clients
  isync offlineimap3                     # real IMAP clients (mbsync, offlineimap)
  dovecot-imapd dovecot-pop3d            # the reference IMAP server for differential tests
  python3-dnslib                         # a private DNS server for outbound delivery tests
  python3-aiosmtpd                       # scripted receiving SMTP peers for outbound delivery tests
)

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
# Postfix must install without questions and without configuring the system instance.
echo "postfix postfix/main_mailer_type select No configuration" | "${sudo_cmd[@]}" debconf-set-selections
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
