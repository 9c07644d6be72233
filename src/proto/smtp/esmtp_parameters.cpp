#include "proto/smtp/esmtp_parameters.hpp"

#include <limits>
#include <vector>

#include "proto/smtp/address.hpp"
#include "proto/smtp/utf8.hpp"
#include "proto/smtp/xtext.hpp"

namespace postamt::proto::smtp {
namespace {

struct RawParameter {
  std::string keyword;  // upper-cased
  std::optional<std::string_view> value;
};

char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool is_keyword_char(char c, bool first) {
  const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return alnum || (!first && c == '-');
}

bool is_value_char(unsigned char c) { return c >= 33 && c <= 126 && c != '='; }

std::string keyword_for_error(std::string_view word) {
  std::string out;
  for (char c : word.substr(0, 32)) out.push_back(upper(c));
  return out;
}

std::unexpected<ParameterError> bad_value(std::string_view keyword) {
  return std::unexpected(ParameterError{ParameterError::Kind::bad_value, keyword_for_error(keyword)});
}

std::unexpected<ParameterError> unknown(std::string_view keyword) {
  return std::unexpected(ParameterError{ParameterError::Kind::unknown, keyword_for_error(keyword)});
}

// Splits the parameter list. Runs of spaces are tolerated between parameters (clients
// are sloppy here and nothing is ambiguous about it).
std::expected<std::vector<RawParameter>, ParameterError> split(std::string_view text) {
  std::vector<RawParameter> out;
  if (!text.empty() && text.front() != ' ') return bad_value(text.substr(0, text.find(' ')));
  while (true) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    if (text.empty()) break;
    const std::size_t end = std::min(text.find(' '), text.size());
    const std::string_view word = text.substr(0, end);
    text.remove_prefix(end);
    const std::size_t equals = word.find('=');
    const std::string_view keyword = word.substr(0, equals);
    if (keyword.empty()) return bad_value(word);
    for (std::size_t i = 0; i < keyword.size(); ++i) {
      if (!is_keyword_char(keyword[i], i == 0)) return bad_value(keyword);
    }
    RawParameter parameter;
    parameter.keyword = keyword_for_error(keyword);
    if (keyword.size() > 32) parameter.keyword.push_back('~');  // never matches a known one
    if (equals != std::string_view::npos) {
      const std::string_view value = word.substr(equals + 1);
      if (value.empty()) return bad_value(keyword);
      for (std::size_t i = 0; i < value.size();) {
        const auto c = static_cast<unsigned char>(value[i]);
        if (c >= 0x80) {
          const std::size_t n = utf8_sequence_length(value.substr(i));
          if (n == 0) return bad_value(keyword);
          i += n;
          continue;
        }
        if (!is_value_char(c)) return bad_value(keyword);
        ++i;
      }
      parameter.value = value;
    }
    for (const auto& seen : out) {
      if (seen.keyword == parameter.keyword) return bad_value(keyword);  // given twice
    }
    out.push_back(std::move(parameter));
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (upper(a[i]) != upper(b[i])) return false;
  }
  return true;
}

// size-value = 1*20DIGIT (RFC 1870 §3)
std::optional<std::uint64_t> parse_size(std::string_view value) {
  if (value.empty() || value.size() > 20) return std::nullopt;
  std::uint64_t result = 0;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (result > (kMax - digit) / 10) {
      result = kMax;  // saturate: it is over any limit anyway
    } else {
      result = result * 10 + digit;
    }
  }
  return result;
}

// RFC 3461 §4.2/§4.4: a decoded ENVID or ORCPT is printable US-ASCII (a space included);
// for ORCPT's utf-8 type (RFC 6533 §3) UTF-8 above it too. A control character (an
// xtext "+0D+0A" decoded) could smuggle SMTP commands when the value is relayed.
bool is_printable_envelope_value(std::string_view decoded, bool utf8_allowed) {
  for (char ch : decoded) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return false;
    if (c >= 0x80 && !utf8_allowed) return false;
  }
  return !utf8_allowed || is_valid_utf8(decoded);
}

}  // namespace

