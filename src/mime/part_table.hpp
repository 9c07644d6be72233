#pragma once
// The flat table of body sections (RFC 9051 §6.4.5) of a MIME tree.
#include <vector>

#include "mime/mime_entity.hpp"
#include "mime/part_info.hpp"

namespace postamt::mime {

// Numbers the parts of `message` (the whole message) depth first:
//  - the "" entry is the whole message;
//  - the body parts of a multipart are numbered 1, 2, ... below their multipart's number;
//    a multipart that is the body of a message takes no number of its own;
//  - a message whose body is not multipart has exactly one part, 1, which is its body
//    (for the top level: a non-multipart message has part 1 = its body, whose MIME
//    header is the message header);
//  - a message/rfc822 part N encapsulates a message whose parts are N.1, N.2, ... by the
//    same rules, and whose header and text are N.HEADER and N.TEXT.
// A multipart without body parts gets an empty text/plain part 1 to match its body
// structure.
std::vector<PartInfo> build_part_table(const MimeEntity& message);

}  // namespace postamt::mime
