#pragma once
// Validation and normalisation of the names the store keeps: domains, addresses, alias
// sources, mailbox names, flags and blob ids. Every backend applies the same rules, so
// they live beside the interface rather than in one backend. Errors are one sentence.
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace postamt::storage {

template <class T>
using NameResult = std::expected<T, std::string>;

// Well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text);

// Exactly 64 lower-case hex digits (a SHA-256 in the form BlobStore uses).
bool is_valid_blob_id(std::string_view blob_id);

// A domain name: labels of ASCII letters, digits and hyphens (not at either end) or UTF-8,
// 1-63 octets each, at most 253 octets in all (RFC 1035 §2.3.4); one trailing dot is
// stripped and ASCII letters are lower-cased.
NameResult<std::string> normalize_domain_name(std::string_view name);

// "local@domain": exactly one '@', a local part of 1-64 octets (RFC 5321 §4.5.3.1.1) that
// may be UTF-8 (RFC 6531) but holds no controls, spaces or angle brackets, a valid domain,
// at most 254 octets in all (RFC 5321 §4.5.3.1.3 less the brackets). The local part is
// kept as given; the domain is lower-cased.
NameResult<std::string> normalize_address(std::string_view address);

// An address, or "@domain" for a catch-all.
NameResult<std::string> normalize_alias_source(std::string_view source);

// The domain of a normalised address or alias source (the text after the last '@').
std::string_view domain_of(std::string_view normalized_address);

// A mailbox name: UTF-8, '/' as hierarchy separator, 1-1000 octets, no controls, no
// empty hierarchy level. "INBOX" in any case becomes "INBOX" (RFC 9051 §5.1), and so does
// the "INBOX" prefix of its children.
NameResult<std::string> normalize_mailbox_name(std::string_view name);

// IMAP flags (RFC 9051 §2.3.2): atoms with an optional leading backslash. System flags get
// their canonical spelling; duplicates (compared case-insensitively) are dropped; the
// result is sorted.
NameResult<std::vector<std::string>> normalize_flags(std::span<const std::string> flags);

}  // namespace postamt::storage
