#include "dns/mx_plan.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

namespace postamt::dns {

std::string normalize_host_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out(name);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

namespace {

// Fisher-Yates over [first, last) with the injected source.
void shuffle_range(std::vector<MxHost>& hosts, std::size_t first, std::size_t last,
                   const RandomSource& random) {
  for (std::size_t n = last - first; n > 1; --n) {
    std::size_t pick = random(n);
    if (pick >= n) pick = n - 1;  // a misbehaving source must not index out of range
    std::swap(hosts[first + n - 1], hosts[first + pick]);
  }
}

}  // namespace

DnsResult<std::vector<MxHost>> plan_mx_hosts(std::string_view domain,
                                             std::vector<MxRecord> records,
                                             const RandomSource& random) {
  std::string target = normalize_host_name(domain);
  if (target.empty()) return dns_error(DnsFailure::bad_name, "empty domain name");

  // RFC 5321 §5.1: no MX records: an implicit MX of preference 0 pointing to the domain.
  if (records.empty()) return std::vector<MxHost>{MxHost{target, 0, true}};

  // RFC 7505 §3: a single MX whose exchange is the root: the domain accepts no mail.
  if (records.size() == 1 && normalize_host_name(records.front().host).empty())
    return dns_error(DnsFailure::null_mx, target + ": domain accepts no mail (null MX)");

  std::vector<MxHost> hosts;
  hosts.reserve(records.size());
  for (MxRecord& record : records) {
    std::string host = normalize_host_name(record.host);
    if (host.empty()) continue;  // a null MX beside real ones: ignored
    hosts.push_back(MxHost{std::move(host), record.preference, false});
  }
  if (hosts.empty())  // several null MX records: still "no mail here"
    return dns_error(DnsFailure::null_mx, target + ": domain accepts no mail (null MX)");

  // The same host listed twice keeps its most preferred entry.
  std::stable_sort(hosts.begin(), hosts.end(), [](const MxHost& a, const MxHost& b) {
    return a.host != b.host ? a.host < b.host : a.preference < b.preference;
  });
  hosts.erase(std::unique(hosts.begin(), hosts.end(),
                          [](const MxHost& a, const MxHost& b) { return a.host == b.host; }),
              hosts.end());

  // §5.1: lowest preference first; among equal preferences, random order.
  std::stable_sort(hosts.begin(), hosts.end(),
                   [](const MxHost& a, const MxHost& b) { return a.preference < b.preference; });
  for (std::size_t first = 0; first < hosts.size();) {
    std::size_t last = first + 1;
    while (last < hosts.size() && hosts[last].preference == hosts[first].preference) ++last;
    shuffle_range(hosts, first, last, random);
    first = last;
  }

  if (hosts.size() > kMaxMxHosts) hosts.resize(kMaxMxHosts);
  return hosts;
}

}  // namespace postamt::dns
