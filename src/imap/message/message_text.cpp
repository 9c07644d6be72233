#include "imap/message/message_text.hpp"

#include <glib.h>

#include <algorithm>
#include <memory>

#include "imap/message/body_section.hpp"
#include "imap/message/header_field_reader.hpp"
#include "mime/decode_part_content.hpp"
#include "mime/header_decoding.hpp"

namespace postamt::imap {

namespace {

struct GFree {
  void operator()(char* p) const { g_free(p); }
};

// Decoding never yields more octets than it reads (base64 3 for 4, quoted-printable at
// most 1 per octet), so this much encoded input gives at least `wanted` decoded octets
// when the part has them: base64 needs 4/3 plus line breaks, "=XX" needs 3.
std::size_t encoded_input_for(std::size_t wanted) { return wanted * 3 + 8; }

bool is_text_leaf(const mime::PartInfo& part) {
  // parts.front() is the whole message; for a non-multipart message its body is part "1"
  // too, which is the one taken.
  return !part.section.empty() && !part.is_message && part.type == "text";
}

// The longest prefix of valid UTF-8 `text` that has at most `limit` octets.
std::string_view utf8_prefix(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

// The transfer-decoded octets of a text part, from at most enough input for `wanted`.
std::string decoded_part(std::string_view content, const mime::PartInfo& part,
                         std::size_t wanted) {
  mime::PartInfo bounded = part;
  bounded.body_end = std::min({bounded.body_end, content.size(),
                               bounded.header_end + encoded_input_for(wanted)});
  bounded.header_end = std::min(bounded.header_end, bounded.body_end);
  auto decoded = mime::decode_part_content(content, bounded);
  if (decoded) return std::move(*decoded);
  // An unknown transfer encoding: the stored octets are the best text there is.
  return std::string(clamped_slice(content, bounded.header_end, bounded.body_end));
}

void append_bounded(std::string& out, std::string_view text, std::size_t max_bytes) {
  out += utf8_prefix(text, max_bytes - out.size());
}

}  // namespace

std::string valid_utf8_text(std::string_view text) {
  std::string out(text);
  std::replace(out.begin(), out.end(), '\0', ' ');
  if (!g_utf8_validate(out.data(), static_cast<gssize>(out.size()), nullptr)) {
    const std::unique_ptr<char, GFree> fixed(
        g_utf8_make_valid(out.data(), static_cast<gssize>(out.size())));
    out.assign(fixed.get());
  }
  return out;
}

std::string searchable_body_text(std::string_view content, const mime::MessageMetadata& metadata,
                                 std::size_t max_bytes) {
  std::string out;
  for (const mime::PartInfo& part : metadata.parts) {
    if (out.size() >= max_bytes) break;
    if (!is_text_leaf(part)) continue;
    const std::size_t wanted = max_bytes - out.size();
    const std::string octets = decoded_part(content, part, wanted);
    std::optional<std::string> utf8 = mime::charset_to_utf8(octets, part.charset);
    append_bounded(out, utf8 ? valid_utf8_text(*utf8) : valid_utf8_text(octets), max_bytes);
    if (out.size() < max_bytes) out.push_back('\n');
  }
  return out;
}

std::string searchable_header_text(std::string_view content, std::size_t max_bytes) {
  std::string out;
  HeaderFieldReader reader(content);
  while (auto field = reader.next()) {
    if (out.size() >= max_bytes) break;
    if (!field->has_colon) continue;
    std::string line(field->name);
    line += ": ";
    line += mime::decode_header_text(field->raw_value);
    append_bounded(out, valid_utf8_text(line), max_bytes);
    if (out.size() < max_bytes) out.push_back('\n');
  }
  return out;
}

}  // namespace postamt::imap
