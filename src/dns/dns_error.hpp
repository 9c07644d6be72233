#pragma once
// DnsError: why a lookup gave no usable answer, and whether asking again later may help.
// RFC 5321 §4.5.4.1 / §5.1: a non-existent domain or a null MX (RFC 7505 §3) ends delivery
// (5xx, bounce); a server failure, a refusal or silence is retried later (4xx, queue).
#include <expected>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace postamt::dns {

enum class DnsFailure {
  no_such_domain,  // NXDOMAIN (RCODE 3): permanent
  null_mx,         // RFC 7505: the domain accepts no mail: permanent
  bad_name,        // the name cannot be a domain name (too long, empty label): permanent
  server_failure,  // SERVFAIL (RCODE 2) or an unusable answer: temporary
  refused,         // REFUSED (RCODE 5) or the server port is closed: temporary
  timeout,         // no answer within the configured tries: temporary
  shutdown,        // the resolver was destroyed while the query was pending: temporary
  other,           // any other resolver failure: temporary
};

std::string_view dns_failure_name(DnsFailure failure);
bool dns_failure_is_permanent(DnsFailure failure);

struct DnsError {
  DnsFailure failure = DnsFailure::other;
  std::string message;  // e.g. "example.org: NXDOMAIN"

  bool permanent() const { return dns_failure_is_permanent(failure); }
  bool temporary() const { return !permanent(); }
  // The project-wide error, for the queue's 4xx/5xx decision.
  Error to_error() const;
};

template <class T>
using DnsResult = std::expected<T, DnsError>;

inline std::unexpected<DnsError> dns_error(DnsFailure failure, std::string message) {
  return std::unexpected(DnsError{failure, std::move(message)});
}

}  // namespace postamt::dns
