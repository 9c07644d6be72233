#include "server/config/security_keys.hpp"

#include <array>

#include "server/config/net_syntax.hpp"

namespace postamt::config::detail {
namespace {

constexpr std::int64_t kMaxCount = 1'000'000;
constexpr std::int64_t kYear = 365 * 86400;

constexpr auto kSecurityKeys = std::to_array<KeySpec<SecurityConfig>>({
    {"bans", boolean_key<&SecurityConfig::bans>},
    {"ban_auth_failures", integer_key<&SecurityConfig::ban_auth_failures, 0, kMaxCount>},
    {"ban_recipient_probes", integer_key<&SecurityConfig::ban_recipient_probes, 0, kMaxCount>},
    {"ban_protocol_errors", integer_key<&SecurityConfig::ban_protocol_errors, 0, kMaxCount>},
    {"window_seconds", integer_key<&SecurityConfig::window, 1, 7 * 86400>},
    {"ban_seconds", integer_key<&SecurityConfig::ban_duration, 1, kYear>},
    {"max_ban_seconds", integer_key<&SecurityConfig::max_ban_duration, 1, kYear>},
    {"prefix_v4", integer_key<&SecurityConfig::prefix_v4, 8, 32>},
    {"prefix_v6", integer_key<&SecurityConfig::prefix_v6, 16, 128>},
    {"prefix_factor", integer_key<&SecurityConfig::prefix_factor, 0, 1000>},
    {"trusted_networks",
     [](Checker& c, const Field& f, SecurityConfig& s) {
       if (auto v = c.string_list(f, "a CIDR network such as \"10.0.0.0/8\"", is_cidr)) s.trusted_networks = std::move(*v);
     }},
    {"events_retention_days", integer_key<&SecurityConfig::events_retention_days, 1, 3650>},
    {"events_max_rows", integer_key<&SecurityConfig::events_max_rows, 1000, 100'000'000>},
});

}  // namespace

void check_security(Checker& checker, const Field& field, SecurityConfig& out) {
  check_section<SecurityConfig>(checker, field, kSecurityKeys, out);
  if (out.max_ban_duration < out.ban_duration) out.max_ban_duration = out.ban_duration;
}

}  // namespace postamt::config::detail
