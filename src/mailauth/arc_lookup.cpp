#include "mailauth/arc_lookup.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <exception>
#include <memory>

namespace postamt::mailauth {

asio::awaitable<void> look_up_arc_keys(ArcVerifier& verifier, RecordLookup& lookup) {
  const std::vector<DnsQuestion> questions = verifier.questions();
  if (questions.empty()) co_return;
  const auto executor = co_await asio::this_coro::executor;
  // Concurrent lookups; the last one to finish cancels the timer the caller waits on.
  struct Pending {
    explicit Pending(asio::any_io_executor executor) : wake(std::move(executor)) {}
    std::size_t remaining = 0;
    asio::steady_timer wake;
  };
  auto pending = std::make_shared<Pending>(executor);
  pending->remaining = questions.size();
  pending->wake.expires_at(asio::steady_timer::time_point::max());
  for (const auto& question : questions) {
    asio::co_spawn(executor, lookup.lookup(question),
                   [pending, &verifier, question](std::exception_ptr error, DnsAnswer answer) {
                     verifier.answer(question, error ? DnsAnswer::timed_out() : answer);
                     if (--pending->remaining == 0) pending->wake.cancel();
                   });
  }
  while (pending->remaining > 0) {
    co_await pending->wake.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<ArcVerdict> verify_arc(ArcVerifier& verifier, RecordLookup& lookup) {
  co_await look_up_arc_keys(verifier, lookup);
  co_return verifier.verdict();
}

}  // namespace postamt::mailauth
