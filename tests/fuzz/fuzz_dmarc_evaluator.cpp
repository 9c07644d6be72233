// Fuzzes the DMARC stepper (proto/mailauth/dmarc_evaluator) with DNS answers drawn from the
// input: the first lines are the From domain, the SPF domain and a DKIM d=; the others are
// the TXT records answers pick from. Checks: it ends; every step asks something new; the
// questions stay under the cap and each _dmarc walk asks at most 8 names per start; a pass
// has an aligned identifier; a policy is applied only on a failure.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "proto/mailauth/dmarc_evaluator.hpp"

#include "fuzz_bits.hpp"

using postamt::fuzz::Bits;
using postamt::fuzz::fail;
using namespace postamt::mailauth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\n') {
      lines.emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  while (lines.size() < 3) lines.emplace_back();
  Bits bits(data, size);

  DmarcEvaluationInput input;
  input.author = classify_from_value(" a@" + lines[0]);
  input.spf_pass = bits.take(2) == 1;
  input.spf_domain = lines[1];
  input.dkim.push_back({lines[2], bits.take(2) == 1});
  input.dkim.push_back({lines[0], bits.take(3) == 1});
  input.mode = bits.take(2) ? DmarcMode::rfc9989 : DmarcMode::rfc7489;
  input.random_percent = bits.take(100);
  input.organisational_domain = [](std::string_view d) {
    const auto dot = d.rfind('.', d.rfind('.') == std::string_view::npos ? 0 : d.rfind('.') - 1);
    return std::string(dot == std::string_view::npos ? d : d.substr(dot + 1));
  };
  const std::vector<std::string> pool(lines.begin() + 3, lines.end());

  DmarcEvaluator evaluator(input);
  std::set<std::pair<std::string, RecordType>> answered;
  for (int round = 0;; ++round) {
    if (round > static_cast<int>(DmarcEvaluator::kMaxQuestions) + 1) fail();
    DmarcStep step = evaluator.next();
    if (auto* outcome = std::get_if<DmarcOutcome>(&step)) {
      if (outcome->result == DmarcResult::pass && !outcome->spf_aligned && !outcome->dkim_aligned) fail();
      if (outcome->result != DmarcResult::fail && outcome->policy != DmarcPolicy::none) fail();
      if (outcome->result == DmarcResult::fail && outcome->from_status == FromStatus::ok && !outcome->record) fail();
      break;
    }
    const auto& questions = std::get<DmarcNeedAnswers>(step).questions;
    if (questions.empty()) fail();
    for (const DnsQuestion& q : questions) {
      if (!answered.insert({q.name, q.type}).second) fail();  // asked again after an answer
      DnsAnswer answer;
      switch (bits.take(6)) {
        case 0: answer = DnsAnswer::nx_domain(); break;
        case 1: answer = DnsAnswer::timed_out(); break;
        case 2: answer = DnsAnswer{true, Rcode::server_failure, {}, false, 0}; break;
        case 3: answer = DnsAnswer::with({}); break;
        default: {
          std::vector<std::string> records;
          const unsigned n = bits.take(3);
          for (unsigned k = 0; k < n && !pool.empty(); ++k) records.push_back(pool[bits.take(static_cast<unsigned>(pool.size()))]);
          answer = DnsAnswer::with(std::move(records));
        }
      }
      evaluator.provide(q, std::move(answer));
    }
    if (answered.size() > DmarcEvaluator::kMaxQuestions) fail();
  }
  return 0;
}
