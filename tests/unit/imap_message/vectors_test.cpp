// Every public test vector (tests/data/mime, see SOURCES.md): every section of every part
// renders, BINARY agrees with BINARY.SIZE, and the text searches run; plus metadata that
// does not fit the stored bytes (a storage inconsistency) never reads out of bounds.
#include <gtest/gtest.h>

#include <algorithm>

#include <string>
#include <vector>

#include "imap/message/fetch_renderer.hpp"
#include "imap/message/message_text.hpp"
#include "imap/message/search_matcher.hpp"
#include "imap_message_test_support.hpp"
#include "sample_messages.hpp"

namespace postamt::imap {
namespace {

using namespace test;
using Kind = FetchAttribute::Kind;
using Text = Section::Text;

const std::vector<std::string> kVectors = {
    "mailparser-decoderended.eml",        "mailparser-delivery-status.eml",
    "mailparser-nested.eml",              "mailparser-nodemailer.eml",
    "mimekit-flowed-delsp-iso8859-1.eml", "mimekit-japanese-iso2022jp.eml",
    "mimekit-rfc2060-part-specifiers.eml", "stalwart-rfc2049-example.eml",
    "stalwart-thirdparty-005-utf16-eucjp.eml", "torture-test.eml",
};

// The octets of the IMAP string (quoted, literal or literal8) that `value` starts with.
std::string string_value(std::string_view value) {
  if (value.starts_with('"')) {
    std::string out;
    for (std::size_t i = 1; i < value.size() && value[i] != '"'; ++i) {
      if (value[i] == '\\') ++i;
      out.push_back(value[i]);
    }
    return out;
  }
  if (value.starts_with('~')) value.remove_prefix(1);
  const auto close = value.find('}');
  const std::size_t size = std::stoul(std::string(value.substr(1, close - 1)));
  return std::string(value.substr(close + 3, size));
}

std::vector<std::uint32_t> part_numbers(const std::string& section) {
  std::vector<std::uint32_t> numbers;
  std::size_t start = 0;
  while (start < section.size()) {
    const auto dot = section.find('.', start);
    const auto end = dot == std::string::npos ? section.size() : dot;
    numbers.push_back(static_cast<std::uint32_t>(std::stoul(section.substr(start, end - start))));
    start = end + 1;
  }
  return numbers;
}

TEST(Vectors, EverySectionRenders) {
  for (const std::string& name : kVectors) {
    SCOPED_TRACE(name);
    const StoredMessage message(load_vector(name));
    for (const mime::PartInfo& part : message.metadata.parts) {
      SCOPED_TRACE(part.section);
      const auto numbers = part_numbers(part.section);
      const std::string spec = part.section;
      // BODY[<part>] is the body slice, answered as a literal or quoted string.
      const std::string body = fetch_items(message, {body_section(section(numbers))});
      const std::string body_prefix = "BODY[" + spec + "] ";
      ASSERT_TRUE(body.starts_with(body_prefix)) << body;
      const std::string_view slice =
          numbers.empty() ? std::string_view(message.raw)
                          : std::string_view(message.raw).substr(part.header_end,
                                                                 part.body_end - part.header_end);
      // NUL octets travel as 0x80 outside BINARY (RFC 9051 §9: a literal holds CHAR8).
      std::string expected(slice);
      std::replace(expected.begin(), expected.end(), '\0', '\x80');
      EXPECT_EQ(string_value(std::string_view(body).substr(body_prefix.size())), expected);
      for (const Text text : {Text::header, Text::text, Text::mime, Text::header_fields}) {
        const std::string rendered = fetch_items(
            message, {body_section(section(numbers, text, {"SUBJECT", "FROM"}), partial(1, 40))});
        EXPECT_TRUE(rendered.starts_with("BODY[")) << rendered;
      }
      // BINARY and BINARY.SIZE agree, or both report the unknown encoding.
      const std::string binary_item = fetch(message, {binary(numbers)});
      const std::string size_item = fetch(message, {binary_size(numbers)});
      ASSERT_EQ(binary_item.starts_with("ERROR"), size_item.starts_with("ERROR"));
      if (binary_item.starts_with("ERROR")) continue;
      const std::string size = size_item.substr(size_item.rfind(' ') + 1);
      const std::string content_item = fetch_items(message, {binary(numbers)});
      const std::string prefix = "BINARY[" + spec + "] ";
      ASSERT_TRUE(content_item.starts_with(prefix));
      const std::string octets = string_value(std::string_view(content_item).substr(prefix.size()));
      EXPECT_EQ(std::to_string(octets.size()) + ")\r\n", size);
    }
  }
}

TEST(Vectors, SearchesRun) {
  const SearchScope scope{.max_sequence_number = 1, .max_uid = 42, .now = 0, .saved_uids = nullptr};
  for (const std::string& name : kVectors) {
    SCOPED_TRACE(name);
    const StoredMessage message(load_vector(name));
    SearchSubject subject;
    subject.sequence_number = 1;
    subject.summary = &message.summary;
    subject.metadata = &message.metadata;
    subject.content = message.raw;
    EXPECT_FALSE(search_matches(text_key(SearchKey::Kind::text, "no such text zq"), subject, scope));
    EXPECT_FALSE(search_matches(text_key(SearchKey::Kind::header, "X-None", ""), subject, scope));
    EXPECT_TRUE(search_matches(text_key(SearchKey::Kind::text, ""), subject, scope));
    const std::string text = searchable_body_text(message.raw, message.metadata);
    EXPECT_LE(text.size(), kMaxSearchableBodyText);
  }
}

TEST(Vectors, TortureTestBodyText) {
  const StoredMessage message(load_vector("torture-test.eml"));
  SearchSubject subject;
  subject.summary = &message.summary;
  subject.metadata = &message.metadata;
  subject.content = message.raw;
  const SearchScope scope{};
  const std::string text = searchable_body_text(message.raw, message.metadata);
  ASSERT_FALSE(text.empty());
  EXPECT_TRUE(search_matches(text_key(SearchKey::Kind::body, text.substr(0, 20)), subject, scope));
  EXPECT_FALSE(search_matches(text_key(SearchKey::Kind::body, "no such text zq"), subject, scope));
}

TEST(Vectors, MetadataThatDoesNotFitTheContent) {
  const StoredMessage whole(kSampleMessage);
  StoredMessage message(kSampleMessage);
  message.raw.resize(message.raw.size() / 2);  // the stored bytes are shorter than recorded
  for (const mime::PartInfo& part : whole.metadata.parts) {
    const auto numbers = part_numbers(part.section);
    for (const Text text : {Text::none, Text::header, Text::text, Text::mime,
                            Text::header_fields_not}) {
      const std::string rendered =
          fetch(message, {body_section(section(numbers, text, {"SUBJECT"}))});
      EXPECT_TRUE(rendered.starts_with("* 3 FETCH (BODY[")) << rendered;
    }
    fetch(message, {binary(numbers), binary_size(numbers)});
  }
  EXPECT_LE(searchable_body_text(message.raw, message.metadata).size(), message.raw.size() * 2);
}

}  // namespace
}  // namespace postamt::imap
