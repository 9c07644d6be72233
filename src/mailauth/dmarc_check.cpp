#include "mailauth/dmarc_check.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <memory>

#include "mailauth/domain_a_labels.hpp"
#include "mailauth/public_suffix_list.hpp"

namespace postamt::mailauth {
namespace {

// Asks every question at once and returns the answers in the same order. A lookup that
// throws counts as unanswered (temporary).
asio::awaitable<std::vector<DnsAnswer>> ask_all(RecordLookup& lookup, const std::vector<DnsQuestion>& questions) {
  auto executor = co_await asio::this_coro::executor;
  struct Shared {
    explicit Shared(asio::any_io_executor ex, std::size_t n) : done(ex), answers(n), remaining(n) {}
    asio::steady_timer done;  // cancelled when the last answer arrives
    std::vector<DnsAnswer> answers;
    std::size_t remaining;
  };
  auto shared = std::make_shared<Shared>(executor, questions.size());
  shared->done.expires_at(asio::steady_timer::time_point::max());
  for (std::size_t i = 0; i < questions.size(); ++i) {
    asio::co_spawn(
        executor,
        [&lookup, question = questions[i]]() -> asio::awaitable<DnsAnswer> { co_return co_await lookup.lookup(question); },
        [shared, i](std::exception_ptr error, DnsAnswer answer) {
          shared->answers[i] = error ? DnsAnswer::timed_out() : std::move(answer);
          if (--shared->remaining == 0) shared->done.cancel();
        });
  }
  if (shared->remaining > 0) {
    co_await shared->done.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
  co_return std::move(shared->answers);
}

}  // namespace

asio::awaitable<DmarcOutcome> check_dmarc(RecordLookup& lookup, const DmarcInput& input) {
  // Every name in DNS form (A-labels) before the stepper builds questions from it.
  DmarcEvaluationInput evaluation;
  evaluation.author = input.author;
  if (evaluation.author.ok()) {
    if (auto a_labels = to_a_labels(evaluation.author.domain)) evaluation.author.domain = std::move(*a_labels);
    else evaluation.author = {FromStatus::no_domain, {}};
  }
  if (auto spf = to_a_labels(input.spf_domain)) {
    evaluation.spf_pass = input.spf_pass;
    evaluation.spf_domain = std::move(*spf);
  }
  for (const DmarcDkimIdentity& signature : input.dkim) {
    if (auto d = to_a_labels(signature.domain)) evaluation.dkim.push_back({std::move(*d), signature.pass});
  }
  evaluation.mode = input.mode;
  evaluation.random_percent = input.random_percent;
  evaluation.from_failure = input.from_failure;
  if (input.public_suffixes) {
    const PublicSuffixList* list = input.public_suffixes;
    evaluation.organisational_domain = [list](std::string_view domain) { return list->organisational_domain(domain); };
  }
  DmarcEvaluator evaluator(std::move(evaluation));
  while (true) {
    DmarcStep step = evaluator.next();
    if (auto* outcome = std::get_if<DmarcOutcome>(&step)) co_return std::move(*outcome);
    auto& questions = std::get<DmarcNeedAnswers>(step).questions;
    std::vector<DnsAnswer> answers = co_await ask_all(lookup, questions);
    for (std::size_t i = 0; i < questions.size(); ++i) evaluator.provide(questions[i], std::move(answers[i]));
  }
}

}  // namespace postamt::mailauth
