#pragma once
// What the DMARC report sender needs from the rest of the server, in one place for `serve`
// and `postamt dmarc send-reports`:
//  - the DNS lookup of the external-destination check (RFC 7489 §7.1), and
//  - the DKIM signature of the report mail (issue 14: everything Postamt originates is
//    signed).
// INTEGRATION POINT: both return "nothing" until the c-ares ResolverRecordLookup and the
// DKIM signer are connected here; meanwhile reports go out unsigned and only to
// addresses of the policy domain's own organisation.
#include <asio/io_context.hpp>

#include <memory>

#include "base/config.hpp"
#include "mailauth/dmarc_report_sender.hpp"
#include "mailauth/record_lookup.hpp"

namespace postamt::server {

// nullptr: no lookup available (external destinations are skipped, logged).
std::unique_ptr<mailauth::RecordLookup> make_dmarc_report_lookup(asio::io_context& io, const Config& config);

// An empty function: reports are sent unsigned.
mailauth::DmarcReportSender::Sign make_dmarc_report_signer(const Config& config);

mailauth::DmarcReportSettings dmarc_report_settings(const Config& config);

}  // namespace postamt::server
