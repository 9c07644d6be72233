// The one Authentication-Results writer (RFC 8601 §2.2), and the removal of forged fields.
#include "proto/mailauth/auth_results.hpp"

#include <algorithm>

namespace postamt::mailauth {
namespace {

constexpr std::size_t kFoldAt = 78;  // RFC 5322 §2.1.1 SHOULD
constexpr std::string_view kFieldName = "Authentication-Results:";

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// RFC 2045 §5.1 token: printable US-ASCII except SPACE and tspecials.
bool is_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7f) return false;
  switch (c) {
    case '(': case ')': case '<': case '>': case '@': case ',': case ';': case ':': case '\\':
    case '"': case '/': case '[': case ']': case '?': case '=':
      return false;
    default:
      return true;
  }
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

bool is_atext(char c) {
  if (is_alnum(c)) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

// dot-atom-text (RFC 5322 §3.2.3), as a pvalue's local-part.
bool is_dot_atom(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') {
      if (s[i - 1] == '.') return false;
    } else if (!is_atext(s[i])) {
      return false;
    }
  }
  return true;
}

// domain-name (RFC 6376 §3.5): LDH labels separated by dots (underscores allowed, as in
// selectors and many real names).
bool is_domain_name(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      if (label == 0 || label > 63 || s[i - 1] == '-') return false;
      label = 0;
    } else if (is_alnum(s[i]) || s[i] == '_' || (s[i] == '-' && label > 0)) {
      ++label;
    } else {
      return false;
    }
  }
  return true;
}

// pvalue's second form: [ [ local-part ] "@" ] domain-name (RFC 8601 §2.2).
bool is_mailbox_like(std::string_view s) {
  const auto at = s.rfind('@');
  if (at == std::string_view::npos) return false;
  return (at == 0 || is_dot_atom(s.substr(0, at))) && is_domain_name(s.substr(at + 1));
}

// Length of the valid UTF-8 sequence at s[i] (RFC 3629 §4), 0 when invalid.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) n = 2;
  else if (b0 >= 0xe0 && b0 <= 0xef) n = 3, lo = b0 == 0xe0 ? 0xa0 : 0x80, hi = b0 == 0xed ? 0x9f : 0xbf;
  else if (b0 >= 0xf0 && b0 <= 0xf4) n = 4, lo = b0 == 0xf0 ? 0x90 : 0x80, hi = b0 == 0xf4 ? 0x8f : 0xbf;
  else return 0;
  if (i + n > s.size()) return 0;
  const auto b1 = static_cast<unsigned char>(s[i + 1]);
  if (b1 < lo || b1 > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (b < 0x80 || b > 0xbf) return 0;
  }
  return n;
}

// Control characters and invalid UTF-8 become '?'; the result is at most the cap, cut at a
// character boundary. Nothing in the output can end a line.
std::string sanitise(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto u = static_cast<unsigned char>(s[i]);
    std::size_t n = 1;
    if (u >= 0x80) {
      n = utf8_sequence(s, i);
      if (n == 0) {
        n = 1;
        if (out.size() + 1 > kMaxAuthResultValue) break;
        out.push_back('?');
        i += n;
        continue;
      }
    }
    if (out.size() + n > kMaxAuthResultValue) break;
    if (u < 0x20 || u == 0x7f) out.push_back('?');
    else out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// value = token / quoted-string (RFC 2045 §5.1).
std::string value_text(std::string_view raw) {
  const std::string s = sanitise(raw);
  return is_token(s) ? s : quoted(s);
}

std::string pvalue_text(std::string_view raw) {
  const std::string s = sanitise(raw);
  return is_token(s) || is_mailbox_like(s) ? s : quoted(s);
}

std::string comment_text(std::string_view raw) {
  std::string out = "(";
  for (char c : sanitise(raw)) {
    if (c == '(' || c == ')' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back(')');
  return out;
}

std::string lower_no_dot(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

bool is_auth_results_keyword(std::string_view s) {
  if (s.empty() || s.size() > 64 || !is_alnum(s.front()) || !is_alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

std::string format_authentication_results_value(const AuthenticationResults& results) {
  // Pieces that stay on one line; the writer folds between them.
  std::vector<std::string> pieces;
  std::string head = value_text(results.authserv_id.empty() ? std::string_view("localhost") : results.authserv_id);
  if (results.version) head += " " + std::to_string(*results.version);
  pieces.push_back(head + ";");
  std::size_t written = 0;
  for (const AuthMethodResult& r : results.results) {
    if (!is_auth_results_keyword(r.method) || !is_auth_results_keyword(r.result)) continue;
    if (written++ > 0) pieces.back() += ";";
    pieces.push_back(r.method + "=" + r.result);
    if (!r.comment.empty()) pieces.push_back(comment_text(r.comment));
    if (!r.reason.empty()) pieces.push_back("reason=" + quoted(sanitise(r.reason)));
    for (const AuthResultProperty& p : r.properties) {
      if (!is_auth_results_keyword(p.ptype) || !is_auth_results_keyword(p.property)) continue;
      pieces.push_back(p.ptype + "." + p.property + "=" + pvalue_text(p.value));
    }
  }
  if (written == 0) pieces.push_back("none");

  std::string out;
  std::size_t line = kFieldName.size();
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    if (i > 0 && line + 1 + pieces[i].size() > kFoldAt) {
      out += "\r\n\t";
      line = 1;
    } else {
      out += ' ';
      ++line;
    }
    out += pieces[i];
    line += pieces[i].size();
  }
  return out;
}

std::string format_authentication_results_field(const AuthenticationResults& results) {
  return std::string(kFieldName) + format_authentication_results_value(results) + "\r\n";
}

bool claims_authserv_id(std::string_view value, std::string_view our_authserv_id) {
  const auto id = authserv_id_of(value);
  if (!id) return true;
  return lower_no_dot(*id) == lower_no_dot(our_authserv_id);
}

std::vector<ByteRange> forged_authentication_results(std::string_view header_block,
                                                     std::string_view our_authserv_id) {
  std::vector<ByteRange> ranges;
  for (const RawHeaderField& field : split_header_fields(header_block)) {
    if (header_name_equals(field.name, "Authentication-Results") && claims_authserv_id(field.value, our_authserv_id)) {
      ranges.push_back({field.offset, field.length});
    }
  }
  return ranges;
}

std::string strip_forged_authentication_results(std::string_view header_block, std::string_view our_authserv_id) {
  std::string out;
  out.reserve(header_block.size());
  std::size_t pos = 0;
  for (const ByteRange& range : forged_authentication_results(header_block, our_authserv_id)) {
    out.append(header_block.substr(pos, range.offset - pos));
    pos = range.offset + range.length;
  }
  out.append(header_block.substr(pos));
  return out;
}

}  // namespace postamt::mailauth
