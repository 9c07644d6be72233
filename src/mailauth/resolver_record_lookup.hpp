#pragma once
// ResolverRecordLookup: RecordLookup on the c-ares resolver, through the shared DnsCache.
//
// Thread rule: a dns::Resolver belongs to one io_context, and so does the lookup built on
// it: call lookup() only from coroutines running on that context. The cache is shared by
// all contexts (it has its own lock). RecordLookupPool below keeps one resolver and one
// lookup per io_context, so a session on any I/O thread asks the one of its own thread and
// never crosses threads.
#include <asio/any_io_executor.hpp>

#include <memory>
#include <mutex>
#include <unordered_map>

#include "dns/resolver.hpp"
#include "mailauth/dns_cache.hpp"
#include "mailauth/record_lookup.hpp"

namespace postamt::mailauth {

// dns::RecordAnswer -> DnsAnswer: a timeout or an unreachable server is "not answered"; an
// unreadable or oversized answer a SERVFAIL (temporary); a name that cannot exist NXDOMAIN.
DnsAnswer to_dns_answer(const dns::RecordAnswer& answer);

// A question already on its way is not asked twice: later askers wait for its answer (a
// burst of mail from one domain asks DNS once, before the cache has the answer).
class ResolverRecordLookup final : public RecordLookup {
 public:
  // `resolver` must outlive this object, and this object every lookup it started; `cache`
  // may be null (nothing kept) or shared with other lookups.
  ResolverRecordLookup(dns::Resolver& resolver, std::shared_ptr<DnsCache> cache);
  ~ResolverRecordLookup() override;
  asio::awaitable<DnsAnswer> lookup(DnsQuestion question) override;

 private:
  struct InFlight;
  dns::Resolver& resolver_;
  std::shared_ptr<DnsCache> cache_;
  std::unordered_map<std::string, std::shared_ptr<InFlight>> in_flight_;  // by DnsCache::key_of
};

// One resolver + lookup per io_context, created on first use from that context, all over
// one shared cache. For serve.cpp:
//
//   auto lookups = std::make_shared<mailauth::RecordLookupPool>(options);   // at start-up
//   ... in a session coroutine on any I/O context:
//   mailauth::RecordLookup& dns = lookups->for_executor(co_await asio::this_coro::executor);
//   ... at shutdown, before the contexts stop: lookups->shut_down();
//
// Destroy it before the io_contexts (the resolvers hold their executors).
class RecordLookupPool {
 public:
  explicit RecordLookupPool(dns::ResolverOptions options, std::size_t cache_entries = DnsCache::kDefaultCapacity);
  ~RecordLookupPool();

  // The lookup of the io_context `executor` runs on; call from that context's thread.
  // Should c-ares fail to start (it checked the same options at start-up), every answer
  // is a temporary failure.
  RecordLookup& for_executor(const asio::any_io_executor& executor);

  // Ends every pending and later lookup (answers: not answered); each resolver is shut
  // down on its own context.
  void shut_down();

  const std::shared_ptr<DnsCache>& cache() const { return cache_; }

 private:
  struct PerContext;
  dns::ResolverOptions options_;
  std::shared_ptr<DnsCache> cache_;
  std::mutex mutex_;
  std::unordered_map<const void*, std::unique_ptr<PerContext>> contexts_;
};

}  // namespace postamt::mailauth
