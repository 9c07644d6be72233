#include "proto/mailauth/spf_macro.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

namespace postamt::mailauth {
namespace {

constexpr std::string_view kLetters = "slodiphcrtv";     // §7.2
constexpr std::string_view kExplanationOnly = "crt";     // §7.2: only in "exp" text
constexpr std::string_view kDelimiters = ".-+,/_=";      // §7.1
constexpr std::size_t kMaxDomainLength = 253;            // §7.3
constexpr int kMaxDigits = 1000;                         // more parts than any name has

bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

struct Macro {
  char letter = 0;         // as written (upper case: URL-escape the value)
  int digits = 0;          // 0: all parts
  bool reverse = false;
  std::string delimiters;  // empty: "."
};

// One token of a macro-string.
struct Token {
  enum Kind { literal, expand } kind = literal;
  std::string text;  // literal: the octets it stands for
  Macro macro;
};

// Reads the macro-string into tokens, or says what is wrong with it.
std::expected<std::vector<Token>, std::string> tokenize(std::string_view text, MacroUse use,
                                                        std::size_t* last_macro_end = nullptr) {
  std::vector<Token> tokens;
  std::size_t end_of_macro = 0;
  for (std::size_t i = 0; i < text.size();) {
    char c = text[i];
    if (c != '%') {
      auto octet = static_cast<unsigned char>(c);
      bool visible = octet >= 0x21 && octet <= 0x7E;
      if (!visible && !(use == MacroUse::explanation && c == ' '))
        return std::unexpected("invalid character in macro-string (octet " + std::to_string(octet) + ")");
      tokens.push_back(Token{Token::literal, std::string(1, c), {}});
      ++i;
      continue;
    }
    if (i + 1 >= text.size()) return std::unexpected("'%' at the end of a macro-string");
    char next = text[i + 1];
    if (next == '%' || next == '_' || next == '-') {  // §7.1 escapes
      tokens.push_back(Token{Token::literal, next == '%' ? "%" : next == '_' ? " " : "%20", {}});
      i += 2;
      end_of_macro = i;
      continue;
    }
    if (next != '{') return std::unexpected(std::string("invalid macro escape '%") + next + "'");
    std::size_t at = i + 2;
    if (at >= text.size()) return std::unexpected("unterminated macro");
    Macro macro;
    macro.letter = text[at];
    if (kLetters.find(lower(macro.letter)) == std::string_view::npos)
      return std::unexpected(std::string("unknown macro letter '") + macro.letter + "'");
    if (use == MacroUse::domain_spec && kExplanationOnly.find(lower(macro.letter)) != std::string_view::npos)
      return std::unexpected(std::string("macro letter '") + macro.letter + "' is allowed only in explanations");
    ++at;
    bool has_digits = false;
    while (at < text.size() && is_digit(text[at])) {
      has_digits = true;
      macro.digits = std::min(kMaxDigits, macro.digits * 10 + (text[at] - '0'));
      ++at;
    }
    if (has_digits && macro.digits == 0) return std::unexpected("macro transformer digits must be nonzero");
    if (at < text.size() && lower(text[at]) == 'r') {
      macro.reverse = true;
      ++at;
    }
    while (at < text.size() && kDelimiters.find(text[at]) != std::string_view::npos) macro.delimiters += text[at++];
    if (at >= text.size() || text[at] != '}') return std::unexpected("malformed macro");
    tokens.push_back(Token{Token::expand, {}, std::move(macro)});
    i = at + 1;
    end_of_macro = i;
  }
  if (last_macro_end != nullptr) *last_macro_end = end_of_macro;
  return tokens;
}

// §4.6.1 toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
bool is_toplabel(std::string_view label) {
  if (label.empty()) return false;
  if (label.find('-') == std::string_view::npos)
    return std::all_of(label.begin(), label.end(), is_alnum) && std::any_of(label.begin(), label.end(), is_alpha);
  return is_alnum(label.front()) && is_alnum(label.back()) &&
         std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

std::string url_escape(std::string_view value) {  // §7.3: RFC 3986 unreserved characters stay
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : value) {
    if (is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      auto octet = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[octet >> 4];
      out += kHex[octet & 0x0F];
    }
  }
  return out;
}

std::string letter_value(char letter, const SpfMacroContext& context) {
  switch (lower(letter)) {
    case 's': return context.sender;
    case 'l': return context.local_part;
    case 'o': return context.sender_domain;
    case 'd': return context.domain;
    case 'i': return context.ip.dotted();
    case 'p': return context.validated_name;
    case 'v': return context.ip.v6 ? "ip6" : "in-addr";
    case 'h': return context.helo;
    case 'c': return context.ip.to_string();
    case 'r': return context.receiver;
    case 't': return std::to_string(context.timestamp);
  }
  return {};
}

// §7.3: split on the delimiters, reverse, keep the right-hand `digits` parts, join with ".".
std::string transform(const std::string& value, const Macro& macro) {
  if (macro.digits == 0 && !macro.reverse && macro.delimiters.empty()) return value;
  std::string_view delimiters = macro.delimiters.empty() ? std::string_view(".") : std::string_view(macro.delimiters);
  std::vector<std::string> parts(1);
  for (char c : value) {
    if (delimiters.find(c) != std::string_view::npos)
      parts.emplace_back();
    else
      parts.back() += c;
  }
  if (macro.reverse) std::reverse(parts.begin(), parts.end());
  std::size_t keep = parts.size();
  if (macro.digits > 0) keep = std::min(parts.size(), static_cast<std::size_t>(macro.digits));
  std::string out;
  for (std::size_t i = parts.size() - keep; i < parts.size(); ++i) {
    if (i != parts.size() - keep) out += '.';
    out += parts[i];
  }
  return out;
}

}  // namespace

std::expected<void, std::string> check_macro_string(std::string_view text, MacroUse use) {
  auto tokens = tokenize(text, use);
  if (!tokens) return std::unexpected(tokens.error());
  return {};
}

std::expected<void, std::string> check_domain_spec(std::string_view text) {
  if (text.empty()) return std::unexpected("empty domain-spec");
  std::size_t last_macro_end = 0;
  auto tokens = tokenize(text, MacroUse::domain_spec, &last_macro_end);
  if (!tokens) return std::unexpected(tokens.error());
  if (last_macro_end == text.size()) return {};  // domain-end = macro-expand
  std::string_view tail = text.substr(last_macro_end);
  if (tail.ends_with('.')) tail.remove_suffix(1);
  std::size_t dot = tail.rfind('.');
  if (dot == std::string_view::npos || !is_toplabel(tail.substr(dot + 1)))
    return std::unexpected("domain-spec \"" + std::string(text) + "\" does not end in a valid top label");
  return {};
}

bool uses_p_macro(std::string_view text) {
  auto tokens = tokenize(text, MacroUse::explanation);
  if (!tokens) return false;
  return std::any_of(tokens->begin(), tokens->end(),
                     [](const Token& t) { return t.kind == Token::expand && lower(t.macro.letter) == 'p'; });
}

std::expected<std::string, std::string> expand_macros(std::string_view text, const SpfMacroContext& context,
                                                      MacroUse use) {
  auto tokens = tokenize(text, use);
  if (!tokens) return std::unexpected(tokens.error());
  std::string out;
  for (const Token& token : *tokens) {
    if (token.kind == Token::literal) {
      out += token.text;
      continue;
    }
    std::string value = transform(letter_value(token.macro.letter, context), token.macro);
    out += is_alpha(token.macro.letter) && std::isupper(static_cast<unsigned char>(token.macro.letter))
               ? url_escape(value)
               : value;
  }
  return out;
}

std::expected<std::string, std::string> expand_domain_spec(std::string_view text, const SpfMacroContext& context) {
  auto expanded = expand_macros(text, context, MacroUse::domain_spec);
  if (!expanded) return expanded;
  std::string name = std::move(*expanded);
  if (name.ends_with('.')) name.pop_back();
  while (name.size() > kMaxDomainLength) {
    std::size_t dot = name.find('.');
    if (dot == std::string::npos) break;
    name.erase(0, dot + 1);
  }
  return name;
}

}  // namespace postamt::mailauth
