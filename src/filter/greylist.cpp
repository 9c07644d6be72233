#include "filter/greylist.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace postamt::filter {
namespace {

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

std::string Greylist::network_of(std::string_view client_ip) const {
  const std::string text(client_ip);
  std::array<unsigned char, 16> bytes{};
  int family = AF_INET;
  unsigned prefix = options_.ipv4_prefix;
  std::size_t size = 4;
  if (inet_pton(AF_INET, text.c_str(), bytes.data()) != 1) {
    if (inet_pton(AF_INET6, text.c_str(), bytes.data()) != 1) return {};
    family = AF_INET6;
    prefix = options_.ipv6_prefix;
    size = 16;
  }
  prefix = std::min<unsigned>(prefix, static_cast<unsigned>(size * 8));
  for (std::size_t i = 0; i < size; ++i) {
    const unsigned bits_here = prefix > i * 8 ? std::min<unsigned>(8, prefix - static_cast<unsigned>(i * 8)) : 0;
    bytes[i] &= static_cast<unsigned char>(bits_here == 0 ? 0 : 0xff << (8 - bits_here));
  }
  std::array<char, INET6_ADDRSTRLEN> out{};
  inet_ntop(family, bytes.data(), out.data(), out.size());
  return fmt::format("{}/{}", out.data(), prefix);
}

void Greylist::prune(Clock::time_point now) {
  std::erase_if(triplets_, [&](const auto& entry) { return now - entry.second > options_.retry_window; });
  std::erase_if(allowed_, [&](const auto& entry) { return entry.second <= now; });
}

Greylist::Answer Greylist::check(std::string_view client_ip, std::string_view sender, std::string_view recipient,
                                 Clock::time_point now) {
  const std::string network = network_of(client_ip);
  if (network.empty()) return {};
  std::lock_guard lock(mutex_);
  if (auto allowed = allowed_.find(network); allowed != allowed_.end()) {
    if (allowed->second > now) return {Outcome::allowed, {}};
    allowed_.erase(allowed);
  }
  const std::string key = network + '\n' + lowered(sender) + '\n' + lowered(recipient);
  auto found = triplets_.find(key);
  if (found == triplets_.end() || now - found->second > options_.retry_window) {
    if (found == triplets_.end() && triplets_.size() + allowed_.size() >= options_.max_entries) {
      prune(now);
      // Still full: let the message through rather than grow (the bound is the promise).
      if (triplets_.size() + allowed_.size() >= options_.max_entries) return {};
    }
    triplets_[key] = now;
    return {Outcome::deferred, options_.delay};
  }
  const auto waited = now - found->second;
  if (waited < options_.delay) {
    return {Outcome::deferred, std::chrono::ceil<std::chrono::seconds>(options_.delay - waited)};
  }
  triplets_.erase(found);
  allowed_[network] = now + options_.allow_lifetime;
  return {Outcome::pass, {}};
}

std::size_t Greylist::size() const {
  std::lock_guard lock(mutex_);
  return triplets_.size() + allowed_.size();
}

namespace {

class GreylistFilter final : public Filter {
 public:
  explicit GreylistFilter(std::shared_ptr<Greylist> greylist) : greylist_(std::move(greylist)) {}
  std::string name() const override { return "greylist"; }
  bool reads_content() const override { return false; }

  asio::awaitable<Verdict> check(const MessageFacts& facts, std::shared_ptr<const MessageContent>) override {
    Verdict verdict;
    verdict.filter = "greylist";
    if (facts.mail_from.empty()) co_return verdict;
    const auto now = Greylist::Clock::now();
    std::chrono::seconds wait{0};
    bool allowed = false;
    for (const auto& recipient : facts.recipients) {
      const auto answer = greylist_->check(facts.client_ip, facts.mail_from, recipient, now);
      if (answer.outcome == Greylist::Outcome::deferred) wait = std::max(wait, answer.wait);
      if (answer.outcome == Greylist::Outcome::allowed) allowed = true;
    }
    if (wait.count() > 0) {
      verdict.action = Action::defer;
      verdict.reply = proto::smtp::make_reply(
          451, "4.7.1", fmt::format("Greylisted, please try again in {} seconds", wait.count()));
      verdict.note = "new triplet";
    } else if (allowed) {
      verdict.note = "network allowed";
    }
    co_return verdict;
  }

 private:
  std::shared_ptr<Greylist> greylist_;
};

}  // namespace

std::unique_ptr<Filter> make_greylist_filter(std::shared_ptr<Greylist> greylist) {
  return std::make_unique<GreylistFilter>(std::move(greylist));
}

}  // namespace postamt::filter
