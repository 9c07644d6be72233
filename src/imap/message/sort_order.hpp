#pragma once
// SORT's ordering (RFC 5256 §3, SORT=DISPLAY RFC 5957 §2), sans-I/O: the session gathers
// one SortFields per matching message, filling only what the criteria read (sort_needs),
// and sort_order() puts them in order.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proto/imap/commands.hpp"

namespace postamt::imap {

// The comparable value of each key, already mapped for its comparator.
struct SortFields {
  std::uint32_t sequence_number = 0;  // the final tie-breaker (RFC 5256 §3)
  std::int64_t arrival = 0;           // INTERNALDATE
  std::int64_t sent = 0;              // sent_date_for_sort()
  std::uint64_t size = 0;             // RFC822.SIZE
  std::string subject;                // ascii_casemap(base subject)
  std::string from, to, cc;           // ascii_casemap(addr-mailbox of the first address)
  std::string display_from, display_to;  // unicode_casemap(display name or addr-spec)
};

// What the criteria read beyond the message summary (arrival, size).
struct SortNeeds {
  bool metadata = false;  // DATE (the parsed Date:), SUBJECT (the decoded Subject:)
  bool header = false;    // FROM, TO, CC, DISPLAYFROM, DISPLAYTO: the address fields
};
SortNeeds sort_needs(std::span<const proto::imap::SortCriterion> criteria);

// RFC 5256 §2.2: the Date: field's instant in UTC, or the INTERNALDATE when the field is
// missing or does not parse.
std::int64_t sent_date_for_sort(std::optional<std::int64_t> header_date, std::int64_t internal_date);

// RFC 5256 §3 FROM/TO/CC: the addr-mailbox (local part) of the first address of a raw
// address-list field, "" when there is none; for a group that comes first, its name (the
// addr-mailbox RFC 9051 gives a group start). Mapped for i;ascii-casemap.
std::string first_mailbox_key(std::string_view raw_address_list);

// RFC 5957 §2 DISPLAYFROM/DISPLAYTO: the first address's display name (RFC 2047 decoded)
// when it has a non-empty one, else its addr-spec; mapped for i;unicode-casemap.
std::string display_key(std::string_view raw_address_list);

// i;unicode-casemap (RFC 5051 §2): titlecase, then compatibility decomposition (NFKD),
// with GLib's Unicode tables. Invalid UTF-8 is compared as it is.
std::string unicode_casemap(std::string_view text);

// Sequence numbers of `messages` in the order the criteria give; equal messages stay in
// sequence-number order (RFC 5256 §3: "sorted according to the order in which they appear
// in the mailbox"), REVERSE reversing only its own key.
std::vector<std::uint32_t> sort_order(std::vector<SortFields> messages,
                                      std::span<const proto::imap::SortCriterion> criteria);

}  // namespace postamt::imap
