#include "proto/smtp/address.hpp"

#include <optional>

#include "proto/smtp/utf8.hpp"

namespace postamt::proto::smtp {
namespace {

constexpr std::size_t kMaxDomainLength = 255;  // RFC 5321 §4.5.3.1.2
constexpr std::size_t kMaxLabelLength = 63;    // RFC 1035 §2.3.4

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_non_ascii(char c) { return static_cast<unsigned char>(c) >= 0x80; }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// RFC 5322 §3.2.3 atext.
bool is_atext(char c) {
  if (is_alpha(c) || is_digit(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '/': case '=': case '?': case '^': case '_': case '`': case '{':
    case '|': case '}': case '~':
      return true;
    default:
      return false;
  }
}

// qtextSMTP = %d32-33 / %d35-91 / %d93-126 (RFC 5321 §4.1.2)
bool is_qtext(char c) {
  const auto o = static_cast<unsigned char>(c);
  return o == 32 || o == 33 || (o >= 35 && o <= 91) || (o >= 93 && o <= 126);
}

bool is_dot_string(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  bool previous_dot = false;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '.') {
      if (previous_dot) return false;
      previous_dot = true;
      ++i;
      continue;
    }
    previous_dot = false;
    if (is_non_ascii(c)) {
      const std::size_t n = utf8_sequence_length(s.substr(i));
      if (n == 0) return false;
      i += n;
      continue;
    }
    if (!is_atext(c)) return false;
    ++i;
  }
  return true;
}

// IPv4-address-literal = Snum 3("." Snum), Snum = 1*3DIGIT of value 0-255.
bool is_ipv4(std::string_view s) {
  int parts = 0;
  while (true) {
    std::size_t digits = 0;
    unsigned value = 0;
    while (digits < s.size() && is_digit(s[digits])) {
      value = value * 10 + static_cast<unsigned>(s[digits] - '0');
      if (++digits > 3) return false;
    }
    if (digits == 0 || value > 255) return false;
    s.remove_prefix(digits);
    if (++parts == 4) return s.empty();
    if (s.empty() || s.front() != '.') return false;
    s.remove_prefix(1);
  }
}

// Counts the 16-bit groups of a colon-separated run; an IPv4 tail counts two.
std::optional<int> ipv6_groups(std::string_view s, bool allow_ipv4_tail) {
  if (s.empty()) return 0;
  int groups = 0;
  while (true) {
    const std::size_t colon = s.find(':');
    const std::string_view piece = s.substr(0, colon);
    if (colon == std::string_view::npos && allow_ipv4_tail &&
        piece.find('.') != std::string_view::npos) {
      if (!is_ipv4(piece)) return std::nullopt;
      return groups + 2;
    }
    if (piece.empty() || piece.size() > 4) return std::nullopt;
    for (char c : piece) {
      if (!is_hex(c)) return std::nullopt;
    }
    ++groups;
    if (colon == std::string_view::npos) return groups;
    s.remove_prefix(colon + 1);
  }
}

// IPv6-addr of RFC 5321 §4.1.3: full (8 groups), or compressed where "::" stands for at
// least two zero groups, so at most 6 groups remain around it.
bool is_ipv6(std::string_view s) {
  const std::size_t gap = s.find("::");
  if (gap == std::string_view::npos) {
    const auto groups = ipv6_groups(s, true);
    return groups && *groups == 8;
  }
  if (s.find("::", gap + 1) != std::string_view::npos) return false;
  const std::string_view right = s.substr(gap + 2);
  const auto left_groups = ipv6_groups(s.substr(0, gap), false);
  const auto right_groups = ipv6_groups(right, true);
  if (!left_groups || !right_groups) return false;
  return *left_groups + *right_groups <= 6;
}

class PathParser {
 public:
  explicit PathParser(std::string_view text) : text_(text) {}

  std::expected<ParsedPath, PathError> path(PathKind kind) {
    ParsedPath result;
    if (!take('<')) return std::unexpected(PathError::syntax);
    if (take('>')) {  // the null path
      if (kind != PathKind::reverse) return std::unexpected(PathError::syntax);
      result.length = pos_;
      return result;
    }
    if (kind == PathKind::forward) {
      // "<Postmaster>" (RFC 5321 §4.1.1.3), case-insensitive.
      constexpr std::string_view kPostmaster = "postmaster>";
      const std::string_view rest = text_.substr(pos_);
      if (rest.size() >= kPostmaster.size()) {
        bool match = true;
        for (std::size_t i = 0; i < kPostmaster.size(); ++i) {
          if (lower(rest[i]) != kPostmaster[i]) match = false;
        }
        if (match) {
          result.mailbox = "postmaster";
          result.length = pos_ + kPostmaster.size();
          return result;
        }
      }
    }
    if (peek() == '@') {
      // A-d-l ":" — the source route is checked for syntax and dropped.
      while (true) {
        if (!take('@') || !domain()) return std::unexpected(PathError::syntax);
        if (take(',')) continue;
        if (take(':')) break;
        return std::unexpected(PathError::syntax);
      }
    }
    auto box = mailbox();
    if (!box || !take('>')) return std::unexpected(PathError::syntax);
    if (pos_ > kMaxPathLength) return std::unexpected(PathError::too_long);
    result.mailbox = std::move(*box);
    result.non_ascii = non_ascii_;
    result.length = pos_;
    return result;
  }

