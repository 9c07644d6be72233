// Fuzzes MIME analysis: arbitrary bytes as a stored message. Checks what the IMAP server
// relies on: analysis never crashes, every part's offsets are inside the message and
// ordered, the IMAP texts are balanced lists, the metadata survives serialize /
// deserialize unchanged, every part decodes or reports an unknown encoding, and
// deserialize() of arbitrary bytes never crashes either.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mime/analyze_message.hpp"
#include "mime/decode_part_content.hpp"

namespace {

using postamt::mime::MessageMetadata;
using postamt::mime::PartInfo;

void check(bool condition) {
  if (!condition) std::abort();
}

void check_offsets(const MessageMetadata& m) {
  check(!m.parts.empty());
  check(m.parts.front().section.empty());
  check(m.parts.front().body_end == m.size);
  for (const PartInfo& p : m.parts) {
    check(p.header_begin <= p.header_end);
    check(p.header_end <= p.body_end);
    check(p.body_end <= m.size);
    if (p.is_message) {
      check(p.header_begin <= p.message_header_begin);
      check(p.message_header_begin <= p.message_header_end);
      check(p.message_header_end <= p.body_end);
    }
  }
}

// Parentheses outside quoted strings and literals balance, and the text is one list.
void check_balanced(std::string_view text) {
  check(!text.empty() && text.front() == '(' && text.back() == ')');
  long depth = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\') ++i;
      }
    } else if (c == '{') {
      std::size_t length = 0;
      for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        length = length * 10 + static_cast<std::size_t>(text[i] - '0');
      }
      check(text.substr(i, 3) == "}\r\n");
      i += 2 + length;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
      check(depth > 0 || i + 1 == text.size());
    }
  }
  check(depth == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);

  const MessageMetadata metadata = postamt::mime::analyze_message(raw);
  check(metadata.size == size);
  check_offsets(metadata);
  check_balanced(metadata.envelope);
  check_balanced(metadata.bodystructure);
  check_balanced(metadata.body);

  const auto back = MessageMetadata::deserialize(metadata.serialize());
  check(back.has_value() && *back == metadata);

  for (const PartInfo& part : metadata.parts) {
    const auto content = postamt::mime::decode_part_content(raw, part);
    const auto binary = postamt::mime::binary_size(raw, part);
    check(content.has_value() == binary.has_value());
    if (content) {
      check(*binary == content->size());
    } else {
      check(content.error() == postamt::mime::kUnknownTransferEncoding);
    }
  }

  // The same bytes as a stored metadata column: must fail or yield valid offsets.
  if (const auto parsed = MessageMetadata::deserialize(raw)) check_offsets(*parsed);
  return 0;
}
