#include "server/dmarc_report_wiring.hpp"

namespace postamt::server {

std::unique_ptr<mailauth::RecordLookup> make_dmarc_report_lookup(asio::io_context&, const Config&) {
  return nullptr;  // integrator: return the ResolverRecordLookup over config.dns
}

mailauth::DmarcReportSender::Sign make_dmarc_report_signer(const Config&) {
  return {};  // integrator: return the DKIM signer's header fields for the message
}

mailauth::DmarcReportSettings dmarc_report_settings(const Config& config) {
  return mailauth::DmarcReportSettings{config.server.hostname, config.mailauth.report_from,
                                       config.mailauth.report_hour};
}

}  // namespace postamt::server
