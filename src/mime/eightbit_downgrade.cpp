#include "mime/eightbit_downgrade.hpp"

#include <algorithm>
#include <new>
#include <optional>
#include <utility>

#include "mime/ascii_case.hpp"
#include "mime/base64_decoder.hpp"
#include "mime/mime_scanner.hpp"
#include "mime/quoted_printable_decoder.hpp"
#include "mime/transfer_encoders.hpp"
#include "mime/transfer_encoding.hpp"

namespace postamt::mime {

namespace {

constexpr std::size_t kMaxLineLength = 998;  // octets before CRLF (RFC 5322 §2.1.1)

bool is_8bit(char c) { return static_cast<unsigned char>(c) >= 0x80; }

bool has_8bit(std::string_view s) { return std::any_of(s.begin(), s.end(), is_8bit); }

// The length of each line without its line break (CRLF, or a bare LF).
template <typename Visit>
void for_each_line(std::string_view s, Visit visit) {
  std::size_t pos = 0;
  while (pos < s.size()) {
    const std::size_t lf = s.find('\n', pos);
    const std::size_t next = lf == std::string_view::npos ? s.size() : lf + 1;
    std::size_t content_end = lf == std::string_view::npos ? s.size() : lf;
    if (content_end > pos && s[content_end - 1] == '\r') --content_end;
    visit(s.substr(pos, content_end - pos), s.substr(content_end, next - content_end));
    pos = next;
  }
}

bool has_long_line(std::string_view s) {
  bool found = false;
  for_each_line(s, [&](std::string_view line, std::string_view) {
    if (line.size() > kMaxLineLength) found = true;
  });
  return found;
}

// 7bit data (RFC 2045 §2.7): no octet above 127, no NUL, no line over 998 octets. (CR
// and LF are left as they are: the message is CRLF text, bare LF is tolerated.)
bool is_clean_7bit(std::string_view s) {
  return !has_8bit(s) && s.find('\0') == std::string_view::npos && !has_long_line(s);
}

std::string_view field_name_of(std::string_view line) {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return {};
  std::string_view name = line.substr(0, colon);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  return name;
}

DowngradeError error(DowngradeError::Kind kind, std::string detail) {
  return DowngradeError{kind, std::move(detail)};
}

using Status = std::expected<void, DowngradeError>;

// What happens to one leaf body.
enum class LeafAction { keep, relabel_7bit, quoted_printable, base64 };

class Downgrader {
 public:
  Downgrader(std::string_view raw, const DowngradeLimits& limits) : raw_(raw), limits_(limits) {}

  std::expected<std::string, DowngradeError> run() {
    const MimeEntity message = MimeScanner(raw_).scan();
    out_.reserve(std::min(raw_.size() + raw_.size() / 2 + 256, limits_.max_output_size));
    if (auto status = write_entity(message, 0, DefaultType::text_plain, true); !status) {
      return std::unexpected(std::move(status.error()));
    }
    if (entities_ >= MimeScanner::kMaxEntities) {
      return std::unexpected(error(DowngradeError::Kind::too_deep, "too many MIME parts"));
    }
    return std::move(out_);
  }

 private:
  std::string_view slice(std::size_t begin, std::size_t end) const {
    return raw_.substr(begin, end - begin);
  }

  Status append(std::string_view text) {
    if (out_.size() + text.size() > limits_.max_output_size) {
      return std::unexpected(error(DowngradeError::Kind::too_large,
                                   "the converted message exceeds " +
                                       std::to_string(limits_.max_output_size) + " octets"));
    }
    out_.append(text);
    return {};
  }

  // RFC 6532 headers cannot be made 7-bit by MIME; over-long lines cannot be sent.
  static Status check_header(std::string_view header) {
    if (has_8bit(header)) {
      return std::unexpected(error(DowngradeError::Kind::eight_bit_header,
                                   "8-bit octets in a header field (needs SMTPUTF8)"));
    }
    if (has_long_line(header)) {
      return std::unexpected(error(DowngradeError::Kind::header_line_too_long,
                                   "a header line is longer than 998 octets"));
    }
    return {};
  }

