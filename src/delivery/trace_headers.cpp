#include "delivery/trace_headers.hpp"

namespace postamt::delivery {
namespace {

// A client's HELO text goes into a header: keep it printable ASCII without parentheses
// or line breaks so it cannot forge further header fields or comments.
std::string sanitize(std::string_view text) {
  std::string out;
  for (unsigned char c : text.substr(0, 255)) {
    out += (c > ' ' && c < 0x7f && c != '(' && c != ')' && c != '\\') ? static_cast<char>(c) : '?';
  }
  return out.empty() ? "unknown" : out;
}

}  // namespace

std::string rfc5322_date(std::time_t when) {
  std::tm utc{};
  gmtime_r(&when, &utc);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s, %d %s %04d %02d:%02d:%02d +0000", kDays[utc.tm_wday],
                utc.tm_mday, kMonths[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
                utc.tm_sec);
  return buffer;
}

std::string received_protocol(const TraceInfo& info) {
  if (!info.extended) return "SMTP";
  std::string keyword = info.smtputf8 ? "UTF8SMTP" : "ESMTP";
  if (!info.tls_version.empty()) keyword += 'S';
  if (!info.auth_user.empty()) keyword += 'A';
  return keyword;
}

std::string trace_headers(const TraceInfo& info) {
  std::string out = "Return-Path: <" + info.reverse_path + ">\r\n";
  out += "Received: from " + sanitize(info.helo) + " ([" + info.client_ip + "])\r\n";
  out += "\tby " + info.hostname + " (Postamt) with " + received_protocol(info) + " id " + info.id + "\r\n";
  if (!info.tls_version.empty()) {
    out += "\t(using " + sanitize(info.tls_version) + " with cipher " + sanitize(info.tls_cipher) + ")\r\n";
  }
  if (!info.auth_user.empty()) out += "\t(authenticated as " + sanitize(info.auth_user) + ")\r\n";
  // Naming the recipient reveals nothing new only when there is exactly one.
  if (info.recipients.size() == 1) out += "\tfor <" + info.recipients.front() + ">;\r\n";
  else out.insert(out.size() - 2, ";");
  out += "\t" + rfc5322_date(info.when) + "\r\n";
  return out;
}

std::size_t count_received_fields(std::string_view message, std::size_t stop_after) {
  constexpr std::string_view kName = "received:";
  std::size_t count = 0;
  std::size_t line_start = 0;
  while (line_start < message.size() && count <= stop_after) {
    const auto line_end = message.find('\n', line_start);
    const std::string_view line =
        message.substr(line_start, line_end == std::string_view::npos ? std::string_view::npos : line_end - line_start);
    if (line.empty() || line == "\r") break;  // the end of the header
    if (line.size() >= kName.size()) {
      bool match = true;
      for (std::size_t i = 0; i < kName.size() && match; ++i) {
        const char c = line[i];
        match = (c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) == kName[i];
      }
      if (match) ++count;
    }
    if (line_end == std::string_view::npos) break;
    line_start = line_end + 1;
  }
  return count;
}

}  // namespace postamt::delivery
