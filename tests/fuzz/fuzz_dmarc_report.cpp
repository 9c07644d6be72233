// Fuzzes the DMARC aggregate report parser (proto/mailauth/dmarc_report.hpp), and the rua
// URI parser beside it (dmarc_report_uri.hpp), with hostile
// XML: no crash, UB, leak or unbounded memory; whatever it accepts stays within the
// limits it was given, and writing an accepted report and parsing that again gives the
// same report (the writer escapes everything the parser may return).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/mailauth/dmarc_report.hpp"
#include "proto/mailauth/dmarc_report_uri.hpp"

#include "fuzz_bits.hpp"

namespace {

using namespace postamt::mailauth;
using postamt::fuzz::fail;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The rua list and the external-destination TXT record come from DNS: the same input.
  for (const auto& uri : parse_report_uris(input, 8)) {
    if (uri.address.empty() || uri.domain.empty() || uri.address.find('@') == std::string::npos) fail();
    for (const char c : uri.address) {
      if (static_cast<unsigned char>(c) <= 0x20) fail();  // nothing that could split an SMTP command
    }
  }
  (void)authorizes_external_reports(input);
  ReportParseLimits limits;
  limits.max_xml_octets = 1 << 20;
  limits.max_records = 64;
  limits.max_results_per_record = 8;
  limits.max_text_octets = 512;
  auto report = parse_aggregate_report(input, limits);
  if (!report) return 0;
  if (report->records.size() > limits.max_records) fail();
  if (report->org_name.empty() || report->report_id.empty() || report->domain.empty()) fail();
  if (report->end < report->begin) fail();
  for (const auto& record : report->records) {
    if (record.reasons.size() + record.dkim_results.size() + record.spf_results.size() >
        limits.max_results_per_record)
      fail();
    if (record.source_ip.size() > limits.max_text_octets) fail();
  }
  // Round trip: the writer's document is read back whole (larger limits: escaping grows text).
  ReportParseLimits relaxed;
  relaxed.max_text_octets = limits.max_text_octets * 6;
  auto again = parse_aggregate_report(write_aggregate_report(*report), relaxed);
  if (!again) fail();
  // Values with characters XML cannot carry come back replaced; the structure stays.
  if (again->records.size() != report->records.size()) fail();
  return 0;
}
