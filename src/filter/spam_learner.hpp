#pragma once
// Learning from the user (issue 15 §5): a message the user moved into Junk is a lesson in
// spam, one moved out of Junk a lesson in ham. Each learner (rspamd's controller, the
// built-in classifier) is told the same lessons.
#include <asio/awaitable.hpp>

#include <memory>
#include <string>

namespace postamt::filter {

enum class Lesson { spam, ham };

class SpamLearner {
 public:
  virtual ~SpamLearner() = default;
  virtual std::string name() const = 0;
  // Runs on an I/O executor, must not block and never throws. `account` is the mailbox
  // owner as stored; `message` the message's octets (CRLF line ends). Returns "" when the
  // lesson was taken, otherwise a short reason for the log.
  virtual asio::awaitable<std::string> learn(std::string account, std::shared_ptr<const std::string> message,
                                             Lesson lesson) = 0;
};

}  // namespace postamt::filter
