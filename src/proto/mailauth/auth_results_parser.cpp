// Reads an Authentication-Results value (RFC 8601 §2.2):
//   [CFWS] authserv-id [CFWS authres-version] ( no-result / 1*resinfo ) [CFWS]
//   resinfo    = [CFWS] ";" methodspec [CFWS reasonspec] [CFWS 1*propspec]
//   methodspec = [CFWS] method [CFWS] "=" [CFWS] result; method = Keyword [[CFWS] "/" [CFWS] version]
//   propspec   = ptype [CFWS] "." [CFWS] property [CFWS] "=" pvalue
//   pvalue     = [CFWS] ( value / [ [ local-part ] "@" ] domain-name ) [CFWS]
#include "proto/mailauth/auth_results.hpp"

namespace postamt::mailauth {
namespace {

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}

  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[i_]; }
  bool take(char c) {
    if (peek() != c || at_end()) return false;
    ++i_;
    return true;
  }

  // CFWS: whitespace, folding and nested comments (RFC 5322 §3.2.2). Returns false on an
  // unterminated comment; `comment` receives the last top-level comment's unescaped text.
  bool skip_cfws(std::string* comment = nullptr) {
    while (!at_end()) {
      const char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++i_;
      } else if (c == '(') {
        std::string text;
        int depth = 0;
        do {
          if (at_end()) return false;
          char d = s_[i_++];
          if (d == '\\') {
            if (at_end()) return false;
            d = s_[i_++];
            text.push_back(d);
            continue;
          }
          if (d == '(') {
            if (depth++ == 0) continue;
          } else if (d == ')') {
            if (--depth == 0) break;
          }
          text.push_back(d);
        } while (depth > 0);
        if (comment) *comment = std::move(text);
      } else {
        break;
      }
    }
    return true;
  }

  // Keyword, read leniently (letters, digits, '-', '_').
  std::string keyword() {
    const std::size_t start = i_;
    while (!at_end()) {
      const char c = s_[i_];
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_') ++i_;
      else break;
    }
    return std::string(s_.substr(start, i_ - start));
  }

  std::string digits() {
    const std::size_t start = i_;
    while (!at_end() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    return std::string(s_.substr(start, i_ - start));
  }

  // quoted-string content, unescaped; nullopt when unterminated.
  std::optional<std::string> quoted_string() {
    if (!take('"')) return std::nullopt;
    std::string out;
    while (!at_end()) {
      char c = s_[i_++];
      if (c == '"') return out;
      if (c == '\\') {
        if (at_end()) return std::nullopt;
        c = s_[i_++];
      } else if (c == '\r' || c == '\n') {
        continue;  // folding inside the quotes: unfolded
      }
      out.push_back(c);
    }
    return std::nullopt;
  }

  // value = token / quoted-string (RFC 2045 §5.1); non-ASCII accepted (RFC 6532).
  std::optional<std::string> value() {
    if (peek() == '"') return quoted_string();
    const std::size_t start = i_;
    while (!at_end() && is_token_byte(s_[i_])) ++i_;
    if (i_ == start) return std::nullopt;
    return std::string(s_.substr(start, i_ - start));
  }

  // pvalue: a value, or [local-part] "@" domain-name where the local part may be quoted.
  std::optional<std::string> pvalue() {
    std::string out;
    if (peek() == '"') {
      auto q = quoted_string();
      if (!q) return std::nullopt;
      if (peek() != '@') return q;
      out = *q;  // "quoted local"@domain
    }
    const std::size_t start = i_;
    while (!at_end() && is_pvalue_byte(s_[i_])) ++i_;
    out.append(s_.substr(start, i_ - start));
    if (out.empty() && start == i_) return std::nullopt;
    return out;
  }

 private:
  static bool is_token_byte(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) return true;
    if (u <= 0x20 || u == 0x7f) return false;
    return std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
  }
  // Anything up to CFWS, ';' or a quote: tokens, addresses, and base64 with '/', '+', '='.
  static bool is_pvalue_byte(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) return true;
    if (u <= 0x20 || u == 0x7f) return false;
    return c != '(' && c != ')' && c != ';' && c != '"' && c != '\\';
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

