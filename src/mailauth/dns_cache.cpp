#include "mailauth/dns_cache.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>

namespace postamt::mailauth {
namespace {

std::string make_key(const DnsQuestion& question) {
  std::string key = std::to_string(static_cast<unsigned>(question.type)) + ' ';
  std::string_view name = question.name;
  while (!name.empty() && name.back() == '.') name.remove_suffix(1);
  for (char c : name) key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

}  // namespace

std::string DnsCache::key_of(const DnsQuestion& question) { return make_key(question); }

DnsCache::DnsCache(std::size_t capacity, std::function<Clock::time_point()> now, std::size_t byte_budget)
    : capacity_(std::max<std::size_t>(1, capacity)), byte_budget_(byte_budget), now_(std::move(now)) {}

void DnsCache::drop(std::list<Entry>::iterator entry) {
  bytes_ -= entry->bytes;
  index_.erase(entry->key);
  entries_.erase(entry);
}

std::optional<DnsAnswer> DnsCache::find(const DnsQuestion& question) {
  std::string key = make_key(question);
  Clock::time_point at = now();
  std::lock_guard lock(mutex_);
  auto found = index_.find(key);
  if (found == index_.end()) return std::nullopt;
  auto entry = found->second;
  if (entry->expires <= at) {
    drop(entry);
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
  std::string key = make_key(question);
  std::size_t size = key.size();
  for (const std::string& record : answer.records) size += record.size();
  if (size > byte_budget_) return;
  Clock::time_point expires = now() + std::chrono::seconds(ttl);
  std::lock_guard lock(mutex_);
  if (auto found = index_.find(key); found != index_.end()) drop(found->second);
  entries_.push_front(Entry{key, answer, expires, size});
  index_.emplace(std::move(key), entries_.begin());
  bytes_ += size;
  while (entries_.size() > capacity_ || bytes_ > byte_budget_) drop(std::prev(entries_.end()));
}

std::size_t DnsCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

std::size_t DnsCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace postamt::mailauth
