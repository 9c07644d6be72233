#pragma once
// PartInfo: where one IMAP body section (RFC 9051 §6.4.5) lies in the stored message.
//
// Every offset is a byte offset into the message exactly as stored, so the IMAP server
// answers BODY[section] fetches by slicing the blob, without parsing it again:
//
//   BODY[<section>]         [header_end, body_end)   (for "" the whole message: [0, body_end))
//   BODY[<section>.MIME]    [header_begin, header_end)
//   BODY[<section>.HEADER]  [message_header_begin, message_header_end)   when is_message
//   BODY[<section>.TEXT]    [message_header_end, body_end)               when is_message
//   BODY[HEADER], BODY[TEXT] are the same two ranges of the "" entry.
//
// Invariant: header_begin <= header_end <= body_end, and for messages
// header_begin <= message_header_begin <= message_header_end <= body_end.
#include <cstddef>
#include <string>

#include "mime/transfer_encoding.hpp"

namespace postamt::mime {

struct PartInfo {
  // "" for the whole message, else the part number: "1", "2.1.3", ... (RFC 9051 §6.4.5).
  std::string section;

  std::size_t header_begin = 0;  // first byte of the part's MIME header
  std::size_t header_end = 0;    // first byte of the body (after the blank line, if any)
  std::size_t body_end = 0;      // one past the body; the CRLF before a boundary is not
                                 // part of the body (RFC 2046 §5.1.1)

  // Media type and subtype in lower case ("text", "plain"); defaults applied
  // (RFC 2045 §5.2; message/rfc822 inside multipart/digest, RFC 2046 §5.1.5).
  std::string type;
  std::string subtype;
  std::string charset;  // the charset parameter in lower case, "" when absent
  TransferEncoding encoding = TransferEncoding::seven_bit;

  // The whole message ("" entry) and every message/rfc822 part encapsulate a message
  // whose header is [message_header_begin, message_header_end) and whose text runs from
  // message_header_end to body_end.
  bool is_message = false;
  std::size_t message_header_begin = 0;
  std::size_t message_header_end = 0;

  bool operator==(const PartInfo&) const = default;
};

}  // namespace postamt::mime
