#pragma once
// MimeEntity: one node of a message's MIME tree as MimeScanner finds it (RFC 2045 §2.4
// "entity": header fields plus body). Offsets are into the stored message.
#include <cstddef>
#include <vector>

#include "mime/content_fields.hpp"
#include "mime/header_fields.hpp"

namespace postamt::mime {

struct MimeEntity {
  enum class Kind {
    leaf,       // a discrete body
    multipart,  // children are its body parts (RFC 2046 §5.1)
    message,    // message/rfc822: children holds exactly the encapsulated message
  };

  std::size_t header_begin = 0;
  std::size_t header_end = 0;  // where the body starts
  std::size_t body_end = 0;
  HeaderFields headers;  // views into the stored message
  ContentFields content;
  Kind kind = Kind::leaf;
  std::vector<MimeEntity> children;
};

}  // namespace postamt::mime
