#pragma once
// Writing IMAP strings (RFC 9051 §4.3) into cached response text.
#include <optional>
#include <string>
#include <string_view>

namespace postamt::mime {

// Appends `s` as a quoted string when every octet is a 7-bit TEXT-CHAR (%x01-7F without
// CR and LF; `"` and `\` escaped), else as a literal "{n}\r\n<octets>". Quoted strings
// with UTF-8 are IMAP4rev2-only (RFC 9051 §9 QUOTED-CHAR), so 8-bit text always goes
// into a literal, which both revisions accept. NUL may appear in neither form (CHAR8 is
// %x01-ff); each NUL becomes U+FFFD.
void append_imap_string(std::string& out, std::string_view s);

// NIL for an absent value, else append_imap_string (the `nstring` production).
void append_imap_nstring(std::string& out, const std::optional<std::string>& s);

}  // namespace postamt::mime
