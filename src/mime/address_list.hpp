#pragma once
// Address lists (RFC 5322 §3.4) split into IMAP ENVELOPE address structures
// (RFC 9051 §7.5.2), keeping display names raw: quoted strings are unquoted, RFC 2047
// encoded words are not decoded (ENVELOPE carries them as they are).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postamt::mime {

// One `address` of RFC 9051 §9. Group syntax: a group starts with an address whose
// mailbox is the group's display name and whose host is absent, and ends with an
// address whose fields are all absent.
struct EnvelopeAddress {
  std::optional<std::string> name;     // display name (phrase), raw
  std::optional<std::string> adl;      // obsolete source route "@a,@b" (RFC 5322 §4.4)
  std::optional<std::string> mailbox;  // local part, unquoted
  std::optional<std::string> host;     // domain

  bool operator==(const EnvelopeAddress&) const = default;
};

// Host and mailbox placeholders for a broken address: NIL cannot be used for them
// because a NIL host means group syntax (RFC 9051 §7.5.2). The spellings are Dovecot's,
// so that ENVELOPE answers compare equal with it.
inline constexpr std::string_view kMissingMailbox = "MISSING_MAILBOX";
inline constexpr std::string_view kMissingDomain = "MISSING_DOMAIN";

// Parses an unfolded address-list (obsolete syntax included, §4.4). Never fails: junk
// between addresses is skipped, an unterminated group is closed at the end, and an
// address without "@" gets kMissingDomain. Choices:
//  - display names: words joined by one space where the header had white space,
//    quoted strings unquoted, encoded words untouched;
//  - an addr-spec without display name but followed by a comment, the RFC 822 form
//    "user@host (Full Name)", takes the comment as its name: RFC 9051 calls the field
//    "personal name", and UW-IMAP (Crispin's reference server) and Dovecot do the same;
//  - a quoted local part is returned unquoted ("john doe"@x gives mailbox "john doe");
//  - "<>" alone is no address at all; at most 10,000 addresses per field are kept.
std::vector<EnvelopeAddress> parse_address_list(std::string_view value);

// The address list of a raw header value rendered for SEARCH FROM/TO/CC: "Name
// <local@domain>, local@domain, group: a@b;" with display names RFC 2047-decoded, as
// UTF-8. Uses parse_address_list, so ENVELOPE and search agree on what the addresses are.
std::string format_address_list_for_search(std::string_view raw_value);

}  // namespace postamt::mime
