#pragma once
// Helpers shared by the imap_message unit tests: stored messages with their metadata, and
// typed FETCH attributes / SEARCH keys built directly (no command parser involved).
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "imap/message/fetch_renderer.hpp"
#include "mime/analyze_message.hpp"
#include "proto/imap/commands.hpp"
#include "storage/api/types.hpp"

namespace postamt::imap::test {

using proto::imap::FetchAttribute;
using proto::imap::Partial;
using proto::imap::SearchKey;
using proto::imap::Section;

// A test vector from tests/data/mime (see SOURCES.md there).
inline std::string load_vector(std::string_view name) {
  const std::string path = std::string(POSTAMT_TEST_DATA_DIR) + "/mime/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// "\n" -> "\r\n": hand-made messages read naturally but are stored as delivered.
inline std::string crlf(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

// A stored message as the session would have it: bytes, metadata, index entry.
struct StoredMessage {
  explicit StoredMessage(std::string bytes) : raw(std::move(bytes)) {
    metadata = mime::analyze_message(raw);
    summary.uid = 42;
    summary.modseq = 7;
    summary.size = raw.size();
    summary.internal_date = 1700000000;  // 14-Nov-2023 22:13:20 +0000
  }
  std::string raw;
  mime::MessageMetadata metadata;
  storage::MessageSummary summary;
};

inline Section section(std::vector<std::uint32_t> part = {},
                       Section::Text text = Section::Text::none,
                       std::vector<std::string> fields = {}) {
  Section s;
  s.part = std::move(part);
  s.text = text;
  s.fields = std::move(fields);
  return s;
}

inline FetchAttribute attribute(FetchAttribute::Kind kind) {
  FetchAttribute a;
  a.kind = kind;
  return a;
}

inline FetchAttribute body_section(Section s, std::optional<Partial> partial = std::nullopt,
                                   bool peek = false) {
  FetchAttribute a;
  a.kind = FetchAttribute::Kind::body_section;
  a.section = std::move(s);
  a.partial = partial;
  a.peek = peek;
  return a;
}

inline FetchAttribute binary(std::vector<std::uint32_t> part,
                             std::optional<Partial> partial = std::nullopt, bool peek = false) {
  FetchAttribute a;
  a.kind = FetchAttribute::Kind::binary;
  a.section = section(std::move(part));
  a.partial = partial;
  a.peek = peek;
  return a;
}

inline FetchAttribute binary_size(std::vector<std::uint32_t> part) {
  FetchAttribute a;
  a.kind = FetchAttribute::Kind::binary_size;
  a.section = section(std::move(part));
  return a;
}

inline Partial partial(std::uint32_t offset, std::uint32_t length) {
  Partial p;
  p.offset = offset;
  p.length = length;
  return p;
}

// The whole "* n FETCH (...)\r\n" response, or "ERROR: <message>".
inline std::string fetch(const StoredMessage& message, std::vector<FetchAttribute> attributes,
                         FetchOptions options = {}, bool recent = false) {
  FetchSource source;
  source.sequence_number = 3;
  source.summary = &message.summary;
  source.metadata = &message.metadata;
  source.content = message.raw;
  source.recent = recent;
  std::string out;
  const auto rendered = render_fetch(source, attributes, options, out);
  if (!rendered) return "ERROR: " + rendered.error().message;
  return out;
}

// Just the items between "* 3 FETCH (" and ")\r\n".
inline std::string fetch_items(const StoredMessage& message,
                               std::vector<FetchAttribute> attributes, FetchOptions options = {},
                               bool recent = false) {
  const std::string response = fetch(message, std::move(attributes), options, recent);
  constexpr std::string_view kPrefix = "* 3 FETCH (";
  if (!response.starts_with(kPrefix) || !response.ends_with(")\r\n")) {
    ADD_FAILURE() << "not a FETCH response: " << response;
    return response;
  }
  return response.substr(kPrefix.size(), response.size() - kPrefix.size() - 3);
}

// The literal form of `data` as an answer carries it.
inline std::string literal(std::string_view data) {
  return "{" + std::to_string(data.size()) + "}\r\n" + std::string(data);
}

// --- SEARCH keys
inline SearchKey key(SearchKey::Kind kind) {
  SearchKey k;
  k.kind = kind;
  return k;
}
inline SearchKey text_key(SearchKey::Kind kind, std::string text, std::string value = {}) {
  SearchKey k;
  k.kind = kind;
  k.text = std::move(text);
  k.value = std::move(value);
  return k;
}
inline SearchKey day_key(SearchKey::Kind kind, proto::imap::DayNumber day) {
  SearchKey k;
  k.kind = kind;
  k.day = day;
  return k;
}
inline SearchKey number_key(SearchKey::Kind kind, std::uint64_t number) {
  SearchKey k;
  k.kind = kind;
  k.number = number;
  return k;
}
inline SearchKey set_key(SearchKey::Kind kind, std::string_view set) {
  SearchKey k;
  k.kind = kind;
  auto parsed = proto::imap::SequenceSet::parse(set);
  EXPECT_TRUE(parsed.has_value()) << set;
  if (parsed) k.set = std::move(*parsed);
  return k;
}
inline SearchKey not_key(SearchKey child) {
  SearchKey k;
  k.kind = SearchKey::Kind::not_;
  k.children.push_back(std::move(child));
  return k;
}
inline SearchKey or_key(SearchKey a, SearchKey b) {
  SearchKey k;
  k.kind = SearchKey::Kind::or_;
  k.children.push_back(std::move(a));
  k.children.push_back(std::move(b));
  return k;
}
inline SearchKey and_key(std::vector<SearchKey> children) {
  SearchKey k;
  k.kind = SearchKey::Kind::and_;
  k.children = std::move(children);
  return k;
}

}  // namespace postamt::imap::test
