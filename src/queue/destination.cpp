#include "queue/destination.hpp"

#include "dns/mx_plan.hpp"

#include <algorithm>
#include <map>

namespace postamt::queue {

std::string recipient_domain(std::string_view address) {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  return dns::normalize_host_name(address.substr(at + 1));
}

std::vector<DeliveryJob> group_by_destination(std::vector<storage::QueueMessage> due,
                                              bool via_relayhost) {
  std::vector<DeliveryJob> jobs;
  std::map<std::string, std::size_t, std::less<>> job_of_domain;
  for (storage::QueueMessage& message : due) {
    // Split the message's recipients by domain, keeping their order within each.
    std::vector<std::pair<std::string, std::vector<storage::QueueRecipient>>> parts;
    for (storage::QueueRecipient& recipient : message.recipients) {
      std::string domain = via_relayhost ? std::string() : recipient_domain(recipient.address);
      auto part = std::ranges::find(parts, domain, &decltype(parts)::value_type::first);
      if (part == parts.end()) {
        parts.emplace_back(std::move(domain), std::vector<storage::QueueRecipient>{});
        part = std::prev(parts.end());
      }
      part->second.push_back(std::move(recipient));
    }
    for (auto& [domain, recipients] : parts) {
      auto [slot, inserted] = job_of_domain.try_emplace(domain, jobs.size());
      if (inserted) jobs.push_back(DeliveryJob{domain, {}});
      storage::QueueMessage share = message;  // envelope fields; recipients replaced below
      share.recipients = std::move(recipients);
      jobs[slot->second].messages.push_back(std::move(share));
    }
  }
  return jobs;
}

}  // namespace postamt::queue
