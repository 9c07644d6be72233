#include "proto/mailauth/spf_record.hpp"

#include <algorithm>
#include <cctype>

#include "proto/mailauth/spf_macro.hpp"

namespace postamt::mailauth {
namespace {

constexpr std::string_view kVersion = "v=spf1";  // §4.5

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return lower(x) == lower(y);
         });
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// §5.6 ip4-cidr-length / ip6-cidr-length: "0" or a number without a leading zero, <= max.
std::expected<int, std::string> cidr_length(std::string_view digits, int max) {
  if (!all_digits(digits) || digits.size() > 3 || (digits.size() > 1 && digits.front() == '0'))
    return std::unexpected("invalid CIDR length \"/" + std::string(digits) + "\"");
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  if (value > max) return std::unexpected("CIDR length /" + std::string(digits) + " is too long");
  return value;
}

using Failure = std::unexpected<std::string>;

// a/mx arguments after the name: [":" domain-spec] [ip4-cidr] ["/" ip6-cidr] (§5.3, §5.4).
std::expected<void, std::string> parse_dual_cidr_argument(std::string_view rest, SpfMechanism& mechanism) {
  std::string_view domain;
  std::string_view cidr;
  if (rest.starts_with(':')) {
    std::string_view argument = rest.substr(1);
    // The cidr is a suffix of digits after '/' (and "//"): a domain-spec may hold '/' too.
    std::size_t end = argument.size();
    std::size_t double_slash = argument.rfind("//");
    if (double_slash != std::string_view::npos && all_digits(argument.substr(double_slash + 2))) end = double_slash;
    std::size_t slash = argument.substr(0, end).rfind('/');
    if (slash != std::string_view::npos && all_digits(argument.substr(slash + 1, end - slash - 1))) end = slash;
    domain = argument.substr(0, end);
    cidr = argument.substr(end);
    if (auto ok = check_domain_spec(domain); !ok) return std::unexpected(ok.error());
    mechanism.domain_spec = std::string(domain);
  } else {
    cidr = rest;
  }
  if (cidr.empty()) return {};
  if (!cidr.starts_with('/')) return Failure("unexpected \"" + std::string(cidr) + "\"");
  std::string_view v4;
  std::string_view v6;
  if (cidr.starts_with("//")) {
    v6 = cidr.substr(2);
  } else {
    std::size_t second = cidr.find("//");
    v4 = cidr.substr(1, second == std::string_view::npos ? std::string_view::npos : second - 1);
    if (second != std::string_view::npos) v6 = cidr.substr(second + 2);
    else if (cidr.find('/', 1) != std::string_view::npos) return Failure("invalid dual CIDR \"" + std::string(cidr) + "\"");
  }
  if (!v4.empty() || !cidr.starts_with("//")) {
    auto length = cidr_length(v4, 32);
    if (!length) return std::unexpected(length.error());
    mechanism.cidr4 = *length;
  }
  if (cidr.find("//") != std::string_view::npos) {
    auto length = cidr_length(v6, 128);
    if (!length) return std::unexpected(length.error());
    mechanism.cidr6 = *length;
  }
  return {};
}

// ip4/ip6 arguments: ":" network ["/" length] (§5.6).
std::expected<void, std::string> parse_network_argument(std::string_view rest, bool v6, SpfMechanism& mechanism) {
  if (!rest.starts_with(':')) return Failure(std::string(v6 ? "ip6" : "ip4") + " needs a network");
  std::string_view argument = rest.substr(1);
  std::size_t slash = argument.find('/');
  std::string_view network = argument.substr(0, slash);
  auto address = IpAddress::parse_exact(network, v6);
  if (!address) return Failure("invalid " + std::string(v6 ? "IPv6" : "IPv4") + " network \"" + std::string(network) + "\"");
  mechanism.network = *address;
  if (slash != std::string_view::npos) {
    auto length = cidr_length(argument.substr(slash + 1), v6 ? 128 : 32);
    if (!length) return std::unexpected(length.error());
    (v6 ? mechanism.cidr6 : mechanism.cidr4) = *length;
  }
  return {};
}

