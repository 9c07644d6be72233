#pragma once
// The operator's DKIM and DNS commands (docs/OPERATIONS.md, "DKIM"):
//   postamt dkim add DOMAIN [--selector S] [--algorithm rsa|ed25519|both]
//   postamt dkim list
//   postamt dkim rotate DOMAIN
//   postamt dkim retire DOMAIN SELECTOR
//   postamt dns records DOMAIN
// Keys live in the data directory (mailauth/dkim_key_store.hpp). Run as root with
// server.user set, new key files go to that user. A running server picks changed keys up
// at SIGHUP (or restart). Each returns the process exit status.
#include <optional>
#include <string>

#include "base/config.hpp"

namespace postamt::server {

int dkim_add(const Config& config, const std::string& domain, const std::optional<std::string>& selector,
             const std::string& algorithm);
int dkim_list(const Config& config);
int dkim_rotate(const Config& config, const std::string& domain);
int dkim_retire(const Config& config, const std::string& domain, const std::string& selector);
int dns_records(const Config& config, const std::string& domain);

}  // namespace postamt::server
