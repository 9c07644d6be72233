#pragma once
// The report URIs of a DMARC record's rua tag (RFC 7489 §6.2 dmarc-uri, §6.3 rua):
//   dmarc-uri = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ]
// separated by commas. Postamt sends reports by mail only, so only mailto: URIs are kept.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace postamt::mailauth {

struct ReportUri {
  std::string uri;              // as published, without the size limit
  std::string address;          // the mailto: address, %-decoded, domain in lower case
  std::string domain;           // the address's domain
  std::uint64_t max_size = 0;   // octets the report mail may have; 0: no limit given
  friend bool operator==(const ReportUri&, const ReportUri&) = default;
};

// The mailto: URIs of `rua`, in order, each address once; URIs of other schemes and
// malformed ones are left out. At most `max_uris` (RFC 7489 §6.2 lets a receiver cap them).
std::vector<ReportUri> parse_report_uris(std::string_view rua, std::size_t max_uris = 8);

// RFC 7489 §7.1: a report for `policy_domain` may go to `destination_domain` without
// asking it when both have the same organisational domain. `org_domain` is the policy
// domain's organisational domain ("" when unknown: the policy domain itself is used, so
// only the domain and its subdomains count as the same organisation).
bool same_organization(std::string_view policy_domain, std::string_view org_domain,
                       std::string_view destination_domain);

// The TXT name whose v=DMARC1 record authorises reports about `policy_domain` to
// `destination_domain` (RFC 7489 §7.1): <policy-domain>._report._dmarc.<destination-domain>.
std::string external_report_authorization_name(std::string_view policy_domain, std::string_view destination_domain);

// Whether one TXT record of that name authorises: it starts with "v=DMARC1" (RFC 7489 §7.1
// step 3; spaces around '=' allowed as in the DMARC record grammar, §6.4).
bool authorizes_external_reports(std::string_view txt);

}  // namespace postamt::mailauth
