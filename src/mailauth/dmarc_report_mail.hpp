#pragma once
// The mail that carries a DMARC aggregate report (RFC 7489 §7.2.1.1): a multipart/mixed
// message with a short text part and the gzipped XML as an application/gzip attachment
// named submitter!policy-domain!begin!end!unique-id.xml.gz; and, the other way, the
// report files found in a message that arrived.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace postamt::mailauth {

struct ReportMailInput {
  std::string submitter;            // our host name (org_name, "Submitter:")
  std::string from;                 // From: (report_metadata/email)
  std::vector<std::string> to;      // the rua addresses
  std::string policy_domain;
  std::string report_id;            // letters and digits only (the file name's unique-id)
  std::int64_t begin = 0;
  std::int64_t end = 0;
  std::string gzipped_xml;
  std::int64_t now = 0;             // Date:
};

// "submitter!policy-domain!begin!end!report-id.xml.gz" (RFC 7489 §7.2.1.1 filename).
std::string report_file_name(const ReportMailInput& input);

// The whole message, CRLF line ends, header first; the caller prepends trace and
// DKIM-Signature fields.
std::string compose_report_mail(const ReportMailInput& input);

// The report documents (XML) in a received message: every part that is application/gzip
// (or x-gzip), application/zip (the first file in it), text/xml or application/xml, and
// application/octet-stream that turns out to be gzip, zip or XML — decompressed, each at
// most max_xml octets, at most 4 of them. A part that cannot be read is skipped and named
// in `problems`.
struct FoundReports {
  std::vector<std::string> documents;
  std::vector<std::string> problems;
};
FoundReports find_report_documents(std::string_view message, std::size_t max_xml);

}  // namespace postamt::mailauth
