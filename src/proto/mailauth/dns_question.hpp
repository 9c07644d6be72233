#pragma once
// What the sender-authentication steppers (SPF, DKIM, DMARC, ARC) ask of DNS and what they
// get back. The steppers in proto/mailauth never do I/O: they say which questions they need
// (DnsQuestion) and are fed the answers (DnsAnswer); mailauth/ drives them over the
// resolver, and tests script the answers.
#include <cstdint>
#include <string>
#include <vector>

namespace postamt::mailauth {

// RFC 1035 §3.2.2, RFC 3596 §2.1 TYPE values.
enum class RecordType : std::uint16_t { a = 1, ptr = 12, mx = 15, txt = 16, aaaa = 28 };

struct DnsQuestion {
  std::string name;  // without the trailing dot
  RecordType type = RecordType::txt;
  friend bool operator==(const DnsQuestion&, const DnsQuestion&) = default;
};

// RFC 1035 §4.1.1 RCODE values (the ones that matter here).
enum class Rcode : std::uint8_t { no_error = 0, format_error = 1, server_failure = 2, nx_domain = 3, refused = 5 };

struct DnsAnswer {
  // Whether a server answered at all; `false`: a timeout or a network error (temporary).
  bool answered = false;
  Rcode rcode = Rcode::server_failure;
  // The records of the asked type, CNAMEs followed, in answer order:
  //   TXT: the character-strings of one record joined (RFC 7208 §3.3, RFC 6376 §3.6.2.2);
  //   A/AAAA: the address in text form; MX: the exchange host name (no trailing dot,
  //   preference dropped); PTR: the name (no trailing dot).
  std::vector<std::string> records;
  bool authentic = false;  // the AD bit of a validating resolver (RFC 4035 §3.2.3)
  std::uint32_t ttl = 0;   // the smallest TTL of the records; negative answers: the SOA minimum

  // NXDOMAIN, or NOERROR without a record of the type (NODATA): the name has nothing.
  bool empty() const { return answered && (rcode == Rcode::nx_domain || (rcode == Rcode::no_error && records.empty())); }
  // No usable answer (timeout, SERVFAIL, REFUSED, …): try again later (temperror).
  bool temporary() const { return !answered || (rcode != Rcode::no_error && rcode != Rcode::nx_domain); }

  static DnsAnswer with(std::vector<std::string> records, std::uint32_t ttl = 300) {
    return DnsAnswer{true, Rcode::no_error, std::move(records), false, ttl};
  }
  static DnsAnswer nx_domain() { return DnsAnswer{true, Rcode::nx_domain, {}, false, 300}; }
  static DnsAnswer timed_out() { return DnsAnswer{false, Rcode::server_failure, {}, false, 0}; }
};

}  // namespace postamt::mailauth
