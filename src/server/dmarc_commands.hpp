#pragma once
// `postamt dmarc ...`: DMARC aggregate reports (issue 14 §8).
//   dmarc reports [DOMAIN] [--days N] [--json]   what other receivers reported about our
//       domains, per source IP: messages, SPF/DKIM/DMARC-aligned pass and fail, the
//       dispositions, the reporters (reads new mail of dmarc-reports@ first)
//   dmarc send-reports [--now]   send our reports now: the complete days due, or with
//       --now everything recorded up to this moment
//   dmarc evaluations [--limit N]   our recorded evaluations (debugging)
//   dmarc record-evaluation JSON   records one evaluation as the SMTP server would (tests)
// Like the other admin commands they open the store directly beside a running server.
#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

#include "base/config.hpp"
#include "storage/api/dmarc_types.hpp"

namespace postamt::server {

using ConfigAction = std::function<int(const Config&)>;
using WithConfig = std::function<std::function<void()>(ConfigAction)>;

void add_dmarc_commands(CLI::App& app, const WithConfig& with_config);

// One source IP's totals over the received report rows (the `dmarc reports` lines).
struct DmarcSourceSummary {
  std::string policy_domain;
  std::string source_ip;
  std::uint64_t messages = 0;
  std::uint64_t spf_pass = 0, spf_fail = 0;       // SPF auth result pass / anything else
  std::uint64_t dkim_pass = 0, dkim_fail = 0;     // a DKIM signature passed / none did
  std::uint64_t aligned_pass = 0, aligned_fail = 0;  // DMARC: aligned DKIM or SPF pass / neither
  std::uint64_t none = 0, quarantine = 0, reject = 0;  // dispositions ("pass" counts as none)
  std::vector<std::string> reporters;
};

// Per (policy domain, source IP); those with most aligned failures first.
std::vector<DmarcSourceSummary> summarize_dmarc_rows(const std::vector<storage::DmarcReceivedRow>& rows);

}  // namespace postamt::server
