#pragma once
// The filters of mail arriving on port 25, run in order at the end of DATA (issue 15 §1):
// the cheap checks first (DNS lists), then rspamd, then the milters in their configured
// order. A reject or defer ends the run (the message is refused; asking the rest would
// only cost time). filter/decision.hpp turns the verdicts into the one action.
#include <asio/awaitable.hpp>

#include <cstddef>
#include <memory>
#include <vector>

#include "filter/filter.hpp"

namespace postamt::filter {

class Pipeline {
 public:
  Pipeline(std::vector<std::unique_ptr<Filter>> filters, std::size_t max_message_size);
  ~Pipeline();

  bool empty() const { return filters_.empty(); }
  bool reads_content() const;  // some filter reads the message's bytes
  std::size_t max_message_size() const { return max_message_size_; }

  // Runs on the caller's executor. `content` may be null when no filter reads it.
  asio::awaitable<std::vector<Verdict>> run(const MessageFacts& facts, std::shared_ptr<const MessageContent> content);

 private:
  std::vector<std::unique_ptr<Filter>> filters_;
  std::size_t max_message_size_;
};

}  // namespace postamt::filter
