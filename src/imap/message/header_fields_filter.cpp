#include "imap/message/header_fields_filter.hpp"

#include <algorithm>

#include "imap/message/header_field_reader.hpp"
#include "mime/ascii_case.hpp"

namespace postamt::imap {

std::string filter_header_fields(std::string_view header, std::span<const std::string> names,
                                 FieldSelection selection) {
  std::string out;
  HeaderFieldReader reader(header);
  while (auto field = reader.next()) {
    const bool listed =
        field->has_colon && std::any_of(names.begin(), names.end(), [&](const std::string& n) {
          return mime::ascii_iequals(field->name, n);
        });
    if (listed != (selection == FieldSelection::only_listed)) continue;
    out += field->bytes;
    if (!field->bytes.ends_with('\n')) out += "\r\n";
  }
  // The header's own empty line, so a bare-LF message stays bare LF throughout.
  out += reader.empty_line().empty() ? std::string_view("\r\n") : reader.empty_line();
  return out;
}

}  // namespace postamt::imap
