#include "proto/imap/tokenizer.hpp"

#include <cctype>
#include <optional>
#include <utility>

namespace postamt::proto::imap {
namespace {

// RFC 9051 §9: atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards /
// quoted-specials / resp-specials; CHAR = %x01-7F.
bool is_atom_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x1f || u >= 0x7f) return false;
  switch (c) {
    case '(': case ')': case '{': case ' ': case '%': case '*': case '"': case '\\': case ']':
      return false;
    default:
      return true;
  }
}

// Characters that end a bare word (outside "[...]").
bool ends_word(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u <= 0x1f || u == 0x7f || c == ' ' || c == '(' || c == ')' || c == '{' || c == '"';
}

class Cursor {
 public:
  // `owned` is the same command when its literals may be moved out, else null.
  Cursor(const Command& command, Command* owned, TokenizerLimits limits)
      : command_(command), owned_(owned), limits_(limits) {}

  std::expected<ParsedCommand, std::string> run() {
    ParsedCommand out;
    if (command_.lines.empty() || command_.lines.size() != command_.literals.size() + 1) {
      return std::unexpected("Malformed command");
    }
    out.tag = word();
    if (out.tag.empty()) return std::unexpected("Missing tag");
    if (!is_valid_tag(out.tag)) return std::unexpected("Invalid tag");
    if (!space()) return std::unexpected("Missing command name");
    std::string name = word();
    if (name.empty()) return std::unexpected("Missing command name");
    for (char& c : name) {
      if (!is_atom_char(c)) return std::unexpected("Invalid command name");
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    out.name = std::move(name);
    while (!at_end()) {
      if (!space()) return std::unexpected("Expected SP between arguments");
      auto value = parse_value(0);
      if (!value) return std::unexpected(std::move(value.error()));
      out.arguments.push_back(std::move(*value));
    }
    return out;
  }

 private:
  std::string_view line() const { return command_.lines[line_]; }
  bool at_line_end() const { return pos_ >= line().size(); }
  bool literal_here() const { return at_line_end() && line_ < command_.literals.size(); }
  bool at_end() const { return at_line_end() && line_ + 1 == command_.lines.size(); }
  std::optional<char> peek() const {
    if (at_line_end()) return std::nullopt;
    return line()[pos_];
  }

  bool space() {
    if (peek() != ' ') return false;
    ++pos_;
    return true;
  }

  // A bare word: up to a word end. After a FETCH section's "BODY" / "BINARY" prefix,
  // "[...]" is taken whole (HEADER.FIELDS lists hold SP); anywhere else "[" and "]" are
  // ordinary characters (RFC 9051 §9: "[" is an ATOM-CHAR, "]" an ASTRING-CHAR), so a
  // mailbox name like "a[b" stays one word.
  std::string word() {
    const std::string_view text = line();
    const std::size_t begin = pos_;
    while (pos_ < text.size() && !ends_word(text[pos_])) {
      if (text[pos_] == '[' && is_section_prefix(text.substr(begin, pos_ - begin))) {
        const std::size_t close = text.find(']', pos_);
        bool clean = close != std::string_view::npos;
        for (std::size_t i = pos_; clean && i < close; ++i) {
          const auto u = static_cast<unsigned char>(text[i]);
          if (u <= 0x1f || u == 0x7f || text[i] == '{' || text[i] == '"') clean = false;
        }
        if (clean) {
          pos_ = close + 1;
          continue;
        }
      }
      ++pos_;
    }
    return std::string(text.substr(begin, pos_ - begin));
  }

  // "BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE" in any case (RFC 9051 §9
  // fetch-att, RFC 3516 §4.2): the words a section follows.
  static bool is_section_prefix(std::string_view word) {
    std::string upper;
    for (char c : word) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return upper == "BODY" || upper == "BODY.PEEK" || upper == "BINARY" ||
           upper == "BINARY.PEEK" || upper == "BINARY.SIZE";
  }

  std::expected<Value, std::string> parse_value(std::size_t depth) {
    if (++values_ > limits_.max_values) return std::unexpected("Too many arguments");
    Value value;
    if (literal_here()) {  // the marker stood here; the reader stripped it
      const Literal& literal = command_.literals[line_];
      // RFC 9051 §4.3: CHAR8 excludes NUL; only literal8 may carry it (RFC 3516 §4.2).
      if (!literal.binary && literal.data.find('\0') != std::string::npos) {
        return std::unexpected("NUL in literal");
      }
      value.kind = Value::Kind::literal;
      if (owned_) {
        value.text = std::move(owned_->literals[line_].data);
      } else {
        value.text = literal.data;
      }
      value.binary = literal.binary;
      ++line_;
      pos_ = 0;
      return value;
    }
    const auto c = peek();
    if (!c) return std::unexpected("Missing argument");
    if (*c == '(') {
      if (depth + 1 > limits_.max_depth) return std::unexpected("Parentheses nested too deep");
      ++pos_;
      value.kind = Value::Kind::list;
      if (peek() == ')') {
        ++pos_;
        return value;
      }
      while (true) {
        auto item = parse_value(depth + 1);
        if (!item) return item;
        value.items.push_back(std::move(*item));
        if (peek() == ')') {
          ++pos_;
          return value;
        }
        if (!space()) return std::unexpected("Expected SP or ) in list");
      }
    }
    if (*c == '"') return quoted();
    if (*c == '{' || *c == ')') return std::unexpected("Unexpected character");
    std::string text = word();
    if (text.empty()) return std::unexpected("Invalid character");
    if (text.size() == 3 && (text[0] | 0x20) == 'n' && (text[1] | 0x20) == 'i' &&
        (text[2] | 0x20) == 'l') {
      value.kind = Value::Kind::nil;
    }
    value.text = std::move(text);
    return value;
  }

  // quoted = DQUOTE *QUOTED-CHAR DQUOTE; QUOTED-CHAR = <any TEXT-CHAR except
  // quoted-specials> / "\" quoted-specials / UTF8-2..4 (RFC 9051 §9). TEXT-CHAR excludes
  // CR and LF (they cannot be in a line anyway) and NUL.
  std::expected<Value, std::string> quoted() {
    const std::string_view text = line();
    Value value;
    value.kind = Value::Kind::quoted;
    ++pos_;
    while (pos_ < text.size()) {
      const char c = text[pos_++];
      if (c == '"') return value;
      if (c == '\0') return std::unexpected("NUL in quoted string");
      if (c == '\\') {
        if (pos_ >= text.size()) break;
        const char escaped = text[pos_++];
        if (escaped != '"' && escaped != '\\') return std::unexpected("Invalid escape in quoted string");
        value.text += escaped;
        continue;
      }
      value.text += c;
    }
    return std::unexpected("Unterminated quoted string");
  }

  const Command& command_;
  Command* owned_;
  TokenizerLimits limits_;
  std::size_t line_ = 0;
  std::size_t pos_ = 0;
  std::size_t values_ = 0;
};

}  // namespace

bool is_valid_tag(std::string_view tag) {
  if (tag.empty()) return false;
  for (char c : tag) {
    // ASTRING-CHAR = ATOM-CHAR / resp-specials ("]"), minus "+".
    if (c == '+') return false;
    if (c != ']' && !is_atom_char(c)) return false;
  }
  return true;
}

std::expected<ParsedCommand, std::string> tokenize(const Command& command,
                                                   TokenizerLimits limits) {
  return Cursor(command, nullptr, limits).run();
}

std::expected<ParsedCommand, std::string> tokenize(Command&& command, TokenizerLimits limits) {
  return Cursor(command, &command, limits).run();
}

}  // namespace postamt::proto::imap
