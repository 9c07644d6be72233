#include "server/config/outbound_limits_keys.hpp"

#include <array>

#include "server/config/net_syntax.hpp"

namespace postamt::config::detail {
namespace {

constexpr std::int64_t kMaxLimit = 10'000'000;

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// "local@domain" with a DNS domain and a local part free of controls, spaces and brackets.
bool is_address(std::string_view text) {
  const auto at = text.rfind('@');
  if (at == 0 || at == std::string_view::npos || at > 64) return false;
  for (const char c : text.substr(0, at)) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"' || c == ',') return false;
  }
  return is_dns_name(lowered(text.substr(at + 1)));
}

template <unsigned OutboundAccountLimits::*kMember>
void limit_key(Checker& checker, const Field& field, OutboundAccountLimits& out) {
  if (const auto value = checker.integer(field, 1, kMaxLimit)) out.*kMember = static_cast<unsigned>(*value);
}

constexpr auto kAccountKeys = std::to_array<KeySpec<OutboundAccountLimits>>({
    {"messages_per_hour", limit_key<&OutboundAccountLimits::messages_per_hour>},
    {"messages_per_day", limit_key<&OutboundAccountLimits::messages_per_day>},
    {"recipients_per_day", limit_key<&OutboundAccountLimits::recipients_per_day>},
    {"new_recipients_per_day", limit_key<&OutboundAccountLimits::new_recipients_per_day>},
});

// The section's own limit keys set the defaults every account starts from.
template <unsigned OutboundAccountLimits::*kMember>
void default_limit_key(Checker& checker, const Field& field, OutboundLimitsConfig& out) {
  limit_key<kMember>(checker, field, out.limits);
}

// [outbound_limits.account."user@example.com"]: one account's limits, starting from the
// section's (so an override names only what differs); read after the section's own keys.
void check_accounts(Checker& checker, const Field& field, OutboundLimitsConfig& out) {
  const auto* table = field.node.as_table();
  if (table == nullptr) {
    checker.report_expected(field, fmt::format("a table of account tables ([{}.\"user@example.com\"])", field.key));
    return;
  }
  for (const auto& [key, node] : *table) {
    const Field entry{join_key(field.key, key.str()), node};
    if (!is_address(key.str())) {
      checker.report(entry.key, key.source(), "expected an account address such as \"user@example.com\"");
      continue;
    }
    OutboundAccountLimits limits = out.limits;
    check_section<OutboundAccountLimits>(checker, entry, kAccountKeys, limits);
    out.accounts[lowered(key.str())] = limits;
  }
}

constexpr auto kOutboundLimitsKeys = std::to_array<KeySpec<OutboundLimitsConfig>>({
    {"enabled", boolean_key<&OutboundLimitsConfig::enabled>},
    {"hold_on_breach", boolean_key<&OutboundLimitsConfig::hold_on_breach>},
    {"notify",
     [](Checker& c, const Field& f, OutboundLimitsConfig& o) {
       if (auto v = c.string(f, "an address such as \"postmaster@example.com\"", is_address)) o.notify = std::move(*v);
     }},
    {"messages_per_hour", default_limit_key<&OutboundAccountLimits::messages_per_hour>},
    {"messages_per_day", default_limit_key<&OutboundAccountLimits::messages_per_day>},
    {"recipients_per_day", default_limit_key<&OutboundAccountLimits::recipients_per_day>},
    {"new_recipients_per_day", default_limit_key<&OutboundAccountLimits::new_recipients_per_day>},
    {"account", [](Checker&, const Field&, OutboundLimitsConfig&) {}},  // second pass, below
    {"burst_factor", integer_key<&OutboundLimitsConfig::burst_factor, 0, 1000>},
    {"burst_floor", integer_key<&OutboundLimitsConfig::burst_floor, 1, kMaxLimit>},
    {"bounce_min", integer_key<&OutboundLimitsConfig::bounce_min, 1, kMaxLimit>},
    {"bounce_percent", integer_key<&OutboundLimitsConfig::bounce_percent, 0, 100>},
    {"login_networks", integer_key<&OutboundLimitsConfig::login_networks, 0, 1000>},
    {"login_window_seconds", integer_key<&OutboundLimitsConfig::login_window, 60, 7 * 86400>},
    {"login_prefix_v4", integer_key<&OutboundLimitsConfig::login_prefix_v4, 8, 32>},
    {"login_prefix_v6", integer_key<&OutboundLimitsConfig::login_prefix_v6, 16, 128>},
    {"known_recipients", integer_key<&OutboundLimitsConfig::known_recipients, 100, 1'000'000>},
});

}  // namespace

void check_outbound_limits(Checker& checker, const Field& field, OutboundLimitsConfig& out) {
  check_section<OutboundLimitsConfig>(checker, field, kOutboundLimitsKeys, out);
  // toml++ keeps a table's keys sorted, so "account" would come before the defaults.
  if (const auto* table = field.node.as_table()) {
    if (const auto* accounts = table->get("account")) check_accounts(checker, Field{join_key(field.key, "account"), *accounts}, out);
  }
}

}  // namespace postamt::config::detail
