#include "imap/message/body_section.hpp"

#include <algorithm>

#include "imap/message/header_fields_filter.hpp"
#include "imap/message/response_string.hpp"

namespace postamt::imap {

using proto::imap::Section;

namespace {

std::string part_number_text(std::span<const std::uint32_t> part) {
  std::string text;
  for (const std::uint32_t number : part) {
    if (!text.empty()) text.push_back('.');
    text += std::to_string(number);
  }
  return text;
}

// HEADER, TEXT and HEADER.FIELDS[.NOT] of the message `message` encapsulates.
std::optional<SectionBytes> message_section(std::string_view content,
                                            const mime::PartInfo& message,
                                            const Section& section) {
  if (!message.is_message) return std::nullopt;  // RFC 9051 §6.4.5: only of MESSAGE/RFC822
  const std::string_view header =
      clamped_slice(content, message.message_header_begin, message.message_header_end);
  switch (section.text) {
    case Section::Text::header:
      return SectionBytes::slice_of(header);
    case Section::Text::text:
      return SectionBytes::slice_of(
          clamped_slice(content, message.message_header_end, message.body_end));
    case Section::Text::header_fields:
      return SectionBytes::built(
          filter_header_fields(header, section.fields, FieldSelection::only_listed));
    case Section::Text::header_fields_not:
      return SectionBytes::built(
          filter_header_fields(header, section.fields, FieldSelection::all_but_listed));
    case Section::Text::none:
    case Section::Text::mime:
      break;
  }
  return std::nullopt;
}

}  // namespace

std::string_view clamped_slice(std::string_view content, std::size_t begin, std::size_t end) {
  begin = std::min(begin, content.size());
  end = std::clamp(end, begin, content.size());
  return content.substr(begin, end - begin);
}

const mime::PartInfo* find_part(const mime::MessageMetadata& metadata,
                                std::span<const std::uint32_t> part) {
  return metadata.find_part(part_number_text(part));
}

bool section_needs_metadata(const Section& section) {
  return !section.part.empty() || section.text != Section::Text::none;
}

std::optional<SectionBytes> body_section_bytes(std::string_view content,
                                               const mime::MessageMetadata* metadata,
                                               const Section& section) {
  if (!section_needs_metadata(section)) return SectionBytes::slice_of(content);
  if (metadata == nullptr) return std::nullopt;
  const mime::PartInfo* part = find_part(*metadata, section.part);
  if (part == nullptr) return std::nullopt;
  if (section.part.empty()) {
    // The whole message: [HEADER], [TEXT], [HEADER.FIELDS ...]; [MIME] needs a part.
    return message_section(content, *part, section);
  }
  switch (section.text) {
    case Section::Text::none:
      return SectionBytes::slice_of(clamped_slice(content, part->header_end, part->body_end));
    case Section::Text::mime:
      return SectionBytes::slice_of(clamped_slice(content, part->header_begin, part->header_end));
    default:
      return message_section(content, *part, section);
  }
}

void append_section_spec(std::string& out, const Section& section) {
  out += part_number_text(section.part);
  if (section.text == Section::Text::none) return;
  if (!section.part.empty()) out.push_back('.');
  switch (section.text) {
    case Section::Text::header:
      out += "HEADER";
      return;
    case Section::Text::text:
      out += "TEXT";
      return;
    case Section::Text::mime:
      out += "MIME";
      return;
    case Section::Text::header_fields:
    case Section::Text::header_fields_not: {
      out += section.text == Section::Text::header_fields ? "HEADER.FIELDS (" : "HEADER.FIELDS.NOT (";
      bool first = true;
      for (const std::string& field : section.fields) {
        if (!first) out.push_back(' ');
        first = false;
        append_astring(out, field);
      }
      out.push_back(')');
      return;
    }
    case Section::Text::none:
      return;
  }
}

std::string_view apply_partial(std::string_view data,
                               const std::optional<proto::imap::Partial>& partial) {
  if (!partial) return data;
  if (partial->offset >= data.size()) return {};
  return data.substr(partial->offset, partial->length);
}

}  // namespace postamt::imap
