#include "mime/address_list.hpp"

#include <cstddef>

#include "mime/field_cursor.hpp"
#include "mime/header_decoding.hpp"
#include "mime/header_fields.hpp"

namespace postamt::mime {

namespace {

constexpr std::size_t kMaxAddresses = 10000;

// atext (RFC 5322 §3.2.3); 8-bit octets count as atext for UTF-8 headers (RFC 6532 §3.2).
bool is_atext(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x80) return true;
  if (u <= 0x20 || u == 0x7f) return false;
  return std::string_view("()<>[]:;@\\,.\"").find(c) == std::string_view::npos;
}

// A word of a phrase or local part, remembering whether white space preceded it so that
// "John Q. Public" keeps its spaces and "john.doe" stays joined.
struct Word {
  std::string text;
  bool space_before = false;
};

std::string join_words(const std::vector<Word>& words) {
  std::string out;
  for (const Word& word : words) {
    if (!out.empty() && word.space_before) out.push_back(' ');
    out += word.text;
  }
  return out;
}

std::string concat_words(const std::vector<Word>& words) {
  std::string out;
  for (const Word& word : words) out += word.text;
  return out;
}

class AddressParser {
 public:
  explicit AddressParser(std::string_view value) : cursor_(value) {}

  std::vector<EnvelopeAddress> parse() {
    while (out_.size() < kMaxAddresses) {
      cursor_.skip_cfws();
      if (cursor_.at_end()) break;
      const char c = cursor_.peek();
      if (c == ',') {
        cursor_.advance();
      } else if (c == ';') {
        cursor_.advance();
        end_group();
      } else {
        parse_address();
      }
    }
    end_group();  // an unterminated group ends with the field
    return std::move(out_);
  }

 private:
  // Words (atoms, quoted strings, dots) up to the next special.
  std::vector<Word> read_words() {
    std::vector<Word> words;
    while (true) {
      const bool space = cursor_.skip_cfws();
      if (cursor_.at_end()) break;
      const char c = cursor_.peek();
      if (c == '"') {
        words.push_back(Word{cursor_.read_quoted_string(), space});
      } else if (c == '.') {
        cursor_.advance();
        words.push_back(Word{".", space});
      } else if (is_atext(c)) {
        words.push_back(Word{std::string(cursor_.read_while(is_atext)), space});
      } else {
        break;
      }
    }
    return words;
  }

  // domain = dot-atom / domain-literal / obs-domain, CFWS dropped (RFC 5322 §3.4.1).
  std::string read_domain() {
    std::string domain;
    while (true) {
      cursor_.skip_cfws();
      if (cursor_.at_end()) break;
      const char c = cursor_.peek();
      if (c == '[') {
        domain += cursor_.read_domain_literal();
      } else if (c == '.') {
        cursor_.advance();
        domain.push_back('.');
      } else if (is_atext(c)) {
        domain += cursor_.read_while(is_atext);
      } else {
        break;
      }
    }
    return domain;
  }

  void parse_address() {
    cursor_.clear_last_comment();
    std::vector<Word> words = read_words();
    cursor_.skip_cfws();
    const bool at_end = cursor_.at_end();
    const char c = at_end ? '\0' : cursor_.peek();
    if (!at_end && c == ':' && !in_group_) {
      // group = display-name ":" [group-list] ";" (RFC 5322 §3.4)
      cursor_.advance();
      out_.push_back(EnvelopeAddress{std::nullopt, std::nullopt, join_words(words), std::nullopt});
      in_group_ = true;
      return;
    }
    if (!at_end && c == '<') {
      parse_angle_address(words);
      return;
    }
    if (!at_end && c == '@') {
      // addr-spec: the words were the local part.
      cursor_.advance();
      cursor_.clear_last_comment();
      std::string host = read_domain();
      cursor_.skip_cfws();
      // RFC 822 style "local@domain (Full Name)": the comment is the only name there is;
      // UW-IMAP and Dovecot present it as the display name, and so do we.
      std::optional<std::string> name = cursor_.last_comment();
      if (name && name->empty()) name.reset();
      emit(std::move(name), std::nullopt, concat_words(words), std::move(host));
      skip_junk();
      return;
    }
    if (!words.empty()) {
      // A bare word without "@": a local part with no domain (or garbage).
      emit(std::nullopt, std::nullopt, join_words(words), {});
    }
    if (!at_end && c != ',' && c != ';') cursor_.advance();  // a stray special
    skip_junk();
  }

