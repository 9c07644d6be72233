#pragma once
// HeaderFieldReader: walks the fields of one header block as stored (RFC 5322 §2.2), for
// HEADER.FIELDS and for SEARCH keys on fields the metadata does not keep. Views only,
// nothing is copied; one pass, linear in the header's size.
#include <cstddef>
#include <optional>
#include <string_view>

namespace postamt::imap {

struct HeaderField {
  // The field name without white space before the colon (obs-optional, RFC 5322 §4.5.3);
  // for a line without a colon (not a field at all) the whole line without its line end.
  std::string_view name;
  // After the colon, folding included, without the field's final line break.
  std::string_view raw_value;
  // The field's octets from its first through its final line break (if it has one).
  std::string_view bytes;
  bool has_colon = false;
};

class HeaderFieldReader {
 public:
  // `header` may run past the header block: reading stops at the first empty line.
  explicit HeaderFieldReader(std::string_view header) : header_(header) {}

  // The next field, or nothing at the empty line ending the header or at the end.
  std::optional<HeaderField> next();

  // Once next() returned nothing: the empty line that ended the header ("\r\n" or "\n"),
  // or "" when the header ran to the end without one.
  std::string_view empty_line() const { return empty_line_; }

 private:
  std::size_t line_end(std::size_t pos) const;

  std::string_view header_;
  std::size_t pos_ = 0;
  std::string_view empty_line_;
};

}  // namespace postamt::imap
