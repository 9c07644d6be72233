#pragma once
// Text helpers for messages Postamt writes itself (delivery status reports): turning
// untrusted strings (remote replies, addresses) into safe header and body text.
#include <cstddef>
#include <string>
#include <string_view>

namespace postamt::mime {

// `text` as valid UTF-8 on one line: each line break (CRLF, CR or LF) and each run of
// other white space becomes one space, other control characters and invalid UTF-8
// become '?', leading and trailing space is removed, and the result is cut (at a
// character boundary) to at most `max_octets`.
std::string single_line_utf8(std::string_view text, std::size_t max_octets);

// Non-ASCII characters of valid UTF-8 replaced by '?'.
std::string ascii_only(std::string_view utf8);

bool is_ascii(std::string_view text);

// RFC 6533 §3 utf-8-addr-xtext: QCHARs as they are, every other character (non-ASCII,
// "+", "=", "\", controls, space) as "\x{HEX}". Invalid UTF-8 octets become U+FFFD.
std::string utf8_addr_xtext(std::string_view address);

// RFC 2047 "B" encoded words (charset utf-8) separated by spaces, each at most 75
// characters and never splitting a character (RFC 2047 §2, §5).
std::string encoded_words(std::string_view utf8);

// "Name: value" folded (RFC 5322 §2.2.3) at spaces so lines stay within 78 characters
// where words allow; every line ends in CRLF. `value` must be one line.
std::string fold_field(std::string_view name, std::string_view value);

// `text` (one paragraph) wrapped at spaces into lines of at most `width` characters
// where words allow, each line starting with `indent` and ending in CRLF.
std::string wrap_paragraph(std::string_view text, std::string_view indent, std::size_t width = 76);

// Bare CR and bare LF turned into CRLF.
std::string to_crlf(std::string_view text);

}  // namespace postamt::mime
