#include "server/config/filter_keys.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <optional>

#include "server/config/net_syntax.hpp"

namespace postamt::config::detail {
namespace {

bool is_ip_address(std::string_view text) { return parse_ip_address(text).has_value(); }

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// "http://HOST:PORT" with an optional path; HOST a name, an IPv4 address or [IPv6].
bool is_http_url(std::string_view text) {
  if (!text.starts_with("http://")) return false;
  std::string_view rest = text.substr(7);
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  if (authority.empty()) return false;
  std::string_view host = authority;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && (after.front() != ':' || after.size() == 1)) return false;
    return !host.empty();
  }
  const auto colon = authority.rfind(':');
  if (colon != std::string_view::npos) {
    const std::string_view port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5) return false;
    for (const char c : port) {
      if (c < '0' || c > '9') return false;
    }
    host = authority.substr(0, colon);
  }
  return !host.empty() && (is_dns_name(lowered(host)) || is_ip_address(host));
}

// What is wrong with a milter address, or nullopt when it is one: "inet:HOST:PORT",
// "inet6:[ADDRESS]:PORT" (HOST a name or an address, PORT 1 to 65535) or "unix:/PATH"
// (absolute, and short enough for sockaddr_un's sun_path: 107 octets and its NUL).
constexpr std::string_view kMilterAddressForms = "\"inet:HOST:PORT\", \"inet6:[ADDRESS]:PORT\" or \"unix:/path\"";
constexpr std::size_t kMaxUnixSocketPath = 107;

std::optional<std::string> milter_address_problem(std::string_view text) {
  if (text.starts_with("unix:")) {
    const std::string_view path = text.substr(5);
    if (path.empty() || path.front() != '/') {
      return fmt::format("a milter's unix socket path must be absolute (\"unix:/run/milter.sock\"), got {}",
                         shown_value(text));
    }
    if (path.find('\0') != std::string_view::npos) return std::string("a milter's unix socket path holds a NUL");
    if (path.size() > kMaxUnixSocketPath) {
      return fmt::format("a milter's unix socket path may have at most {} octets, this one has {}",
                         kMaxUnixSocketPath, path.size());
    }
    return std::nullopt;
  }
  std::string_view rest;
  if (text.starts_with("inet:")) rest = text.substr(5);
  else if (text.starts_with("inet6:")) rest = text.substr(6);
  else return fmt::format("expected {}, got {}", kMilterAddressForms, shown_value(text));
  const auto colon = rest.rfind(':');
  const std::string_view port = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  const bool digits = !port.empty() && std::ranges::all_of(port, [](char c) { return c >= '0' && c <= '9'; });
  if (colon == std::string_view::npos || colon == 0 || !digits || (rest.front() == '[' && rest[colon - 1] != ']')) {
    return fmt::format("a milter's TCP address needs a host and a port ({}), got {}", kMilterAddressForms,
                       shown_value(text));
  }
  // Leading zeros are harmless; more than five digits are out of range whatever they say.
  const std::string_view significant = port.substr(std::min(port.find_first_not_of('0'), port.size()));
  unsigned number = 0;
  for (const char c : significant.substr(0, 6)) number = number * 10 + static_cast<unsigned>(c - '0');
  if (significant.empty() || significant.size() > 5 || number > 65535) {
    return fmt::format("a milter's port must be 1 to 65535, got {}", shown_value(port));
  }
  std::string_view host = rest.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (!is_dns_name(lowered(host)) && !is_ip_address(host)) {
    return fmt::format("a milter's host must be a DNS name or an IP address, got {}", shown_value(host));
  }
  return std::nullopt;
}

