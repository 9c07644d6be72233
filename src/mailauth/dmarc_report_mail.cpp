#include "mailauth/dmarc_report_mail.hpp"

#include "mailauth/dmarc_report_gzip.hpp"
#include "mime/analyze_message.hpp"
#include "mime/decode_part_content.hpp"
#include "mime/rfc5322_date.hpp"
#include "mime/transfer_encoders.hpp"

namespace postamt::mailauth {
namespace {

constexpr std::size_t kMaxDocuments = 4;

bool is_gzip(std::string_view data) { return data.size() >= 2 && data[0] == '\x1f' && data[1] == '\x8b'; }
bool is_zip(std::string_view data) { return data.starts_with(std::string_view("PK\x03\x04", 4)); }
bool looks_like_xml(std::string_view data) {
  const auto first = data.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  return first != std::string_view::npos && data[first] == '<';
}

}  // namespace

std::string report_file_name(const ReportMailInput& input) {
  return input.submitter + "!" + input.policy_domain + "!" + std::to_string(input.begin) + "!" +
         std::to_string(input.end) + "!" + input.report_id + ".xml.gz";
}

std::string compose_report_mail(const ReportMailInput& input) {
  const std::string boundary = "=_postamt-dmarc-" + input.report_id;
  const std::string file = report_file_name(input);
  std::string to;
  for (const auto& address : input.to) {
    if (!to.empty()) to += ",\r\n ";
    to += "<" + address + ">";
  }
  std::string mail;
  mail += "From: <" + input.from + ">\r\n";
  mail += "To: " + to + "\r\n";
  mail += "Date: " + mime::format_rfc5322_date(input.now) + "\r\n";
  // RFC 7489 §7.2.1.1: the subject names the domain, the submitter and the report id.
  mail += "Subject: Report Domain: " + input.policy_domain + " Submitter: " + input.submitter + "\r\n Report-ID: <" +
          input.report_id + ">\r\n";
  mail += "Message-ID: <dmarc-" + input.report_id + "." + std::to_string(input.now) + "@" + input.submitter + ">\r\n";
  mail += "MIME-Version: 1.0\r\n";
  mail += "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n";
  mail += "\r\n";
  mail += "This is a DMARC aggregate report in MIME format.\r\n\r\n";
  mail += "--" + boundary + "\r\n";
  mail += "Content-Type: text/plain; charset=us-ascii\r\n";
  mail += "Content-Transfer-Encoding: 7bit\r\n\r\n";
  mail += "This is a DMARC aggregate report (RFC 7489) from " + input.submitter + ".\r\n";
  mail += "Report Domain: " + input.policy_domain + "\r\n";
  mail += "Report-ID: " + input.report_id + "\r\n";
  mail += "Period: " + mime::format_rfc5322_date(input.begin) + " to " + mime::format_rfc5322_date(input.end) + "\r\n";
  mail += "\r\n--" + boundary + "\r\n";
  mail += "Content-Type: application/gzip; name=\"" + file + "\"\r\n";
  mail += "Content-Disposition: attachment; filename=\"" + file + "\"\r\n";
  mail += "Content-Transfer-Encoding: base64\r\n\r\n";
  mail += mime::encode_base64_lines(input.gzipped_xml);
  mail += "\r\n--" + boundary + "--\r\n";
  return mail;
}

FoundReports find_report_documents(std::string_view message, std::size_t max_xml) {
  FoundReports found;
  const auto metadata = mime::analyze_message(message);
  for (const auto& part : metadata.parts) {
    if (found.documents.size() >= kMaxDocuments) break;
    // The "" entry repeats a single-part message's body (its part "1" follows).
    if (part.is_message) continue;
    const bool gzip_type = part.type == "application" && (part.subtype == "gzip" || part.subtype == "x-gzip");
    const bool zip_type = part.type == "application" && (part.subtype == "zip" || part.subtype == "x-zip-compressed");
    const bool xml_type = (part.type == "text" || part.type == "application") && part.subtype == "xml";
    const bool unknown = part.type == "application" && part.subtype == "octet-stream";
    if (!gzip_type && !zip_type && !xml_type && !unknown) continue;
    auto content = mime::decode_part_content(message, part);
    if (!content) {
      found.problems.push_back("part " + part.section + ": " + content.error());
      continue;
    }
    // Where compressed data arrives, it is known by its magic bytes rather than its label.
    Result<std::string> document = permanent_error("not a report");
    if (is_gzip(*content)) {
      document = gunzip_bounded(*content, max_xml);
    } else if (is_zip(*content)) {
      document = unzip_first_file(*content, max_xml);
    } else if ((xml_type || unknown) && looks_like_xml(*content)) {
      if (content->size() > max_xml) document = permanent_error("the report is too large");
      else document = std::move(*content);
    } else if (!unknown) {
      document = permanent_error("the " + part.type + "/" + part.subtype + " part holds no report");
    } else {
      continue;
    }
    if (!document) {
      found.problems.push_back("part " + (part.section.empty() ? std::string("1") : part.section) + ": " +
                               document.error().message);
      continue;
    }
    found.documents.push_back(std::move(*document));
  }
  return found;
}

}  // namespace postamt::mailauth
