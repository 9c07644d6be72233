#pragma once
// Destinations: the scheduler delivers per recipient domain (one MX lookup, one set of
// connections, per-domain limits), or, with a relay host, everything to that one host.
#include <string>
#include <string_view>
#include <vector>

#include "storage/api/types.hpp"

namespace postamt::queue {

// The domain of a mailbox (text after the last '@'), as dns::normalize_host_name
// writes it (lower case, no trailing dot); "" without one.
// The local part may be quoted and hold '@' (RFC 5321 §4.1.2), the domain never does.
std::string recipient_domain(std::string_view address);

// One destination's share of the due work: each message holds only the recipients that
// go there. `domain` is "" when everything goes to the relay host.
struct DeliveryJob {
  std::string domain;
  std::vector<storage::QueueMessage> messages;
};

// Groups due messages by recipient domain (or all into one job with a relay host), in the
// order the messages came (oldest due first) and the domains first appeared.
std::vector<DeliveryJob> group_by_destination(std::vector<storage::QueueMessage> due,
                                              bool via_relayhost);

}  // namespace postamt::queue
