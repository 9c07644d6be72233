#pragma once
// DMARC over DNS: drives the sans-I/O DmarcEvaluator (proto/mailauth/dmarc_evaluator.hpp)
// through a RecordLookup, asking each step's questions concurrently.
#include <asio/awaitable.hpp>

#include "mailauth/record_lookup.hpp"
#include "proto/mailauth/dmarc_evaluator.hpp"

namespace postamt::mailauth {

class PublicSuffixList;

struct DmarcInput {
  AuthorDomain author;     // classify_from_header_block(...) of the message's header
  bool spf_pass = false;   // SPF's result was pass ...
  std::string spf_domain;  // ... for MAIL FROM's domain (HELO's when MAIL FROM is null)
  std::vector<DmarcDkimIdentity> dkim;  // every DKIM signature: d= and whether it verified
  DmarcMode mode = DmarcMode::rfc9989;
  unsigned random_percent = 0;  // uniform in [0, 100), for pct= in RFC 7489 mode
  // RFC 7489 mode's organisational domains; without it each name is its own.
  const PublicSuffixList* public_suffixes = nullptr;
  FromFailurePolicy from_failure;  // what a message without a usable From domain gets
};

// UTF-8 domains (From, SPF, d=) are converted to A-labels first (domain_a_labels.hpp); a
// From domain that is not a valid IDN counts as FromStatus::no_domain. The outcome's
// domains are in A-label form. `lookup` must outlive the returned awaitable.
asio::awaitable<DmarcOutcome> check_dmarc(RecordLookup& lookup, const DmarcInput& input);

}  // namespace postamt::mailauth
