#include "filter/dns_lists.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include <asio/this_coro.hpp>

#include "mailauth/resolver_record_lookup.hpp"
#include "mailauth/spf_check.hpp"

namespace postamt::filter {

std::optional<std::string> dns_list_query(std::string_view address, std::string_view zone) {
  const std::string text(address);
  std::array<unsigned char, 16> bytes{};
  if (inet_pton(AF_INET, text.c_str(), bytes.data()) == 1) {
    return fmt::format("{}.{}.{}.{}.{}", bytes[3], bytes[2], bytes[1], bytes[0], zone);
  }
  if (inet_pton(AF_INET6, text.c_str(), bytes.data()) == 1) {
    std::string name;
    constexpr std::string_view kHex = "0123456789abcdef";
    for (std::size_t i = bytes.size(); i-- > 0;) {
      name += kHex[bytes[i] & 0x0f];
      name += '.';
      name += kHex[bytes[i] >> 4];
      name += '.';
    }
    return name + std::string(zone);
  }
  return std::nullopt;
}

bool dns_list_match(const mailauth::DnsAnswer& answer, const DnsListConfig& list) {
  if (answer.temporary() || answer.empty()) return false;
  for (const std::string& record : answer.records) {
    if (!list.answers.empty()) {
      if (std::ranges::find(list.answers, record) != list.answers.end()) return true;
      continue;
    }
    if (record.starts_with("127.") && !record.starts_with("127.255.255.")) return true;
  }
  return false;
}

Verdict dns_list_verdict(std::string_view client_ip, const std::vector<DnsListOutcome>& outcomes,
                         double reject_score) {
  Verdict verdict;
  verdict.filter = "dnsbl";
  double score = 0;
  std::string blocking;
  for (const auto& outcome : outcomes) {
    if (outcome.failed) {
      verdict.note += (verdict.note.empty() ? "" : ", ") + outcome.zone + " did not answer";
      continue;
    }
    if (!outcome.listed) continue;
    score += outcome.weight;
    verdict.symbols.push_back(fmt::format("{}={}", outcome.zone, outcome.answer));
    if (outcome.block_list) blocking += (blocking.empty() ? "" : ", ") + outcome.zone;
  }
  if (verdict.symbols.empty()) return verdict;
  verdict.score = score;
  if (score >= reject_score) {
    verdict.action = Action::reject;
    // RFC 5782 §4: say which list, so a sender listed by mistake knows where to go.
    verdict.reply = proto::smtp::make_reply(550, "5.7.1", fmt::format("Client host [{}] blocked using {}",
                                                                       client_ip, blocking));
  } else if (score > 0) {
    verdict.action = Action::junk;
  }
  return verdict;
}

namespace {

class DnsListFilter final : public Filter {
 public:
  DnsListFilter(const FilterConfig& config, mailauth::RecordLookupPool& lookups)
      : reject_score_(config.dnsbl_reject_score), lookups_(lookups) {
    for (const auto& list : config.dnsbl) lists_.push_back({list, true});
    for (const auto& list : config.dnswl) lists_.push_back({list, false});
  }

  std::string name() const override { return "dnsbl"; }
  bool reads_content() const override { return false; }

  asio::awaitable<Verdict> check(const MessageFacts& facts, std::shared_ptr<const MessageContent>) override {
    std::vector<mailauth::DnsQuestion> questions;
    std::vector<const List*> asked;
    for (const auto& list : lists_) {
      if (auto name = dns_list_query(facts.client_ip, list.config.zone)) {
        questions.push_back({std::move(*name), mailauth::RecordType::a});
        asked.push_back(&list);
      }
    }
    std::vector<DnsListOutcome> outcomes;
    if (!questions.empty()) {
      auto& lookup = lookups_.for_executor(co_await asio::this_coro::executor);
      const std::vector<mailauth::DnsAnswer> answers = co_await mailauth::ask_all(lookup, std::move(questions));
      for (std::size_t i = 0; i < answers.size(); ++i) {
        DnsListOutcome outcome;
        outcome.zone = asked[i]->config.zone;
        outcome.weight = asked[i]->config.weight;
        outcome.block_list = asked[i]->block_list;
        outcome.failed = answers[i].temporary();
        outcome.listed = dns_list_match(answers[i], asked[i]->config);
        if (outcome.listed) outcome.answer = answers[i].records.front();
        outcomes.push_back(std::move(outcome));
      }
    }
    co_return dns_list_verdict(facts.client_ip, outcomes, reject_score_);
  }

 private:
  struct List {
    DnsListConfig config;
    bool block_list;
  };
  std::vector<List> lists_;
  double reject_score_;
  mailauth::RecordLookupPool& lookups_;
};

}  // namespace

std::unique_ptr<Filter> make_dns_list_filter(const FilterConfig& config, mailauth::RecordLookupPool& lookups) {
  return std::make_unique<DnsListFilter>(config, lookups);
}

}  // namespace postamt::filter
