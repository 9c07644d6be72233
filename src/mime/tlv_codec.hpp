#pragma once
// TlvWriter / TlvReader: the record format under MessageMetadata::serialize().
//
// A record is: tag (LEB128 varint), length (LEB128 varint), payload. Integers are
// payloads holding one varint; nested structures are payloads holding records. Readers
// skip tags they do not know, so fields can be added without a version bump.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postamt::mime {

class TlvWriter {
 public:
  void bytes(std::uint64_t tag, std::string_view payload);
  void number(std::uint64_t tag, std::uint64_t value);
  void raw(std::string_view data) { out_.append(data); }
  const std::string& data() const { return out_; }
  std::string take() { return std::move(out_); }

  static void append_varint(std::string& out, std::uint64_t value);

 private:
  std::string out_;
};

struct TlvRecord {
  std::uint64_t tag = 0;
  std::string_view payload;
};

class TlvReader {
 public:
  explicit TlvReader(std::string_view data) : data_(data) {}

  bool at_end() const { return data_.empty(); }
  // The next record, or nothing when the data is truncated or malformed.
  std::optional<TlvRecord> next();
  std::optional<std::uint64_t> varint();

  // A payload holding exactly one varint.
  static std::optional<std::uint64_t> number(std::string_view payload);

 private:
  std::string_view data_;
};

}  // namespace postamt::mime