bool is_milter_name(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  for (const char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::optional<double> number(Checker& checker, const Field& field, double min, double max) {
  double value = 0;
  if (const auto* integer = field.node.as_integer()) {
    value = static_cast<double>(integer->get());
  } else if (const auto* floating = field.node.as_floating_point()) {
    value = floating->get();
  } else {
    checker.report_expected(field, fmt::format("a number from {} to {}", min, max));
    return std::nullopt;
  }
  if (!(value >= min && value <= max)) {
    checker.report(field.key, field.node.source(), fmt::format("expected a number from {} to {}", min, max));
    return std::nullopt;
  }
  return value;
}

constexpr auto kRspamdKeys = std::to_array<KeySpec<RspamdConfig>>({
    {"url", [](Checker& c, const Field& f, RspamdConfig& r) {
       if (auto v = c.string(f, "an http URL such as \"http://127.0.0.1:11333\"", is_http_url)) r.url = *v;
     }},
    {"controller_url", [](Checker& c, const Field& f, RspamdConfig& r) {
       if (auto v = c.string(f, "an http URL such as \"http://127.0.0.1:11334\"", is_http_url)) r.controller_url = *v;
     }},
    {"password", [](Checker& c, const Field& f, RspamdConfig& r) {
       if (auto v = c.string(f, "the controller's password", [](std::string_view) { return true; })) r.password = *v;
     }},
    {"timeout_seconds", integer_key<&RspamdConfig::timeout, 1, 600>},
    {"fail_closed", boolean_key<&RspamdConfig::fail_closed>},
});

constexpr auto kMilterKeys = std::to_array<KeySpec<MilterConfig>>({
    {"name", [](Checker& c, const Field& f, MilterConfig& m) {
       if (auto v = c.string(f, "a short name such as \"clamav\" (letters, digits, - _ .)", is_milter_name)) m.name = *v;
     }},
    {"address", [](Checker& c, const Field& f, MilterConfig& m) {
       const auto* text = f.node.as_string();
       if (text == nullptr) return c.report_expected(f, kMilterAddressForms);
       if (auto problem = milter_address_problem(text->get())) return c.report(f.key, f.node.source(), *problem);
       m.address = text->get();
     }},
    {"timeout_seconds", integer_key<&MilterConfig::timeout, 1, 600>},
    {"fail_closed", boolean_key<&MilterConfig::fail_closed>},
});

void check_milters(Checker& checker, const Field& field, FilterConfig& out) {
  const auto* array = field.node.as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    checker.report_expected(field, fmt::format("tables ([[{}]] with name and address)", field.key));
    return;
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    const Field entry{fmt::format("{}[{}]", field.key, i), *array->get(i)};
    MilterConfig milter;
    check_section<MilterConfig>(checker, entry, kMilterKeys, milter);
    if (milter.address.empty()) {
      checker.report(entry.key, entry.node.source(), "a milter needs an address (\"inet:127.0.0.1:8891\")");
      continue;
    }
    if (milter.name.empty()) milter.name = "milter" + std::to_string(i + 1);
    out.milters.push_back(std::move(milter));
  }
}

constexpr auto kDnsListKeys = std::to_array<KeySpec<DnsListConfig>>({
    {"zone", [](Checker& c, const Field& f, DnsListConfig& d) {
       if (auto v = c.string(f, "a DNS zone such as \"zen.example.org\"",
                             [](std::string_view t) { return is_dns_name(lowered(t)); })) {
         d.zone = lowered(*v);
       }
     }},
    {"weight", [](Checker& c, const Field& f, DnsListConfig& d) {
       if (auto v = number(c, f, -1000, 1000)) d.weight = *v;
     }},
    {"answers", [](Checker& c, const Field& f, DnsListConfig& d) {
       if (auto v = c.string_list(f, "an IPv4 address such as \"127.0.0.2\"", is_ip_address)) d.answers = std::move(*v);
     }},
});

// `dnsbl = ["zen.example.org", { zone = "b.example", weight = 0.5, answers = ["127.0.0.2"] }]`
void check_dns_lists(Checker& checker, const Field& field, std::vector<DnsListConfig>& out, double default_weight) {
  const auto* array = field.node.as_array();
  if (array == nullptr) {
    checker.report_expected(field, "an array of zones (\"zen.example.org\" or { zone = …, weight = … })");
    return;
  }
  out.clear();
  for (std::size_t i = 0; i < array->size(); ++i) {
    const Field entry{fmt::format("{}[{}]", field.key, i), *array->get(i)};
    DnsListConfig list;
    list.weight = default_weight;
    if (entry.node.is_string()) {
      if (auto v = checker.string(entry, "a DNS zone such as \"zen.example.org\"",
                                  [](std::string_view t) { return is_dns_name(lowered(t)); })) {
        list.zone = lowered(*v);
      }
    } else {
      check_section<DnsListConfig>(checker, entry, kDnsListKeys, list);
    }
    if (list.zone.empty()) {
      if (!entry.node.is_string()) checker.report(entry.key, entry.node.source(), "a list needs a zone");
      continue;
    }
    out.push_back(std::move(list));
  }
}

constexpr std::array<std::string_view, 3> kCheckModeNames = {"off", "junk", "reject"};

template <CheckMode FilterConfig::*kMember>
void check_mode_key(Checker& checker, const Field& field, FilterConfig& out) {
  if (const auto i = checker.one_of(field, kCheckModeNames)) out.*kMember = static_cast<CheckMode>(*i);
}

constexpr auto kFilterKeys = std::to_array<KeySpec<FilterConfig>>({
    {"max_message_size_kb", [](Checker& c, const Field& f, FilterConfig& out) {
       if (auto v = c.integer(f, 1, 1024 * 1024)) out.max_message_size = static_cast<std::size_t>(*v) * 1024;
     }},
    {"rspamd", [](Checker& c, const Field& f, FilterConfig& out) {
       check_section<RspamdConfig>(c, f, kRspamdKeys, out.rspamd);
     }},
    {"milter", check_milters},
    {"dnsbl", [](Checker& c, const Field& f, FilterConfig& out) { check_dns_lists(c, f, out.dnsbl, 1.0); }},
    {"dnswl", [](Checker& c, const Field& f, FilterConfig& out) { check_dns_lists(c, f, out.dnswl, -10.0); }},
    {"dnsbl_reject_score", [](Checker& c, const Field& f, FilterConfig& out) {
       if (auto v = number(c, f, 0.001, 1000)) out.dnsbl_reject_score = *v;
     }},
    {"reverse_dns", check_mode_key<&FilterConfig::reverse_dns>},
    {"helo", check_mode_key<&FilterConfig::helo>},
    {"greylist", boolean_key<&FilterConfig::greylist>},
    {"classifier", boolean_key<&FilterConfig::classifier>},
    {"greylist_delay_seconds", integer_key<&FilterConfig::greylist_delay, 1, 86400>},
    {"greet_pause_ms", integer_key<&FilterConfig::greet_pause, 0, 30000>},
    {"max_messages_per_ip_per_hour", integer_key<&FilterConfig::max_messages_per_ip_per_hour, 0, 1000000>},
});

}  // namespace

void check_filter(Checker& checker, const Field& field, FilterConfig& out) {
  check_section<FilterConfig>(checker, field, kFilterKeys, out);
}

}  // namespace postamt::config::detail
