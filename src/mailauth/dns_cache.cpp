#include "mailauth/dns_cache.hpp"

#include <algorithm>
#include <cctype>

namespace postamt::mailauth {
namespace {

std::string cache_key(const DnsQuestion& question) {
  std::string key = std::to_string(static_cast<unsigned>(question.type)) + ' ';
  std::string_view name = question.name;
  while (!name.empty() && name.back() == '.') name.remove_suffix(1);
  for (char c : name) key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

}  // namespace

DnsCache::DnsCache(std::size_t capacity, std::function<Clock::time_point()> now)
    : capacity_(std::max<std::size_t>(1, capacity)), now_(std::move(now)) {}

std::optional<DnsAnswer> DnsCache::find(const DnsQuestion& question) {
  std::string key = cache_key(question);
  Clock::time_point at = now();
  std::lock_guard lock(mutex_);
  auto found = index_.find(key);
  if (found == index_.end()) return std::nullopt;
  auto entry = found->second;
  if (entry->expires <= at) {
    index_.erase(found);
    entries_.erase(entry);
    return std::nullopt;
  }
  entries_.splice(entries_.begin(), entries_, entry);
  DnsAnswer answer = entry->answer;
  auto left = std::chrono::duration_cast<std::chrono::seconds>(entry->expires - at).count();
  answer.ttl = static_cast<std::uint32_t>(std::max<long long>(1, left));
  return answer;
}

void DnsCache::store(const DnsQuestion& question, const DnsAnswer& answer) {
  if (!answer.answered) return;  // silence says nothing about the name
  std::uint32_t ttl = answer.temporary() ? std::min(answer.ttl == 0 ? kFailureTtl : answer.ttl, kFailureTtl)
                                         : std::min(answer.ttl, kMaxTtl);
  if (ttl == 0) return;
  std::string key = cache_key(question);
  Clock::time_point expires = now() + std::chrono::seconds(ttl);
  std::lock_guard lock(mutex_);
  if (auto found = index_.find(key); found != index_.end()) {
    entries_.erase(found->second);
    index_.erase(found);
  }
  entries_.push_front(Entry{key, answer, expires});
  index_.emplace(std::move(key), entries_.begin());
  while (entries_.size() > capacity_) {
    index_.erase(entries_.back().key);
    entries_.pop_back();
  }
}

std::size_t DnsCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace postamt::mailauth
