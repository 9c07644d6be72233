#pragma once
// What the SMTP session reads from a message's header at the end of its data, from the
// head MessageSpool kept (the whole message is not in memory): the Received count (RFC
// 5321 §6.3 loop detection), every From address (submission: the author must be the
// authenticated account) and the Message-ID for the log. Pure, no I/O.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace postamt::smtp {

struct MessageHead {
  bool complete = false;          // the header ended (empty line) within the head
  std::size_t received_fields = 0;
  std::size_t from_fields = 0;
  // addr-specs of every From field, lower-cased domain untouched: "local@domain"; an
  // address without a domain comes as "local@" so that it matches no account.
  std::vector<std::string> from_addresses;
  std::string message_id;         // the first Message-ID, trimmed, "" when absent
};

// `head` is the start of the message as received (not including our trace fields);
// `whole_message` when it is all of it.
MessageHead read_message_head(std::string_view head, bool whole_message);

}  // namespace postamt::smtp
