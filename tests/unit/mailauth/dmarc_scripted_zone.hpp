#pragma once
// An in-memory RecordLookup for the DMARC tests: answers from a script (NXDOMAIN for
// anything not scripted), a log of every question, and how many lookups were in flight
// at once (each answer waits one turn of the event loop, so concurrent ones overlap).
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <map>
#include <optional>
#include <utility>

#include "mailauth/record_lookup.hpp"

namespace postamt::mailauth::testing {

class ScriptedZone : public RecordLookup {
 public:
  ScriptedZone& txt(const std::string& name, std::vector<std::string> records) {
    answers_[{name, RecordType::txt}] = DnsAnswer::with(std::move(records));
    return *this;
  }
  ScriptedZone& dmarc(const std::string& domain, std::string record) { return txt("_dmarc." + domain, {std::move(record)}); }
  ScriptedZone& a(const std::string& name, std::string address = "192.0.2.1") {
    answers_[{name, RecordType::a}] = DnsAnswer::with({std::move(address)});
    return *this;
  }
  ScriptedZone& answer(const std::string& name, RecordType type, DnsAnswer answer) {
    answers_[{name, type}] = std::move(answer);
    return *this;
  }

  asio::awaitable<DnsAnswer> lookup(DnsQuestion question) override {
    asked.push_back(question);
    ++in_flight_;
    max_in_flight = std::max(max_in_flight, in_flight_);
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    --in_flight_;
    auto it = answers_.find({question.name, question.type});
    co_return it == answers_.end() ? DnsAnswer::nx_domain() : it->second;
  }

  // The names of the _dmarc TXT questions, in the order asked.
  std::vector<std::string> dmarc_names() const {
    std::vector<std::string> names;
    for (const auto& q : asked) {
      if (q.type == RecordType::txt && q.name.starts_with("_dmarc.")) names.push_back(q.name.substr(7));
    }
    return names;
  }

  std::vector<DnsQuestion> asked;
  int max_in_flight = 0;

 private:
  std::map<std::pair<std::string, RecordType>, DnsAnswer> answers_;
  int in_flight_ = 0;
};

template <class T>
T run_coroutine(asio::awaitable<T> work) {
  asio::io_context io;
  std::optional<T> result;
  asio::co_spawn(io, std::move(work), [&](std::exception_ptr e, T value) {
    if (e) std::rethrow_exception(e);
    result = std::move(value);
  });
  io.run();
  EXPECT_TRUE(result.has_value());
  return result ? std::move(*result) : T{};
}

}  // namespace postamt::mailauth::testing
