#pragma once
// What the DMARC report sender needs from the rest of the server, in one place for `serve`
// and `postamt dmarc send-reports`:
//  - the DNS lookup of the external-destination check (RFC 7489 §7.1), and
//  - the DKIM signature of the report mail (issue 14: everything Postamt originates is
//    signed).
#include <asio/io_context.hpp>

#include <memory>

#include "base/config.hpp"
#include "mailauth/dmarc_report_sender.hpp"
#include "mailauth/record_lookup.hpp"

namespace postamt::server {

}  // namespace postamt::server

namespace postamt::mailauth {
class DkimSigningService;
}

namespace postamt::server {

// A lookup on its own c-ares resolver over `io` and config.dns (no cache: once a day);
// nullptr when the resolver cannot start (then external destinations are skipped, logged).
std::unique_ptr<mailauth::RecordLookup> make_dmarc_report_lookup(asio::io_context& io, const Config& config);

// Signs a report with the keys of its From domain (report_from, else postmaster@ the host
// name: the host name's domain or its nearest parent with keys). `dkim` outlives the sender.
mailauth::DmarcReportSender::Sign make_dmarc_report_signer(const Config& config,
                                                           const mailauth::DkimSigningService& dkim);

mailauth::DmarcReportSettings dmarc_report_settings(const Config& config);

}  // namespace postamt::server
