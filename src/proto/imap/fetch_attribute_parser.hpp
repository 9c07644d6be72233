#pragma once
// FETCH data items (RFC 9051 §6.4.5, §9 "fetch-att"; BINARY RFC 3516 §4.2; MODSEQ
// RFC 7162 §3.1.4). The tokenizer hands "BODY.PEEK[HEADER.FIELDS (From To)]<0.100>" over
// as one atom; this parses such a word.
//
//   fetch-att = "ENVELOPE" / "FLAGS" / "INTERNALDATE" / "RFC822" [".HEADER" / ".TEXT"] /
//               "RFC822.SIZE" / "BODY" ["STRUCTURE"] / "UID" / "MODSEQ" /
//               "BODY" [".PEEK"] section [partial] /
//               "BINARY" [".PEEK"] section-binary [partial] / "BINARY.SIZE" section-binary
//   section   = "[" [section-spec] "]"           section-binary = "[" [section-part] "]"
//   section-spec = section-msgtext / (section-part ["." section-text])
//   section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
//   section-text = section-msgtext / "MIME"      section-part = nz-number *("." nz-number)
//   header-list = "(" header-fld-name *(SP header-fld-name) ")"
//   partial   = "<" number64 "." nz-number64 ">"
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "proto/imap/commands.hpp"

namespace postamt::proto::imap {

// One fetch-att word (case-insensitive). Partial offsets and lengths beyond 32 bits are
// clamped to 4294967295 (no message is that large, so the answer is the same).
std::expected<FetchAttribute, std::string> parse_fetch_attribute(std::string_view text);

// The section between "[" and "]" of BODY[...] (binary: of BINARY[...]).
std::expected<Section, std::string> parse_section(std::string_view text, bool binary);

// The FETCH argument after the sequence set: a macro (ALL / FAST / FULL, expanded as
// RFC 9051 §6.4.5 says), one fetch-att, or a parenthesised list of them. Duplicates are
// dropped, the first kept.
std::expected<std::vector<FetchAttribute>, std::string> parse_fetch_attributes(Value& value);

}  // namespace postamt::proto::imap