  // The header block without its Content-Transfer-Encoding fields, then the given one
  // (and MIME-Version when asked and missing), then the empty line (RFC 5322 §2.1).
  Status write_header(const MimeEntity& entity, std::string_view transfer_encoding,
                      bool ensure_mime_version) {
    const std::string_view header = slice(entity.header_begin, entity.header_end);
    std::string rewritten;
    rewritten.reserve(header.size() + 64);
    bool skipping = false;
    bool has_mime_version = false;
    bool ended = false;  // the empty line was seen
    for_each_line(header, [&](std::string_view line, std::string_view) {
      if (ended) return;
      if (line.empty()) {
        ended = true;
        return;
      }
      if (line.front() != ' ' && line.front() != '\t') {
        const std::string_view name = field_name_of(line);
        skipping = ascii_iequals(name, "content-transfer-encoding");
        if (ascii_iequals(name, "mime-version")) has_mime_version = true;
      }
      if (skipping) return;
      rewritten.append(line);
      rewritten.append("\r\n");
    });
    if (ensure_mime_version && !has_mime_version) rewritten.append("MIME-Version: 1.0\r\n");
    rewritten.append("Content-Transfer-Encoding: ");
    rewritten.append(transfer_encoding);
    // The header ends as it did: a header that a delimiter cut short (RFC 2046 §5.1.1:
    // the line break before the delimiter is the delimiter's) keeps no line break of its
    // own, and an empty line is added only where one was, or where a body must follow.
    const bool body_empty = entity.header_end == entity.body_end;
    if (ended || !body_empty) {
      rewritten.append("\r\n\r\n");
    } else if (header.ends_with('\n')) {
      rewritten.append("\r\n");
    }
    return append(rewritten);
  }

  Status write_entity(const MimeEntity& entity, std::size_t depth, DefaultType default_type,
                      bool top) {
    ++entities_;
    if (depth > limits_.max_depth) {
      return std::unexpected(error(DowngradeError::Kind::too_deep,
                                   "MIME nesting deeper than " + std::to_string(limits_.max_depth)));
    }
    if (auto status = check_header(slice(entity.header_begin, entity.header_end)); !status) {
      return status;
    }
    switch (entity.kind) {
      case MimeEntity::Kind::multipart: return write_multipart(entity, depth, top);
      case MimeEntity::Kind::message: return write_message(entity, depth, top);
      case MimeEntity::Kind::leaf: break;
    }
    // MimeScanner keeps composites past its own limits as opaque leaves; their inner
    // headers would be taken for body text.
    const ContentFields declared = parse_content_fields(entity.headers, default_type);
    if (!entity.content.is_multipart() && !entity.content.is_message_rfc822() &&
        (declared.is_multipart() || declared.is_message_rfc822())) {
      return std::unexpected(error(DowngradeError::Kind::too_deep, "MIME structure too complex"));
    }
    return write_leaf(entity, top);
  }

  std::optional<TransferEncoding> declared_encoding(const MimeEntity& entity) const {
    if (!entity.content.transfer_encoding) return std::nullopt;
    return parse_transfer_encoding(*entity.content.transfer_encoding);
  }

  bool labelled_8bit(const MimeEntity& entity) const {
    const auto encoding = declared_encoding(entity);
    return encoding == TransferEncoding::eight_bit || encoding == TransferEncoding::binary;
  }

  // Copies the header, relabelling an 8bit/binary composite as 7bit.
  Status write_composite_header(const MimeEntity& entity, bool top) {
    if (labelled_8bit(entity)) return write_header(entity, "7bit", top);
    return append(slice(entity.header_begin, entity.header_end));
  }

  Status write_message(const MimeEntity& entity, std::size_t depth, bool top) {
    if (auto status = write_composite_header(entity, top); !status) return status;
    if (entity.children.size() != 1) {
      return std::unexpected(error(DowngradeError::Kind::malformed, "message/rfc822 without a message"));
    }
    const MimeEntity& inner = entity.children.front();
    // A part header that ended without its empty line, at a line that is no header field,
    // runs straight into the encapsulated message, whose own header is then empty. Fields
    // written into that empty header would join the part's header: end the part's header
    // with the empty line first.
    const bool header_open = !out_.ends_with("\n\r\n") && !out_.ends_with("\n\n");
    if (header_open && inner.header_begin == inner.header_end && inner.body_end > inner.header_end &&
        !is_clean_7bit(slice(inner.header_begin, inner.body_end))) {
      if (auto status = append("\r\n"); !status) return status;
    }
    return write_entity(inner, depth + 1, DefaultType::text_plain, false);
  }

