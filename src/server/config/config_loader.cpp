#include "server/config/config_loader.hpp"

#include <fmt/format.h>
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

#include "server/config/config_checker.hpp"
#include "server/config/filter_keys.hpp"
#include "server/config/mailauth_keys.hpp"
#include "server/config/outbound_limits_keys.hpp"
#include "server/config/security_keys.hpp"
#include "server/config/net_syntax.hpp"
#include "server/config/toml_prescan.hpp"
#include "server/config/value_forms.hpp"

namespace postamt::config {

namespace {

namespace fs = std::filesystem;
using namespace detail;

// A config file is a few kilobytes; anything this large is a mistake (a log, a binary).
constexpr std::uintmax_t kMaxConfigFileSize = 1024 * 1024;

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
    {"ipv6_prefix", integer_key<&AuthConfig::ipv6_prefix, 16, 128>},
    {"trusted_networks",
     [](Checker& c, const Field& f, AuthConfig& a) {
       if (auto v = c.string_list(f, "a CIDR network such as \"10.0.0.0/8\"", is_cidr)) {
         a.trusted_networks = std::move(*v);
       }
     }},
    {"account_delay_after", integer_key<&AuthConfig::account_delay_after, 0, kMaxCount>},
    {"account_delay_ms", integer_key<&AuthConfig::account_delay, 0, 60'000>},
    {"max_account_delay_ms", integer_key<&AuthConfig::max_account_delay, 0, 300'000>},
    {"cache_ttl_seconds", integer_key<&AuthConfig::cache_ttl, 0, 86400>},
    {"cache_size", integer_key<&AuthConfig::cache_size, 0, 10'000'000>},
    {"hash_threads", integer_key<&AuthConfig::hash_threads, 1, 64>},
    {"hash_queue", integer_key<&AuthConfig::hash_queue, 1, kMaxCount>},
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

// A SHA-256 certificate fingerprint: 64 hex digits, optionally in colon-separated pairs
// (as `openssl x509 -fingerprint -sha256` prints it); kept as 64 lower-case digits.
void check_fingerprint(Checker& checker, const Field& field, OutboundConfig& out) {
  const auto digits = [](std::string_view text) {
    std::string hex;
    for (const char c : text) {
      if (c != ':') hex += c;
    }
    return hex;
  };
  const auto valid = [&](std::string_view text) {
    const std::string hex = digits(text);
    const auto hex_digit = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); };
    return hex.size() == 64 && std::ranges::all_of(hex, hex_digit);
  };
  if (auto v = checker.string(field, "a SHA-256 fingerprint: 64 hex digits, colons allowed", valid)) {
    out.relayhost_tls_fingerprint = ascii_lower(digits(*v));
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
    {"relayhost_ca_file", path_key<&OutboundConfig::relayhost_ca_file>},
    {"relayhost_tls_fingerprint", check_fingerprint},
    {"allow_private_destinations", boolean_key<&OutboundConfig::allow_private_destinations>},
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
    {"min_free_disk_mb", integer_key<&LimitsConfig::min_free_disk_mb, 0, 1024 * 1024 * 1024>},
    {"command_timeout_seconds", integer_key<&LimitsConfig::command_timeout, 1, 86400>},
    {"min_transfer_rate", integer_key<&LimitsConfig::min_transfer_rate, 0, 1024 * 1024 * 1024>},
    {"login_timeout_seconds", integer_key<&LimitsConfig::login_timeout, 1, 86400>},
    {"max_unauthenticated_connections", integer_key<&LimitsConfig::max_unauthenticated_connections, 1, kMaxCount>},
    {"max_unauthenticated_per_ip", integer_key<&LimitsConfig::max_unauthenticated_per_ip, 1, kMaxCount>},
    {"max_connections_per_ip_per_minute", integer_key<&LimitsConfig::max_connections_per_ip_per_minute, 0, kMaxCount>},
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
    {"mailauth", [](Checker& c, const Field& f, Config& config) { check_mailauth(c, f, config.mailauth); }},
    {"filter", [](Checker& c, const Field& f, Config& config) { check_filter(c, f, config.filter); }},
    {"outbound_limits", [](Checker& c, const Field& f, Config& config) { check_outbound_limits(c, f, config.outbound_limits); }},
    {"security", [](Checker& c, const Field& f, Config& config) { check_security(c, f, config.security); }},
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
  if (config.outbound.relayhost_ca_file) {
    config.outbound.relayhost_ca_file = anchored(base_dir, *config.outbound.relayhost_ca_file);
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