std::expected<SpfMechanism, std::string> parse_mechanism(SpfQualifier qualifier, std::string_view name,
                                                         std::string_view rest, std::string_view term) {
  SpfMechanism mechanism;
  mechanism.qualifier = qualifier;
  mechanism.text = std::string(term);
  auto needs_domain = [&](SpfMechanismKind kind) -> std::expected<SpfMechanism, std::string> {
    mechanism.kind = kind;
    if (!rest.starts_with(':')) return Failure(std::string(name) + " needs a domain-spec");
    if (auto ok = check_domain_spec(rest.substr(1)); !ok) return std::unexpected(ok.error());
    mechanism.domain_spec = std::string(rest.substr(1));
    return mechanism;
  };
  if (iequals(name, "all")) {
    if (!rest.empty()) return Failure("\"all\" takes no argument");
    mechanism.kind = SpfMechanismKind::all;
    return mechanism;
  }
  if (iequals(name, "include")) return needs_domain(SpfMechanismKind::include);
  if (iequals(name, "exists")) return needs_domain(SpfMechanismKind::exists);
  if (iequals(name, "ptr")) {
    mechanism.kind = SpfMechanismKind::ptr;
    if (rest.empty()) return mechanism;
    return needs_domain(SpfMechanismKind::ptr);
  }
  if (iequals(name, "a") || iequals(name, "mx")) {
    mechanism.kind = iequals(name, "a") ? SpfMechanismKind::a : SpfMechanismKind::mx;
    if (auto ok = parse_dual_cidr_argument(rest, mechanism); !ok) return std::unexpected(ok.error());
    return mechanism;
  }
  if (iequals(name, "ip4") || iequals(name, "ip6")) {
    bool v6 = iequals(name, "ip6");
    mechanism.kind = v6 ? SpfMechanismKind::ip6 : SpfMechanismKind::ip4;
    if (auto ok = parse_network_argument(rest, v6, mechanism); !ok) return std::unexpected(ok.error());
    return mechanism;
  }
  return Failure("unknown mechanism \"" + std::string(term) + "\"");
}

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
}

}  // namespace

bool is_spf_record(std::string_view txt) {
  return txt.size() >= kVersion.size() && iequals(txt.substr(0, kVersion.size()), kVersion) &&
         (txt.size() == kVersion.size() || txt[kVersion.size()] == ' ');
}

std::expected<SpfRecord, std::string> parse_spf_record(std::string_view text) {
  if (!is_spf_record(text)) return Failure("not an SPF record");
  SpfRecord record;
  std::string_view rest = text.substr(kVersion.size());
  std::size_t at = 0;
  while (at < rest.size()) {
    if (rest[at] == ' ') {  // §4.6.1: terms are separated by spaces only
      ++at;
      continue;
    }
    std::size_t end = rest.find(' ', at);
    std::string_view term = rest.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
    at = end == std::string_view::npos ? rest.size() : end;
    for (char c : term) {
      auto octet = static_cast<unsigned char>(c);
      if (octet < 0x21 || octet > 0x7E)
        return Failure("invalid character (octet " + std::to_string(octet) + ") in term \"" + std::string(term) + "\"");
    }
    std::string_view body = term;
    std::optional<SpfQualifier> qualifier;
    if (char q = body.front(); q == '+' || q == '-' || q == '~' || q == '?') {
      qualifier = static_cast<SpfQualifier>(q);
      body.remove_prefix(1);
    }
    std::size_t name_end = 0;
    while (name_end < body.size() && is_name_char(body[name_end])) ++name_end;
    std::string_view name = body.substr(0, name_end);
    std::string_view after = body.substr(name_end);
    if (!qualifier && after.starts_with('=')) {  // a modifier (§4.6.1, §6)
      if (name.empty() || !is_name_start(name.front()))
        return Failure("invalid modifier name in \"" + std::string(term) + "\"");
      std::string_view value = after.substr(1);
      if (iequals(name, "redirect") || iequals(name, "exp")) {
        bool redirect = iequals(name, "redirect");
        auto& slot = redirect ? record.redirect : record.explanation;
        if (slot) return Failure(std::string(name) + "= appears twice");
        if (auto ok = check_domain_spec(value); !ok) return std::unexpected(std::string(name) + "=: " + ok.error());
        slot = std::string(value);
      } else if (auto ok = check_macro_string(value, MacroUse::explanation); !ok) {
        return std::unexpected("modifier " + std::string(name) + "=: " + ok.error());
      }
      continue;  // unknown modifiers are ignored (§6)
    }
    auto mechanism = parse_mechanism(qualifier.value_or(SpfQualifier::pass), name, after, term);
    if (!mechanism) return std::unexpected(mechanism.error());
    if (mechanism->kind == SpfMechanismKind::all) record.has_all = true;
    record.mechanisms.push_back(std::move(*mechanism));
  }
  return record;
}

bool is_valid_domain(std::string_view name, bool multi_label) {
  if (name.ends_with('.')) name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return false;
  std::size_t labels = 0;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = name.find('.', start);
    std::size_t length = (dot == std::string_view::npos ? name.size() : dot) - start;
    if (length == 0 || length > 63) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return !multi_label || labels >= 2;
}

}  // namespace postamt::mailauth
