#pragma once
// FETCH BODY and BODYSTRUCTURE text for a MIME tree (RFC 9051 §7.5.2, `body` in §9).
#include <string>
#include <string_view>

#include "mime/mime_entity.hpp"

namespace postamt::mime {

// The `body` production for `entity`, outer parentheses included; with `extended` the
// extension data of BODYSTRUCTURE (md5, disposition, language, location; for multiparts
// the parameters, disposition, language, location) is added, all four always present.
//
// Choices, each where RFC 9051 leaves room:
//  - type, subtype and transfer encoding are sent as written (they are case-insensitive);
//    defaults are "text" "plain" and "7bit"; message/rfc822 in a digest "message" "rfc822".
//  - a text/* part without a charset parameter gets ("charset" "us-ascii") appended, the
//    value RFC 2046 §4.1.2 says it has.
//  - octets are the body's size as stored; lines (text/*, message/rfc822) count the LFs
//    in the body. A last line without a line break is therefore not counted; that line
//    break belongs to the boundary (RFC 2046 §5.1.1) and RFC 5322 §2.1 defines lines by
//    their CRLF. Dovecot counts the same way.
//  - a multipart without body parts (no boundary found) is given one empty text/plain
//    part, because the grammar requires 1*body.
//  - md5 is the Content-MD5 value when there is one (RFC 1864), else NIL.
//  - Content-Language is always sent as a list, even of one tag.
std::string write_body_structure(const MimeEntity& entity, std::string_view raw, bool extended);

}  // namespace postamt::mime
