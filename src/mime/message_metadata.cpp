#include "mime/message_metadata.hpp"

#include <algorithm>
#include <limits>
#include <new>

#include "mime/tlv_codec.hpp"

namespace postamt::mime {

// Encoding, version 1: the three bytes "pm\x01", then TLV records (tlv_codec.hpp):
//
//   1 envelope   2 bodystructure   3 body   4 size   5 lines   6 date (zigzag varint)
//   7 subject    8 from            9 to     10 cc    11 part (repeated, nested records):
//       1 section  2 header_begin  3 header_end  4 body_end  5 type  6 subtype
//       7 charset  8 encoding  9 message_header_begin  10 message_header_end
//
// Unknown tags are skipped, so a field can be added without changing the version; the
// version changes only when a reader of the old version would misread the new data.

namespace {

constexpr std::string_view kMagic = "pm";
constexpr std::uint8_t kVersion = 1;

enum Tag : std::uint64_t {
  kEnvelope = 1,
  kBodyStructure = 2,
  kBody = 3,
  kSize = 4,
  kLines = 5,
  kDate = 6,
  kSubject = 7,
  kFrom = 8,
  kTo = 9,
  kCc = 10,
  kPart = 11,
};

enum PartTag : std::uint64_t {
  kSection = 1,
  kHeaderBegin = 2,
  kHeaderEnd = 3,
  kBodyEnd = 4,
  kType = 5,
  kSubtype = 6,
  kCharset = 7,
  kEncoding = 8,
  kMessageHeaderBegin = 9,
  kMessageHeaderEnd = 10,
};

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

std::string encode_part(const PartInfo& part) {
  TlvWriter w;
  w.bytes(kSection, part.section);
  w.number(kHeaderBegin, part.header_begin);
  w.number(kHeaderEnd, part.header_end);
  w.number(kBodyEnd, part.body_end);
  w.bytes(kType, part.type);
  w.bytes(kSubtype, part.subtype);
  if (!part.charset.empty()) w.bytes(kCharset, part.charset);
  w.number(kEncoding, static_cast<std::uint64_t>(part.encoding));
  if (part.is_message) {
    w.number(kMessageHeaderBegin, part.message_header_begin);
    w.number(kMessageHeaderEnd, part.message_header_end);
  }
  return w.take();
}

using Failure = std::unexpected<std::string>;

std::expected<std::size_t, std::string> offset(std::string_view payload) {
  const auto value = TlvReader::number(payload);
  if (!value || *value > std::numeric_limits<std::size_t>::max()) {
    return Failure("bad number");
  }
  return static_cast<std::size_t>(*value);
}

bool valid_section(std::string_view section) {
  // "" or digits separated by single dots, each number starting at 1.
  if (section.empty()) return true;
  std::size_t start = 0;
  while (true) {
    const auto dot = section.find('.', start);
    const auto number = section.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (number.empty() || number.size() > 9 || number.front() == '0' ||
        !std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::expected<PartInfo, std::string> decode_part(std::string_view data) {
  PartInfo part;
  bool have_section = false, have_hb = false, have_he = false, have_be = false;
  bool have_mhb = false, have_mhe = false;
  TlvReader reader(data);
  while (!reader.at_end()) {
    const auto record = reader.next();
    if (!record) return Failure("truncated part record");
    switch (record->tag) {
      case kSection:
        part.section = std::string(record->payload);
        have_section = true;
        break;
      case kHeaderBegin:
      case kHeaderEnd:
      case kBodyEnd:
      case kMessageHeaderBegin:
      case kMessageHeaderEnd: {
        const auto value = offset(record->payload);
        if (!value) return Failure("bad part offset");
        if (record->tag == kHeaderBegin) {
          part.header_begin = *value;
          have_hb = true;
        } else if (record->tag == kHeaderEnd) {
          part.header_end = *value;
          have_he = true;
        } else if (record->tag == kBodyEnd) {
          part.body_end = *value;
          have_be = true;
        } else if (record->tag == kMessageHeaderBegin) {
          part.message_header_begin = *value;
          have_mhb = true;
        } else {
          part.message_header_end = *value;
          have_mhe = true;
        }
        break;
      }
      case kType:
        part.type = std::string(record->payload);
        break;
      case kSubtype:
        part.subtype = std::string(record->payload);
        break;
      case kCharset:
        part.charset = std::string(record->payload);
        break;
      case kEncoding: {
        const auto value = TlvReader::number(record->payload);
        if (!value || *value > static_cast<std::uint64_t>(TransferEncoding::unknown)) {
          return Failure("bad transfer encoding");
        }
        part.encoding = static_cast<TransferEncoding>(*value);
        break;
      }
      default:
        break;  // a newer writer's field
    }
  }
  if (!have_section || !have_hb || !have_he || !have_be) return Failure("incomplete part");
  if (have_mhb != have_mhe) return Failure("incomplete message part");
  part.is_message = have_mhb;
  if (!valid_section(part.section)) return Failure("bad section");
  if (part.header_begin > part.header_end || part.header_end > part.body_end) {
    return Failure("part offsets out of order");
  }
  if (part.is_message && (part.message_header_begin < part.header_begin ||
                          part.message_header_begin > part.message_header_end ||
                          part.message_header_end > part.body_end)) {
    return Failure("message offsets out of order");
  }
  return part;
}

std::expected<MessageMetadata, std::string> decode(std::string_view data) {
  if (data.size() < kMagic.size() + 1 || !data.starts_with(kMagic)) {
    return Failure("not mime metadata");
  }
  const auto version = static_cast<std::uint8_t>(data[kMagic.size()]);
  if (version != kVersion) {
    return Failure("unsupported mime metadata version " + std::to_string(version));
  }
  MessageMetadata metadata;
  bool have_envelope = false, have_structure = false, have_body = false, have_size = false;
  TlvReader reader(data.substr(kMagic.size() + 1));
  while (!reader.at_end()) {
    const auto record = reader.next();
    if (!record) return Failure("truncated record");
    const std::string_view payload = record->payload;
    switch (record->tag) {
      case kEnvelope:
        metadata.envelope = std::string(payload);
        have_envelope = true;
        break;
      case kBodyStructure:
        metadata.bodystructure = std::string(payload);
        have_structure = true;
        break;
      case kBody:
        metadata.body = std::string(payload);
        have_body = true;
        break;
      case kSize:
      case kLines: {
        const auto value = offset(payload);
        if (!value) return Failure("bad size");
        if (record->tag == kSize) {
          metadata.size = *value;
          have_size = true;
        } else {
          metadata.lines = *value;
        }
        break;
      }
      case kDate: {
        const auto value = TlvReader::number(payload);
        if (!value) return Failure("bad date");
        metadata.date = unzigzag(*value);
        break;
      }
      case kSubject:
        metadata.subject = std::string(payload);
        break;
      case kFrom:
        metadata.from = std::string(payload);
        break;
      case kTo:
        metadata.to = std::string(payload);
        break;
      case kCc:
        metadata.cc = std::string(payload);
        break;
      case kPart: {
        auto part = decode_part(payload);
        if (!part) return Failure(part.error());
        metadata.parts.push_back(std::move(*part));
        break;
      }
      default:
        break;  // a newer writer's field
    }
  }
  if (!have_envelope || !have_structure || !have_body || !have_size) {
    return Failure("incomplete mime metadata");
  }
  if (metadata.parts.empty() || !metadata.parts.front().section.empty()) {
    return Failure("mime metadata without the whole-message part");
  }
  if (metadata.lines > metadata.size) return Failure("more lines than octets");
  for (const PartInfo& part : metadata.parts) {
    if (part.body_end > metadata.size) return Failure("part beyond the message");
  }
  return metadata;
}

}  // namespace

const PartInfo* MessageMetadata::find_part(std::string_view section) const {
  for (const PartInfo& part : parts) {
    if (part.section == section) return &part;
  }
  return nullptr;
}

std::string MessageMetadata::serialize() const {
  TlvWriter w;
  w.raw(kMagic);
  w.raw(std::string_view(reinterpret_cast<const char*>(&kVersion), 1));
  w.bytes(kEnvelope, envelope);
  w.bytes(kBodyStructure, bodystructure);
  w.bytes(kBody, body);
  w.number(kSize, size);
  w.number(kLines, lines);
  if (date) w.number(kDate, zigzag(*date));
  if (!subject.empty()) w.bytes(kSubject, subject);
  if (!from.empty()) w.bytes(kFrom, from);
  if (!to.empty()) w.bytes(kTo, to);
  if (!cc.empty()) w.bytes(kCc, cc);
  for (const PartInfo& part : parts) w.bytes(kPart, encode_part(part));
  return w.take();
}

std::expected<MessageMetadata, std::string> MessageMetadata::deserialize(std::string_view data) {
  try {
    return decode(data);
  } catch (const std::bad_alloc&) {
    return Failure("out of memory");
  }
}

}  // namespace postamt::mime
