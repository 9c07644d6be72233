#pragma once
#include <filesystem>
#include <optional>
#include <string>

namespace postamt::server {

struct QuickstartOptions {
  std::string hostname;
  std::string domain;
  std::filesystem::path dir;
  bool dev_ports = false;               // 2525/2587/2465/2143/2993/2110/2995/8025 on 127.0.0.1
  std::optional<std::string> account;   // create it with a generated password, printed once
  bool force = false;                   // overwrite an existing postamt.toml
  // Production (no --dev-ports) as root: the system user the server runs as, created when
  // missing, written to server.user, given the data directory and the keys, and named in
  // the systemd unit written beside the config. Empty with --dev-ports.
  std::string service_user = "postamt";
};

// Writes DIR/postamt.toml, a self-signed TLS pair, a DKIM key, creates the store with the
// domain (and account) and its postmaster@ and abuse@ addresses, and prints the DNS records
// to publish. In production as root also the service user and DIR/postamt.service.
// Returns the exit status.
int quickstart(const QuickstartOptions& options);

}  // namespace postamt::server
