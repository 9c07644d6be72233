#pragma once
// Resolver: asynchronous MX and address lookups for outbound SMTP, on c-ares, driven by the
// Asio event loop of one io_context (its sockets are watched by the reactor, its retry
// timer is a steady_timer; no extra thread). Use it from that io_context's thread only.
// Questions go over UDP with EDNS; a truncated answer is asked again over TCP (RFC 7766).
//
//   auto resolver = dns::Resolver::create(io.get_executor(), options);
//   auto hosts = co_await resolver->lookup_mx("example.org");      // ordered, RFC 5321 §5.1
//   auto addresses = co_await resolver->lookup_addresses(hosts->front().host);
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/address.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "dns/dns_error.hpp"
#include "dns/mx_plan.hpp"
#include "dns/record_answer.hpp"

namespace postamt::dns {

struct ResolverOptions {
  // "ip" or "ip:port" ("[v6]:port" for IPv6 with a port); empty: /etc/resolv.conf.
  std::vector<std::string> servers;
  // Time to wait for one answer before retrying. c-ares doubles it on each further round
  // over the servers, so with one server and 2 attempts the worst case is 3 x timeout.
  std::chrono::milliseconds attempt_timeout{2000};
  int attempts = 2;
  // The most one lookup may take in all (retries, servers, the TCP retry of a truncated
  // answer); then it ends with DnsFailure::timeout. Zero or less: only c-ares's own limit.
  // Keep it above attempt_timeout, or no server is ever waited for long enough.
  std::chrono::milliseconds lookup_deadline{20000};
  // EDNS (RFC 6891): the UDP answer size offered to the server, so answers over 512 octets
  // need no TCP retry. 1232 fits an IPv6 minimum MTU without fragmenting; 0: no EDNS.
  // A question a server answers with FORMERR is asked again without EDNS (RFC 6891 §7).
  std::uint16_t edns_payload_size = 1232;
  // Shuffles MX hosts of equal preference; empty: a generator seeded at creation.
  RandomSource random;
};

class Resolver {
 public:
  // Fails (at start-up) on an unparsable server list or when c-ares cannot initialise.
  static Result<Resolver> create(asio::any_io_executor executor, ResolverOptions options);

  Resolver(Resolver&&) noexcept;
  Resolver& operator=(Resolver&&) noexcept;
  // Pending lookups complete with DnsFailure::shutdown.
  ~Resolver();

  // The hosts to try for mail to `domain`, in order (mx_plan.hpp): implicit MX on NODATA,
  // null_mx / no_such_domain as permanent failures, SERVFAIL / timeout as temporary.
  // Ends within ResolverOptions::lookup_deadline.
  asio::awaitable<DnsResult<std::vector<MxHost>>> lookup_mx(std::string domain);

  // AAAA and A records of `host` (asked at once), IPv6 first; CNAME chains are followed
  // within the answer. An empty vector: the name exists but has no address (NODATA).
  // When one family fails temporarily and the other has addresses, those are returned.
  // At most 64 addresses per family; an answer with malformed records is server_failure.
  // Ends within ResolverOptions::lookup_deadline.
  asio::awaitable<DnsResult<std::vector<asio::ip::address>>> lookup_addresses(std::string host);

  // The records of one type at `name` with the answer's RCODE, AD bit and TTL
  // (record_answer.hpp): for sender authentication and anything else that needs the
  // records as published. Never fails as such: every problem is a status in the answer.
  // Ends within ResolverOptions::lookup_deadline.
  asio::awaitable<RecordAnswer> lookup_records(std::string name, RecordKind kind);

  // Ends every pending lookup now, and every later one at once, with DnsFailure::shutdown.
  // A server that stops calls it, so no waiting lookup (and what its coroutine holds)
  // outlives the event loop.
  void shut_down();

  // The raw MX answer (unsorted; empty on NODATA), for diagnostics and tests.
  asio::awaitable<DnsResult<std::vector<MxRecord>>> lookup_mx_records(std::string domain);

  class Impl;

 private:
  explicit Resolver(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace postamt::dns
