#pragma once
// The extensions a server announced in its EHLO reply (RFC 5321 §4.1.1.1):
//   ehlo-ok-rsp = "250" SP Domain [ SP ehlo-greet ] CRLF                      ; or
//                 "250-" Domain [ SP ehlo-greet ] CRLF
//                 *( "250-" ehlo-line CRLF ) "250" SP ehlo-line CRLF
//   ehlo-line   = ehlo-keyword *( SP ehlo-param )
// Keywords are case-insensitive; unknown ones are ignored.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postamt::proto::smtp {

enum class Extension : std::uint8_t {
  pipelining,             // RFC 2920
  size,                   // RFC 1870
  eight_bit_mime,         // RFC 6152
  smtputf8,               // RFC 6531
  dsn,                    // RFC 3461
  starttls,               // RFC 3207
  auth,                   // RFC 4954
  chunking,               // RFC 3030
  enhanced_status_codes,  // RFC 2034
};

struct ServerCapabilities {
  bool extended = false;  // EHLO succeeded (false after the HELO fallback)
  bool pipelining = false;
  bool size = false;
  // RFC 1870 §4: the fixed maximum message size; nullopt or 0 when none was given.
  std::optional<std::uint64_t> max_size;
  bool eight_bit_mime = false;
  bool smtputf8 = false;
  bool dsn = false;
  bool starttls = false;
  bool chunking = false;
  bool enhanced_status_codes = false;
  std::vector<std::string> auth_mechanisms;  // upper-cased

  bool supports(Extension extension) const;
  bool offers_auth(std::string_view mechanism) const;  // case-insensitive
};

// Reads the lines of a positive EHLO reply (Reply::text: lines separated by '\n'; the
// first is the greeting line and carries no keyword).
ServerCapabilities parse_ehlo_reply(std::string_view text);

}  // namespace postamt::proto::smtp
