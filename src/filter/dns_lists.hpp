#pragma once
// DNS block lists and allow lists (issue 15 §4; RFC 5782): the client's address asked as
// a name under each zone ("2.0.0.127.zen.example.org" for 127.0.0.2, IPv6 by nibbles), an
// A answer in 127.0.0.0/8 meaning "listed". Each listing adds its zone's weight; block
// lists weigh +1 and allow lists -10 unless configured, so one block list listing refuses
// and an allow list listing outweighs it. The pure part here; DnsListFilter asks DNS.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/config.hpp"
#include "filter/filter.hpp"
#include "proto/mailauth/dns_question.hpp"

namespace postamt::mailauth {
class RecordLookupPool;
}

namespace postamt::filter {

// RFC 5782 §2.1 (IPv4) and §2.4 (IPv6): the name to ask under `zone`; nullopt when
// `address` is not an IP address.
std::optional<std::string> dns_list_query(std::string_view address, std::string_view zone);

// Whether an A answer means "listed" for `list`: one of its configured answers, or any
// 127.0.0.0/8 address but 127.255.255.0/24 (which lists use to refuse queries from open
// resolvers, e.g. Spamhaus's 127.255.255.254), when none is configured.
bool dns_list_match(const mailauth::DnsAnswer& answer, const DnsListConfig& list);

struct DnsListOutcome {
  std::string zone;
  double weight = 1.0;
  bool block_list = true;
  bool listed = false;
  bool failed = false;  // no usable answer: counted as not listed
  std::string answer;   // the first A record, when listed
};

// The verdict from the outcomes: the weights of the listed zones added; at `reject_score`
// or more: reject (550 5.7.1 naming the block lists); above zero: junk.
Verdict dns_list_verdict(std::string_view client_ip, const std::vector<DnsListOutcome>& outcomes,
                         double reject_score);

// The filter: asks every zone at once through the sender-authentication resolvers (their
// TTL cache included).
std::unique_ptr<Filter> make_dns_list_filter(const FilterConfig& config, mailauth::RecordLookupPool& lookups);

}  // namespace postamt::filter
