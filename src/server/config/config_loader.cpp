#include "server/config/config_loader.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <toml++/toml.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <fstream>
#include <limits>
#include <optional>
#include <span>
#include <sstream>
#include <system_error>
#include <tuple>
#include <utility>

#include "server/config/net_syntax.hpp"
#include "server/config/suggest.hpp"
#include "server/config/toml_prescan.hpp"

namespace postamt::config {

namespace {

namespace fs = std::filesystem;

// A config file is a few kilobytes; anything this large is a mistake (a log, a binary).
constexpr std::uintmax_t kMaxConfigFileSize = 1024 * 1024;
// Offending values are echoed back; keep a pasted blob from flooding the terminal.
constexpr std::size_t kMaxShownValue = 80;
constexpr std::int64_t kNoUpperBound = std::numeric_limits<std::int64_t>::max();

// ---------------------------------------------------------------------------------------
// Text helpers: everything printed stays on one line, whatever bytes the file holds.

std::string escape_controls(std::string_view text, bool escape_quotes) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (byte < 0x20 || byte == 0x7f) {
      out += fmt::format("\\u{:04X}", byte);
    } else if (escape_quotes && (c == '"' || c == '\\')) {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

// A string value as the operator wrote it, quoted and cut short when long.
std::string shown_value(std::string_view text) {
  if (text.size() <= kMaxShownValue) {
    return "\"" + escape_controls(text, true) + "\"";
  }
  std::size_t cut = kMaxShownValue;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
    --cut;  // do not split a UTF-8 sequence
  }
  return "\"" + escape_controls(text.substr(0, cut), true) + "\"...";
}

bool is_bare_key(std::string_view segment) {
  return !segment.empty() && std::ranges::all_of(segment, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// Appends one key segment in TOML's dotted-key spelling (quoted when not a bare key).
std::string join_key(std::string_view prefix, std::string_view segment) {
  std::string out(prefix);
  if (!out.empty()) {
    out += '.';
  }
  if (is_bare_key(segment)) {
    out += segment;
  } else {
    out += "\"" + escape_controls(segment, true) + "\"";
  }
  return out;
}

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    case toml::node_type::none: break;
  }
  return "nothing";
}

std::string describe_range(std::int64_t min, std::int64_t max) {
  if (max == kNoUpperBound) {
    return fmt::format("an integer >= {}", min);
  }
  return fmt::format("an integer from {} to {}", min, max);
}

std::string list_choices(std::span<const std::string_view> names) {
  std::string out;
  for (const auto name : names) {
    out += out.empty() ? "" : ", ";
    out += "\"" + std::string(name) + "\"";
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// The checker: typed readers that report what is wrong and return nullopt.

// One key = value pair under validation. key is the full dotted key.
struct Field {
  std::string key;
  const toml::node& node;
};

class Checker {
 public:
  void report(std::string key, const toml::source_region& where, std::string message) {
    problems_.push_back(
        ConfigProblem{std::move(key), where.begin.line, where.begin.column, std::move(message)});
  }

  void report_whole_file(std::string key, std::string message) {
    problems_.push_back(ConfigProblem{std::move(key), 0, 0, std::move(message)});
  }

  void report_expected(const Field& field, std::string_view expected) {
    report(field.key, field.node.source(),
           fmt::format("expected {}, got {}", expected, type_name(field.node)));
  }

  void report_bad_value(const Field& field, std::string_view expected, std::string_view value) {
    report(field.key, field.node.source(),
           fmt::format("expected {}, got {}", expected, shown_value(value)));
  }

  void report_unknown_key(std::string key, const toml::source_region& where, std::string_view name,
                          std::span<const std::string_view> known) {
    std::string message = "unknown key";
    if (const auto suggestion = closest_match(name, known)) {
      message += fmt::format(", did you mean '{}'?", *suggestion);
    }
    report(std::move(key), where, std::move(message));
  }

  std::size_t problem_count() const { return problems_.size(); }

  // In file order; whole-file problems (line 0) last.
  std::vector<ConfigProblem> take_problems() {
    // Stable by the index tie-break. (std::stable_sort trips a deprecation warning in
    // libstdc++ 12 under clang 19, so it is avoided.)
    std::vector<std::size_t> order(problems_.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
      order[i] = i;
    }
    const auto rank = [this](std::size_t i) {
      const ConfigProblem& p = problems_[i];
      return std::tuple(p.line == 0, p.line, p.column, i);
    };
    std::ranges::sort(order, [&rank](std::size_t a, std::size_t b) { return rank(a) < rank(b); });
    std::vector<ConfigProblem> sorted;
    sorted.reserve(order.size());
    for (const std::size_t i : order) {
      sorted.push_back(std::move(problems_[i]));
    }
    problems_.clear();
    return sorted;
  }

  std::optional<std::int64_t> integer(const Field& field, std::int64_t min, std::int64_t max) {
    const auto* value = field.node.as_integer();
    if (value == nullptr) {
      report_expected(field, describe_range(min, max));
      return std::nullopt;
    }
    if (value->get() < min || value->get() > max) {
      report(field.key, field.node.source(),
             fmt::format("expected {}, got {}", describe_range(min, max), value->get()));
      return std::nullopt;
    }
    return value->get();
  }

  std::optional<bool> boolean(const Field& field) {
    const auto* value = field.node.as_boolean();
    if (value == nullptr) {
      report_expected(field, "a boolean (true or false)");
      return std::nullopt;
    }
    return value->get();
  }

  // A string that passes valid(); expected describes the accepted form.
  template <class Predicate>
  std::optional<std::string> string(const Field& field, std::string_view expected,
                                    Predicate valid) {
    const auto* value = field.node.as_string();
    if (value == nullptr) {
      report_expected(field, expected);
      return std::nullopt;
    }
    if (!valid(std::string_view(value->get()))) {
      report_bad_value(field, expected, value->get());
      return std::nullopt;
    }
    return value->get();
  }

  // Relative paths stay relative here; resolve_paths() anchors them once all is valid.
  std::optional<fs::path> path(const Field& field) {
    auto text = string(field, "a non-empty path", [](std::string_view value) {
      return !value.empty() && value.find('\0') == std::string_view::npos;
    });
    if (!text) {
      return std::nullopt;
    }
    return fs::path(std::move(*text));
  }

  // The index of the value in names.
  std::optional<std::size_t> one_of(const Field& field, std::span<const std::string_view> names) {
    const std::string expected = "one of " + list_choices(names);
    const auto* value = field.node.as_string();
    if (value == nullptr) {
      report_expected(field, expected);
      return std::nullopt;
    }
    const std::string_view text = value->get();
    const auto found = std::ranges::find(names, text);
    if (found != names.end()) {
      return static_cast<std::size_t>(found - names.begin());
    }
    std::string message = fmt::format("expected {}, got {}", expected, shown_value(text));
    if (const auto suggestion = closest_match(text, names)) {
      message += fmt::format(" (did you mean \"{}\"?)", *suggestion);
    }
    report(field.key, field.node.source(), std::move(message));
    return std::nullopt;
  }

  // An array of strings, each passing valid(); every bad element is reported.
  template <class Predicate>
  std::optional<std::vector<std::string>> string_list(const Field& field,
                                                      std::string_view expected_item,
                                                      Predicate valid) {
    const auto* array = field.node.as_array();
    if (array == nullptr) {
      report_expected(field, fmt::format("an array of strings, each {}", expected_item));
      return std::nullopt;
    }
    std::vector<std::string> out;
    bool all_valid = true;
    for (std::size_t i = 0; i < array->size(); ++i) {
      const Field element{fmt::format("{}[{}]", field.key, i), *array->get(i)};
      if (auto text = string(element, expected_item, valid)) {
        out.push_back(std::move(*text));
      } else {
        all_valid = false;
      }
    }
    if (!all_valid) {
      return std::nullopt;
    }
    return out;
  }

 private:
  std::vector<ConfigProblem> problems_;
};

// ---------------------------------------------------------------------------------------
// Table-driven key descriptions: the same table finds the handler, detects unknown keys
// and supplies the "did you mean" candidates.

template <class Section>
struct KeySpec {
  std::string_view name;
  void (*apply)(Checker&, const Field&, Section&);
};

template <class Section>
void check_keys(Checker& checker, const toml::table& table, std::string_view prefix,
                std::span<const KeySpec<Section>> specs, Section& out) {
  std::vector<std::string_view> names;
  names.reserve(specs.size());
  for (const auto& spec : specs) {
    names.push_back(spec.name);
  }
  for (const auto& [key, node] : table) {
    const std::string_view name = key.str();
    std::string full_key = join_key(prefix, name);
    const auto spec = std::ranges::find(specs, name, &KeySpec<Section>::name);
    if (spec == specs.end()) {
      checker.report_unknown_key(std::move(full_key), key.source(), name, names);
      continue;
    }
    spec->apply(checker, Field{std::move(full_key), node}, out);
  }
}

template <class Section>
void check_section(Checker& checker, const Field& field, std::span<const KeySpec<Section>> specs,
                   Section& out) {
  const auto* table = field.node.as_table();
  if (table == nullptr) {
    checker.report_expected(field, fmt::format("a table ([{}])", field.key));
    return;
  }
  check_keys(checker, *table, field.key, specs, out);
}

// ---------------------------------------------------------------------------------------
// Value forms.

bool is_user_name(std::string_view text) {
  return !text.empty() && std::ranges::none_of(text, [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte <= 0x20 || byte == 0x7f || c == ':' || c == '/';
  });
}

bool is_printable_line(std::string_view text) {
  return !text.empty() && std::ranges::none_of(text, [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

// "ip", "ip:port", "[v6]" or "[v6]:port"; a bare IPv6 literal has no port.
bool is_dns_server(std::string_view text) {
  const auto parts = split_host_port(text);
  if (!parts) {
    return false;
  }
  const auto address = parse_ip_address(parts->host);
  if (!address) {
    return false;
  }
  // A colon-separated port after an unbracketed host only works for IPv4.
  if (parts->port && !parts->bracketed && address->family != IpFamily::v4) {
    return false;
  }
  if (parts->bracketed && address->family != IpFamily::v6) {
    return false;
  }
  if (!parts->port) {
    return true;
  }
  const auto port = parse_port(*parts->port);
  return port && *port != 0;
}

// "name:port", "ipv4:port" or "[ipv6]:port".
bool is_relayhost(std::string_view text) {
  const auto parts = split_host_port(text);
  if (!parts || !parts->port) {
    return false;
  }
  const auto port = parse_port(*parts->port);
  if (!port || *port == 0) {
    return false;
  }
  if (parts->bracketed) {
    const auto address = parse_ip_address(parts->host);
    return address && address->family == IpFamily::v6;
  }
  const auto address = parse_ip_address(parts->host);
  return (address && address->family == IpFamily::v4) || is_dns_name(parts->host);
}

struct ListenAddress {
  std::string host;  // canonical, no brackets
  std::uint16_t port = 0;
};

// "ipv4:port" or "[ipv6]:port" with a literal address.
std::optional<ListenAddress> parse_listen_address(std::string_view text) {
  const auto parts = split_host_port(text);
  if (!parts || !parts->port) {
    return std::nullopt;
  }
  const auto address = parse_ip_address(parts->host);
  const auto port = parse_port(*parts->port);
  if (!address || !port) {
    return std::nullopt;
  }
  if (parts->bracketed != (address->family == IpFamily::v6)) {
    return std::nullopt;
  }
  return ListenAddress{address->text, *port};
}

// Handlers for the plain keys, made from the member they set; each converts to the
// KeySpec<Section>::apply function pointer.
template <class Member>
struct MemberTraits;

template <class Section, class Value>
struct MemberTraits<Value Section::*> {
  using SectionType = Section;
  using ValueType = Value;
};

template <auto kMember>
using SectionOf = typename MemberTraits<decltype(kMember)>::SectionType;

// Integers, and durations counted in their own unit (seconds, milliseconds).
template <auto kMember, std::int64_t kMin, std::int64_t kMax>
void integer_key(Checker& checker, const Field& field, SectionOf<kMember>& out) {
  using Value = typename MemberTraits<decltype(kMember)>::ValueType;
  if (const auto value = checker.integer(field, kMin, kMax)) {
    out.*kMember = Value(*value);
  }
}

template <auto kMember>
void boolean_key(Checker& checker, const Field& field, SectionOf<kMember>& out) {
  if (const auto value = checker.boolean(field)) {
    out.*kMember = *value;
  }
}

// fs::path and std::optional<fs::path> members alike.
template <auto kMember>
void path_key(Checker& checker, const Field& field, SectionOf<kMember>& out) {
  if (auto value = checker.path(field)) {
    out.*kMember = std::move(*value);
  }
}

// ---------------------------------------------------------------------------------------
// The sections. Ranges are documented in docs/CONFIGURATION.md; keep both in step.

constexpr std::int64_t kMaxCount = 1'000'000;

constexpr auto kServerKeys = std::to_array<KeySpec<ServerConfig>>({
    {"hostname",
     [](Checker& c, const Field& f, ServerConfig& s) {
       if (auto v = c.string(f, "a DNS host name such as \"mail.example.com\"", is_dns_name)) {
         s.hostname = std::move(*v);
       }
     }},
    {"data_dir", path_key<&ServerConfig::data_dir>},
    {"ports_file", path_key<&ServerConfig::ports_file>},
    {"user",
     [](Checker& c, const Field& f, ServerConfig& s) {
       if (auto v = c.string(f, "a user name", is_user_name)) {
         s.user = std::move(*v);
       }
     }},
    {"io_threads", integer_key<&ServerConfig::io_threads, 0, 256>},
    {"storage_threads", integer_key<&ServerConfig::storage_threads, 1, 64>},
    {"shutdown_grace_seconds", integer_key<&ServerConfig::shutdown_grace, 0, 3600>},
});

constexpr std::array<std::string_view, 2> kTlsVersions = {"1.2", "1.3"};

constexpr auto kTlsKeys = std::to_array<KeySpec<TlsConfig>>({
    {"cert", path_key<&TlsConfig::cert>},
    {"key", path_key<&TlsConfig::key>},
    {"self_signed", boolean_key<&TlsConfig::self_signed>},
    {"min_version",
     [](Checker& c, const Field& f, TlsConfig& t) {
       if (const auto i = c.one_of(f, kTlsVersions)) {
         t.min_version = std::string(kTlsVersions[*i]);
       }
     }},
    {"ciphers",
     [](Checker& c, const Field& f, TlsConfig& t) {
       if (auto v = c.string(f, "a non-empty OpenSSL cipher list", is_printable_line)) {
         t.ciphers = std::move(*v);
       }
     }},
});

constexpr auto kAuthKeys = std::to_array<KeySpec<AuthConfig>>({
    {"allow_plaintext_without_tls", boolean_key<&AuthConfig::allow_plaintext_without_tls>},
    {"max_failures_per_ip", integer_key<&AuthConfig::max_failures_per_ip, 1, kMaxCount>},
    {"lockout_seconds", integer_key<&AuthConfig::lockout, 0, 7 * 86400>},
    {"failure_delay_ms", integer_key<&AuthConfig::failure_delay, 0, 60'000>},
});

constexpr auto kDnsKeys = std::to_array<KeySpec<DnsConfig>>({
    {"servers",
     [](Checker& c, const Field& f, DnsConfig& d) {
       constexpr std::string_view kExpected =
           "an IP address with an optional port (\"ip\", \"ip:port\", \"[v6]:port\")";
       if (auto v = c.string_list(f, kExpected, is_dns_server)) {
         d.servers = std::move(*v);
       }
     }},
    {"timeout_seconds", integer_key<&DnsConfig::timeout, 1, 300>},
});

constexpr std::array<std::string_view, 3> kOutboundTlsNames = {"none", "opportunistic", "required"};
constexpr std::array<OutboundTls, 3> kOutboundTlsValues = {OutboundTls::none, OutboundTls::opportunistic,
                                                           OutboundTls::required};

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool has_control(std::string_view text) {
  return std::ranges::any_of(text, [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// [outbound.tls_policy]: recipient domain = "none" | "opportunistic" | "required".
void check_tls_policy(Checker& checker, const Field& field, OutboundConfig& out) {
  const auto* table = field.node.as_table();
  if (table == nullptr) {
    checker.report_expected(field, fmt::format("a table ([{}]) of domain = policy", field.key));
    return;
  }
  for (const auto& [key, node] : *table) {
    const std::string domain = ascii_lower(key.str());
    const Field entry{join_key(field.key, key.str()), node};
    if (!is_dns_name(domain)) {
      checker.report(entry.key, key.source(), "expected a domain name such as \"example.com\"");
      continue;
    }
    if (const auto i = checker.one_of(entry, kOutboundTlsNames)) out.tls_policy[domain] = kOutboundTlsValues[*i];
  }
}

constexpr auto kOutboundKeys = std::to_array<KeySpec<OutboundConfig>>({
    {"mx_port", integer_key<&OutboundConfig::mx_port, 1, 65535>},
    {"relayhost",
     [](Checker& c, const Field& f, OutboundConfig& o) {
       const auto valid = [](std::string_view text) { return text.empty() || is_relayhost(text); };
       if (auto v = c.string(f, "\"host:port\" (or \"\" for none)", valid)) {
         o.relayhost = std::move(*v);
       }
     }},
    {"relayhost_user",
     [](Checker& c, const Field& f, OutboundConfig& o) {
       const auto valid = [](std::string_view text) { return text.size() <= 255 && !has_control(text); };
       if (auto v = c.string(f, "a user name without control characters", valid)) o.relayhost_user = std::move(*v);
     }},
    {"relayhost_password",
     [](Checker& c, const Field& f, OutboundConfig& o) {
       const auto valid = [](std::string_view text) { return text.size() <= 255 && !has_control(text); };
       if (auto v = c.string(f, "a password without control characters", valid)) {
         o.relayhost_password = std::move(*v);
       }
     }},
    {"retry_initial_seconds", integer_key<&OutboundConfig::retry_initial, 1, 86400>},
    {"retry_max_seconds", integer_key<&OutboundConfig::retry_max, 1, 7 * 86400>},
    {"max_queue_lifetime_seconds", integer_key<&OutboundConfig::max_queue_lifetime, 1, 60 * 86400>},
    {"queue_scan_interval_seconds", integer_key<&OutboundConfig::queue_scan_interval, 1, 3600>},
    {"connect_timeout_seconds", integer_key<&OutboundConfig::connect_timeout, 1, 600>},
    {"command_timeout_seconds", integer_key<&OutboundConfig::command_timeout, 1, 3600>},
    {"max_connections", integer_key<&OutboundConfig::max_connections, 1, 100'000>},
    {"max_connections_per_domain", integer_key<&OutboundConfig::max_connections_per_domain, 1, 10'000>},
    {"max_messages_per_connection", integer_key<&OutboundConfig::max_messages_per_connection, 1, 100'000>},
    {"tls",
     [](Checker& c, const Field& f, OutboundConfig& o) {
       if (const auto i = c.one_of(f, kOutboundTlsNames)) o.tls = kOutboundTlsValues[*i];
     }},
    {"tls_policy", check_tls_policy},
});

// [smtp.send_as]: account address = ["domain", ...].
void check_send_as(Checker& checker, const Field& field, SmtpConfig& out) {
  const auto* table = field.node.as_table();
  if (table == nullptr) {
    checker.report_expected(field, fmt::format("a table ([{}]) of account = [\"domain\", ...]", field.key));
    return;
  }
  for (const auto& [key, node] : *table) {
    const Field entry{join_key(field.key, key.str()), node};
    const auto at = key.str().find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == key.str().size() || has_control(key.str())) {
      checker.report(entry.key, key.source(), "expected an account address such as \"alice@example.com\"");
      continue;
    }
    const auto domain = [](std::string_view text) { return is_dns_name(ascii_lower(text)); };
    if (auto v = checker.string_list(entry, "a domain name such as \"example.com\"", domain)) {
      for (auto& d : *v) d = ascii_lower(d);
      out.send_as[ascii_lower(key.str())] = std::move(*v);
    }
  }
}

constexpr auto kSmtpKeys = std::to_array<KeySpec<SmtpConfig>>({
    {"max_message_size", integer_key<&SmtpConfig::max_message_size, 1, kNoUpperBound>},
    {"max_recipients", integer_key<&SmtpConfig::max_recipients, 1, kMaxCount>},
    {"max_line_length", integer_key<&SmtpConfig::max_text_line, 1000, 1024 * 1024>},
    {"enforce_sender", boolean_key<&SmtpConfig::enforce_sender>},
    {"normalize_bare_line_endings", boolean_key<&SmtpConfig::normalize_bare_line_endings>},
    {"enforce_from_header", boolean_key<&SmtpConfig::enforce_from_header>},
    {"allow_null_sender_submission", boolean_key<&SmtpConfig::allow_null_sender_submission>},
    {"spool_memory_limit", integer_key<&SmtpConfig::spool_memory_limit, 4096, 64 * 1024 * 1024>},
    {"send_as", check_send_as},
    {"command_timeout_seconds", integer_key<&SmtpConfig::command_timeout, 1, 3600>},
    {"data_timeout_seconds", integer_key<&SmtpConfig::data_timeout, 1, 86400>},
    {"data_min_rate", integer_key<&SmtpConfig::data_min_rate, 0, kNoUpperBound>},
    {"relay_networks",
     [](Checker& c, const Field& f, SmtpConfig& s) {
       constexpr std::string_view kExpected =
           "a CIDR network such as \"192.0.2.0/24\" or \"2001:db8::/32\"";
       if (auto v = c.string_list(f, kExpected, is_cidr)) {
         s.relay_networks = std::move(*v);
       }
     }},
});

constexpr auto kLimitsKeys = std::to_array<KeySpec<LimitsConfig>>({
    {"max_connections", integer_key<&LimitsConfig::max_connections, 1, kMaxCount>},
    {"max_connections_per_ip", integer_key<&LimitsConfig::max_connections_per_ip, 1, kMaxCount>},
    {"idle_timeout_seconds", integer_key<&LimitsConfig::idle_timeout, 1, 86400>},
    {"max_line_length", integer_key<&LimitsConfig::max_line_length, 512, 1024 * 1024>},
});

constexpr std::array<std::string_view, 5> kLogLevelNames = {"trace", "debug", "info", "warn",
                                                            "error"};
constexpr std::array<LogLevel, 5> kLogLevels = {LogLevel::trace, LogLevel::debug, LogLevel::info,
                                                LogLevel::warn, LogLevel::error};

constexpr auto kLogKeys = std::to_array<KeySpec<LogConfig>>({
    {"level",
     [](Checker& c, const Field& f, LogConfig& l) {
       if (const auto i = c.one_of(f, kLogLevelNames)) {
         l.level = kLogLevels[*i];
       }
     }},
    {"file", path_key<&LogConfig::file>},
});

constexpr std::array<std::string_view, 8> kProtocolNames = {
    "smtp", "submission", "submissions", "imap", "imaps", "pop3", "pop3s", "http"};

constexpr auto kListenerKeys = std::to_array<KeySpec<ListenerConfig>>({
    {"protocol",
     [](Checker& c, const Field& f, ListenerConfig& l) {
       if (const auto i = c.one_of(f, kProtocolNames)) {
         l.protocol = *protocol_from_name(kProtocolNames[*i]);
       }
     }},
    {"address",
     [](Checker& c, const Field& f, ListenerConfig& l) {
       const auto text =
           c.string(f, "\"ip:port\" with a literal IP, IPv6 as \"[::1]:143\"",
                    [](std::string_view t) { return parse_listen_address(t).has_value(); });
       if (text) {
         auto address = *parse_listen_address(*text);
         l.host = std::move(address.host);
         l.port = address.port;
       }
     }},
});

constexpr std::array<std::string_view, 2> kRequiredListenerKeys = {"protocol", "address"};

void check_listeners(Checker& checker, const Field& field, Config& config) {
  const auto* entries = field.node.as_array();
  if (entries == nullptr || !entries->is_array_of_tables()) {
    if (entries != nullptr && entries->empty()) {
      checker.report(field.key, field.node.source(), "at least one [[listener]] is required");
    } else {
      checker.report_expected(field, "an array of tables ([[listener]])");
    }
    return;
  }
  std::vector<std::size_t> bound_index;  // array index of each entry in config.listeners
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const auto& table = *entries->get(i)->as_table();
    const std::string prefix = fmt::format("{}[{}]", field.key, i);
    const std::size_t problems_before = checker.problem_count();
    ListenerConfig listener;
    check_keys<ListenerConfig>(checker, table, prefix, kListenerKeys, listener);
    for (const auto required : kRequiredListenerKeys) {
      if (!table.contains(required)) {
        checker.report(join_key(prefix, required), table.source(), "missing required key");
      }
    }
    if (checker.problem_count() != problems_before) {
      continue;
    }
    for (std::size_t j = 0; j < config.listeners.size(); ++j) {
      const auto& other = config.listeners[j];
      if (listener.port != 0 && other.port == listener.port && other.host == listener.host) {
        checker.report(join_key(prefix, "address"), table.get("address")->source(),
                       fmt::format("duplicate listener address {} (also used by {}[{}])",
                                   shown_value(listener.address()), field.key, bound_index[j]));
        break;
      }
    }
    bound_index.push_back(i);
    config.listeners.push_back(std::move(listener));
  }
}

template <auto kMember, const auto& kSpecs>
void section_key(Checker& checker, const Field& field, Config& config) {
  using Section = typename MemberTraits<decltype(kMember)>::ValueType;
  check_section<Section>(checker, field, kSpecs, config.*kMember);
}

constexpr auto kTopLevelKeys = std::to_array<KeySpec<Config>>({
    {"server", section_key<&Config::server, kServerKeys>},
    {"tls", section_key<&Config::tls, kTlsKeys>},
    {"auth", section_key<&Config::auth, kAuthKeys>},
    {"dns", section_key<&Config::dns, kDnsKeys>},
    {"outbound", section_key<&Config::outbound, kOutboundKeys>},
    {"smtp", section_key<&Config::smtp, kSmtpKeys>},
    {"limits", section_key<&Config::limits, kLimitsKeys>},
    {"log", section_key<&Config::log, kLogKeys>},
    {"listener", check_listeners},
});

// ---------------------------------------------------------------------------------------

fs::path anchored(const fs::path& base_dir, const fs::path& path) {
  return path.is_absolute() ? path.lexically_normal() : (base_dir / path).lexically_normal();
}

// Defaults are relative too ("data", "tls/cert.pem"): they live next to the config file.
void resolve_paths(Config& config, const fs::path& base_dir) {
  config.server.data_dir = anchored(base_dir, config.server.data_dir);
  if (config.server.ports_file) {
    config.server.ports_file = anchored(base_dir, *config.server.ports_file);
  }
  config.tls.cert = anchored(base_dir, config.tls.cert);
  config.tls.key = anchored(base_dir, config.tls.key);
  if (config.log.file) {
    config.log.file = anchored(base_dir, *config.log.file);
  }
}

fs::path absolute_path(const fs::path& path) {
  std::error_code error;
  const fs::path result = fs::absolute(path, error);
  return error ? path.lexically_normal() : result.lexically_normal();
}

std::unexpected<ConfigErrors> whole_file_error(const fs::path& source, std::string message) {
  return std::unexpected(ConfigErrors{source, {ConfigProblem{"", 0, 0, std::move(message)}}});
}

}  // namespace

std::string ConfigErrors::to_string() const {
  const std::string file = escape_controls(source.string(), false);
  std::string out;
  for (const auto& problem : problems) {
    out += file;
    if (problem.line != 0) {
      out += fmt::format(":{}", problem.line);
      if (problem.column != 0) {
        out += fmt::format(":{}", problem.column);
      }
    }
    out += ": ";
    if (!problem.key.empty()) {
      out += "key '" + escape_controls(problem.key, false) + "': ";
    }
    out += escape_controls(problem.message, false);
    out += '\n';
  }
  return out;
}

std::expected<Config, ConfigErrors> parse_config(std::string_view toml_text,
                                                 const fs::path& source_path) {
  if (auto problem = prescan_toml(toml_text, source_path.string())) {
    problem->message = escape_controls(problem->message, false);
    return std::unexpected(ConfigErrors{source_path, {std::move(*problem)}});
  }
  toml::table root;
  try {
    root = toml::parse(toml_text, source_path.string());
  } catch (const toml::parse_error& error) {
    const auto& where = error.source().begin;
    return std::unexpected(ConfigErrors{
        source_path,
        {ConfigProblem{"", where.line, where.column,
                       "syntax error: " + escape_controls(error.description(), false)}}});
  }

  const fs::path absolute = absolute_path(source_path);
  Config config;
  config.source = absolute;
  Checker checker;
  check_keys<Config>(checker, root, "", kTopLevelKeys, config);
  if (!root.contains("listener")) {
    checker.report_whole_file("listener", "at least one [[listener]] is required");
  }
  auto problems = checker.take_problems();
  if (!problems.empty()) {
    return std::unexpected(ConfigErrors{source_path, std::move(problems)});
  }
  resolve_paths(config, absolute.parent_path());
  return config;
}

std::expected<Config, ConfigErrors> load_config_file(const fs::path& path) {
  std::error_code error;
  const auto status = fs::status(path, error);
  if (error) {
    return whole_file_error(path, "cannot read config file: " + error.message());
  }
  if (fs::is_directory(status)) {
    return whole_file_error(path, "cannot read config file: it is a directory");
  }
  const auto size = fs::file_size(path, error);
  if (!error && size > kMaxConfigFileSize) {
    return whole_file_error(path,
                            fmt::format("config file is larger than {} bytes", kMaxConfigFileSize));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return whole_file_error(path,
                            "cannot open config file: " +
                                std::make_error_code(static_cast<std::errc>(errno)).message());
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return whole_file_error(path, "cannot read config file: I/O error");
  }
  return parse_config(text.str(), path);
}

}  // namespace postamt::config
