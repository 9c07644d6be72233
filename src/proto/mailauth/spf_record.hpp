#pragma once
// SPF records (RFC 7208 §4.5, §4.6, §5, §6): selecting the record among a name's TXT
// records and parsing it. A record with any syntax error anywhere is refused as a whole
// (§4.6: check_host() then returns permerror without evaluating anything).
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/mailauth/ip_address.hpp"

namespace postamt::mailauth {

enum class SpfQualifier : char { pass = '+', fail = '-', softfail = '~', neutral = '?' };

enum class SpfMechanismKind { all, include, a, mx, ptr, ip4, ip6, exists };

struct SpfMechanism {
  SpfQualifier qualifier = SpfQualifier::pass;
  SpfMechanismKind kind = SpfMechanismKind::all;
  std::string domain_spec;  // include/exists always; a/mx/ptr when given (empty: <domain>)
  int cidr4 = 32;           // a, mx, ip4
  int cidr6 = 128;          // a, mx, ip6
  IpAddress network;        // ip4, ip6
  std::string text;         // the term as written (Received-SPF "mechanism")
};

struct SpfRecord {
  std::vector<SpfMechanism> mechanisms;  // in record order
  std::optional<std::string> redirect;   // domain-spec of redirect= (§6.1)
  std::optional<std::string> explanation;  // domain-spec of exp= (§6.2)
  bool has_all = false;                  // §6.1: then redirect= is ignored
};

// Whether a TXT record is an SPF record: it starts with "v=spf1" (any case) followed by a
// space or its end (§4.5).
bool is_spf_record(std::string_view txt);

// Parses a record that is_spf_record() accepted; the error text says what is wrong.
std::expected<SpfRecord, std::string> parse_spf_record(std::string_view text);

// A name as DNS can carry it (§4.3): labels of 1..63 octets, at most 253 in all (a
// trailing dot allowed); `multi_label`: at least two labels.
bool is_valid_domain(std::string_view name, bool multi_label);

}  // namespace postamt::mailauth
