#include "server/security_event_commands.hpp"

#include <charconv>
#include <ctime>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/utc_time.hpp"
#include "security/ban_tracker.hpp"
#include "security/security_event.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"

namespace postamt::server {
namespace {

std::string utc(std::int64_t when) { return utc_time_text(when); }

int fail(const std::string& message) {
  std::cerr << "postamt: error: " << message << "\n";
  return 1;
}

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

nlohmann::json parsed_fields(const std::string& text) {
  auto fields = nlohmann::json::parse(text, nullptr, false);
  return fields.is_object() ? fields : nlohmann::json::object();
}

}  // namespace

std::optional<std::int64_t> parse_since(std::string_view text, std::int64_t now) {
  if (text.empty()) return std::nullopt;
  std::int64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec == std::errc{} && number >= 0) {
    const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
    if (unit.empty()) return number;  // Unix seconds
    const std::int64_t seconds = unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : 0;
    if (seconds != 0) {
      // Further back than 1970 is everything (and number * seconds must not overflow).
      if (number > now / seconds) return 0;
      return now - number * seconds;
    }
  }
  std::tm tm{};
  const std::string copy(text);
  for (const char* format : {"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"}) {
    tm = {};
    const char* rest = strptime(copy.c_str(), format, &tm);
    if (rest != nullptr && *rest == '\0') return static_cast<std::int64_t>(timegm(&tm));
  }
  return std::nullopt;
}

int security_events(const Config& config, const EventsQuery& query) {
  storage::SecurityEventQuery q;
  if (!query.since.empty()) {
    auto since = parse_since(query.since, unix_now());
    if (!since) {
      std::cerr << "postamt: error: --since takes a duration (90s, 30m, 2h, 7d), a UTC time "
                   "(2026-12-05T10:00:00Z) or Unix seconds\n";
      return 2;
    }
    q.since = *since;
  }
  if (!query.kind.empty() && !security::parse_kind(query.kind)) {
    std::cerr << "postamt: error: unknown event kind " << query.kind << "; one of:";
    for (auto name : security::kind_names()) std::cerr << " " << name;
    std::cerr << "\n";
    return 2;
  }
  q.account = query.account;
  q.kind = query.kind;
  q.ip = query.ip;
  q.limit = query.limit;
  auto store = storage::open_sqlite_store(config.server.data_dir);
  auto events = store->security_events(q);
  if (!events) return fail(events.error().message);
  for (const auto& event : *events) {
    if (query.json) {
      // JSON Lines: one object per event, oldest first.
      nlohmann::json line = {{"time", utc(event.at)}, {"at", event.at},      {"kind", event.kind},
                             {"ip", event.ip},        {"account", event.account}, {"protocol", event.protocol},
                             {"fields", parsed_fields(event.fields)}};
      std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      continue;
    }
    std::cout << utc(event.at) << " " << event.kind;
    if (!event.ip.empty()) std::cout << " ip=" << event.ip;
    if (!event.account.empty()) std::cout << " account=" << event.account;
    if (!event.protocol.empty()) std::cout << " proto=" << event.protocol;
    // A named object: items() refers to it, and a temporary in the range would be gone
    // before the loop body runs (C++23's lifetime extension of P2718 is not in GCC 12).
    const nlohmann::json fields = parsed_fields(event.fields);
    for (const auto& [key, value] : fields.items()) {
      std::cout << " " << key << "=" << (value.is_string() ? value.get<std::string>() : value.dump());
    }
    std::cout << "\n";
  }
  return 0;
}

int security_bans(const Config& config, bool json) {
  auto store = storage::open_sqlite_store(config.server.data_dir);
  auto bans = store->list_bans(unix_now());
  if (!bans) return fail(bans.error().message);
  if (json) {
    auto list = nlohmann::json::array();
    for (const auto& ban : *bans) {
      list.push_back({{"target", ban.target},
                      {"reason", ban.reason},
                      {"detail", ban.detail},
                      {"since", utc(ban.banned_at)},
                      {"until", utc(ban.until)},
                      {"offences", ban.offences}});
    }
    std::cout << list.dump(2) << "\n";
    return 0;
  }
  if (bans->empty()) {
    std::cout << "nothing is banned\n";
    return 0;
  }
  for (const auto& ban : *bans) {
    std::cout << ban.target << "\tuntil " << utc(ban.until) << "\treason=" << ban.reason
              << "\toffences=" << ban.offences << "\t" << ban.detail << "\n";
  }
  return 0;
}

int security_unban(const Config& config, const std::string& target) {
  if (target.empty() || target.size() > 64) {
    std::cerr << "postamt: error: give an IP address or a network as `security bans` lists it\n";
    return 2;
  }
  // An address lifts its own ban and that of the network it is in (as the server counts).
  security::BanPolicy policy;
  policy.prefix_v4 = config.security.prefix_v4;
  policy.prefix_v6 = config.security.prefix_v6;
  policy.prefix_factor = config.security.prefix_factor;
  const security::BanTracker keys(policy);
  std::vector<std::string> targets = {target};
  if (auto source = keys.source_key(target); source && *source != target) targets.push_back(*source);
  if (auto network = keys.network_key(target); network && *network != target) targets.push_back(*network);
  auto store = storage::open_sqlite_store(config.server.data_dir);
  const std::int64_t now = unix_now();
  auto lifted = store->lift_bans(targets, now);
  if (!lifted) return fail(lifted.error().message);
  if (lifted->empty()) {
    std::cerr << "postamt: error: " << target << " is not banned\n";
    return 1;
  }
  std::vector<storage::SecurityEventRow> events;
  for (const auto& ban : *lifted) {
    security::SecurityEvent event;
    event.kind = security::EventKind::unban;
    event.fields = {{"reason", ban.reason}, {"by", "operator"}};
    events.push_back({0, now, "unban", ban.target, "", "cli", security::fields_json(event)});
    std::cout << "unbanned " << ban.target << " (banned since " << utc(ban.banned_at) << ": " << ban.reason
              << "); the server lets it in again within 2 seconds\n";
  }
  if (auto added = store->add_security_events(events); !added) return fail(added.error().message);
  return 0;
}

void add_security_event_commands(CLI::App& security,
                                 std::function<std::function<void()>(SecurityConfigAction)> with_config) {
  auto query = std::make_shared<EventsQuery>();
  auto* events = security.add_subcommand("events", "List security events (oldest first)");
  events->add_option("--since", query->since, "A duration back (90s, 30m, 2h, 7d), a UTC time or Unix seconds");
  events->add_option("--account", query->account, "Only this account's events");
  events->add_option("--kind", query->kind, "Only events of this kind (auth_failure, ban, hold, ...)");
  events->add_option("--ip", query->ip, "Only events of this address (or banned network)");
  events->add_option("--limit", query->limit, "At most this many, the newest (default 1000)");
  events->add_flag("--json", query->json, "JSON Lines: one object per event");
  events->callback(with_config([query](const Config& c) { return security_events(c, *query); }));

  auto json = std::make_shared<bool>(false);
  auto* bans = security.add_subcommand("bans", "List banned addresses and networks");
  bans->add_flag("--json", *json, "A JSON array instead of lines");
  bans->callback(with_config([json](const Config& c) { return security_bans(c, *json); }));

  auto target = std::make_shared<std::string>();
  auto* unban = security.add_subcommand("unban", "Lift the ban on an address or network");
  unban->add_option("target", *target, "IP address, or a network as `security bans` lists it")->required();
  unban->callback(with_config([target](const Config& c) { return security_unban(c, *target); }));
}

}  // namespace postamt::server
