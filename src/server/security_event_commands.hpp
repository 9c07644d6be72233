#pragma once
// `postamt security events|bans|unban` (issue 15 §7, §8): read the store beside a running
// server (SQLite WAL); an unban ends the ban's row, and the server, which polls the active
// bans every two seconds, lets the address in again within that time.
#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>

#include "base/config.hpp"

namespace postamt::server {

struct EventsQuery {
  std::string since;  // "30m", "2h", "7d", "2026-12-05T10:00:00Z", Unix seconds; "": all
  std::string account;
  std::string kind;
  std::string ip;
  std::size_t limit = 1000;
  bool json = false;
};

// "30m" -> now - 1800 and so on; nullopt when the text is none of the forms.
std::optional<std::int64_t> parse_since(std::string_view text, std::int64_t now);

int security_events(const Config& config, const EventsQuery& query);
int security_bans(const Config& config, bool json);
int security_unban(const Config& config, const std::string& target);

using SecurityConfigAction = std::function<int(const Config&)>;
void add_security_event_commands(CLI::App& security,
                                 std::function<std::function<void()>(SecurityConfigAction)> with_config);

}  // namespace postamt::server