  std::optional<std::string> mailbox() {
    auto local = local_part();
    if (!local || !take('@')) return std::nullopt;
    std::optional<std::string> host = peek() == '[' ? address_literal() : domain();
    if (!host) return std::nullopt;
    return *local + '@' + *host;
  }

  bool at_end() const { return pos_ == text_.size(); }
  std::size_t position() const { return pos_; }

 private:
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool take(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  // Consumes one UTF-8 sequence of a non-ASCII character; false when malformed.
  bool take_utf8(std::string& out) {
    const std::size_t n = utf8_sequence_length(text_.substr(pos_));
    if (n < 2) return false;
    out.append(text_.substr(pos_, n));
    pos_ += n;
    non_ascii_ = true;
    return true;
  }

  // Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str], or a U-label
  // (RFC 6531 §3.3). Labels are 1..63 octets and neither start nor end with '-'.
  std::optional<std::string> domain() {
    std::string out;
    while (true) {
      const std::size_t label_start = out.size();
      while (true) {
        const char c = peek();
        if (is_alpha(c) || is_digit(c) || c == '-') {
          out.push_back(lower(c));
          ++pos_;
        } else if (is_non_ascii(c)) {
          if (!take_utf8(out)) return std::nullopt;
        } else {
          break;
        }
      }
      const std::size_t label_length = out.size() - label_start;
      if (label_length == 0 || label_length > kMaxLabelLength) return std::nullopt;
      if (out[label_start] == '-' || out.back() == '-') return std::nullopt;
      if (!take('.')) break;
      out.push_back('.');
    }
    if (out.size() > kMaxDomainLength) return std::nullopt;
    return out;
  }

  std::optional<std::string> address_literal() {
    if (!take('[')) return std::nullopt;
    const std::size_t close = text_.find(']', pos_);
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view inside = text_.substr(pos_, close - pos_);
    pos_ = close + 1;
    if (is_ipv4(inside)) return '[' + std::string(inside) + ']';
    constexpr std::string_view kTag = "ipv6:";
    if (inside.size() > kTag.size()) {
      std::string tag;
      for (char c : inside.substr(0, kTag.size())) tag.push_back(lower(c));
      const std::string_view address = inside.substr(kTag.size());
      if (tag == kTag && is_ipv6(address)) {
        std::string out = "[IPv6:";
        for (char c : address) out.push_back(lower(c));
        return out + ']';
      }
    }
    // General-address-literal: no other tag is standardised, so none is accepted.
    return std::nullopt;
  }

  std::optional<std::string> local_part() {
    if (peek() != '"') {
      const std::size_t start = pos_;
      std::string out;
      while (true) {
        const char c = peek();
        if (is_atext(c) || c == '.') {
          out.push_back(c);
          ++pos_;
        } else if (is_non_ascii(c)) {
          if (!take_utf8(out)) return std::nullopt;
        } else {
          break;
        }
      }
      if (pos_ == start || !is_dot_string(out)) return std::nullopt;
      return out;
    }
    // Quoted-string = DQUOTE *QcontentSMTP DQUOTE
    ++pos_;
    std::string content;
    while (true) {
      const char c = peek();
      if (c == '"') {
        ++pos_;
        break;
      }
      if (c == '\\') {
        ++pos_;
        const auto escaped = static_cast<unsigned char>(peek());
        if (pos_ >= text_.size() || escaped < 32 || escaped > 126) return std::nullopt;
        content.push_back(static_cast<char>(escaped));
        ++pos_;
      } else if (is_non_ascii(c)) {
        if (!take_utf8(content)) return std::nullopt;
      } else if (pos_ < text_.size() && is_qtext(c)) {
        content.push_back(c);
        ++pos_;
      } else {
        return std::nullopt;
      }
    }
    if (is_dot_string(content)) return content;
    std::string quoted = "\"";
    for (char c : content) {
      if (c == '"' || c == '\\') quoted.push_back('\\');
      quoted.push_back(c);
    }
    quoted.push_back('"');
    return quoted;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  bool non_ascii_ = false;
};

}  // namespace

std::expected<ParsedPath, PathError> parse_path(std::string_view text, PathKind kind) {
  return PathParser(text).path(kind);
}

std::expected<std::string, PathError> parse_mailbox(std::string_view text) {
  if (text.size() > kMaxPathLength) return std::unexpected(PathError::too_long);
  PathParser parser(text);
  auto box = parser.mailbox();
  if (!box || !parser.at_end()) return std::unexpected(PathError::syntax);
  return std::move(*box);
}

}  // namespace postamt::proto::smtp
