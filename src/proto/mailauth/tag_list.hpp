#pragma once
// RFC 6376 §3.2 tag=value lists (DKIM-Signature, DKIM key records; DMARC and ARC use the
// same shape). Pure.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace postamt::mailauth {

struct Tag {
  std::string_view name;
  std::string_view value;  // surrounding FWS removed, inner FWS kept as written
};

// Tags in order. Errors: a tag-spec without "=", a bad tag-name, a value with a byte
// outside VALCHAR/FWS, a duplicate tag name (§3.2: "Tags with duplicate names MUST NOT
// occur"). An empty list (or only ";") is valid and has no tags.
Result<std::vector<Tag>> parse_tag_list(std::string_view text);

// The value of `name`, if present.
std::optional<std::string_view> find_tag(const std::vector<Tag>& tags, std::string_view name);

// The value with every FWS byte (SP, HTAB, CR, LF) removed (b=, bh=, p= base64 values).
std::string without_whitespace(std::string_view value);

// `value` split at `separator`, each piece with surrounding FWS trimmed (h=, s=, t=, k=).
std::vector<std::string_view> split_trimmed(std::string_view value, char separator);

// Trims SP, HTAB, CR and LF at both ends.
std::string_view trim_fws(std::string_view value);

}  // namespace postamt::mailauth
