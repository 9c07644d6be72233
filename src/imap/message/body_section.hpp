#pragma once
// Body sections (RFC 9051 §6.4.5) served from the part offsets cached at delivery
// (mime/part_info.hpp): what BODY[<section>]<<partial>> answers, and how the answer
// names the section.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "mime/message_metadata.hpp"
#include "proto/imap/commands.hpp"

namespace postamt::imap {

// The octets of one section: a slice of the stored message, or text built from it
// (HEADER.FIELDS). Movable; view() stays valid as long as the object and the message.
class SectionBytes {
 public:
  static SectionBytes slice_of(std::string_view stored) { return SectionBytes(stored, {}, false); }
  static SectionBytes built(std::string text) { return SectionBytes({}, std::move(text), true); }

  std::string_view view() const { return owned_ ? std::string_view(text_) : slice_; }

 private:
  SectionBytes(std::string_view slice, std::string text, bool owned)
      : slice_(slice), text_(std::move(text)), owned_(owned) {}

  std::string_view slice_;
  std::string text_;
  bool owned_ = false;
};

// [begin, end) of `content`, clamped to it, so a PartInfo that does not fit the stored
// bytes (a storage inconsistency) yields less rather than reading out of bounds.
std::string_view clamped_slice(std::string_view content, std::size_t begin, std::size_t end);

// The part named by the part numbers ("1.2" = {1, 2}; empty = the whole message), or null.
const mime::PartInfo* find_part(const mime::MessageMetadata& metadata,
                                std::span<const std::uint32_t> part);

// Whether BODY[<section>] needs the metadata at all: only BODY[] (the whole message) does
// not.
bool section_needs_metadata(const proto::imap::Section& section);

// The octets BODY[<section>] answers, before <partial> (RFC 9051 §6.4.5):
//   []                        the whole message
//   [HEADER] [TEXT]           the top-level header (with its empty line) / body
//   [<part>]                  the part's body; for a non-multipart message part 1 is its body
//   [<part>.MIME]             the part's MIME header (with its empty line)
//   [<part>.HEADER/TEXT/...]  of the message a message/rfc822 part encapsulates
//   [...HEADER.FIELDS[.NOT]]  filtered fields (header_fields_filter.hpp)
// Nothing when the message has no such section (a part number beyond its parts, HEADER of
// a part that is no message/rfc822, or no metadata where it is needed).
std::optional<SectionBytes> body_section_bytes(std::string_view content,
                                               const mime::MessageMetadata* metadata,
                                               const proto::imap::Section& section);

// The section spec as the answer names it (RFC 9051 §7.5.2): "", "HEADER",
// "1.2.HEADER.FIELDS (SUBJECT FROM)", "3.MIME", ...
void append_section_spec(std::string& out, const proto::imap::Section& section);

// <offset.length> applied to `data` (RFC 9051 §6.4.5): empty when offset is beyond the end.
std::string_view apply_partial(std::string_view data,
                               const std::optional<proto::imap::Partial>& partial);

}  // namespace postamt::imap
