// Parsing DMARC aggregate reports (RFC 7489 Appendix C, RFC 9990 §2) with expat.
//
// Reports come from anyone who claims to report on our domains, so the document is
// hostile input: no DOCTYPE at all (so no entity of any kind is ever expanded), a depth,
// size, record and per-element text limit, and nothing read beyond the elements below.
#include <expat.h>

#include <charconv>
#include <climits>
#include <string>

#include "proto/mailauth/dmarc_report.hpp"

namespace postamt::mailauth {
namespace {

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

template <class Integer>
bool parse_integer(std::string_view text, Integer& value) {
  text = trim(text);
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

class ReportParser {
 public:
  explicit ReportParser(const ReportParseLimits& limits) : limits_(limits) {}

  Result<AggregateReport> parse(std::string_view xml) {
    if (xml.size() > limits_.max_xml_octets || xml.size() > static_cast<std::size_t>(INT_MAX))
      return permanent_error("report too large: " + std::to_string(xml.size()) + " octets");
    // The separator splits "namespace-URI<sep>local-name"; only the local name counts.
    XML_Parser parser = XML_ParserCreateNS(nullptr, '\x01');
    if (parser == nullptr) return temporary_error("out of memory");
    parser_ = parser;
    XML_SetUserData(parser, this);
    XML_SetElementHandler(parser, &ReportParser::on_start, &ReportParser::on_end);
    XML_SetCharacterDataHandler(parser, &ReportParser::on_text);
    XML_SetStartDoctypeDeclHandler(parser, &ReportParser::on_doctype);
    const auto status = XML_Parse(parser, xml.data(), static_cast<int>(xml.size()), XML_TRUE);
    std::string expat_error;
    if (status != XML_STATUS_OK && error_.empty()) {
      expat_error = std::string("malformed XML at line ") + std::to_string(XML_GetCurrentLineNumber(parser)) +
                    ": " + XML_ErrorString(XML_GetErrorCode(parser));
    }
    XML_ParserFree(parser);
    parser_ = nullptr;
    if (!error_.empty()) return permanent_error(error_);
    if (!expat_error.empty()) return permanent_error(expat_error);
    return finish();
  }

 private:
  static void on_start(void* self, const XML_Char* name, const XML_Char**) {
    static_cast<ReportParser*>(self)->start(local_name(name));
  }
  static void on_end(void* self, const XML_Char* name) { static_cast<ReportParser*>(self)->end(local_name(name)); }
  static void on_text(void* self, const XML_Char* text, int length) {
    static_cast<ReportParser*>(self)->text(std::string_view(text, static_cast<std::size_t>(length)));
  }
  static void on_doctype(void* self, const XML_Char*, const XML_Char*, const XML_Char*, int) {
    static_cast<ReportParser*>(self)->stop("a DOCTYPE is not allowed in a report");
  }

  static std::string_view local_name(const XML_Char* name) {
    std::string_view full(name);
    const auto separator = full.rfind('\x01');
    return separator == std::string_view::npos ? full : full.substr(separator + 1);
  }

  void stop(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    XML_StopParser(parser_, XML_FALSE);
  }

  void start(std::string_view name) {
    if (!error_.empty()) return;
    if (stack_.size() >= limits_.max_depth) return stop("report nested too deeply");
    if (stack_.empty() && name != "feedback") return stop("the root element is not <feedback>");
    stack_.emplace_back(name);
    text_.clear();
    path_ = path();
    if (path_ == "feedback/record") {
      if (report_.records.size() >= limits_.max_records) return stop("too many records in the report");
      report_.records.emplace_back();
      return;
    }
    if (report_.records.empty()) return;
    auto& record = report_.records.back();
    const std::size_t results = record.reasons.size() + record.dkim_results.size() + record.spf_results.size();
    const bool adds = path_ == "feedback/record/row/policy_evaluated/reason" ||
                      path_ == "feedback/record/auth_results/dkim" || path_ == "feedback/record/auth_results/spf";
    if (adds && results >= limits_.max_results_per_record) return stop("too many results in one record");
    if (adds && ++total_results_ > limits_.max_results) return stop("too many results in the report");
    if (path_ == "feedback/record/row/policy_evaluated/reason") record.reasons.emplace_back();
    if (path_ == "feedback/record/auth_results/dkim") record.dkim_results.emplace_back();
    if (path_ == "feedback/record/auth_results/spf") record.spf_results.emplace_back();
  }

  void text(std::string_view piece) {
    if (!error_.empty()) return;
    if (text_.size() + piece.size() > limits_.max_text_octets) return stop("an element's text is too long");
    text_ += piece;
  }

  void end(std::string_view) {
    if (!error_.empty() || stack_.empty()) return;
    path_ = path();
    leaf(path_, std::string(trim(text_)));
    text_.clear();
    stack_.pop_back();
  }

  std::string path() const {
    std::string joined;
    for (const auto& name : stack_) {
      if (!joined.empty()) joined += '/';
      joined += name;
    }
    return joined;
  }

  void leaf(std::string_view path, std::string value) {
    constexpr std::string_view kMeta = "feedback/report_metadata/";
    constexpr std::string_view kPolicy = "feedback/policy_published/";
    constexpr std::string_view kRecord = "feedback/record/";
    if (path.starts_with(kMeta)) return metadata(path.substr(kMeta.size()), std::move(value));
    if (path.starts_with(kPolicy)) return policy(path.substr(kPolicy.size()), std::move(value));
    if (path.starts_with(kRecord) && !report_.records.empty())
      return record(report_.records.back(), path.substr(kRecord.size()), std::move(value));
  }

  void metadata(std::string_view name, std::string value) {
    if (name == "org_name") report_.org_name = std::move(value);
    else if (name == "email") report_.email = std::move(value);
    else if (name == "extra_contact_info") report_.extra_contact_info = std::move(value);
    else if (name == "report_id") report_.report_id = std::move(value);
    else if (name == "error") {
      if (report_.errors.size() < limits_.max_results_per_record) report_.errors.push_back(std::move(value));
    } else if (name == "date_range/begin") {
      if (!parse_integer(value, report_.begin)) stop("date_range/begin is not a number");
      has_begin_ = true;
    } else if (name == "date_range/end") {
      if (!parse_integer(value, report_.end)) stop("date_range/end is not a number");
      has_end_ = true;
    }
  }

  void policy(std::string_view name, std::string value) {
    if (name == "domain") report_.domain = std::move(value);
    else if (name == "adkim") report_.adkim = std::move(value);
    else if (name == "aspf") report_.aspf = std::move(value);
    else if (name == "p") report_.p = std::move(value);
    else if (name == "sp") report_.sp = std::move(value);
    else if (name == "np") report_.np = std::move(value);
    else if (name == "fo") report_.fo = std::move(value);
    else if (name == "pct") {
      // Some reporters leave pct empty; it then means 100 (RFC 7489 §6.3).
      int pct = 100;
      if (!value.empty() && (!parse_integer(value, pct) || pct < 0 || pct > 100)) return stop("pct out of range");
      report_.pct = pct;
    }
  }

  void record(ReportRecord& record, std::string_view name, std::string value) {
    if (name == "row/source_ip") record.source_ip = std::move(value);
    else if (name == "row/count") {
      if (!parse_integer(value, record.count)) stop("a record's count is not a number");
    } else if (name == "row/policy_evaluated/disposition") record.disposition = std::move(value);
    else if (name == "row/policy_evaluated/dkim") record.dkim = std::move(value);
    else if (name == "row/policy_evaluated/spf") record.spf = std::move(value);
    else if (name == "row/policy_evaluated/reason/type" && !record.reasons.empty())
      record.reasons.back().type = std::move(value);
    else if (name == "row/policy_evaluated/reason/comment" && !record.reasons.empty())
      record.reasons.back().comment = std::move(value);
    else if (name == "identifiers/envelope_to") record.envelope_to = std::move(value);
    else if (name == "identifiers/envelope_from") record.envelope_from = std::move(value);
    else if (name == "identifiers/header_from") record.header_from = std::move(value);
    else if (name == "auth_results/dkim/domain" && !record.dkim_results.empty())
      record.dkim_results.back().domain = std::move(value);
    else if (name == "auth_results/dkim/selector" && !record.dkim_results.empty())
      record.dkim_results.back().selector = std::move(value);
    else if (name == "auth_results/dkim/result" && !record.dkim_results.empty())
      record.dkim_results.back().result = std::move(value);
    else if (name == "auth_results/spf/domain" && !record.spf_results.empty())
      record.spf_results.back().domain = std::move(value);
    else if (name == "auth_results/spf/scope" && !record.spf_results.empty())
      record.spf_results.back().scope = std::move(value);
    else if (name == "auth_results/spf/result" && !record.spf_results.empty())
      record.spf_results.back().result = std::move(value);
  }

  Result<AggregateReport> finish() {
    if (report_.org_name.empty()) return permanent_error("report_metadata/org_name is missing");
    if (report_.report_id.empty()) return permanent_error("report_metadata/report_id is missing");
    if (report_.domain.empty()) return permanent_error("policy_published/domain is missing");
    if (!has_begin_ || !has_end_) return permanent_error("report_metadata/date_range is missing");
    if (report_.end < report_.begin) return permanent_error("date_range ends before it begins");
    for (const auto& record : report_.records) {
      if (record.source_ip.empty()) return permanent_error("a record has no source_ip");
    }
    return std::move(report_);
  }

  const ReportParseLimits& limits_;
  XML_Parser parser_ = nullptr;
  std::vector<std::string> stack_;
  std::string path_;
  std::string text_;
  std::string error_;
  AggregateReport report_;
  std::size_t total_results_ = 0;
  bool has_begin_ = false;
  bool has_end_ = false;
};

}  // namespace

Result<AggregateReport> parse_aggregate_report(std::string_view xml, const ReportParseLimits& limits) {
  ReportParser parser(limits);
  auto parsed = parser.parse(xml);
  return parsed;
}

}  // namespace postamt::mailauth
