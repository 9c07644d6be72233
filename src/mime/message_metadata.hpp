#pragma once
// MessageMetadata: everything the IMAP server needs about a message's MIME structure,
// computed once at delivery (analyze_message) and stored in messages.mime_metadata.
//
// The IMAP strings are ready to send: FETCH ENVELOPE, BODY and BODYSTRUCTURE answers are
// these bytes verbatim. Strings that cannot be quoted are IMAP literals ("{n}\r\n..."),
// which are valid in both IMAP4rev1 and IMAP4rev2 responses.
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mime/part_info.hpp"

namespace postamt::mime {

struct MessageMetadata {
  // The `envelope` production of RFC 9051 §9 (with its parentheses), header values raw.
  std::string envelope;
  // The `body` production of RFC 9051 §9 (with its outer parentheses): with extension
  // data for FETCH BODYSTRUCTURE, without it for FETCH BODY (RFC 9051 §7.5.2).
  std::string bodystructure;
  std::string body;

  // Every addressable section, depth first; parts.front() is the whole message ("").
  std::vector<PartInfo> parts;

  std::size_t size = 0;   // RFC822.SIZE: octets as stored
  std::size_t lines = 0;  // line count of the whole message (LF count, see analyze_message)

  // Cheap values for SEARCH and SORT (RFC 9051 §6.4.4, RFC 5256), from the top-level header.
  std::optional<std::int64_t> date;  // Date: as Unix time, when it parses
  std::string subject;               // Subject: with RFC 2047 words decoded, UTF-8
  std::string from;                  // address lists with RFC 2047 words decoded, UTF-8
  std::string to;
  std::string cc;

  // The part with the given section ("" = whole message), or nullptr.
  const PartInfo* find_part(std::string_view section) const;

  // A compact, versioned, tagged binary encoding (see message_metadata.cpp). deserialize()
  // checks structure and offset invariants and fails cleanly on anything else.
  std::string serialize() const;
  static std::expected<MessageMetadata, std::string> deserialize(std::string_view data);

  bool operator==(const MessageMetadata&) const = default;
};

}  // namespace postamt::mime
