#pragma once
// The DMARC policy record published at _dmarc.<domain> (RFC 9989 §4.7, RFC 7489 §6.3):
// a tag list that starts with v=DMARC1. Both RFCs' tags are read into one type; the
// evaluator decides which ones count (pct in RFC 7489 mode, t= in RFC 9989 mode).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace postamt::mailauth {

enum class DmarcPolicy : std::uint8_t { none, quarantine, reject };
enum class DmarcAlignmentMode : std::uint8_t { relaxed, strict };
// psd= (RFC 9989 §4.7): y = a public suffix domain, n = an organisational domain,
// u (or absent) = unknown, the tree walk decides.
enum class PublicSuffixFlag : std::uint8_t { unknown, yes, no };

std::string_view to_string(DmarcPolicy policy);

// One rua/ruf entry: a URI with an optional size limit ("mailto:a@b.example!10m").
struct DmarcReportUri {
  std::string uri;
  std::optional<std::uint64_t> max_size;  // bytes; the k/m/g/t suffix applied
  friend bool operator==(const DmarcReportUri&, const DmarcReportUri&) = default;
};

struct DmarcRecord {
  DmarcPolicy policy = DmarcPolicy::none;  // p=
  std::optional<DmarcPolicy> subdomain_policy;      // sp=
  std::optional<DmarcPolicy> nonexistent_policy;    // np= (RFC 9989)
  PublicSuffixFlag public_suffix = PublicSuffixFlag::unknown;  // psd= (RFC 9989)
  DmarcAlignmentMode dkim_alignment = DmarcAlignmentMode::relaxed;  // adkim=
  DmarcAlignmentMode spf_alignment = DmarcAlignmentMode::relaxed;   // aspf=
  unsigned percent = 100;       // pct= (RFC 7489 only; RFC 9989 ignores it)
  bool testing = false;         // t=y (RFC 9989; replaces pct)
  std::vector<DmarcReportUri> aggregate_report_uris;  // rua=
  std::vector<DmarcReportUri> failure_report_uris;    // ruf=
  std::string failure_options = "0";   // fo= (colon list of 0, 1, d, s), kept as written
  std::string report_format = "afrf";  // rf= (RFC 7489)
  std::uint32_t report_interval = 86400;  // ri= seconds (RFC 7489)
  // p= was absent or invalid and a usable rua= made the record count as p=none
  // (RFC 9989 §4.7, RFC 7489 §6.6.3).
  bool policy_defaulted = false;

  // The policy for the domain itself, a subdomain, a non-existent subdomain: np falls back
  // to sp, sp to p (RFC 9989 §4.7).
  DmarcPolicy policy_for_subdomain() const { return subdomain_policy.value_or(policy); }
  DmarcPolicy policy_for_nonexistent() const { return nonexistent_policy.value_or(policy_for_subdomain()); }
};

// Whether a TXT string claims to be a DMARC record: "v" [WSP] "=" [WSP] "DMARC1" then
// ";" or the end. Records failing this are not DMARC records at all (discarded before
// counting, RFC 9989 §4.10 step 2).
bool looks_like_dmarc_record(std::string_view txt);

// Parses one record. Errors (all permanent): not v=DMARC1 first, a malformed tag list, a
// tag given twice, p/sp/np invalid without a usable rua. Unknown tags are ignored; an
// invalid value of another optional tag is ignored (its default stays).
Result<DmarcRecord> parse_dmarc_record(std::string_view txt);

}  // namespace postamt::mailauth
