#pragma once
// Mailbox names between the wire and Postamt's storage, which keeps them in UTF-8.
//
// An IMAP4rev1 client (RFC 3501 §5.1.3) sends and expects modified UTF-7: printable US-ASCII
// (0x20-0x7e) stands for itself except "&", which is written "&-"; any other characters are
// written as "&" + modified BASE64 (RFC 2045 alphabet with "," for "/", no "=" padding) of
// their UTF-16BE code units + "-". A rev2 client (RFC 9051 §5.1) or one that enabled
// UTF8=ACCEPT (RFC 6855 §3) uses UTF-8 directly; which applies is the session's decision.
#include <expected>
#include <string>
#include <string_view>

namespace postamt::proto::imap {

// Decodes modified UTF-7 strictly: raw 8-bit or control octets, an "&" without its "-",
// bad BASE64 characters or leftover bits, encoded printable ASCII (which must stand for
// itself), two encoded runs next to each other (one run would do), unpaired surrogates and
// U+0000 are errors.
std::expected<std::string, std::string> decode_modified_utf7(std::string_view name);

// Encodes UTF-8 as modified UTF-7. The input must be valid UTF-8 (no overlong forms,
// surrogates or code points over U+10FFFF) without U+0000.
std::expected<std::string, std::string> encode_modified_utf7(std::string_view utf8);

// Whether a UTF-8 name changes when encoded for a rev1 client: it holds "&" or anything
// outside printable US-ASCII.
bool needs_modified_utf7(std::string_view utf8);

// Whether `text` is well-formed UTF-8 (RFC 3629: shortest forms, no surrogates, at most
// U+10FFFF).
bool is_valid_utf8(std::string_view text);

}  // namespace postamt::proto::imap
