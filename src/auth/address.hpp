#pragma once
// Address and domain normalisation for the directory (accounts, aliases, local domains).
// The rules are the store's (storage/api/name_rules.hpp), so a name accepted here is one
// the store accepts, and the same text is what it keeps. Errors are one sentence.
#include <expected>
#include <string>
#include <string_view>

namespace postamt::auth {

// "local@domain" with exactly one '@': local part 1-64 octets, UTF-8 allowed (SMTPUTF8,
// RFC 6531), no controls, spaces or angle brackets; domain per normalize_domain and
// lower-cased; at most 254 octets in all. Nothing is trimmed.
std::expected<std::string, std::string> normalize_address(std::string_view address);

// Labels of letters, digits and hyphens (not leading or trailing) or UTF-8, 1-63 octets
// each, at most 253 octets in all; ASCII lower-cased; one trailing dot stripped.
std::expected<std::string, std::string> normalize_domain(std::string_view domain);

// An address, or "@domain" for a catch-all alias.
std::expected<std::string, std::string> normalize_alias_source(std::string_view source);

}  // namespace postamt::auth
