#pragma once
// BODY[HEADER.FIELDS (...)] and BODY[HEADER.FIELDS.NOT (...)] (RFC 9051 §6.4.5).
#include <span>
#include <string>
#include <string_view>

namespace postamt::imap {

enum class FieldSelection { only_listed, all_but_listed };

// The fields of `header` whose names are (only_listed) or are not (all_but_listed) in
// `names`, compared case-insensitively (RFC 5322 §1.2.2), in their original order and
// octets, folding kept, followed by the empty line that ends a header (the header's own,
// or CRLF when it has none). A field without a final line break gets CRLF; a line that is not a field (no colon) has no name to list
// and is kept only by all_but_listed.
std::string filter_header_fields(std::string_view header, std::span<const std::string> names,
                                 FieldSelection selection);

}  // namespace postamt::imap
