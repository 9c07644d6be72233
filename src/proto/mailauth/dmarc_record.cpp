#include "proto/mailauth/dmarc_record.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <set>

namespace postamt::mailauth {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// tag-name = ALPHA *ALNUMPUNC (RFC 6376 §3.2, which RFC 9989 §4.8 reuses).
bool is_tag_name(std::string_view name) {
  if (name.empty() || !is_alpha(name.front())) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return is_alpha(c) || is_digit(c) || c == '_'; });
}

std::optional<DmarcPolicy> parse_policy(std::string_view value) {
  const std::string v = lower(value);
  if (v == "none") return DmarcPolicy::none;
  if (v == "quarantine") return DmarcPolicy::quarantine;
  if (v == "reject") return DmarcPolicy::reject;
  return std::nullopt;
}

std::optional<DmarcAlignmentMode> parse_alignment(std::string_view value) {
  const std::string v = lower(value);
  if (v == "r") return DmarcAlignmentMode::relaxed;
  if (v == "s") return DmarcAlignmentMode::strict;
  return std::nullopt;
}

template <class Int>
std::optional<Int> parse_number(std::string_view value) {
  if (value.empty() || !std::all_of(value.begin(), value.end(), is_digit)) return std::nullopt;
  Int number{};
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (ec != std::errc{} || end != value.data() + value.size()) return std::nullopt;
  return number;
}

// dmarc-uri = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ] (RFC 7489 §6.4); a URI's own
// commas and "!" are percent-encoded, so both separate unambiguously.
std::optional<DmarcReportUri> parse_report_uri(std::string_view text) {
  text = trim(text);
  DmarcReportUri entry;
  const auto bang = text.find('!');
  std::string_view uri = text.substr(0, bang);
  if (bang != std::string_view::npos) {
    std::string_view size = text.substr(bang + 1);
    std::uint64_t multiplier = 1;
    if (!size.empty() && is_alpha(size.back())) {
      switch (size.back() | 0x20) {
        case 'k': multiplier = 1ULL << 10; break;
        case 'm': multiplier = 1ULL << 20; break;
        case 'g': multiplier = 1ULL << 30; break;
        case 't': multiplier = 1ULL << 40; break;
        default: return std::nullopt;
      }
      size.remove_suffix(1);
    }
    auto number = parse_number<std::uint64_t>(size);
    if (!number || *number > std::numeric_limits<std::uint64_t>::max() / multiplier) return std::nullopt;
    entry.max_size = *number * multiplier;
  }
  // scheme ":" hier-part (RFC 3986 §3): the scheme is ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
  const auto colon = uri.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon + 1 == uri.size()) return std::nullopt;
  if (!is_alpha(uri.front())) return std::nullopt;
  for (char c : uri.substr(0, colon)) {
    if (!(is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.')) return std::nullopt;
  }
  for (char c : uri) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == ';' || c == ',' || c == '!') return std::nullopt;
  }
  entry.uri = std::string(uri);
  return entry;
}

// Invalid entries are dropped; the list says how many were usable.
std::vector<DmarcReportUri> parse_report_uris(std::string_view value) {
  std::vector<DmarcReportUri> uris;
  while (true) {
    const auto comma = value.find(',');
    if (auto uri = parse_report_uri(value.substr(0, comma))) uris.push_back(std::move(*uri));
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return uris;
}

// fo = 0 / 1 / d / s, colon-separated (RFC 7489 §6.3).
bool valid_failure_options(std::string_view value) {
  if (value.empty()) return false;
  while (true) {
    const auto colon = value.find(':');
    const std::string option = lower(trim(value.substr(0, colon)));
    if (option != "0" && option != "1" && option != "d" && option != "s") return false;
    if (colon == std::string_view::npos) return true;
    value.remove_prefix(colon + 1);
  }
}

}  // namespace

std::string_view to_string(DmarcPolicy policy) {
  switch (policy) {
    case DmarcPolicy::none: return "none";
    case DmarcPolicy::quarantine: return "quarantine";
    case DmarcPolicy::reject: return "reject";
  }
  return "none";
}

bool looks_like_dmarc_record(std::string_view txt) {
  txt = trim(txt);
  if (txt.empty() || txt.front() != 'v') return false;
  txt = trim(txt.substr(1));
  if (txt.empty() || txt.front() != '=') return false;
  txt = trim(txt.substr(1));
  // The version's value matches exactly (RFC 7489 §6.3 "v"); RFC 9989 §4.8 keeps "DMARC1".
  if (!txt.starts_with("DMARC1")) return false;
  txt = trim(txt.substr(6));
  return txt.empty() || txt.front() == ';';
}