std::expected<MailParameters, ParameterError> parse_mail_parameters(
    std::string_view text, const NegotiatedExtensions& extensions) {
  auto parameters = split(text);
  if (!parameters) return std::unexpected(parameters.error());
  MailParameters out;
  for (const auto& [keyword, value] : *parameters) {
    if (keyword == "SIZE" && extensions.size) {
      if (!value) return bad_value(keyword);
      out.size = parse_size(*value);
      if (!out.size) return bad_value(keyword);
    } else if (keyword == "BODY" && extensions.body) {
      // RFC 6152 §2: BODY=7BIT / BODY=8BITMIME. BINARYMIME (RFC 3030) is not announced.
      if (!value) return bad_value(keyword);
      if (iequals(*value, "7BIT")) {
        out.body = BodyType::seven_bit;
      } else if (iequals(*value, "8BITMIME")) {
        out.body = BodyType::eight_bit_mime;
      } else {
        return bad_value(keyword);
      }
    } else if (keyword == "SMTPUTF8" && extensions.smtputf8) {
      if (value) return bad_value(keyword);  // RFC 6531 §3.4: no value
      out.smtputf8 = true;
    } else if (keyword == "RET" && extensions.dsn) {
      if (!value) return bad_value(keyword);
      if (iequals(*value, "FULL")) {
        out.ret = DsnRet::full;
      } else if (iequals(*value, "HDRS")) {
        out.ret = DsnRet::headers;
      } else {
        return bad_value(keyword);
      }
    } else if (keyword == "ENVID" && extensions.dsn) {
      if (!value || value->size() > kMaxEnvidLength) return bad_value(keyword);
      auto decoded = decode_xtext(*value);
      if (!decoded || !is_printable_envelope_value(*decoded, false)) return bad_value(keyword);
      out.envid = std::move(*decoded);
    } else if (keyword == "AUTH" && extensions.auth) {
      // RFC 4954 §5: AUTH=<> or AUTH=xtext(mailbox).
      if (!value) return bad_value(keyword);
      auto decoded = decode_xtext(*value);
      if (!decoded) return bad_value(keyword);
      if (*decoded == "<>") {
        out.auth = "<>";
      } else {
        auto mailbox = parse_mailbox(*decoded);
        if (!mailbox) return bad_value(keyword);
        out.auth = std::move(*mailbox);
      }
    } else {
      return unknown(keyword);
    }
  }
  return out;
}

std::expected<RcptParameters, ParameterError> parse_rcpt_parameters(
    std::string_view text, const NegotiatedExtensions& extensions) {
  auto parameters = split(text);
  if (!parameters) return std::unexpected(parameters.error());
  RcptParameters out;
  for (const auto& [keyword, value] : *parameters) {
    if (keyword == "NOTIFY" && extensions.dsn) {
      if (!value) return bad_value(keyword);
      std::string_view list = *value;
      while (true) {
        const std::size_t comma = std::min(list.find(','), list.size());
        const std::string_view item = list.substr(0, comma);
        bool* flag = nullptr;
        if (iequals(item, "NEVER")) flag = &out.notify.never;
        if (iequals(item, "SUCCESS")) flag = &out.notify.success;
        if (iequals(item, "FAILURE")) flag = &out.notify.failure;
        if (iequals(item, "DELAY")) flag = &out.notify.delay;
        if (!flag || *flag) return bad_value(keyword);
        *flag = true;
        if (comma == list.size()) break;
        list.remove_prefix(comma + 1);
      }
      // NEVER excludes the others (RFC 3461 §4.1).
      if (out.notify.never && (out.notify.success || out.notify.failure || out.notify.delay)) {
        return bad_value(keyword);
      }
    } else if (keyword == "ORCPT" && extensions.dsn) {
      if (!value || value->size() > kMaxOrcptLength) return bad_value(keyword);
      const std::size_t semicolon = value->find(';');
      if (semicolon == 0 || semicolon == std::string_view::npos) return bad_value(keyword);
      const std::string_view type = value->substr(0, semicolon);
      for (char c : type) {  // addr-type = atom
        if (!is_keyword_char(c, false)) return bad_value(keyword);
      }
      std::string lowered;
      for (char c : type) {
        lowered.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
      }
      const std::string_view encoded = value->substr(semicolon + 1);
      auto decoded = decode_xtext(encoded);
      if (!decoded && lowered == "utf-8") {
        // RFC 6533 §3 utf-8-addr-xtext carries raw UTF-8 (already validated by split());
        // it is kept as sent.
        decoded = std::string(encoded);
      }
      if (!decoded || decoded->empty()) return bad_value(keyword);
      if (!is_printable_envelope_value(*decoded, lowered == "utf-8")) return bad_value(keyword);
      out.orcpt = Orcpt{std::move(lowered), std::move(*decoded)};
    } else {
      return unknown(keyword);
    }
  }
  return out;
}

}  // namespace postamt::proto::smtp
