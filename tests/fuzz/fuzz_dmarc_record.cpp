// Fuzzes the DMARC record parser (proto/mailauth/dmarc_record): no crash, UB or leak; an
// accepted record starts with v=DMARC1, has pct <= 100 and usable report URIs only
// (a scheme, no whitespace, ',' or '!'); a defaulted policy is none.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "proto/mailauth/dmarc_record.hpp"

#include "fuzz_bits.hpp"

using postamt::fuzz::fail;
using namespace postamt::mailauth;

namespace {

void check_uris(const std::vector<DmarcReportUri>& uris) {
  for (const DmarcReportUri& u : uris) {
    if (u.uri.empty() || u.uri.find(':') == std::string::npos) fail();
    for (char c : u.uri) {
      const auto b = static_cast<unsigned char>(c);
      if (b <= 0x20 || b >= 0x7f || c == ',' || c == '!' || c == ';') fail();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view txt(reinterpret_cast<const char*>(data), size);
  auto record = parse_dmarc_record(txt);
  if (!record) return 0;
  if (!looks_like_dmarc_record(txt)) fail();
  if (record->percent > 100) fail();
  if (record->policy_defaulted && record->policy != DmarcPolicy::none) fail();
  check_uris(record->aggregate_report_uris);
  check_uris(record->failure_report_uris);
  return 0;
}
