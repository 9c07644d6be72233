#pragma once
// MX planning (RFC 5321 §5.1, RFC 7505): from the MX records of a domain, the ordered list
// of hosts an SMTP client tries. Pure logic: no DNS, no clock; the random source that
// shuffles equal preferences is injected.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "dns/dns_error.hpp"

namespace postamt::dns {

// One MX answer record as the DNS returns it.
struct MxRecord {
  std::uint16_t preference = 0;
  std::string host;  // exchange name; "" or "." is the root (null MX)
};

// One host to try, in order.
struct MxHost {
  std::string host;  // lower case, without a trailing dot
  std::uint16_t preference = 0;
  bool implicit = false;  // RFC 5321 §5.1: no MX records, the domain itself

  friend bool operator==(const MxHost&, const MxHost&) = default;
};

// Returns a value in [0, bound); bound >= 1.
using RandomSource = std::function<std::size_t(std::size_t bound)>;

// More hosts than this are dropped (the least preferred ones): a hostile zone cannot make
// one delivery attempt unbounded.
inline constexpr std::size_t kMaxMxHosts = 16;

// `records` is the MX answer for `domain`: empty means NODATA (implicit MX). The result is
// sorted by preference with equal preferences shuffled (§5.1), duplicates removed, or the
// permanent failure null_mx for a single "." record (RFC 7505 §3). Null MX records mixed
// with real ones are ignored (the zone is broken; the real hosts may still accept mail).
DnsResult<std::vector<MxHost>> plan_mx_hosts(std::string_view domain,
                                             std::vector<MxRecord> records,
                                             const RandomSource& random);

// Lower case, trailing dot removed ("" for the root).
std::string normalize_host_name(std::string_view name);

}  // namespace postamt::dns
