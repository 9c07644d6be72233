#include "imap/message/binary_section.hpp"

#include <algorithm>

#include "mime/decode_part_content.hpp"
#include "mime/transfer_encoding.hpp"

namespace postamt::imap {

using proto::imap::Section;

namespace {

bool is_composite(const mime::PartInfo& part) {
  return part.type == "multipart" || part.is_message;
}

// Where the part lies, the offsets clamped to the stored message.
struct LocatedPart {
  const mime::PartInfo* part = nullptr;  // null: the whole message
  std::string_view body;                  // as stored
};

// Nothing: no such section. A located part with null `part`: BINARY[].
std::optional<LocatedPart> locate(std::string_view content, const mime::MessageMetadata* metadata,
                                  const Section& section) {
  if (section.text != Section::Text::none) return std::nullopt;
  if (section.part.empty()) return LocatedPart{nullptr, content};
  if (metadata == nullptr) return std::nullopt;
  const mime::PartInfo* part = find_part(*metadata, section.part);
  if (part == nullptr) return std::nullopt;
  return LocatedPart{part, clamped_slice(content, part->header_end, part->body_end)};
}

// The part as decode_part_content() expects it: offsets within the stored message.
mime::PartInfo fitted(const mime::PartInfo& part, std::string_view content) {
  mime::PartInfo copy = part;
  copy.body_end = std::min(copy.body_end, content.size());
  copy.header_end = std::min(copy.header_end, copy.body_end);
  return copy;
}

bool served_as_stored(const LocatedPart& located) {
  return located.part == nullptr || is_composite(*located.part) ||
         mime::is_identity_encoding(located.part->encoding);
}

}  // namespace

std::expected<std::optional<SectionBytes>, UnknownTransferEncoding> binary_section_bytes(
    std::string_view content, const mime::MessageMetadata* metadata, const Section& section) {
  const auto located = locate(content, metadata, section);
  if (!located) return std::nullopt;
  if (served_as_stored(*located)) return SectionBytes::slice_of(located->body);
  auto decoded = mime::decode_part_content(content, fitted(*located->part, content));
  if (!decoded) return std::unexpected(UnknownTransferEncoding{});
  return SectionBytes::built(std::move(*decoded));
}

std::expected<std::optional<std::size_t>, UnknownTransferEncoding> binary_section_size(
    std::string_view content, const mime::MessageMetadata* metadata, const Section& section) {
  const auto located = locate(content, metadata, section);
  if (!located) return std::nullopt;
  if (served_as_stored(*located)) return located->body.size();
  const auto size = mime::binary_size(content, fitted(*located->part, content));
  if (!size) return std::unexpected(UnknownTransferEncoding{});
  return *size;
}

}  // namespace postamt::imap
