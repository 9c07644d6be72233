#pragma once
// rspamd as the external filter (issue 15 §2): each message is POSTed to rspamd's
// /checkv2 with the envelope in request headers; its reply's action, score, symbols and
// header changes become the verdict (filter/rspamd_reply.hpp). An rspamd that cannot be
// asked fails open (accept) unless [filter.rspamd] fail_closed (defer), with a log line
// and postamt_filter_failures_total{filter="rspamd",reason}.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "base/config.hpp"
#include "base/result.hpp"
#include "filter/filter.hpp"
#include "proto/http/message.hpp"

namespace postamt::filter {

// The request headers rspamd's protocol reads for one message (rspamd's HTTP protocol:
// IP, Helo, Hostname, From, one Rcpt per recipient, Queue-Id, User, MTA-Name).
std::vector<proto::http::Header> rspamd_request_headers(const MessageFacts& facts);

// The filter; `max_message_size` is [filter] max_message_size (larger messages are
// skipped). An error when the URL is not a usable http:// URL.
Result<std::unique_ptr<Filter>> make_rspamd_filter(const RspamdConfig& config, std::size_t max_message_size);

}  // namespace postamt::filter
