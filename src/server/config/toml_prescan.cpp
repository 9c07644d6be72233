#include "server/config/toml_prescan.hpp"

#include <toml++/toml.h>

#include <string>

namespace postamt::config {

namespace {

constexpr char kPlaceholder = '?';
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

bool is_continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

// Tracks line and column (1-based; columns count code points, as toml++ does).
class Cursor {
 public:
  // A byte order mark is no character to toml++: it is skipped and not counted.
  explicit Cursor(std::string_view text)
      : text_(text), at_(text.starts_with(kUtf8Bom) ? kUtf8Bom.size() : 0) {}

  bool done() const { return at_ >= text_.size(); }
  char peek(std::size_t ahead = 0) const {
    return at_ + ahead < text_.size() ? text_[at_ + ahead] : '\0';
  }
  std::size_t offset() const { return at_; }
  unsigned line() const { return line_; }
  unsigned column() const { return column_; }

  void advance(std::size_t bytes = 1) {
    for (std::size_t i = 0; i < bytes && at_ < text_.size(); ++i) {
      const char c = text_[at_++];
      if (c == '\n') {
        ++line_;
        column_ = 1;
      } else if (!is_continuation(static_cast<unsigned char>(c))) {
        ++column_;
      }
    }
  }

 private:
  std::string_view text_;
  std::size_t at_;
  unsigned line_ = 1;
  unsigned column_ = 1;
};

ConfigProblem problem_at(unsigned line, unsigned column, std::string_view message) {
  return ConfigProblem{"", line, column, "syntax error: " + std::string(message)};
}

// The length of the well-formed UTF-8 sequence at text[at] (RFC 3629: no overlong forms,
// no surrogates, nothing above U+10FFFF), or 0.
std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t i) {
    return at + i < text.size() ? static_cast<unsigned char>(text[at + i]) : 0u;
  };
  const unsigned lead = byte(0);
  const auto in = [](unsigned value, unsigned low, unsigned high) {
    return value >= low && value <= high;
  };
  if (lead < 0x80) {
    return 1;
  }
  if (in(lead, 0xC2, 0xDF)) {
    return in(byte(1), 0x80, 0xBF) ? 2 : 0;
  }
  if (in(lead, 0xE0, 0xEF)) {
    const unsigned low = lead == 0xE0 ? 0xA0 : 0x80;
    const unsigned high = lead == 0xED ? 0x9F : 0xBF;
    return in(byte(1), low, high) && in(byte(2), 0x80, 0xBF) ? 3 : 0;
  }
  if (in(lead, 0xF0, 0xF4)) {
    const unsigned low = lead == 0xF0 ? 0x90 : 0x80;
    const unsigned high = lead == 0xF4 ? 0x8F : 0xBF;
    return in(byte(1), low, high) && in(byte(2), 0x80, 0xBF) && in(byte(3), 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

struct AsciiCopy {
  std::string text;                      // every non-ASCII code point replaced by kPlaceholder
  bool replaced = false;                 // whether there was any
  std::optional<ConfigProblem> problem;  // invalid UTF-8
};

AsciiCopy ascii_copy(std::string_view text) {
  AsciiCopy copy;
  copy.text.reserve(text.size());
  Cursor cursor(text);
  copy.text.append(text.substr(0, cursor.offset()));  // the byte order mark, if any
  while (!cursor.done()) {
    const std::size_t length = utf8_sequence_length(text, cursor.offset());
    if (length == 0) {
      copy.problem = problem_at(cursor.line(), cursor.column(), "invalid UTF-8");
      return copy;
    }
    copy.text += length == 1 ? cursor.peek() : kPlaceholder;
    copy.replaced = copy.replaced || length > 1;
    cursor.advance(length);
  }
  return copy;
}

// Whether the code point at (line, column) of text is non-ASCII.
bool is_non_ascii_at(std::string_view text, unsigned line, unsigned column) {
  Cursor cursor(text);
  while (!cursor.done() &&
         (cursor.line() < line || (cursor.line() == line && cursor.column() < column))) {
    cursor.advance();
  }
  return !cursor.done() && cursor.line() == line && cursor.column() == column &&
         static_cast<unsigned char>(cursor.peek()) >= 0x80;
}

enum class State { normal, comment, basic, literal, multi_line_basic, multi_line_literal };

// In valid TOML (and only there) every quote outside strings and comments opens a string,
// so this simple lexer knows where the strings are.
std::optional<ConfigProblem> find_non_ascii_after_line_ending_backslash(std::string_view text) {
  Cursor cursor(text);
  State state = State::normal;
  while (!cursor.done()) {
    const char c = cursor.peek();
    switch (state) {
      case State::normal:
        if (c == '#') {
          state = State::comment;
        } else if (c == '"' || c == '\'') {
          const bool triple = cursor.peek(1) == c && cursor.peek(2) == c;
          state = triple ? (c == '"' ? State::multi_line_basic : State::multi_line_literal)
                         : (c == '"' ? State::basic : State::literal);
          cursor.advance(triple ? 2 : 0);
        }
        cursor.advance();
        break;

      case State::comment:
        state = c == '\n' ? State::normal : state;
        cursor.advance();
        break;

      case State::basic:
        if (c == '"') {
          state = State::normal;
        } else if (c == '\\') {
          cursor.advance();  // the escaped character cannot end the string
        }
        cursor.advance();
        break;

      case State::literal:
        state = c == '\'' ? State::normal : state;
        cursor.advance();
        break;

      case State::multi_line_basic:
      case State::multi_line_literal: {
        const char quote = state == State::multi_line_basic ? '"' : '\'';
        if (c == quote) {
          // Up to two quotes may precede the closing three: a run of three or more closes.
          std::size_t run = 0;
          while (cursor.peek(run) == quote) {
            ++run;
          }
          cursor.advance(run);
          state = run >= 3 ? State::normal : state;
          break;
        }
        cursor.advance();
        if (state == State::multi_line_basic && c == '\\') {
          bool skipped = false;
          while (!cursor.done() && (cursor.peek() == ' ' || cursor.peek() == '\t' ||
                                    cursor.peek() == '\r' || cursor.peek() == '\n')) {
            cursor.advance();
            skipped = true;
          }
          if (skipped && static_cast<unsigned char>(cursor.peek()) >= 0x80) {
            return problem_at(cursor.line(), cursor.column(),
                              "a non-ASCII character cannot follow a line-ending backslash");
          }
          if (!skipped) {
            cursor.advance();  // an ordinary escape such as \" or \\ -- never a delimiter
          }
        }
        break;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<ConfigProblem> prescan_toml(std::string_view text, std::string_view source_name) {
  const AsciiCopy copy = ascii_copy(text);
  if (copy.problem) {
    return copy.problem;
  }
  if (!copy.replaced) {
    return std::nullopt;  // pure ASCII: nothing for toml++ to trip over
  }
  try {
    (void)toml::parse(copy.text, source_name);
  } catch (const toml::parse_error& error) {
    const auto& where = error.source().begin;
    if (is_non_ascii_at(text, where.line, where.column)) {
      return problem_at(where.line, where.column,
                        "non-ASCII character outside a string or comment");
    }
    return problem_at(where.line, where.column, error.description());
  }
  return find_non_ascii_after_line_ending_backslash(text);
}

}  // namespace postamt::config
