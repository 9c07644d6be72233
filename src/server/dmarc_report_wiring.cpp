#include "server/dmarc_report_wiring.hpp"

#include <algorithm>
#include <chrono>

#include "dns/resolver.hpp"
#include "mailauth/dkim_signing_service.hpp"
#include "mailauth/resolver_record_lookup.hpp"

namespace postamt::server {
namespace {

// The resolver and the lookup on it, owned together.
class OwnedRecordLookup final : public mailauth::RecordLookup {
 public:
  explicit OwnedRecordLookup(dns::Resolver resolver) : resolver_(std::move(resolver)), lookup_(resolver_, nullptr) {}
  asio::awaitable<mailauth::DnsAnswer> lookup(mailauth::DnsQuestion question) override {
    return lookup_.lookup(std::move(question));
  }

 private:
  dns::Resolver resolver_;
  mailauth::ResolverRecordLookup lookup_;
};

}  // namespace

std::unique_ptr<mailauth::RecordLookup> make_dmarc_report_lookup(asio::io_context& io, const Config& config) {
  dns::ResolverOptions options;
  options.servers = config.dns.servers;
  options.attempt_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.dns.timeout);
  options.lookup_deadline = std::max<std::chrono::milliseconds>(options.lookup_deadline, 3 * options.attempt_timeout);
  auto resolver = dns::Resolver::create(io.get_executor(), std::move(options));
  if (!resolver) return nullptr;
  return std::make_unique<OwnedRecordLookup>(std::move(*resolver));
}

mailauth::DmarcReportSender::Sign make_dmarc_report_signer(const Config& config,
                                                           const mailauth::DkimSigningService& dkim) {
  const std::string from = config.mailauth.report_from.empty() ? "postmaster@" + config.server.hostname
                                                               : config.mailauth.report_from;
  const std::string domain = from.substr(from.rfind('@') + 1);
  return [&dkim, domain](std::string_view message) { return dkim.sign(message, domain); };
}

mailauth::DmarcReportSettings dmarc_report_settings(const Config& config) {
  return mailauth::DmarcReportSettings{config.server.hostname, config.mailauth.report_from,
                                       config.mailauth.report_hour};
}

}  // namespace postamt::server
