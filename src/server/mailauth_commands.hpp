#pragma once
// The operator's sender-authentication checks (`postamt check spf ...`): the same code the
// server runs on inbound mail, against live DNS (the config's [dns] servers, the system
// resolver, or --dns-server), printed for a person or as JSON lines for scripts and tests.
#include <string>

#include "base/config.hpp"

namespace postamt::server {

struct SpfCheckOptions {
  std::string ip;         // the SMTP client's address
  std::string helo;       // its EHLO/HELO name
  std::string mail_from;  // reverse-path without <>; empty: the null sender
  std::string identity = "mailfrom";  // "mailfrom" or "helo"
  std::string receiver;   // %{r}; default: server.hostname, else this machine's name
  std::string dns_server; // "ip:port": instead of the config's servers
  int dns_timeout_ms = 0; // per attempt; 0: the config's dns.timeout (or 2000 ms)
  std::string batch;      // a file of JSON lines ("-": standard input); one JSON line out each
  bool json = false;      // one JSON object instead of text
};

// `config` may be null (no configuration given): then the system resolver unless
// --dns-server. Returns the exit status: 0 when the check ran (whatever its result),
// 1 on bad arguments or when DNS cannot be set up.
int check_spf_command(const Config* config, const SpfCheckOptions& options);

}  // namespace postamt::server
