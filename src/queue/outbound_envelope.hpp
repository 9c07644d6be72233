#pragma once
// From a queued message (as the store keeps it) to the envelope the SMTP client engine
// sends, and what the content needs from the receiving server.
#include <string_view>

#include "proto/smtp/client_options.hpp"
#include "storage/api/types.hpp"

namespace postamt::queue {

// What a message needs from the server beyond plain RFC 5321.
struct ContentNeeds {
  bool eight_bit_body = false;    // octets >= 0x80 in the body: BODY=8BITMIME (RFC 6152)
  bool utf8_headers = false;      // octets >= 0x80 in the header: SMTPUTF8 (RFC 6532)
};

ContentNeeds content_needs(std::string_view content);

// The content as it goes to another server: the stored message begins with the
// Return-Path field the SMTP server wrote for local delivery, which RFC 5321 §4.4 allows
// only at final delivery; a relay leaves it off. Returns how many leading octets to skip.
std::size_t local_trace_prefix(std::string_view content);

// Whether an envelope address has non-ASCII octets: SMTPUTF8 (RFC 6531 §3.2).
bool needs_smtputf8_envelope(const storage::QueueMessage& message);

// The envelope for the engine. NOTIFY, ORCPT, RET and ENVID come from the stored RFC 3461
// parameters; the engine drops them when the server has no DSN. `content_size` is the
// size of the content as it will be sent (after any 8-bit conversion).
proto::smtp::OutboundMessage outbound_message(const storage::QueueMessage& message,
                                              std::uint64_t content_size, const ContentNeeds& needs);

}  // namespace postamt::queue
