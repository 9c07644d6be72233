#include "mime/tlv_codec.hpp"

namespace postamt::mime {

void TlvWriter::append_varint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void TlvWriter::bytes(std::uint64_t tag, std::string_view payload) {
  append_varint(out_, tag);
  append_varint(out_, payload.size());
  out_.append(payload);
}

void TlvWriter::number(std::uint64_t tag, std::uint64_t value) {
  std::string payload;
  append_varint(payload, value);
  bytes(tag, payload);
}

std::optional<std::uint64_t> TlvReader::varint() {
  std::uint64_t value = 0;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    if (data_.empty()) return std::nullopt;
    const auto byte = static_cast<unsigned char>(data_.front());
    data_.remove_prefix(1);
    const std::uint64_t bits = byte & 0x7f;
    if (shift == 63 && bits > 1) return std::nullopt;  // overflows 64 bits
    value |= bits << shift;
    if ((byte & 0x80) == 0) return value;
  }
  return std::nullopt;
}

std::optional<TlvRecord> TlvReader::next() {
  const auto tag = varint();
  if (!tag) return std::nullopt;
  const auto length = varint();
  if (!length || *length > data_.size()) return std::nullopt;
  TlvRecord record{*tag, data_.substr(0, static_cast<std::size_t>(*length))};
  data_.remove_prefix(static_cast<std::size_t>(*length));
  return record;
}

std::optional<std::uint64_t> TlvReader::number(std::string_view payload) {
  TlvReader reader(payload);
  const auto value = reader.varint();
  if (!value || !reader.at_end()) return std::nullopt;
  return value;
}

}  // namespace postamt::mime
