#include "proto/mailauth/dmarc_report_uri.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>

namespace postamt::mailauth {
namespace {

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 §2.1 percent-decoding; false for a broken escape.
bool percent_decode(std::string_view text, std::string& out) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return false;
    const int high = hex_value(text[i + 1]);
    const int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return false;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return true;
}

// "10m" -> 10 MiB; false when malformed or beyond 64 bits.
bool parse_size(std::string_view text, std::uint64_t& size) {
  std::uint64_t unit = 1;
  if (!text.empty()) {
    switch (std::tolower(static_cast<unsigned char>(text.back()))) {
      case 'k': unit = 1ull << 10; break;
      case 'm': unit = 1ull << 20; break;
      case 'g': unit = 1ull << 30; break;
      case 't': unit = 1ull << 40; break;
      default: break;
    }
    if (unit != 1) text.remove_suffix(1);
  }
  if (text.empty()) return false;
  std::uint64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end != text.data() + text.size()) return false;
  if (number > UINT64_MAX / unit) return false;
  size = number * unit;
  return true;
}

bool plausible_address(std::string_view address) {
  const auto at = address.rfind('@');
  if (at == 0 || at == std::string_view::npos || at + 1 >= address.size()) return false;
  if (address.size() > 254) return false;
  for (const char c : address) {
    const auto octet = static_cast<unsigned char>(c);
    if (octet <= 0x20 || octet == 0x7f || c == '<' || c == '>' || c == ',' || c == '(' || c == ')' || c == '"' ||
        c == '\\' || c == ';')
      return false;
  }
  const std::string_view domain = address.substr(at + 1);
  return domain.find('@') == std::string_view::npos && domain.front() != '.' && domain.back() != '.' &&
         domain.find("..") == std::string_view::npos;
}

}  // namespace

std::vector<ReportUri> parse_report_uris(std::string_view rua, std::size_t max_uris) {
  std::vector<ReportUri> uris;
  std::size_t start = 0;
  while (start <= rua.size() && uris.size() < max_uris) {
    const auto comma = rua.find(',', start);
    std::string_view item = trim(rua.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    start = comma == std::string_view::npos ? rua.size() + 1 : comma + 1;
    ReportUri uri;
    // The size limit follows the last '!' (a '!' inside the URI must be %-encoded).
    if (const auto bang = item.rfind('!'); bang != std::string_view::npos) {
      if (!parse_size(item.substr(bang + 1), uri.max_size)) continue;
      item = item.substr(0, bang);
    }
    constexpr std::string_view kMailto = "mailto:";
    if (item.size() <= kMailto.size() || lower(item.substr(0, kMailto.size())) != kMailto) continue;
    uri.uri = std::string(item);
    std::string_view target = item.substr(kMailto.size());
    // RFC 6068: header fields after '?' are not ours to send; one address only.
    target = target.substr(0, target.find('?'));
    std::string address;
    if (!percent_decode(target, address) || !plausible_address(address)) continue;
    const auto at = address.rfind('@');
    uri.domain = lower(address.substr(at + 1));
    uri.address = address.substr(0, at + 1) + uri.domain;
    const bool seen = std::ranges::any_of(uris, [&](const ReportUri& other) { return other.address == uri.address; });
    if (!seen) uris.push_back(std::move(uri));
  }
  return uris;
}

bool same_organization(std::string_view policy_domain, std::string_view org_domain,
                       std::string_view destination_domain) {
  const std::string org = lower(org_domain.empty() ? policy_domain : org_domain);
  const std::string destination = lower(destination_domain);
  if (org.empty()) return false;
  return destination == org || (destination.size() > org.size() && destination.ends_with(org) &&
                                 destination[destination.size() - org.size() - 1] == '.');
}

std::string external_report_authorization_name(std::string_view policy_domain, std::string_view destination_domain) {
  return lower(policy_domain) + "._report._dmarc." + lower(destination_domain);
}

bool authorizes_external_reports(std::string_view txt) {
  std::string_view rest = trim(txt);
  if (rest.size() < 1 || (rest[0] != 'v' && rest[0] != 'V')) return false;
  rest = trim(rest.substr(1));
  if (rest.empty() || rest[0] != '=') return false;
  rest = trim(rest.substr(1));
  constexpr std::string_view kVersion = "DMARC1";
  if (rest.substr(0, kVersion.size()) != kVersion) return false;
  rest = rest.substr(kVersion.size());
  return rest.empty() || rest[0] == ';' || rest[0] == ' ' || rest[0] == '\t';
}

}  // namespace postamt::mailauth
