#include "proto/mailauth/from_domain.hpp"

#include <algorithm>
#include <optional>
#include <vector>

namespace postamt::mailauth {
namespace {

// RFC 5322 §3.2 lexical tokens of an address list; comments and whitespace dropped.
enum class TokenKind { atom, quoted, domain_literal, special };
struct Token {
  TokenKind kind;
  std::string_view text;  // atom text, quoted content (escapes kept), or the special char
};

bool is_atext(unsigned char c) {
  if (c >= 0x80) return true;  // UTF-8 (RFC 6532 §3.2)
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '/': case '=': case '?': case '^': case '_': case '`': case '{': case '|': case '}':
    case '~':
      return true;
    default:
      return false;
  }
}

std::optional<std::vector<Token>> tokenize(std::string_view s) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
    } else if (c == '(') {  // comment, nested, with quoted-pairs (§3.2.2)
      int depth = 0;
      do {
        if (i >= s.size()) return std::nullopt;
        if (s[i] == '\\') ++i;
        else if (s[i] == '(') ++depth;
        else if (s[i] == ')') --depth;
        ++i;
      } while (depth > 0);
      if (i > s.size()) return std::nullopt;
    } else if (c == '"') {
      const std::size_t start = ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\') ++i;
        ++i;
      }
      if (i >= s.size()) return std::nullopt;
      tokens.push_back({TokenKind::quoted, s.substr(start, i - start)});
      ++i;
    } else if (c == '[') {
      const std::size_t start = ++i;
      while (i < s.size() && s[i] != ']') {
        if (s[i] == '[' || s[i] == '\\') return std::nullopt;
        ++i;
      }
      if (i >= s.size()) return std::nullopt;
      tokens.push_back({TokenKind::domain_literal, s.substr(start, i - start)});
      ++i;
    } else if (is_atext(c)) {
      const std::size_t start = i;
      while (i < s.size() && is_atext(static_cast<unsigned char>(s[i]))) ++i;
      tokens.push_back({TokenKind::atom, s.substr(start, i - start)});
    } else if (c == '<' || c == '>' || c == '@' || c == ',' || c == ':' || c == ';' || c == '.') {
      tokens.push_back({TokenKind::special, s.substr(i, 1)});
      ++i;
    } else {
      return std::nullopt;  // a control character, ')', ']', '\\' outside any quoting
    }
  }
  return tokens;
}

bool is_special(const Token& t, char c) { return t.kind == TokenKind::special && t.text[0] == c; }
bool is_word(const Token& t) { return t.kind == TokenKind::atom || t.kind == TokenKind::quoted; }

struct Mailbox {
  bool has_domain = false;
  std::string domain;
};

// addr-spec = local-part "@" domain, with obs-local-part / obs-domain (§3.4.1, §4.4):
// words and atoms separated by dots.
std::optional<Mailbox> parse_addr_spec(std::span<const Token> t) {
  std::size_t i = 0;
  // local-part: word *("." word)
  if (i >= t.size() || !is_word(t[i])) return std::nullopt;
  ++i;
  while (i + 1 < t.size() && is_special(t[i], '.') && is_word(t[i + 1])) i += 2;
  if (i == t.size()) return Mailbox{};  // a local part alone: no domain
  if (!is_special(t[i], '@')) return std::nullopt;
  ++i;
  Mailbox mailbox;
  if (i < t.size() && t[i].kind == TokenKind::domain_literal) {
    if (i + 1 != t.size()) return std::nullopt;
    return Mailbox{};  // [192.0.2.1]: no domain name DMARC could look up
  }
  std::string domain;
  if (i >= t.size() || t[i].kind != TokenKind::atom) return std::nullopt;
  domain.append(t[i].text);
  ++i;
  while (i + 1 < t.size() && is_special(t[i], '.') && t[i + 1].kind == TokenKind::atom) {
    domain.push_back('.');
    domain.append(t[i + 1].text);
    i += 2;
  }
  if (i < t.size() && is_special(t[i], '.') && i + 1 == t.size()) ++i;  // a trailing root dot
  if (i != t.size()) return std::nullopt;
  for (char& c : domain) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  mailbox.has_domain = true;
  mailbox.domain = std::move(domain);
  return mailbox;
}