Result<AuthMethodResult> parse_resinfo(Cursor& c) {
  AuthMethodResult r;
  if (!c.skip_cfws()) return permanent_error("unterminated comment");
  r.method = c.keyword();
  if (r.method.empty()) return permanent_error("missing method");
  if (!c.skip_cfws()) return permanent_error("unterminated comment");
  if (c.take('/')) {  // method-version
    if (!c.skip_cfws() || c.digits().empty() || !c.skip_cfws()) return permanent_error("bad method version");
  }
  if (!c.take('=')) return permanent_error("missing '=' after the method");
  if (!c.skip_cfws()) return permanent_error("unterminated comment");
  r.result = c.keyword();
  if (r.result.empty()) return permanent_error("missing result");
  std::string comment;
  if (!c.skip_cfws(&comment)) return permanent_error("unterminated comment");
  r.comment = std::move(comment);
  while (!c.at_end() && c.peek() != ';') {
    const std::string name = c.keyword();
    if (name.empty()) return permanent_error("unexpected character in a result");
    if (!c.skip_cfws()) return permanent_error("unterminated comment");
    if (c.take('=')) {  // reasonspec: only "reason" takes '=' directly
      if (name != "reason" && name != "Reason" && name != "REASON") return permanent_error("'=' after a non-reason name");
      if (!r.reason.empty()) return permanent_error("reason given twice");
      if (!c.skip_cfws()) return permanent_error("unterminated comment");
      auto reason = c.value();
      if (!reason) return permanent_error("bad reason value");
      r.reason = *reason;
    } else {
      if (!c.take('.')) return permanent_error("missing '.' in a property");
      if (!c.skip_cfws()) return permanent_error("unterminated comment");
      AuthResultProperty p;
      p.ptype = name;
      p.property = c.keyword();
      if (p.property.empty()) return permanent_error("missing property name");
      if (!c.skip_cfws() || !c.take('=') || !c.skip_cfws()) return permanent_error("missing '=' in a property");
      auto value = c.pvalue();
      if (!value) return permanent_error("bad property value");
      p.value = std::move(*value);
      r.properties.push_back(std::move(p));
    }
    if (!c.skip_cfws()) return permanent_error("unterminated comment");
  }
  return r;
}

}  // namespace

std::optional<std::string> authserv_id_of(std::string_view value) {
  Cursor c(value);
  if (!c.skip_cfws()) return std::nullopt;
  auto id = c.value();
  if (!id || id->empty()) return std::nullopt;
  return id;
}

Result<AuthenticationResults> parse_authentication_results(std::string_view value) {
  Cursor c(value);
  AuthenticationResults out;
  if (!c.skip_cfws()) return permanent_error("unterminated comment");
  auto id = c.value();
  if (!id || id->empty()) return permanent_error("missing authserv-id");
  out.authserv_id = std::move(*id);
  if (!c.skip_cfws()) return permanent_error("unterminated comment");
  if (c.peek() >= '0' && c.peek() <= '9') {
    const std::string version = c.digits();
    if (version.size() > 6) return permanent_error("version too long");
    out.version = static_cast<unsigned>(std::stoul(version));
    if (!c.skip_cfws()) return permanent_error("unterminated comment");
  }
  if (!c.take(';')) return permanent_error("missing ';' after the authserv-id");
  // no-result: "; none" and nothing else.
  {
    Cursor probe = c;
    if (probe.skip_cfws()) {
      const std::string word = probe.keyword();
      if ((word == "none" || word == "None" || word == "NONE") && probe.skip_cfws() && probe.at_end()) return out;
    }
  }
  while (true) {
    auto r = parse_resinfo(c);
    if (!r) return std::unexpected(r.error());
    out.results.push_back(std::move(*r));
    if (out.results.size() > 256) return permanent_error("too many results");
    if (c.at_end()) break;
    if (!c.take(';')) return permanent_error("missing ';' between results");
    if (!c.skip_cfws()) return permanent_error("unterminated comment");
    if (c.at_end()) break;  // a trailing ';', as some writers leave
  }
  return out;
}

}  // namespace postamt::mailauth
