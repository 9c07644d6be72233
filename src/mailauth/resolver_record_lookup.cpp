#include "mailauth/resolver_record_lookup.hpp"

#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <optional>

namespace postamt::mailauth {

DnsAnswer to_dns_answer(const dns::RecordAnswer& answer) {
  DnsAnswer out;
  switch (answer.status) {
    case dns::LookupStatus::answered:
      out.answered = true;
      switch (answer.rcode) {
        case 0: out.rcode = Rcode::no_error; break;
        case 1: out.rcode = Rcode::format_error; break;
        case 3: out.rcode = Rcode::nx_domain; break;
        case 5: out.rcode = Rcode::refused; break;
        default: out.rcode = Rcode::server_failure; break;  // SERVFAIL, NOTIMP, ...
      }
      out.records = answer.records;
      out.authentic = answer.authentic;
      out.ttl = answer.ttl;
      return out;
    case dns::LookupStatus::malformed:
    case dns::LookupStatus::too_large:
      out.answered = true;
      out.rcode = Rcode::server_failure;
      return out;
    case dns::LookupStatus::bad_name:
      out.answered = true;
      out.rcode = Rcode::nx_domain;
      out.ttl = dns::kDefaultNegativeTtl;
      return out;
    case dns::LookupStatus::timeout:
    case dns::LookupStatus::network_error:
    case dns::LookupStatus::shutdown:
      return DnsAnswer::timed_out();
  }
  return DnsAnswer::timed_out();
}

// One question on its way: the timer is cancelled when the answer is there.
struct ResolverRecordLookup::InFlight {
  explicit InFlight(const asio::any_io_executor& executor) : done(executor) {
    done.expires_at(asio::steady_timer::time_point::max());
  }
  asio::steady_timer done;
  std::optional<DnsAnswer> answer;
};

ResolverRecordLookup::ResolverRecordLookup(dns::Resolver& resolver, std::shared_ptr<DnsCache> cache)
    : resolver_(resolver), cache_(std::move(cache)) {}

ResolverRecordLookup::~ResolverRecordLookup() = default;

asio::awaitable<DnsAnswer> ResolverRecordLookup::lookup(DnsQuestion question) {
  if (cache_)
    if (auto cached = cache_->find(question)) co_return std::move(*cached);
  std::string key = DnsCache::key_of(question);
  if (auto found = in_flight_.find(key); found != in_flight_.end()) {
    std::shared_ptr<InFlight> pending = found->second;
    std::error_code ignored;
    co_await pending->done.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    co_return pending->answer.value_or(DnsAnswer::timed_out());
  }
  auto pending = std::make_shared<InFlight>(co_await asio::this_coro::executor);
  in_flight_.emplace(key, pending);
  // Whatever happens below, the waiters are released and the entry goes.
  struct Release {
    std::unordered_map<std::string, std::shared_ptr<InFlight>>& table;
    const std::string& key;
    InFlight& pending;
    ~Release() {
      table.erase(key);
      pending.done.cancel();
    }
  } release{in_flight_, key, *pending};
  dns::RecordAnswer raw = co_await resolver_.lookup_records(question.name, static_cast<dns::RecordKind>(question.type));
  DnsAnswer answer = to_dns_answer(raw);
  if (cache_) cache_->store(question, answer);
  pending->answer = answer;
  co_return answer;
}

namespace {

class UnavailableLookup final : public RecordLookup {
 public:
  asio::awaitable<DnsAnswer> lookup(DnsQuestion) override { co_return DnsAnswer::timed_out(); }
};

}  // namespace

struct RecordLookupPool::PerContext {
  asio::any_io_executor executor;
  std::optional<dns::Resolver> resolver;
  std::unique_ptr<RecordLookup> lookup;
};

RecordLookupPool::RecordLookupPool(dns::ResolverOptions options, std::size_t cache_entries)
    : options_(std::move(options)), cache_(std::make_shared<DnsCache>(cache_entries)) {}

RecordLookupPool::~RecordLookupPool() = default;

RecordLookup& RecordLookupPool::for_executor(const asio::any_io_executor& executor) {
  const void* key = &executor.context();
  std::lock_guard lock(mutex_);
  auto& slot = contexts_[key];
  if (!slot) {
    slot = std::make_unique<PerContext>();
    slot->executor = executor;
    auto created = dns::Resolver::create(executor, options_);
    if (created) {
      slot->resolver.emplace(std::move(*created));
      slot->lookup = std::make_unique<ResolverRecordLookup>(*slot->resolver, cache_);
    } else {
      slot->lookup = std::make_unique<UnavailableLookup>();
    }
  }
  return *slot->lookup;
}

void RecordLookupPool::shut_down() {
  std::lock_guard lock(mutex_);
  for (auto& [key, slot] : contexts_) {
    if (!slot->resolver) continue;
    dns::Resolver* resolver = &*slot->resolver;
    asio::post(slot->executor, [resolver] { resolver->shut_down(); });
  }
}

}  // namespace postamt::mailauth
