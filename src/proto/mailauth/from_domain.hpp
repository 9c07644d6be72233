#pragma once
// The RFC5322.From domain DMARC evaluates (RFC 9989 §4.4, RFC 7489 §6.6.1), and the
// messages that have none to give. Ambiguous From fields are how DMARC gets bypassed
// ("Composition Kills", Chen et al., USENIX Security 2020): two From fields, one field
// with two mailboxes, a mailbox without a domain, syntax one parser reads differently
// from another. None of these yields a domain here; DMARC evaluation treats each as a
// failure (dmarc_evaluator.hpp: FromFailurePolicy).
#include <span>
#include <string>
#include <string_view>

#include "proto/mailauth/header_field_list.hpp"

namespace postamt::mailauth {

enum class FromStatus {
  ok,                   // exactly one From field holding exactly one mailbox with a domain
  no_from_field,        // no From field at all
  several_from_fields,  // more than one From field (RFC 5322 §3.6 allows exactly one)
  several_mailboxes,    // one From field listing more than one mailbox
  no_mailbox,           // an empty field or a group (RFC 6854) without a mailbox
  no_domain,            // a mailbox without "@domain", or with a domain literal
  unparseable,          // not a mailbox-list (unbalanced quotes, comments or brackets, ...)
};

std::string_view to_string(FromStatus status);

struct AuthorDomain {
  FromStatus status = FromStatus::no_from_field;
  std::string domain;  // lower case, without a trailing dot; set only when status == ok

  bool ok() const { return status == FromStatus::ok; }
};

// Reads the From field(s) among a message's header fields.
AuthorDomain classify_from(std::span<const RawHeaderField> fields);
// The same from the raw header block (up to the empty line; the rest is ignored).
AuthorDomain classify_from_header_block(std::string_view header_block);
// One From field's value (after "From:"), folding allowed.
AuthorDomain classify_from_value(std::string_view value);

}  // namespace postamt::mailauth
