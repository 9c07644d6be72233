#pragma once
// IMAP strings in FETCH answers (RFC 9051 §4.3, literal8 RFC 3516 §4.2), written straight
// into the response buffer.
#include <cstddef>
#include <string>
#include <string_view>

namespace postamt::imap {

// Strings longer than this go into a literal even when they could be quoted.
inline constexpr std::size_t kMaxQuotedLength = 256;

// A quoted string when `data` is short and every octet is a 7-bit TEXT-CHAR (no NUL, CR,
// LF or 8-bit octet; `"` and `\` escaped), else a literal "{n}\r\n<data>" with the octets
// as given, except that a NUL (which a literal may not carry) is sent as 0x80.
void append_string(std::string& out, std::string_view data);

// The octets of a literal whose "{n}\r\n" prefix went out already (a big FETCH section
// written in pieces): as append_string copies them, NUL sent as 0x80.
void append_literal_octets(std::string& out, std::string_view data);

// As append_string, but a literal8 "~{n}\r\n<data>" (RFC 3516 §4.2) when `data` holds a
// NUL, which neither a quoted string nor a literal may carry (RFC 9051 §9 CHAR8).
void append_binary_string(std::string& out, std::string_view data);

// A header field name of HEADER.FIELDS as an astring: an atom when every octet is an
// ATOM-CHAR (RFC 9051 §9), else quoted or a literal.
void append_astring(std::string& out, std::string_view data);

}  // namespace postamt::imap
