#pragma once
// DMARC aggregate reports (RFC 7489 §7.2 and Appendix C; RFC 9990): the report as data,
// its one XML writer and its parser. Pure: no I/O, no compression (mailauth/ gzips and
// mails them).
//
// The writer follows the RFC 7489 schema (no namespace, <version>1.0</version>), which
// every report consumer reads; `np` (RFC 9091) is written only when published. The parser
// takes both that and RFC 9990 reports (namespace urn:ietf:params:xml:ns:dmarc-2.0: only
// local element names count), and unknown elements are skipped.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace postamt::mailauth {

struct ReportDkimResult {
  std::string domain;
  std::string selector;  // "" when absent
  std::string result;    // none | pass | fail | policy | neutral | temperror | permerror
  friend bool operator==(const ReportDkimResult&, const ReportDkimResult&) = default;
};

struct ReportSpfResult {
  std::string domain;
  std::string scope;     // mfrom | helo ("" when absent)
  std::string result;    // none | neutral | pass | fail | softfail | temperror | permerror
  friend bool operator==(const ReportSpfResult&, const ReportSpfResult&) = default;
};

struct ReportReason {
  std::string type;     // forwarded | sampled_out | trusted_forwarder | mailing_list | local_policy | other
  std::string comment;
  friend bool operator==(const ReportReason&, const ReportReason&) = default;
};

// One <record>: a row of messages from one source with the same results.
struct ReportRecord {
  std::string source_ip;
  std::uint64_t count = 0;
  // policy_evaluated
  std::string disposition;  // none | quarantine | reject
  std::string dkim;         // pass | fail (DMARC-aligned DKIM)
  std::string spf;          // pass | fail (DMARC-aligned SPF)
  std::vector<ReportReason> reasons;
  // identifiers
  std::string envelope_to;  // "" when absent
  std::string envelope_from;
  std::string header_from;
  // auth_results
  std::vector<ReportDkimResult> dkim_results;
  std::vector<ReportSpfResult> spf_results;
  friend bool operator==(const ReportRecord&, const ReportRecord&) = default;
};

struct AggregateReport {
  // report_metadata
  std::string org_name;
  std::string email;
  std::string extra_contact_info;  // "" when absent
  std::string report_id;
  std::int64_t begin = 0;  // date_range, seconds since the epoch (UTC)
  std::int64_t end = 0;
  std::vector<std::string> errors;
  // policy_published
  std::string domain;
  std::string adkim = "r";
  std::string aspf = "r";
  std::string p = "none";
  std::string sp;   // "" when absent (the writer then writes p)
  std::string np;   // "" when absent (not written)
  int pct = 100;
  std::string fo = "0";
  std::vector<ReportRecord> records;
  friend bool operator==(const AggregateReport&, const AggregateReport&) = default;
};

// The report as an XML document (UTF-8, with the XML declaration). Every text is escaped;
// characters XML 1.0 cannot carry (controls other than tab/LF/CR, invalid UTF-8) are
// replaced by U+FFFD, so the result is always well-formed.
std::string write_aggregate_report(const AggregateReport& report);

struct ReportParseLimits {
  std::size_t max_xml_octets = 20 * 1024 * 1024;  // the decompressed document
  std::size_t max_records = 100'000;
  std::size_t max_results_per_record = 64;       // dkim + spf auth results, reasons
  // The same over the whole report: what an empty <spf/> costs in memory is many times
  // its six octets of XML, so the report's total is bounded too.
  std::size_t max_results = 300'000;
  std::size_t max_text_octets = 4096;            // one element's text
  std::size_t max_depth = 16;
};

// Parses a report. Refused (permanent errors): not well-formed XML, a DOCTYPE (no
// entity expansion of any kind), a root other than <feedback>, no report_id / org_name /
// policy domain, a bad date_range or count, anything past the limits.
Result<AggregateReport> parse_aggregate_report(std::string_view xml, const ReportParseLimits& limits = {});

}  // namespace postamt::mailauth
