#include "proto/mailauth/spf_received.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace postamt::mailauth {
namespace {

// RFC 5322 §3.2.3 atext.
bool is_atext(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool is_dot_atom(std::string_view text) {
  if (text.empty() || text.front() == '.' || text.back() == '.' || text.find("..") != std::string_view::npos) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c == '.' || is_atext(c); });
}

// Printable ASCII only: controls (CR, LF, ...) and other octets become '?'.
std::string printable(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto octet = static_cast<unsigned char>(c);
    out += octet >= 0x20 && octet < 0x7F ? c : '?';
  }
  return out;
}

std::string value(std::string_view text) {  // dot-atom / quoted-string (RFC 5322 §3.2.4)
  std::string safe = printable(text);
  if (is_dot_atom(safe)) return safe;
  std::string out = "\"";
  for (char c : safe) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

std::string comment_text(std::string_view text) {  // ctext: no unescaped ( ) or backslash
  std::string out;
  for (char c : printable(text)) {
    if (c == '(' || c == ')' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string comment(const SpfVerdict& verdict, const std::string& ip, const std::string& receiver) {
  const std::string& who = verdict.sender;
  std::string text;
  switch (verdict.result) {
    case SpfResult::pass: text = "domain of " + who + " designates " + ip + " as permitted sender"; break;
    case SpfResult::fail: text = "domain of " + who + " does not designate " + ip + " as permitted sender"; break;
    case SpfResult::softfail:
      text = "domain of transitioning " + who + " does not designate " + ip + " as permitted sender";
      break;
    case SpfResult::neutral: text = ip + " is neither permitted nor denied by domain of " + who; break;
    case SpfResult::none: text = "domain of " + who + " does not designate permitted sender hosts"; break;
    case SpfResult::temperror: text = "error in processing during lookup of " + who; break;
    case SpfResult::permerror: text = "permanent error in processing domain of " + who; break;
  }
  return receiver + ": " + text;
}

}  // namespace

std::string received_spf_value(const SpfVerdict& verdict, const SpfInputs& inputs, const std::string& receiver) {
  std::string ip = inputs.ip.to_string();
  std::string out(spf_result_name(verdict.result));
  out += " (" + comment_text(comment(verdict, ip, receiver)) + ")";
  out += " client-ip=" + value(ip);
  out += "; envelope-from=" + value(inputs.mail_from);
  out += "; helo=" + value(inputs.helo);
  out += "; receiver=" + value(receiver);
  out += "; identity=" + std::string(spf_identity_name(verdict.identity));
  if (!verdict.mechanism.empty()) out += "; mechanism=" + value(verdict.mechanism);
  if (!verdict.problem.empty() && (verdict.result == SpfResult::permerror || verdict.result == SpfResult::temperror))
    out += "; problem=" + value(verdict.problem);
  return out;
}

}  // namespace postamt::mailauth