  Status write_multipart(const MimeEntity& entity, std::size_t depth, bool top) {
    const std::string_view body = slice(entity.header_end, entity.body_end);
    const bool signed_type = ascii_iequals(entity.content.subtype, "signed") ||
                             ascii_iequals(entity.content.subtype, "encrypted");
    if (signed_type && !is_clean_7bit(body)) {
      return std::unexpected(error(DowngradeError::Kind::signed_content,
                                   "8-bit data inside multipart/" +
                                       ascii_lowercase(entity.content.subtype)));
    }
    if (auto status = write_composite_header(entity, top); !status) return status;
    if (entity.children.empty()) {
      // No usable boundary: the body is one opaque block that cannot be re-encoded.
      if (!is_clean_7bit(body)) {
        return std::unexpected(error(DowngradeError::Kind::malformed,
                                     "8-bit data in a multipart without a usable boundary"));
      }
      return append(body);
    }
    const std::size_t boundary_size = entity.content.parameter("boundary").value_or("").size();
    const DefaultType child_default = ascii_iequals(entity.content.subtype, "digest")
                                          ? DefaultType::message_rfc822
                                          : DefaultType::text_plain;
    std::size_t pos = entity.header_end;
    // A header that ended at a line that is no field (no empty line) ends at the first
    // preamble line. Once that line is cut it could read as the empty line, or as a
    // field; end the header with an explicit empty line first.
    const std::string_view preamble = slice(pos, entity.children.front().header_begin);
    if (!is_clean_7bit(preamble) && !out_.ends_with("\n\r\n") && !out_.ends_with("\n\n")) {
      if (auto status = append("\r\n"); !status) return status;
    }
    for (const MimeEntity& child : entity.children) {
      if (child.header_begin < pos || child.body_end < child.header_begin) {
        return std::unexpected(error(DowngradeError::Kind::malformed, "overlapping MIME parts"));
      }
      if (auto status = write_gap(slice(pos, child.header_begin), boundary_size); !status) {
        return status;
      }
      if (auto status = write_entity(child, depth + 1, child_default, false); !status) {
        return status;
      }
      pos = child.body_end;
    }
    if (entity.body_end < pos) {
      return std::unexpected(error(DowngradeError::Kind::malformed, "overlapping MIME parts"));
    }
    return write_gap(slice(pos, entity.body_end), boundary_size);
  }

  // Preamble, delimiter lines and epilogue (RFC 2046 §5.1.1). Readers ignore preamble and
  // epilogue, and a delimiter only has to begin with "--boundary", so cutting a line at its
  // first 8-bit octet or at 998 octets changes nothing a reader sees.
  Status write_gap(std::string_view gap, std::size_t boundary_size) {
    if (is_clean_7bit(gap)) return append(gap);
    if (boundary_size + 2 > kMaxLineLength) {
      return std::unexpected(error(DowngradeError::Kind::malformed, "multipart boundary too long"));
    }
    std::string rewritten;
    rewritten.reserve(gap.size());
    for_each_line(gap, [&](std::string_view line, std::string_view line_break) {
      const auto first_8bit = std::find_if(line.begin(), line.end(), is_8bit);
      std::size_t keep = static_cast<std::size_t>(first_8bit - line.begin());
      keep = std::min(keep, kMaxLineLength);
      rewritten.append(line.substr(0, keep));
      rewritten.append(line_break);
    });
    return append(rewritten);
  }

