// ImapSession: IDLE (RFC 2177, RFC 9051 §6.3.13).
//
// While the client idles, two coroutines share the connection on its executor: this one
// waits for the client's "DONE" line, and a notifier waits on the session's ChangeSignal
// and writes the updates as soon as a commit reaches the selected mailbox. Reading and
// writing at the same time is what the stream allows; only the notifier writes until DONE,
// and the command does not end before the notifier has stopped.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include "base/log.hpp"
#include "imap/session.hpp"
#include "net/connection.hpp"

namespace postamt::imap {
namespace {

bool is_done(std::string_view line) {
  return line.size() == 4 && (line[0] | 0x20) == 'd' && (line[1] | 0x20) == 'o' &&
         (line[2] | 0x20) == 'n' && (line[3] | 0x20) == 'e';
}

}  // namespace

asio::awaitable<void> ImapSession::idle_notifier(bool* running) {
  while (*running && !broken_) {
    co_await signal_->wait();
    if (!*running || broken_) break;
    co_await synchronize(false);
    // (Each co_await stands alone: g++ 12 miscompiles co_await inside && / || operands.)
    if (!out_.empty()) {
      const bool written = co_await flush();
      if (!written) break;
    }
    if (state_kind_ == State::logout) break;  // the mailbox went away (BYE sent)
  }
  idle_notifier_running_ = false;
  if (idle_notifier_done_) idle_notifier_done_->cancel();
}

asio::awaitable<void> ImapSession::handle(const Tag& tag, proto::imap::IdleCommand&) {
  out_ += "+ idling\r\n";
  // Anything that changed before IDLE began goes out at once.
  if (selected_) co_await synchronize(false);
  if (!co_await flush()) co_return;
  state_->metrics.idling.add(1);

  bool running = true;
  if (selected_ && signal_) {
    idle_notifier_running_ = true;
    asio::co_spawn(connection_->executor(), idle_notifier(&running), asio::detached);
  }
  auto line = co_await read_sasl_line();
  running = false;
  if (idle_notifier_running_) {
    signal_->interrupt();
    if (!idle_notifier_done_) idle_notifier_done_ = std::make_unique<asio::steady_timer>(connection_->executor());
    while (idle_notifier_running_) {
      idle_notifier_done_->expires_at(asio::steady_timer::time_point::max());
      std::error_code ignored;  // the notifier's cancel is the wake-up
      co_await idle_notifier_done_->async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
  }
  state_->metrics.idling.sub(1);
  if (broken_ || state_kind_ == State::logout) co_return;
  if (!line) {
    bad(tag, "Line too long; IDLE ended");
  } else if (!is_done(*line)) {
    bad(tag, "Expected DONE; IDLE ended");  // RFC 2177 §3
  } else {
    ok(tag, "IDLE terminated");
  }
}

}  // namespace postamt::imap
