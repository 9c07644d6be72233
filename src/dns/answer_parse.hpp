#pragma once
// The answers c-ares hands back, turned into records or a DnsError. Internal to the
// resolver; c-ares itself stays in the .cpp (statuses are c-ares ARES_* codes as int).
#include <asio/ip/address.hpp>

#include <cstddef>
#include <string>
#include <vector>

#include "dns/dns_error.hpp"
#include "dns/mx_plan.hpp"

namespace postamt::dns {

// What came back for one question: a c-ares status and, on success, the raw message.
struct QueryOutcome {
  int status = 0;
  std::vector<unsigned char> answer;
  bool past_deadline = false;  // abandoned at the lookup deadline, not answered
};

// The outcome of a question that was never answered before the lookup deadline.
QueryOutcome deadline_outcome();

enum class AddressFamily { v6, v4 };

// The record types the resolver asks for (RFC 1035 §3.2.2, RFC 3596 §2.1).
inline constexpr int kTypeA = 1;
inline constexpr int kTypeMx = 15;
inline constexpr int kTypeAaaa = 28;

// Caps against hostile answers: a 64 KiB TCP message holds thousands of records.
inline constexpr std::size_t kMaxAddressesPerFamily = 64;
inline constexpr std::size_t kMaxMxRecords = 256;

// The MX records of an answer; NODATA (also an answer with only a CNAME) is an empty list.
DnsResult<std::vector<MxRecord>> parse_mx_answer(const QueryOutcome& outcome, const std::string& name);

// The addresses of one family, CNAME chains within the answer followed; NODATA: empty.
DnsResult<std::vector<asio::ip::address>> parse_address_answer(const QueryOutcome& outcome,
                                                               AddressFamily family,
                                                               const std::string& name);

}  // namespace postamt::dns
