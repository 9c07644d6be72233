// The XML of a DMARC aggregate report, in the element order of RFC 7489 Appendix C.
#include <string>

#include "proto/mailauth/dmarc_report.hpp"
#include "proto/smtp/utf8.hpp"

namespace postamt::mailauth {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// XML 1.0 §2.2 Char and §2.4: markup characters escaped, characters a document cannot
// hold replaced, so no value — all of them come from other parties — can break the XML.
void append_escaped(std::string& out, std::string_view text) {
  while (!text.empty()) {
    const std::size_t length = proto::smtp::utf8_sequence_length(text);
    if (length == 0) {
      out += kReplacement;
      text.remove_prefix(1);
      continue;
    }
    const auto c = static_cast<unsigned char>(text[0]);
    if (length == 1) {
      switch (c) {
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '&': out += "&amp;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        case '\t': case '\n': case '\r': out += static_cast<char>(c); break;
        default:
          if (c < 0x20 || c == 0x7f) out += kReplacement;
          else out += static_cast<char>(c);
      }
    } else if (text.substr(0, length) == "\xEF\xBF\xBE" || text.substr(0, length) == "\xEF\xBF\xBF") {
      out += kReplacement;  // U+FFFE, U+FFFF are not XML characters
    } else {
      out.append(text.substr(0, length));
    }
    text.remove_prefix(length);
  }
}

class XmlWriter {
 public:
  void open(std::string_view name) {
    indent();
    out_ += '<';
    out_ += name;
    out_ += ">\n";
    ++depth_;
  }
  void close(std::string_view name) {
    --depth_;
    indent();
    out_ += "</";
    out_ += name;
    out_ += ">\n";
  }
  void leaf(std::string_view name, std::string_view text) {
    indent();
    out_ += '<';
    out_ += name;
    out_ += '>';
    append_escaped(out_, text);
    out_ += "</";
    out_ += name;
    out_ += ">\n";
  }
  void leaf_if(std::string_view name, std::string_view text) {
    if (!text.empty()) leaf(name, text);
  }
  std::string take() { return std::move(out_); }
  void raw(std::string_view text) { out_ += text; }

 private:
  void indent() { out_.append(static_cast<std::size_t>(depth_) * 2, ' '); }
  std::string out_;
  int depth_ = 0;
};

void write_record(XmlWriter& xml, const ReportRecord& record) {
  xml.open("record");
  xml.open("row");
  xml.leaf("source_ip", record.source_ip);
  xml.leaf("count", std::to_string(record.count));
  xml.open("policy_evaluated");
  xml.leaf("disposition", record.disposition);
  xml.leaf("dkim", record.dkim);
  xml.leaf("spf", record.spf);
  for (const auto& reason : record.reasons) {
    xml.open("reason");
    xml.leaf("type", reason.type);
    xml.leaf_if("comment", reason.comment);
    xml.close("reason");
  }
  xml.close("policy_evaluated");
  xml.close("row");
  xml.open("identifiers");
  xml.leaf_if("envelope_to", record.envelope_to);
  // envelope_from is required by the schema; the null sender has none, so it is empty.
  xml.leaf("envelope_from", record.envelope_from);
  xml.leaf("header_from", record.header_from);
  xml.close("identifiers");
  xml.open("auth_results");
  for (const auto& dkim : record.dkim_results) {
    xml.open("dkim");
    xml.leaf("domain", dkim.domain);
    xml.leaf_if("selector", dkim.selector);
    xml.leaf("result", dkim.result);
    xml.close("dkim");
  }
  for (const auto& spf : record.spf_results) {
    xml.open("spf");
    xml.leaf("domain", spf.domain);
    xml.leaf_if("scope", spf.scope);
    xml.leaf("result", spf.result);
    xml.close("spf");
  }
  xml.close("auth_results");
  xml.close("record");
}

}  // namespace

std::string write_aggregate_report(const AggregateReport& report) {
  XmlWriter xml;
  xml.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  xml.open("feedback");
  xml.leaf("version", "1.0");
  xml.open("report_metadata");
  xml.leaf("org_name", report.org_name);
  xml.leaf("email", report.email);
  xml.leaf_if("extra_contact_info", report.extra_contact_info);
  xml.leaf("report_id", report.report_id);
  xml.open("date_range");
  xml.leaf("begin", std::to_string(report.begin));
  xml.leaf("end", std::to_string(report.end));
  xml.close("date_range");
  for (const auto& error : report.errors) xml.leaf("error", error);
  xml.close("report_metadata");
  xml.open("policy_published");
  xml.leaf("domain", report.domain);
  xml.leaf("adkim", report.adkim.empty() ? "r" : report.adkim);
  xml.leaf("aspf", report.aspf.empty() ? "r" : report.aspf);
  xml.leaf("p", report.p);
  // sp: the policy for subdomains; absent means p applies (RFC 7489 §6.3).
  xml.leaf("sp", report.sp.empty() ? report.p : report.sp);
  xml.leaf_if("np", report.np);
  xml.leaf("pct", std::to_string(report.pct));
  xml.leaf("fo", report.fo.empty() ? "0" : report.fo);
  xml.close("policy_published");
  for (const auto& record : report.records) write_record(xml, record);
  xml.close("feedback");
  return xml.take();
}

}  // namespace postamt::mailauth
