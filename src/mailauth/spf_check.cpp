#include "mailauth/spf_check.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <memory>

#include "proto/mailauth/spf_received.hpp"

namespace postamt::mailauth {

asio::awaitable<std::vector<DnsAnswer>> ask_all(RecordLookup& lookup, std::vector<DnsQuestion> questions) {
  std::vector<DnsAnswer> answers(questions.size());
  if (questions.empty()) co_return answers;
  if (questions.size() == 1) {
    answers[0] = co_await lookup.lookup(std::move(questions[0]));
    co_return answers;
  }
  auto executor = co_await asio::this_coro::executor;
  struct Gather {
    explicit Gather(const asio::any_io_executor& ex, std::size_t n) : answers(n), remaining(n), done(ex) {}
    std::vector<DnsAnswer> answers;
    std::size_t remaining;
    asio::steady_timer done;  // cancelled by the last answer
  };
  auto gather = std::make_shared<Gather>(executor, questions.size());
  gather->done.expires_at(asio::steady_timer::time_point::max());
  for (std::size_t i = 0; i < questions.size(); ++i) {
    asio::co_spawn(
        executor,
        [&lookup, gather, i, question = std::move(questions[i])]() -> asio::awaitable<void> {
          DnsAnswer answer;
          try {
            answer = co_await lookup.lookup(question);
          } catch (...) {
            answer = DnsAnswer::timed_out();
          }
          gather->answers[i] = std::move(answer);
          if (--gather->remaining == 0) gather->done.cancel();
        },
        asio::detached);
  }
  // The spawned lookups start only once this coroutine suspends, so none has finished yet.
  std::error_code ignored;
  if (gather->remaining > 0) co_await gather->done.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  co_return std::move(gather->answers);
}

asio::awaitable<SpfOutcome> check_spf(RecordLookup& lookup, SpfRequest request) {
  SpfOutcome outcome;
  auto ip = IpAddress::parse(request.client_ip);
  SpfInputs inputs;
  inputs.helo = request.helo;
  inputs.mail_from = request.mail_from;
  inputs.identity = request.identity;
  inputs.receiver = request.receiver;
  inputs.timestamp = request.timestamp.value_or(static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count()));
  if (!ip) {
    outcome.result = SpfResult::none;
    outcome.problem = "\"" + request.client_ip + "\" is not an IP address";
    co_return outcome;
  }
  inputs.ip = *ip;
  auto give_up_at = std::chrono::steady_clock::now() + request.deadline;
  SpfEvaluator evaluator(inputs);
  std::size_t asked = 0;
  bool late = false;
  while (!evaluator.done()) {
    if (std::chrono::steady_clock::now() >= give_up_at) {
      late = true;
      break;
    }
    std::vector<DnsQuestion> questions = evaluator.questions();
    asked += questions.size();
    std::vector<DnsAnswer> answers = co_await ask_all(lookup, std::move(questions));
    evaluator.provide(answers);
  }
  SpfVerdict verdict = evaluator.verdict();
  if (late) {
    verdict.result = SpfResult::temperror;
    verdict.problem = "the SPF check took longer than " + std::to_string(request.deadline.count()) + " ms";
    verdict.explanation.clear();
    verdict.mechanism.clear();
  }
  outcome.result = verdict.result;
  outcome.identity = verdict.identity;
  outcome.domain = verdict.domain;
  outcome.sender = verdict.sender;
  outcome.mechanism = verdict.mechanism;
  outcome.explanation = verdict.explanation;
  outcome.explanation_from_record = verdict.explanation_from_record;
  outcome.problem = verdict.problem;
  outcome.received_spf = received_spf_value(verdict, inputs, request.receiver.empty() ? "unknown" : request.receiver);
  outcome.dns_questions = asked;
  co_return outcome;
}

}  // namespace postamt::mailauth
