#pragma once
// MAIL and RCPT parameters (RFC 5321 §4.1.2 esmtp-param; keywords case-insensitive).
//
//   Mail-parameters = esmtp-param *(SP esmtp-param)
//   esmtp-param     = esmtp-keyword ["=" esmtp-value]
//   esmtp-keyword   = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
//   esmtp-value     = 1*(%d33-60 / %d62-126)   ; UTF-8 too under SMTPUTF8 (RFC 6531 §3.3)
//
// A parameter of an extension that was not announced (or any parameter after HELO, which
// negotiates none) is unknown: 555 5.5.4 (RFC 5321 §4.1.1.11). A known one with a bad
// value, or given twice, is a syntax error: 501 5.5.4.
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace postamt::proto::smtp {

enum class BodyType { unspecified, seven_bit, eight_bit_mime };  // RFC 6152
enum class DsnRet { unspecified, full, headers };                  // RFC 3461 §4.3

// RFC 3461 §4.1: NOTIFY=NEVER, or any of SUCCESS, FAILURE, DELAY. All false = absent.
struct DsnNotify {
  bool never = false;
  bool success = false;
  bool failure = false;
  bool delay = false;

  bool specified() const { return never || success || failure || delay; }
  bool operator==(const DsnNotify&) const = default;
};

// RFC 3461 §4.2: ORCPT=addr-type ";" xtext, kept decoded.
struct Orcpt {
  std::string address_type;  // e.g. "rfc822", "utf-8" (RFC 6533)
  std::string address;       // the xtext-decoded original recipient
  bool operator==(const Orcpt&) const = default;
};

// Which extensions the session negotiated: all false after HELO (RFC 5321 §4.1.1.1).
struct NegotiatedExtensions {
  bool size = false;      // RFC 1870
  bool body = false;      // RFC 6152 8BITMIME
  bool smtputf8 = false;  // RFC 6531
  bool dsn = false;       // RFC 3461
  bool auth = false;      // RFC 4954 §5 AUTH= on MAIL
};

struct MailParameters {
  std::optional<std::uint64_t> size;  // saturates at UINT64_MAX for 20-digit values
  BodyType body = BodyType::unspecified;
  bool smtputf8 = false;
  DsnRet ret = DsnRet::unspecified;
  std::optional<std::string> envid;  // xtext-decoded
  std::optional<std::string> auth;   // xtext-decoded mailbox, or "<>"
};

struct RcptParameters {
  DsnNotify notify;
  std::optional<Orcpt> orcpt;
};

struct ParameterError {
  enum class Kind { unknown, bad_value } kind = Kind::bad_value;
  std::string keyword;  // upper-cased, at most 32 octets of what the client sent
};

inline constexpr std::size_t kMaxEnvidLength = 100;  // RFC 3461 §4.4
inline constexpr std::size_t kMaxOrcptLength = 500;  // RFC 3461 §4.2

// text is what follows the path: empty, or SP-separated parameters.
std::expected<MailParameters, ParameterError> parse_mail_parameters(
    std::string_view text, const NegotiatedExtensions& extensions);
std::expected<RcptParameters, ParameterError> parse_rcpt_parameters(
    std::string_view text, const NegotiatedExtensions& extensions);

}  // namespace postamt::proto::smtp
