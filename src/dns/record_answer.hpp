#pragma once
// RecordAnswer: the answer to one generic question (TXT, A, AAAA, MX, PTR), for callers that
// need the records themselves and the facts about the answer (sender authentication, later
// DANE): the RCODE, whether a validating resolver vouched for it (AD bit), and how long it
// may be kept. Knows nothing about mail; mailauth/ maps it onto its own DnsAnswer.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dns/answer_parse.hpp"

namespace postamt::dns {

// RFC 1035 §3.2.2, RFC 3596 §2.1 TYPE values.
enum class RecordKind : std::uint16_t { a = 1, ptr = 12, mx = 15, txt = 16, aaaa = 28 };

enum class LookupStatus {
  answered,       // a server answered; see rcode (NOERROR, NXDOMAIN, SERVFAIL, REFUSED, ...)
  timeout,        // no answer within the tries or the lookup deadline
  network_error,  // the server could not be reached (connection refused, ...)
  malformed,      // an answer came but could not be read (temporary: another try may do better)
  too_large,      // over kMaxAnswerRecords / kMaxAnswerBytes: refused as hostile (temporary)
  bad_name,       // the name cannot be a domain name (label over 63 octets, empty label, ...)
  shutdown,       // the resolver was shut down while the lookup waited
};

struct RecordAnswer {
  LookupStatus status = LookupStatus::timeout;
  int rcode = 0;  // RFC 1035 §4.1.1 RCODE, meaningful when status == answered
  // TXT: the character-strings of one record joined (RFC 7208 §3.3); A/AAAA: the address in
  // text form; MX: the exchange name (no trailing dot, preference dropped, answer order);
  // PTR: the name (no trailing dot). CNAME chains within the answer are followed.
  std::vector<std::string> records;
  bool authentic = false;  // the AD bit (RFC 4035 §3.2.3): trust it only from a validating resolver on a trusted path
  std::uint32_t ttl = 0;   // smallest TTL of the records and CNAMEs used; negative: RFC 2308 §5
  std::string problem;     // for logs when status != answered or rcode is not 0/3
};

// Caps against hostile answers (a 64 KiB TCP message holds thousands of records): an answer
// with more records of the asked type, or more octets of record text, is `too_large`.
inline constexpr std::size_t kMaxAnswerRecords = 64;
inline constexpr std::size_t kMaxAnswerBytes = 16 * 1024;
// The negative-caching TTL when a negative answer carries no SOA (RFC 2308 §5 wants one).
inline constexpr std::uint32_t kDefaultNegativeTtl = 60;
// CNAME hops followed within one answer.
inline constexpr int kMaxCnameHops = 8;

// Reads one c-ares outcome (raw DNS message) for a question of `kind` about `name`.
RecordAnswer parse_record_answer(const QueryOutcome& outcome, RecordKind kind, const std::string& name);

// Reads a raw DNS message (RFC 1035 §4.1) without c-ares: exposed for tests and fuzzing.
RecordAnswer read_record_message(const std::vector<unsigned char>& message, RecordKind kind,
                                 const std::string& name);

}  // namespace postamt::dns