  Status write_leaf(const MimeEntity& entity, bool top) {
    const std::string_view body = slice(entity.header_end, entity.body_end);
    const std::optional<TransferEncoding> declared = declared_encoding(entity);
    const TransferEncoding encoding = declared.value_or(TransferEncoding::seven_bit);
    const bool clean = is_clean_7bit(body);

    if (clean) {
      if (encoding == TransferEncoding::eight_bit || encoding == TransferEncoding::binary) {
        if (auto status = write_header(entity, "7bit", top); !status) return status;
      } else if (auto status = append(slice(entity.header_begin, entity.header_end)); !status) {
        return status;
      }
      return append(body);
    }

    std::string content;  // the decoded content to encode again
    bool quoted_printable = false;
    switch (encoding) {
      case TransferEncoding::seven_bit:
      case TransferEncoding::eight_bit:
      case TransferEncoding::binary: {
        const ContentFields& type = entity.content;
        if (ascii_iequals(type.type, "message") && (ascii_iequals(type.subtype, "partial") ||
                                                    ascii_iequals(type.subtype, "external-body"))) {
          // RFC 2046 §5.2.2.1, §5.2.3.1: these are 7bit only and cannot be encoded.
          return std::unexpected(error(DowngradeError::Kind::malformed,
                                       "8-bit data in message/" + ascii_lowercase(type.subtype)));
        }
        quoted_printable = type.is_text() || ascii_iequals(type.type, "message");
        content.assign(body);
        break;
      }
      case TransferEncoding::quoted_printable:
        quoted_printable = true;
        content = decode_quoted_printable(body);
        break;
      case TransferEncoding::base64:
        content = decode_base64(body);
        break;
      case TransferEncoding::unknown:
        return std::unexpected(error(DowngradeError::Kind::unknown_encoding,
                                     "8-bit data under Content-Transfer-Encoding " +
                                         entity.content.transfer_encoding.value_or("")));
    }
    if (content.size() > limits_.max_output_size) {
      return std::unexpected(error(DowngradeError::Kind::too_large, "a part is too large to convert"));
    }
    std::string encoded =
        quoted_printable ? encode_quoted_printable(content) : encode_base64_lines(content);
    content.clear();
    content.shrink_to_fit();
    // A body that ends the message keeps a final line break, as the message had one.
    const bool at_end = entity.body_end == raw_.size() && !body.empty() && body.back() == '\n';
    if (at_end && !encoded.ends_with("\r\n")) encoded.append(quoted_printable ? "=\r\n" : "\r\n");
    if (auto status = write_header(entity, quoted_printable ? "quoted-printable" : "base64", top);
        !status) {
      return status;
    }
    return append(encoded);
  }

  std::string_view raw_;
  DowngradeLimits limits_;
  std::string out_;
  std::size_t entities_ = 0;
};

// Every header block of the tree: the entity's own, and an encapsulated message's.
void count_header_8bit(const MimeEntity& entity, std::string_view raw, std::size_t& count) {
  const std::string_view header = raw.substr(entity.header_begin, entity.header_end - entity.header_begin);
  count += static_cast<std::size_t>(std::count_if(header.begin(), header.end(), is_8bit));
  for (const MimeEntity& child : entity.children) count_header_8bit(child, raw, count);
}

}  // namespace

bool needs_8bitmime(std::string_view message) { return has_8bit(message); }

EightBitUse find_8bit_use(std::string_view message) {
  EightBitUse use;
  const auto total = static_cast<std::size_t>(std::count_if(message.begin(), message.end(), is_8bit));
  if (total == 0) return use;
  std::size_t in_headers = 0;
  try {
    count_header_8bit(MimeScanner(message).scan(), message, in_headers);
  } catch (const std::bad_alloc&) {
    in_headers = total;  // cannot tell: assume the worst (not convertible)
  }
  use.in_headers = in_headers > 0;
  use.in_bodies = total > in_headers;
  return use;
}

std::string_view DowngradeError::enhanced_status() const {
  return kind == Kind::too_large ? "5.3.4" : "5.6.3";
}

std::expected<std::string, DowngradeError> downgrade_to_7bit(std::string_view message,
                                                             const DowngradeLimits& limits) {
  try {
    return Downgrader(message, limits).run();
  } catch (const std::bad_alloc&) {
    return std::unexpected(error(DowngradeError::Kind::too_large, "out of memory while converting"));
  }
}

}  // namespace postamt::mime
