#include "mime/decode_part_content.hpp"

#include "mime/base64_decoder.hpp"
#include "mime/quoted_printable_decoder.hpp"

namespace postamt::mime {

namespace {

std::expected<std::string_view, std::string> body_of(std::string_view raw, const PartInfo& part) {
  if (part.header_end > part.body_end || part.body_end > raw.size()) {
    return std::unexpected(std::string("part offsets do not fit the message"));
  }
  return raw.substr(part.header_end, part.body_end - part.header_end);
}

}  // namespace

std::expected<std::string, std::string> decode_part_content(std::string_view raw,
                                                            const PartInfo& part) {
  const auto body = body_of(raw, part);
  if (!body) return std::unexpected(body.error());
  switch (part.encoding) {
    case TransferEncoding::seven_bit:
    case TransferEncoding::eight_bit:
    case TransferEncoding::binary:
      return std::string(*body);
    case TransferEncoding::base64:
      return decode_base64(*body);
    case TransferEncoding::quoted_printable:
      return decode_quoted_printable(*body);
    case TransferEncoding::unknown:
      break;
  }
  return std::unexpected(std::string(kUnknownTransferEncoding));
}

std::expected<std::size_t, std::string> binary_size(std::string_view raw, const PartInfo& part) {
  const auto body = body_of(raw, part);
  if (!body) return std::unexpected(body.error());
  switch (part.encoding) {
    case TransferEncoding::seven_bit:
    case TransferEncoding::eight_bit:
    case TransferEncoding::binary:
      return body->size();
    case TransferEncoding::base64:
      return decoded_base64_size(*body);
    case TransferEncoding::quoted_printable:
      return decode_quoted_printable(*body).size();
    case TransferEncoding::unknown:
      break;
  }
  return std::unexpected(std::string(kUnknownTransferEncoding));
}

}  // namespace postamt::mime
