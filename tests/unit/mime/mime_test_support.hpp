#pragma once
// Helpers shared by the mime unit tests.
#include <gtest/gtest.h>

#include <cstddef>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "mime/message_metadata.hpp"
#include "mime/part_info.hpp"

namespace postamt::mime::test {

// The test vectors copied into tests/data/mime (see SOURCES.md there).
inline const std::vector<std::string>& vector_names() {
  static const std::vector<std::string> names = {
      "mailparser-decoderended.eml",
      "mailparser-delivery-status.eml",
      "mailparser-nested.eml",
      "mailparser-nodemailer.eml",
      "mimekit-flowed-delsp-iso8859-1.eml",
      "mimekit-japanese-iso2022jp.eml",
      "mimekit-rfc2060-part-specifiers.eml",
      "stalwart-rfc2049-example.eml",
      "stalwart-thirdparty-005-utf16-eucjp.eml",
      "torture-test.eml",
  };
  return names;
}

inline std::string load_vector(std::string_view name) {
  const std::string path = std::string(POSTAMT_TEST_DATA_DIR) + "/mime/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// Turns "\n" into "\r\n" so hand-made messages read naturally but are stored as delivered.
inline std::string crlf(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

inline const PartInfo& part(const MessageMetadata& metadata, std::string_view section) {
  const PartInfo* found = metadata.find_part(section);
  if (found == nullptr) {
    ADD_FAILURE() << "no part " << section;
    static const PartInfo none;
    return none;
  }
  return *found;
}

// The BODY[section] slices of RFC 9051 §6.4.5, served from the offsets alone.
inline std::string_view body_of(std::string_view raw, const PartInfo& p) {
  return raw.substr(p.header_end, p.body_end - p.header_end);
}
inline std::string_view mime_header_of(std::string_view raw, const PartInfo& p) {
  return raw.substr(p.header_begin, p.header_end - p.header_begin);
}
inline std::string_view message_header_of(std::string_view raw, const PartInfo& p) {
  return raw.substr(p.message_header_begin, p.message_header_end - p.message_header_begin);
}
inline std::string_view message_text_of(std::string_view raw, const PartInfo& p) {
  return raw.substr(p.message_header_end, p.body_end - p.message_header_end);
}

// The invariants every PartInfo must keep, whatever the input.
inline void expect_offsets_valid(const MessageMetadata& metadata) {
  ASSERT_FALSE(metadata.parts.empty());
  EXPECT_EQ(metadata.parts.front().section, "");
  EXPECT_EQ(metadata.parts.front().header_begin, 0u);
  EXPECT_EQ(metadata.parts.front().body_end, metadata.size);
  for (const PartInfo& p : metadata.parts) {
    EXPECT_LE(p.header_begin, p.header_end) << p.section;
    EXPECT_LE(p.header_end, p.body_end) << p.section;
    EXPECT_LE(p.body_end, metadata.size) << p.section;
    if (p.is_message) {
      EXPECT_LE(p.header_begin, p.message_header_begin) << p.section;
      EXPECT_LE(p.message_header_begin, p.message_header_end) << p.section;
      EXPECT_LE(p.message_header_end, p.body_end) << p.section;
    }
  }
}

}  // namespace postamt::mime::test