  // name-addr = [display-name] angle-addr; angle-addr = "<" [obs-route] addr-spec ">"
  void parse_angle_address(const std::vector<Word>& words) {
    cursor_.advance();  // '<'
    std::optional<std::string> adl;
    cursor_.skip_cfws();
    if (cursor_.peek() == '@') {
      // obs-route = obs-domain-list ":" (RFC 5322 §4.4)
      std::string route;
      while (!cursor_.at_end()) {
        cursor_.skip_cfws();
        const char c = cursor_.peek();
        if (c == '@') {
          cursor_.advance();
          if (!route.empty()) route.push_back(',');
          route.push_back('@');
          route += read_domain();
        } else if (c == ',') {
          cursor_.advance();
        } else {
          break;
        }
      }
      if (cursor_.peek() == ':') cursor_.advance();
      adl = std::move(route);
    }
    const std::vector<Word> local = read_words();
    std::string host;
    cursor_.skip_cfws();
    if (cursor_.peek() == '@') {
      cursor_.advance();
      host = read_domain();
    }
    // Anything else up to '>' is junk; a missing '>' ends the address at ',' or ';'.
    while (!cursor_.at_end()) {
      const char c = cursor_.peek();
      if (c == '>') {
        cursor_.advance();
        break;
      }
      if (c == ',' || c == ';') break;
      if (c == '"') {
        cursor_.read_quoted_string();
      } else if (c == '(') {
        cursor_.skip_cfws();
      } else {
        cursor_.advance();
      }
    }
    std::optional<std::string> name;
    if (!words.empty()) name = join_words(words);
    if (name && name->empty()) name.reset();
    std::string mailbox = concat_words(local);
    if (!name && mailbox.empty() && host.empty()) return;  // "<>": no address at all
    emit(std::move(name), std::move(adl), std::move(mailbox), std::move(host));
    skip_junk();
  }

  // Skips to the next ',' or ';' (outside quotes and comments).
  void skip_junk() {
    while (!cursor_.at_end()) {
      const char c = cursor_.peek();
      if (c == ',' || c == ';') return;
      if (c == '"') {
        cursor_.read_quoted_string();
      } else if (c == '(' || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        cursor_.skip_cfws();
      } else {
        cursor_.advance();
      }
    }
  }

  void emit(std::optional<std::string> name, std::optional<std::string> adl, std::string mailbox,
            std::string host) {
    if (adl && adl->empty()) adl.reset();
    if (mailbox.empty()) mailbox = kMissingMailbox;
    if (host.empty()) host = kMissingDomain;
    out_.push_back(
        EnvelopeAddress{std::move(name), std::move(adl), std::move(mailbox), std::move(host)});
  }

  void end_group() {
    if (!in_group_) return;
    out_.push_back(EnvelopeAddress{});
    in_group_ = false;
  }

  FieldCursor cursor_;
  std::vector<EnvelopeAddress> out_;
  bool in_group_ = false;
};

}  // namespace

std::vector<EnvelopeAddress> parse_address_list(std::string_view value) {
  return AddressParser(value).parse();
}

std::string format_address_list_for_search(std::string_view raw_value) {
  const std::vector<EnvelopeAddress> addresses =
      parse_address_list(unfold(raw_value.substr(0, kMaxDecodedInput)));
  std::string out;
  bool group_open = false;
  bool first_in_group = false;
  for (const EnvelopeAddress& address : addresses) {
    if (!address.host) {
      if (address.mailbox) {  // group start
        if (!out.empty()) out += ", ";
        out += decode_phrase(*address.mailbox);
        out += ":";
        group_open = true;
        first_in_group = true;
      } else if (group_open) {  // group end
        out += ";";
        group_open = false;
      }
      continue;
    }
    if (group_open) {
      out += first_in_group ? " " : ", ";
      first_in_group = false;
    } else if (!out.empty()) {
      out += ", ";
    }
    const std::string mailbox = *address.mailbox + "@" + *address.host;
    if (address.name) {
      out += decode_phrase(*address.name);
      out += " <" + mailbox + ">";
    } else {
      out += mailbox;
    }
  }
  return out;
}

}  // namespace postamt::mime