Result<DmarcRecord> parse_dmarc_record(std::string_view txt) {
  if (!looks_like_dmarc_record(txt)) return permanent_error("DMARC record does not start with v=DMARC1");
  DmarcRecord record;
  std::set<std::string> seen;
  bool first = true;
  std::optional<std::string_view> policy_value, subdomain_value, nonexistent_value;
  bool has_usable_rua = false;

  std::string_view rest = txt;
  while (!rest.empty()) {
    const auto semicolon = rest.find(';');
    const std::string_view spec = trim(rest.substr(0, semicolon));
    rest = semicolon == std::string_view::npos ? std::string_view{} : rest.substr(semicolon + 1);
    if (spec.empty()) {
      if (first) return permanent_error("DMARC record: empty first tag");
      continue;  // a trailing ";" (or ";;") carries nothing
    }
    const auto equals = spec.find('=');
    if (equals == std::string_view::npos) return permanent_error("DMARC record: a tag without '='");
    const std::string name = lower(trim(spec.substr(0, equals)));
    const std::string_view value = trim(spec.substr(equals + 1));
    if (!is_tag_name(name)) return permanent_error("DMARC record: malformed tag name");
    if (!seen.insert(name).second) return permanent_error("DMARC record: tag '" + name + "' given twice");
    if (first) {
      first = false;  // v=DMARC1, checked above
      continue;
    }
    if (name == "v") return permanent_error("DMARC record: v= is not first");

    if (name == "p") {
      policy_value = value;
    } else if (name == "sp") {
      subdomain_value = value;
    } else if (name == "np") {
      nonexistent_value = value;
    } else if (name == "psd") {
      const std::string v = lower(value);
      if (v == "y") record.public_suffix = PublicSuffixFlag::yes;
      else if (v == "n") record.public_suffix = PublicSuffixFlag::no;
      // "u" and anything else: unknown, the default.
    } else if (name == "adkim") {
      record.dkim_alignment = parse_alignment(value).value_or(DmarcAlignmentMode::relaxed);
    } else if (name == "aspf") {
      record.spf_alignment = parse_alignment(value).value_or(DmarcAlignmentMode::relaxed);
    } else if (name == "pct") {
      if (auto pct = parse_number<unsigned>(value); pct && *pct <= 100) record.percent = *pct;
    } else if (name == "t") {
      record.testing = lower(value) == "y";
    } else if (name == "rua") {
      record.aggregate_report_uris = parse_report_uris(value);
      has_usable_rua = !record.aggregate_report_uris.empty();
    } else if (name == "ruf") {
      record.failure_report_uris = parse_report_uris(value);
    } else if (name == "fo") {
      if (valid_failure_options(value)) record.failure_options = std::string(value);
    } else if (name == "rf") {
      if (!value.empty()) record.report_format = lower(value);
    } else if (name == "ri") {
      if (auto ri = parse_number<std::uint32_t>(value)) record.report_interval = *ri;
    }
    // Unknown tags are ignored (RFC 9989 §4.7, RFC 7489 §6.3).
  }

  // p= absent or invalid, or sp=/np= invalid: with a usable rua the record counts as
  // p=none, without one it is unusable (RFC 7489 §6.6.3; RFC 9989 §4.7 treats an absent
  // p= as none).
  auto policy = policy_value ? parse_policy(*policy_value) : std::nullopt;
  auto subdomain = subdomain_value ? parse_policy(*subdomain_value) : std::nullopt;
  auto nonexistent = nonexistent_value ? parse_policy(*nonexistent_value) : std::nullopt;
  const bool invalid = (policy_value && !policy) || (subdomain_value && !subdomain) ||
                       (nonexistent_value && !nonexistent);
  if (invalid && !has_usable_rua) return permanent_error("DMARC record: invalid policy and no usable rua");
  if (invalid || !policy_value) {
    record.policy = DmarcPolicy::none;
    record.policy_defaulted = true;
    if (invalid) {  // act as if the record were "v=DMARC1; p=none" plus its reporting tags
      subdomain.reset();
      nonexistent.reset();
    }
  } else {
    record.policy = *policy;
  }
  record.subdomain_policy = subdomain;
  record.nonexistent_policy = nonexistent;
  return record;
}

}  // namespace postamt::mailauth