// mailbox = name-addr / addr-spec; name-addr = [display-name] "<" [obs-route] addr-spec ">".
std::optional<Mailbox> parse_mailbox(std::span<const Token> t) {
  std::size_t open = 0;
  while (open < t.size() && !is_special(t[open], '<')) ++open;
  if (open == t.size()) return parse_addr_spec(t);
  // display-name = phrase: words, and dots as obs-phrase allows ("John Q. Public").
  for (std::size_t i = 0; i < open; ++i) {
    if (!is_word(t[i]) && !(i > 0 && is_special(t[i], '.'))) return std::nullopt;
  }
  if (t.empty() || !is_special(t.back(), '>') || t.size() - 1 <= open) return std::nullopt;
  std::span<const Token> inside = t.subspan(open + 1, t.size() - open - 2);
  // obs-route = obs-domain-list ":" (§4.4): "@a.example,@b.example:" before the address.
  if (!inside.empty() && is_special(inside.front(), '@')) {
    std::size_t colon = 0;
    while (colon < inside.size() && !is_special(inside[colon], ':')) ++colon;
    if (colon == inside.size()) return std::nullopt;
    inside = inside.subspan(colon + 1);
  }
  for (const Token& token : inside) {
    if (is_special(token, '<') || is_special(token, '>')) return std::nullopt;
  }
  return parse_addr_spec(inside);
}

}  // namespace

std::string_view to_string(FromStatus status) {
  switch (status) {
    case FromStatus::ok: return "ok";
    case FromStatus::no_from_field: return "no From field";
    case FromStatus::several_from_fields: return "several From fields";
    case FromStatus::several_mailboxes: return "several mailboxes in From";
    case FromStatus::no_mailbox: return "no mailbox in From";
    case FromStatus::no_domain: return "no domain in From";
    case FromStatus::unparseable: return "unparseable From";
  }
  return "unparseable From";
}

AuthorDomain classify_from_value(std::string_view value) {
  auto tokens = tokenize(value);
  if (!tokens) return {FromStatus::unparseable, {}};
  // A group ("name: a@b, c@d;") is not a mailbox-list; RFC 6854 allows it in From only
  // without DMARC meaning, and its colon outside angle brackets marks it.
  std::vector<std::span<const Token>> elements;
  int angle_depth = 0;
  std::size_t element_start = 0;
  for (std::size_t i = 0; i < tokens->size(); ++i) {
    const Token& t = (*tokens)[i];
    if (is_special(t, '<')) ++angle_depth;
    else if (is_special(t, '>')) --angle_depth;
    if (angle_depth < 0 || angle_depth > 1) return {FromStatus::unparseable, {}};
    if (angle_depth == 0 && (is_special(t, ':') || is_special(t, ';'))) {
      const bool group_with_members =
          std::any_of(tokens->begin() + static_cast<std::ptrdiff_t>(i), tokens->end(),
                      [](const Token& x) { return is_special(x, '@'); });
      return {group_with_members ? FromStatus::unparseable : FromStatus::no_mailbox, {}};
    }
    if (angle_depth == 0 && is_special(t, ',')) {
      elements.emplace_back(tokens->data() + element_start, i - element_start);
      element_start = i + 1;
    }
  }
  if (angle_depth != 0) return {FromStatus::unparseable, {}};
  elements.emplace_back(tokens->data() + element_start, tokens->size() - element_start);
  std::erase_if(elements, [](std::span<const Token> e) { return e.empty(); });  // obs-mbox-list
  if (elements.empty()) return {FromStatus::no_mailbox, {}};
  std::vector<Mailbox> mailboxes;
  for (auto element : elements) {
    auto mailbox = parse_mailbox(element);
    if (!mailbox) return {FromStatus::unparseable, {}};
    mailboxes.push_back(std::move(*mailbox));
  }
  if (mailboxes.size() > 1) return {FromStatus::several_mailboxes, {}};
  if (!mailboxes.front().has_domain) return {FromStatus::no_domain, {}};
  // A name DNS can hold: labels of letters, digits, '-', '_' (or UTF-8, RFC 6532), each
  // 1..63 octets, at most 253 in all (RFC 1035 §2.3.4). RFC 5322's dot-atom allows more
  // ("a@ex!ample.com"), but no such domain can publish or be judged by DMARC.
  const std::string& domain = mailboxes.front().domain;
  if (domain.empty() || domain.size() > 253) return {FromStatus::no_domain, {}};
  std::size_t label = 0;
  for (char c : domain) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '.') {
      if (label == 0) return {FromStatus::no_domain, {}};
      label = 0;
    } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || u >= 0x80) ||
               ++label > 63) {
      return {FromStatus::no_domain, {}};
    }
  }
  return {FromStatus::ok, domain};
}

AuthorDomain classify_from(std::span<const RawHeaderField> fields) {
  const RawHeaderField* from = nullptr;
  for (const RawHeaderField& field : fields) {
    if (!header_name_equals(field.name, "From")) continue;
    if (from) return {FromStatus::several_from_fields, {}};
    from = &field;
  }
  if (!from) return {FromStatus::no_from_field, {}};
  return classify_from_value(from->value);
}

AuthorDomain classify_from_header_block(std::string_view header_block) {
  const auto fields = split_header_fields(header_block);
  return classify_from(fields);
}

}  // namespace postamt::mailauth
