#pragma once
// MimeScanner: finds the MIME tree of a stored message and the exact byte range of every
// header and body in it, in one forward pass.
//
// Header blocks end at the first empty line (RFC 5322 §2.1); a line that is neither a
// header field nor a continuation ends the header early (a message or part without the
// blank line), and so does a boundary delimiter line of an enclosing multipart.
//
// Multipart bodies are split at delimiter lines (RFC 2046 §5.1.1): a line that begins
// with "--" and a boundary of any enclosing multipart. As that section's note to
// implementors says, only the beginning of the line has to match, so transport padding
// and junk after the boundary are allowed; when several boundaries match, the longest
// wins, and among equal ones the innermost. The line break before a delimiter belongs to
// the delimiter, not to the part before it. A delimiter of an outer multipart also ends
// every inner one that lacks its close-delimiter (RFC 2046 §5.1.2 requires nested
// boundaries to differ, so such a line can only be meant for the outer one).
//
// Hostile nesting is bounded: past kMaxDepth levels, or once kMaxEntities entities exist,
// a multipart or message/rfc822 part is kept as one opaque application/octet-stream
// leaf, and further body parts of an open multipart are folded into its epilogue.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mime/mime_entity.hpp"

namespace postamt::mime {

class MimeScanner {
 public:
  static constexpr std::size_t kMaxDepth = 64;
  static constexpr std::size_t kMaxEntities = 10000;
  static constexpr std::size_t kMaxBoundaryLength = 998;  // one header line (RFC 5322 §2.1.1)

  explicit MimeScanner(std::string_view raw) : raw_(raw) {}

  // The whole message as an entity: header [0, header_end), body [header_end, size).
  MimeEntity scan();

 private:
  struct Delimiter {
    std::size_t line_begin = 0;
    std::size_t line_end = 0;  // after the line's LF (or the end of the message)
    std::size_t level = 0;     // index into boundaries_
    bool close = false;        // "--boundary--"
  };
  struct Scanned {
    MimeEntity entity;
    std::optional<Delimiter> terminator;  // the delimiter that ended it, if any
  };

  Scanned scan_entity(std::size_t begin, std::size_t depth, DefaultType default_type);
  std::optional<Delimiter> scan_header(MimeEntity& entity);
  std::optional<Delimiter> scan_multipart(MimeEntity& entity, std::string boundary,
                                          std::size_t depth);
  std::optional<Delimiter> find_delimiter(std::size_t pos) const;
  std::optional<Delimiter> match_delimiter(std::size_t line_begin) const;
  std::size_t line_end(std::size_t pos) const;
  // Where a body that starts at body_begin ends when `next` follows it.
  std::size_t end_before(const std::optional<Delimiter>& next, std::size_t body_begin) const;

  std::string_view raw_;
  std::vector<std::string> boundaries_;  // of the open multiparts, outermost first
  std::size_t entities_ = 0;
};

}  // namespace postamt::mime
