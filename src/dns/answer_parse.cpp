#include "dns/answer_parse.hpp"

#include <ares.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

namespace postamt::dns {
namespace {

constexpr unsigned kClassIn = 1;  // RFC 1035 §3.2.4

// c-ares status -> the failure the queue acts on. ARES_ENODATA (NOERROR, no records) is
// not a failure and is handled by the callers.
DnsError failure_for(const QueryOutcome& outcome, const std::string& name) {
  if (outcome.past_deadline) return {DnsFailure::timeout, name + ": no DNS answer within the lookup deadline"};
  std::string message = name + ": " + ares_strerror(outcome.status);
  switch (outcome.status) {
    case ARES_ENOTFOUND: return {DnsFailure::no_such_domain, name + ": no such domain (NXDOMAIN)"};
    case ARES_EBADNAME: return {DnsFailure::bad_name, std::move(message)};
    case ARES_ESERVFAIL: return {DnsFailure::server_failure, name + ": DNS server failure (SERVFAIL)"};
    case ARES_EREFUSED:
    case ARES_ECONNREFUSED: return {DnsFailure::refused, std::move(message)};
    case ARES_ETIMEOUT: return {DnsFailure::timeout, name + ": DNS timeout"};
    case ARES_EBADRESP:  // a malformed answer: another server (or later) may do better
      return {DnsFailure::server_failure, name + ": malformed DNS answer"};
    case ARES_EDESTRUCTION:
    case ARES_ECANCELLED: return {DnsFailure::shutdown, std::move(message)};
    default: return {DnsFailure::other, std::move(message)};
  }
}

DnsError unusable(int rc, const std::string& name, const char* what) {
  return {DnsFailure::server_failure, name + ": unusable " + what + " answer: " + ares_strerror(rc)};
}

int answer_size(const QueryOutcome& outcome) { return static_cast<int>(outcome.answer.size()); }

// RFC 1035 §4.1: walks the question and answer sections. False when the message cannot be
// walked, or when an answer record of `type` (class IN) has RDATA of another length than
// `rdata_length` (RFC 1035 §3.4.1: 4 for A; RFC 3596 §2.2: 16 for AAAA). c-ares skips such
// records silently, which would turn a broken answer into "no address" (NODATA).
bool records_are_whole(const std::vector<unsigned char>& message, int type, std::size_t rdata_length) {
  constexpr long kHeaderLength = 12;
  const unsigned char* data = message.data();
  const long size = static_cast<long>(message.size());
  if (size < kHeaderLength) return false;
  auto u16 = [data](long at) { return static_cast<unsigned>(data[at] << 8 | data[at + 1]); };
  unsigned questions = u16(4);
  unsigned answers = u16(6);
  long at = kHeaderLength;
  auto skip_name = [&]() {  // ares_expand_name bounds compression pointers and loops
    char* name = nullptr;
    long encoded_length = 0;
    if (at >= size || ares_expand_name(data + at, data, static_cast<int>(size), &name, &encoded_length) != ARES_SUCCESS)
      return false;
    ares_free_string(name);
    at += encoded_length;
    return true;
  };
  for (unsigned i = 0; i < questions; ++i) {
    if (!skip_name()) return false;
    at += 4;  // QTYPE, QCLASS
    if (at > size) return false;
  }
  for (unsigned i = 0; i < answers; ++i) {
    if (!skip_name() || at + 10 > size) return false;  // TYPE, CLASS, TTL, RDLENGTH
    unsigned record_type = u16(at);
    unsigned record_class = u16(at + 2);
    long length = u16(at + 8);
    at += 10;
    if (at + length > size) return false;
    if (record_type == static_cast<unsigned>(type) && record_class == kClassIn &&
        static_cast<std::size_t>(length) != rdata_length)
      return false;
    at += length;
  }
  return true;
}

}  // namespace

QueryOutcome deadline_outcome() {
  QueryOutcome outcome;
  outcome.status = ARES_ETIMEOUT;
  outcome.past_deadline = true;
  return outcome;
}

DnsResult<std::vector<MxRecord>> parse_mx_answer(const QueryOutcome& outcome, const std::string& name) {
  if (outcome.status == ARES_ENODATA) return std::vector<MxRecord>{};
  if (outcome.status != ARES_SUCCESS) return std::unexpected(failure_for(outcome, name));
  ares_mx_reply* replies = nullptr;
  int rc = ares_parse_mx_reply(outcome.answer.data(), answer_size(outcome), &replies);
  if (rc == ARES_ENODATA) return std::vector<MxRecord>{};  // e.g. only a CNAME
  if (rc != ARES_SUCCESS) return std::unexpected(unusable(rc, name, "MX"));
  std::vector<MxRecord> records;
  for (ares_mx_reply* r = replies; r != nullptr && records.size() < kMaxMxRecords; r = r->next)
    records.push_back(MxRecord{r->priority, r->host != nullptr ? std::string(r->host) : std::string()});
  ares_free_data(replies);
  return records;
}

DnsResult<std::vector<asio::ip::address>> parse_address_answer(const QueryOutcome& outcome,
                                                               AddressFamily family,
                                                               const std::string& name) {
  std::vector<asio::ip::address> addresses;
  if (outcome.status == ARES_ENODATA) return addresses;
  if (outcome.status != ARES_SUCCESS) return std::unexpected(failure_for(outcome, name));
  bool v6 = family == AddressFamily::v6;
  if (!records_are_whole(outcome.answer, v6 ? kTypeAaaa : kTypeA, v6 ? 16 : 4))
    return dns_error(DnsFailure::server_failure, name + ": malformed DNS answer");
  const unsigned char* data = outcome.answer.data();
  int count = static_cast<int>(kMaxAddressesPerFamily);  // in: room; out: records found
  int rc;
  if (v6) {
    std::array<ares_addr6ttl, kMaxAddressesPerFamily> found{};
    rc = ares_parse_aaaa_reply(data, answer_size(outcome), nullptr, found.data(), &count);
    for (int i = 0; rc == ARES_SUCCESS && i < count; ++i) {
      asio::ip::address_v6::bytes_type bytes;
      std::copy_n(found[i].ip6addr._S6_un._S6_u8, bytes.size(), bytes.begin());
      addresses.emplace_back(asio::ip::address_v6(bytes));
    }
  } else {
    std::array<ares_addrttl, kMaxAddressesPerFamily> found{};
    rc = ares_parse_a_reply(data, answer_size(outcome), nullptr, found.data(), &count);
    for (int i = 0; rc == ARES_SUCCESS && i < count; ++i) {
      asio::ip::address_v4::bytes_type bytes;
      std::memcpy(bytes.data(), &found[i].ipaddr.s_addr, bytes.size());  // network order
      addresses.emplace_back(asio::ip::address_v4(bytes));
    }
  }
  if (rc == ARES_ENODATA) return std::vector<asio::ip::address>{};  // e.g. only CNAMEs
  if (rc != ARES_SUCCESS) return std::unexpected(unusable(rc, name, "address"));
  return addresses;
}

}  // namespace postamt::dns
