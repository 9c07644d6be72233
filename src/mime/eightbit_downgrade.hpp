#pragma once
// 8BITMIME downgrade for outbound delivery (RFC 6152 §3): a message with 8-bit content
// may only go to a server that announced 8BITMIME; for any other server it must be
// converted to 7-bit MIME or returned to the sender.
//
// Only bodies can be converted. 8-bit octets in a header block (the message's, a body
// part's MIME header or an encapsulated message's header) are raw UTF-8 headers
// (RFC 6532), which need SMTPUTF8 (RFC 6531) rather than MIME conversion: such messages
// are reported, not converted.
#include <cstddef>
#include <expected>
#include <string>
#include <string_view>

namespace postamt::mime {

// True when any octet of the message is >= 0x80, so that sending it as is needs
// BODY=8BITMIME (or SMTPUTF8 when the octets are in header fields).
bool needs_8bitmime(std::string_view message);

// Where a message's 8-bit octets are.
struct EightBitUse {
  bool in_headers = false;  // in some header block: needs SMTPUTF8, cannot be converted
  bool in_bodies = false;   // in a body, preamble or epilogue: convertible
};
EightBitUse find_8bit_use(std::string_view message);

struct DowngradeLimits {
  std::size_t max_depth = 32;                          // nesting of multipart / message
  std::size_t max_output_size = std::size_t{64} << 20;  // octets of the converted message
};

struct DowngradeError {
  enum class Kind {
    eight_bit_header,      // 8-bit octets in a header block (needs SMTPUTF8)
    header_line_too_long,  // a header line over 998 octets (RFC 5322 §2.1.1)
    too_deep,              // nesting deeper than the limit, or more parts than MimeScanner keeps
    too_large,             // the converted message would exceed max_output_size
    unknown_encoding,      // 8-bit data under a Content-Transfer-Encoding RFC 2045 lacks
    signed_content,        // 8-bit data inside multipart/signed or /encrypted (RFC 1847):
                           // converting it would break the signature
    malformed,             // a structure that cannot be converted without guessing
  };
  Kind kind = Kind::malformed;
  std::string detail;  // one line of printable ASCII, for logs and the DSN text

  // Every downgrade failure is permanent for this destination: the same message will not
  // convert on the next attempt. RFC 3463 X.6.3 "conversion required but not supported",
  // or X.3.4 "message too big for system" for too_large.
  std::string_view enhanced_status() const;
};

// Converts the message to 7-bit MIME:
//  - a leaf body with 8-bit octets or a line over 998 octets is re-encoded, as
//    quoted-printable for text/* and message/* (RFC 2045 §6.7), as base64 otherwise
//    (§6.8); a base64 or quoted-printable body that is not clean 7-bit data is decoded
//    and encoded again in its own encoding; Content-Transfer-Encoding is set accordingly,
//    and MIME-Version: 1.0 added to the message header when it lacks one;
//  - a 7-bit body labelled 8bit or binary only has its label changed to 7bit, and so do
//    multipart and message/rfc822 entities (RFC 2045 §6.4, RFC 2046 §5.2.1), since their
//    content is 7-bit afterwards;
//  - multipart/* and message/rfc822 are converted part by part, down to max_depth;
//  - preamble and epilogue lines (RFC 2046 §5.1.1: ignored by readers) are cut at their
//    first 8-bit octet and at 998 octets;
//  - everything else stays byte for byte as it was, in particular every 7-bit part.
// Input is the message as stored (CRLF line ends; bare LF tolerated; not dot-stuffed);
// lines this function writes end in CRLF. Never throws for bad input.
std::expected<std::string, DowngradeError> downgrade_to_7bit(std::string_view message,
                                                             const DowngradeLimits& limits = {});

}  // namespace postamt::mime
