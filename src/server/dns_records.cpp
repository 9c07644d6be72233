#include "server/dns_records.hpp"

#include "mailauth/dkim_key_store.hpp"
#include "mailauth/dmarc_report_ingest.hpp"
#include "proto/mailauth/zone_lines.hpp"

namespace postamt::server {

Result<std::string> dns_records_text(const std::filesystem::path& data_dir, const std::string& hostname,
                                     const std::string& domain) {
  namespace ma = mailauth;
  std::string out;
  out += ma::zone_mx_line(domain, kRecordTtl, 10, hostname) + "\n";
  // RFC 7208: only the domain's MX hosts send for it.
  out += ma::zone_txt_line(domain, kRecordTtl, "v=spf1 mx -all") + "\n";
  ma::DkimKeyStore store(data_dir);
  auto entries = store.list(domain);
  if (!entries) return std::unexpected(entries.error());
  for (const auto& entry : *entries) {
    auto key = store.load_key(entry);
    if (!key) return std::unexpected(key.error());
    out += ma::zone_txt_line(entry.selector + "._domainkey." + domain, kRecordTtl, key->key_record()) + "\n";
  }
  // RFC 7489 §6.3 / RFC 9989: quarantine what fails, aggregate reports to an address that exists.
  out += ma::zone_txt_line("_dmarc." + domain, kRecordTtl,
                           "v=DMARC1; p=quarantine; rua=mailto:" + mailauth::dmarc_reports_address(domain)) +
         "\n";
  return out;
}

}  // namespace postamt::server
