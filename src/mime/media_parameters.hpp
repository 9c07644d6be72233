#pragma once
// Parameter lists of Content-Type and Content-Disposition (RFC 2045 §5.1, RFC 2183 §2),
// with RFC 2231 continuations and charsets resolved the way RFC 9051 §7.5.2 asks servers
// to present them in BODYSTRUCTURE.
#include <string>
#include <vector>

#include "mime/field_cursor.hpp"

namespace postamt::mime {

struct MediaParameter {
  std::string name;   // lower case (attribute names are case-insensitive, RFC 2045 §5.1)
  std::string value;  // quoted-string content unescaped, RFC 2047 words left as they are

  bool operator==(const MediaParameter&) const = default;
};

// Parses `*(";" parameter)` from the cursor to the end of the field. Broken parameters
// are skipped up to the next ";". RFC 2231 (§3, §4): "name*0", "name*1", ... are joined
// into "name"; when any segment carries a charset ("name*" or "name*0*"), the joined,
// percent-decoded value is converted to UTF-8 and returned as "name*" (RFC 9051 §7.5.2).
// If that charset is unknown the joined value stays in its RFC 2231 form
// ("charset'lang'%XX..."), so nothing is lost. The first parameter of a name wins.
std::vector<MediaParameter> parse_media_parameters(FieldCursor& cursor);

// RFC 2045 §5.1 token: printable US-ASCII without SP and tspecials.
bool is_mime_token_char(char c);

}  // namespace postamt::mime
