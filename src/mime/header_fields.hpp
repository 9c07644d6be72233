#pragma once
// HeaderFields: the header fields of one header block that ENVELOPE and BODYSTRUCTURE
// read. Only the first occurrence of each is kept (RFC 5322 §3.6 allows at most one of
// each of these; for broken messages the first one wins). Values are views into the
// stored message, raw: folded, not decoded.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postamt::mime {

enum class HeaderName : std::uint8_t {
  date,
  subject,
  from,
  sender,
  reply_to,
  to,
  cc,
  bcc,
  in_reply_to,
  message_id,
  content_type,
  content_transfer_encoding,
  content_id,
  content_description,
  content_disposition,
  content_language,
  content_location,
  content_md5,
};
inline constexpr std::size_t kHeaderNameCount = 18;

class HeaderFields {
 public:
  // Records a field (name without the colon, value after it) if it is one of ours and the
  // first of its name. Names compare case-insensitively (RFC 5322 §1.2.2).
  void add(std::string_view name, std::string_view raw_value);

  // The raw value as it appears after the colon, folding included.
  std::optional<std::string_view> raw(HeaderName name) const;

  // The value unfolded (RFC 5322 §2.2.3) with surrounding white space removed.
  std::optional<std::string> value(HeaderName name) const;

 private:
  std::array<std::optional<std::string_view>, kHeaderNameCount> fields_;
};

// RFC 5322 §2.2.3: removes every line break (CRLF, or a bare LF) that is followed by
// white space; other line breaks are removed too, as a best effort for broken input.
std::string unfold(std::string_view raw);

// Removes leading and trailing SP / HTAB / CR / LF.
std::string_view trim_white_space(std::string_view s);

}  // namespace postamt::mime
