#include "server/config/mailauth_keys.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <array>

#include "server/config/net_syntax.hpp"

namespace postamt::config::detail {
namespace {

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_domain(std::string_view text) { return is_dns_name(lowered(text)); }

bool is_report_address(std::string_view text) {
  const auto at = text.rfind('@');
  if (at == 0 || at == std::string_view::npos) return false;
  for (const char c : text.substr(0, at)) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"' || c == ',') return false;
  }
  return is_domain(text.substr(at + 1));
}

constexpr auto kPolicyKeys = std::to_array<KeySpec<MailauthDomainPolicy>>({
    {"dmarc_reject", boolean_key<&MailauthDomainPolicy::dmarc_reject>},
    {"dmarc_quarantine", boolean_key<&MailauthDomainPolicy::dmarc_quarantine>},
    {"spf_fail_reject", boolean_key<&MailauthDomainPolicy::spf_fail_reject>},
});

// [mailauth.domain."example.com"]: a local domain's own policy, starting from the defaults.
void check_domains(Checker& checker, const Field& field, MailauthConfig& out) {
  const auto* table = field.node.as_table();
  if (table == nullptr) {
    checker.report_expected(field, fmt::format("a table of domain tables ([{}.\"example.com\"])", field.key));
    return;
  }
  for (const auto& [key, node] : *table) {
    const Field entry{join_key(field.key, key.str()), node};
    if (!is_domain(key.str())) {
      checker.report(entry.key, key.source(), "expected a domain name such as \"example.com\"");
      continue;
    }
    MailauthDomainPolicy policy = out.policy;
    check_section<MailauthDomainPolicy>(checker, entry, kPolicyKeys, policy);
    out.domains[lowered(key.str())] = policy;
  }
}

void check_domain_list(Checker& checker, const Field& field, std::vector<std::string>& out) {
  if (auto v = checker.string_list(field, "a domain name such as \"example.com\"", is_domain)) {
    for (auto& d : *v) d = lowered(d);
    out = std::move(*v);
  }
}

constexpr std::array<std::string_view, 2> kDmarcModeNames = {"rfc9989", "rfc7489"};

constexpr auto kMailauthKeys = std::to_array<KeySpec<MailauthConfig>>({
    {"verify", boolean_key<&MailauthConfig::verify>},
    {"dmarc_reject", [](Checker& c, const Field& f, MailauthConfig& m) {
       if (auto v = c.boolean(f)) m.policy.dmarc_reject = *v;
     }},
    {"dmarc_quarantine", [](Checker& c, const Field& f, MailauthConfig& m) {
       if (auto v = c.boolean(f)) m.policy.dmarc_quarantine = *v;
     }},
    {"spf_fail_reject", [](Checker& c, const Field& f, MailauthConfig& m) {
       if (auto v = c.boolean(f)) m.policy.spf_fail_reject = *v;
     }},
    {"domain", check_domains},
    {"dmarc_mode", [](Checker& c, const Field& f, MailauthConfig& m) {
       if (const auto i = c.one_of(f, kDmarcModeNames)) m.dmarc_mode = *i == 0 ? DmarcMode::rfc9989 : DmarcMode::rfc7489;
     }},
    {"allow_networks", [](Checker& c, const Field& f, MailauthConfig& m) {
       if (auto v = c.string_list(f, "a CIDR network such as \"192.0.2.0/24\" or \"2001:db8::/32\"", is_cidr)) {
         m.allow_networks = std::move(*v);
       }
     }},
    {"allow_domains", [](Checker& c, const Field& f, MailauthConfig& m) { check_domain_list(c, f, m.allow_domains); }},
    {"trusted_arc_sealers",
     [](Checker& c, const Field& f, MailauthConfig& m) { check_domain_list(c, f, m.trusted_arc_sealers); }},
    {"send_reports", boolean_key<&MailauthConfig::send_reports>},
    {"report_hour", integer_key<&MailauthConfig::report_hour, 0, 23>},
    {"report_from", [](Checker& c, const Field& f, MailauthConfig& m) {
       if (auto v = c.string(f, "an address such as \"postmaster@example.com\"", is_report_address)) m.report_from = *v;
     }},
});

}  // namespace

void check_mailauth(Checker& checker, const Field& field, MailauthConfig& out) {
  const auto* table = field.node.as_table();
  if (table == nullptr) {
    checker.report_expected(field, fmt::format("a table ([{}])", field.key));
    return;
  }
  // The section-wide defaults first, so a domain table written before them starts from them.
  toml::table defaults;
  toml::table rest;
  for (const auto& [key, node] : *table) (key.str() == "domain" ? rest : defaults).insert(key, node);
  check_keys<MailauthConfig>(checker, defaults, field.key, kMailauthKeys, out);
  check_keys<MailauthConfig>(checker, rest, field.key, kMailauthKeys, out);
}

}  // namespace postamt::config::detail
