#pragma once
// RecordLookup: how mailauth/ asks DNS. The server's implementation runs on the c-ares
// resolver with a shared TTL cache; tests give a scripted zone. Lookups may run
// concurrently (a stepper's questions are asked at once).
#include <asio/awaitable.hpp>

#include "proto/mailauth/dns_question.hpp"

namespace postamt::mailauth {

class RecordLookup {
 public:
  virtual ~RecordLookup() = default;
  virtual asio::awaitable<DnsAnswer> lookup(DnsQuestion question) = 0;
};

}  // namespace postamt::mailauth
