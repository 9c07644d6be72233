#include "dns/resolver.hpp"

#include <ares.h>
#include <poll.h>

#include <asio/async_result.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>
#include <random>
#include <unordered_map>
#include <utility>

namespace postamt::dns {
namespace {

constexpr int kClassIn = 1;      // RFC 1035 §3.2.4
constexpr int kTypeA = 1;        // RFC 1035 §3.2.2
constexpr int kTypeMx = 15;      // RFC 1035 §3.2.2
constexpr int kTypeAaaa = 28;    // RFC 3596 §2.1
constexpr std::size_t kMaxNameLength = 253;  // RFC 1035 §2.3.4, without the trailing dot
constexpr int kMaxAddressesPerFamily = 64;
constexpr std::size_t kMaxMxRecords = 256;

struct Question {
  std::string name;
  int type = 0;
};

// What c-ares reported for one question: its status and, on success, the raw answer.
struct QueryOutcome {
  int status = ARES_ENODATA;
  std::vector<unsigned char> answer;
};

// One or more questions asked at once, completed together (AAAA and A in parallel).
struct BatchBase {
  struct Slot {
    BatchBase* batch = nullptr;
    std::size_t index = 0;
  };
  virtual ~BatchBase() = default;
  virtual void finish() = 0;  // posts the outcomes to the waiting coroutine

  std::vector<QueryOutcome> outcomes;
  std::vector<Slot> slots;  // the `arg` of each ares_query, stable for the batch's life
  std::size_t remaining = 0;
};

template <class Handler>
struct Batch final : BatchBase {
  Batch(Handler h, const asio::any_io_executor& fallback)
      : handler(std::move(h)),
        work(asio::make_work_guard(asio::get_associated_executor(handler, fallback))) {}

  void finish() override {
    auto executor = work.get_executor();
    asio::post(executor, [h = std::move(handler), o = std::move(outcomes)]() mutable {
      std::move(h)(std::move(o));
    });
    work.reset();
  }

  Handler handler;
  asio::executor_work_guard<asio::any_io_executor> work;
};

void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  auto* slot = static_cast<BatchBase::Slot*>(arg);
  BatchBase* batch = slot->batch;
  QueryOutcome& outcome = batch->outcomes[slot->index];
  outcome.status = status;
  if (status == ARES_SUCCESS && abuf != nullptr && alen > 0) outcome.answer.assign(abuf, abuf + alen);
  if (--batch->remaining == 0) {
    batch->finish();
    delete batch;
  }
}

// c-ares status -> the failure the queue acts on. ARES_ENODATA (NOERROR, no records) is
// not a failure and is handled by the callers.
DnsError failure_for(int status, const std::string& name) {
  std::string message = name + ": " + ares_strerror(status);
  switch (status) {
    case ARES_ENOTFOUND: return {DnsFailure::no_such_domain, name + ": no such domain (NXDOMAIN)"};
    case ARES_EBADNAME: return {DnsFailure::bad_name, std::move(message)};
    case ARES_ESERVFAIL: return {DnsFailure::server_failure, name + ": DNS server failure (SERVFAIL)"};
    case ARES_EREFUSED:
    case ARES_ECONNREFUSED: return {DnsFailure::refused, std::move(message)};
    case ARES_ETIMEOUT: return {DnsFailure::timeout, name + ": DNS timeout"};
    case ARES_EDESTRUCTION:
    case ARES_ECANCELLED: return {DnsFailure::shutdown, std::move(message)};
    default: return {DnsFailure::other, std::move(message)};
  }
}

bool plausible_name(const std::string& name) {
  return !name.empty() && name.size() <= kMaxNameLength + 1 && name.find('\0') == std::string::npos;
}

DnsResult<std::vector<MxRecord>> parse_mx(const QueryOutcome& outcome, const std::string& name) {
  if (outcome.status == ARES_ENODATA) return std::vector<MxRecord>{};
  if (outcome.status != ARES_SUCCESS) return std::unexpected(failure_for(outcome.status, name));
  ares_mx_reply* replies = nullptr;
  int rc = ares_parse_mx_reply(outcome.answer.data(), static_cast<int>(outcome.answer.size()), &replies);
  if (rc == ARES_ENODATA) return std::vector<MxRecord>{};  // e.g. only a CNAME
  if (rc != ARES_SUCCESS)
    return dns_error(DnsFailure::server_failure, name + ": unusable MX answer: " + ares_strerror(rc));
  std::vector<MxRecord> records;
  for (ares_mx_reply* r = replies; r != nullptr && records.size() < kMaxMxRecords; r = r->next)
    records.push_back(MxRecord{r->priority, r->host != nullptr ? std::string(r->host) : std::string()});
  ares_free_data(replies);
  return records;
}

// The addresses of one family; NODATA gives an empty list.
DnsResult<std::vector<asio::ip::address>> parse_addresses(const QueryOutcome& outcome, int type,
                                                          const std::string& name) {
  std::vector<asio::ip::address> addresses;
  if (outcome.status == ARES_ENODATA) return addresses;
  if (outcome.status != ARES_SUCCESS) return std::unexpected(failure_for(outcome.status, name));
  const unsigned char* data = outcome.answer.data();
  int size = static_cast<int>(outcome.answer.size());
  int count = kMaxAddressesPerFamily;
  int rc;
  if (type == kTypeAaaa) {
    std::array<ares_addr6ttl, kMaxAddressesPerFamily> found{};
    rc = ares_parse_aaaa_reply(data, size, nullptr, found.data(), &count);
    for (int i = 0; rc == ARES_SUCCESS && i < count; ++i) {
      asio::ip::address_v6::bytes_type bytes;
      std::copy_n(found[i].ip6addr._S6_un._S6_u8, bytes.size(), bytes.begin());
      addresses.emplace_back(asio::ip::address_v6(bytes));
    }
  } else {
    std::array<ares_addrttl, kMaxAddressesPerFamily> found{};
    rc = ares_parse_a_reply(data, size, nullptr, found.data(), &count);
    for (int i = 0; rc == ARES_SUCCESS && i < count; ++i) {
      asio::ip::address_v4::bytes_type bytes;
      std::memcpy(bytes.data(), &found[i].ipaddr.s_addr, bytes.size());  // network order
      addresses.emplace_back(asio::ip::address_v4(bytes));
    }
  }
  if (rc == ARES_ENODATA) return std::vector<asio::ip::address>{};
  if (rc != ARES_SUCCESS)
    return dns_error(DnsFailure::server_failure, name + ": unusable address answer: " + ares_strerror(rc));
  return addresses;
}

void initialise_library() {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

enum class Direction { read, write };

bool ready_now(int fd, Direction direction) {
  pollfd probe{fd, static_cast<short>(direction == Direction::read ? POLLIN : POLLOUT), 0};
  return ::poll(&probe, 1, 0) == 1 && probe.revents != 0;
}

}  // namespace

// The c-ares channel and the Asio objects that drive it: for each socket c-ares opens, a
// stream_descriptor whose async_wait tells c-ares when the socket is readable or writable
// (ARES_OPT_SOCK_STATE_CB), and one steady_timer for ares_timeout(). Handlers hold only a
// weak_ptr to the Impl, so none runs on a destroyed resolver.
class Resolver::Impl : public std::enable_shared_from_this<Resolver::Impl> {
 public:
  Impl(asio::any_io_executor executor, RandomSource random)
      : executor_(std::move(executor)), timer_(executor_), random_(std::move(random)) {}

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  ~Impl() {
    if (channel_ != nullptr) ares_destroy(channel_);  // pending queries: ARES_EDESTRUCTION
    for (auto& [fd, watch] : watches_) release(*watch);
  }

  Result<void> init(const ResolverOptions& options) {
    initialise_library();
    ares_options settings{};
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    settings.sock_state_cb = &Impl::on_socket_state;
    settings.sock_state_cb_data = this;
    settings.timeout = static_cast<int>(std::max<std::chrono::milliseconds::rep>(1, options.attempt_timeout.count()));
    settings.tries = std::max(1, options.attempts);
    int rc = ares_init_options(&channel_, &settings, mask);
    if (rc != ARES_SUCCESS) {
      channel_ = nullptr;
      return permanent_error(std::string("DNS resolver: ") + ares_strerror(rc));
    }
    if (!options.servers.empty()) {
      std::string csv;
      for (const std::string& server : options.servers) {
        if (server.empty() || server.find(',') != std::string::npos)
          return permanent_error("DNS resolver: invalid server \"" + server + "\"");
        if (!csv.empty()) csv += ',';
        csv += server;
      }
      rc = ares_set_servers_ports_csv(channel_, csv.c_str());
      if (rc != ARES_SUCCESS)
        return permanent_error("DNS resolver: invalid server list \"" + csv + "\": " + ares_strerror(rc));
    }
    return {};
  }

  const RandomSource& random() const { return random_; }

  // Asks all questions at once; completes with one outcome per question, in order.
  asio::awaitable<std::vector<QueryOutcome>> ask(std::vector<Question> questions) {
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::vector<QueryOutcome>)>(
        [this](auto handler, std::vector<Question> asked) { start(std::move(handler), std::move(asked)); },
        asio::use_awaitable, std::move(questions));
  }

 private:
  struct SocketWatch {
    SocketWatch(const asio::any_io_executor& executor, int socket) : descriptor(executor), fd(socket) {}
    asio::posix::stream_descriptor descriptor;
    int fd;
    bool want_read = false;
    bool want_write = false;
    bool read_pending = false;
    bool write_pending = false;
    bool closed = false;
  };

  template <class Handler>
  void start(Handler handler, std::vector<Question> questions) {
    auto* batch = new Batch<Handler>(std::move(handler), executor_);
    std::size_t count = questions.size();
    batch->outcomes.resize(count);
    batch->slots.resize(count);
    batch->remaining = count;
    if (count == 0) {
      batch->finish();
      delete batch;
      return;
    }
    for (std::size_t i = 0; i < count; ++i) {
      batch->slots[i] = BatchBase::Slot{batch, i};
      // May call on_answer at once (e.g. a bad name); the batch lives until the last one.
      ares_query(channel_, questions[i].name.c_str(), kClassIn, questions[i].type, &on_answer, &batch->slots[i]);
    }
    reschedule_timer();
  }

  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    static_cast<Impl*>(data)->socket_state(fd, readable != 0, writable != 0);
  }

  void socket_state(int fd, bool readable, bool writable) {
    auto it = watches_.find(fd);
    if (!readable && !writable) {  // c-ares is about to close the socket
      if (it != watches_.end()) {
        release(*it->second);
        watches_.erase(it);
      }
      return;
    }
    if (it == watches_.end()) {
      auto watch = std::make_shared<SocketWatch>(executor_, fd);
      std::error_code error;
      watch->descriptor.assign(fd, error);
      if (error) return;  // c-ares times the query out
      it = watches_.emplace(fd, std::move(watch)).first;
    }
    std::shared_ptr<SocketWatch> watch = it->second;
    watch->want_read = readable;
    watch->want_write = writable;
    if (readable) arm(watch, Direction::read);
    if (writable) arm(watch, Direction::write);
  }

  static void release(SocketWatch& watch) {
    watch.closed = true;
    std::error_code ignored;
    watch.descriptor.cancel(ignored);
    watch.descriptor.release();  // c-ares owns and closes the socket
  }

  static bool& pending(SocketWatch& watch, Direction direction) {
    return direction == Direction::read ? watch.read_pending : watch.write_pending;
  }

  // Waits for readiness. The reactor is edge-triggered, so a socket that c-ares left with
  // data still queued (it reads TCP piecewise) is handed back at once instead of waited on.
  void arm(const std::shared_ptr<SocketWatch>& watch, Direction direction) {
    if (watch->closed || pending(*watch, direction)) return;
    pending(*watch, direction) = true;
    auto handler = [weak = weak_from_this(), watch, direction](std::error_code error) {
      pending(*watch, direction) = false;
      if (error == asio::error::operation_aborted || watch->closed) return;
      if (auto self = weak.lock()) self->on_ready(watch, direction, !error);
    };
    if (ready_now(watch->fd, direction)) {
      asio::post(executor_, [handler]() mutable { handler(std::error_code()); });
    } else {
      watch->descriptor.async_wait(direction == Direction::read ? asio::posix::descriptor_base::wait_read
                                                                : asio::posix::descriptor_base::wait_write,
                                   handler);
    }
  }

  void on_ready(const std::shared_ptr<SocketWatch>& watch, Direction direction, bool rearm) {
    ares_process_fd(channel_, direction == Direction::read ? watch->fd : ARES_SOCKET_BAD,
                    direction == Direction::write ? watch->fd : ARES_SOCKET_BAD);
    reschedule_timer();
    if (!rearm || watch->closed) return;  // a failed wait is left to the query timeout
    if (direction == Direction::read ? watch->want_read : watch->want_write) arm(watch, direction);
  }

  // Retries and timeouts: c-ares says when it next needs to look (ares_timeout).
  void reschedule_timer() {
    timeval next{};
    if (ares_timeout(channel_, nullptr, &next) == nullptr) {
      timer_.cancel();
      return;
    }
    timer_.expires_after(std::chrono::seconds(next.tv_sec) + std::chrono::microseconds(next.tv_usec));
    timer_.async_wait([weak = weak_from_this()](std::error_code error) {
      if (error == asio::error::operation_aborted) return;
      if (auto self = weak.lock()) {
        ares_process_fd(self->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        self->reschedule_timer();
      }
    });
  }

  asio::any_io_executor executor_;
  asio::steady_timer timer_;
  RandomSource random_;
  ares_channel channel_ = nullptr;
  std::unordered_map<int, std::shared_ptr<SocketWatch>> watches_;
};

Result<Resolver> Resolver::create(asio::any_io_executor executor, ResolverOptions options) {
  RandomSource random = std::move(options.random);
  if (!random) {
    auto engine = std::make_shared<std::minstd_rand>(std::random_device{}());
    random = [engine](std::size_t bound) {
      return std::uniform_int_distribution<std::size_t>(0, bound - 1)(*engine);
    };
  }
  auto impl = std::make_shared<Impl>(std::move(executor), std::move(random));
  if (auto ok = impl->init(options); !ok) return std::unexpected(ok.error());
  return Resolver(std::move(impl));
}

Resolver::Resolver(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Resolver::Resolver(Resolver&&) noexcept = default;
Resolver& Resolver::operator=(Resolver&&) noexcept = default;
Resolver::~Resolver() = default;

// The coroutines below touch the resolver only before their first suspension: after it, the
// resolver may be gone (its destruction completes pending lookups with `shutdown`).

asio::awaitable<DnsResult<std::vector<MxRecord>>> Resolver::lookup_mx_records(std::string domain) {
  if (!impl_) co_return dns_error(DnsFailure::shutdown, domain + ": resolver shut down");
  if (!plausible_name(domain)) co_return dns_error(DnsFailure::bad_name, domain + ": invalid domain name");
  std::vector<Question> questions(1);  // (a braced list here trips g++ 12's coroutines)
  questions[0] = Question{domain, kTypeMx};
  std::vector<QueryOutcome> outcomes = co_await impl_->ask(std::move(questions));
  co_return parse_mx(outcomes.front(), domain);
}

asio::awaitable<DnsResult<std::vector<MxHost>>> Resolver::lookup_mx(std::string domain) {
  if (!impl_) co_return dns_error(DnsFailure::shutdown, domain + ": resolver shut down");
  RandomSource random = impl_->random();
  DnsResult<std::vector<MxRecord>> records = co_await lookup_mx_records(domain);
  if (!records) co_return std::unexpected(std::move(records.error()));
  co_return plan_mx_hosts(domain, std::move(*records), random);
}

asio::awaitable<DnsResult<std::vector<asio::ip::address>>> Resolver::lookup_addresses(std::string host) {
  if (!impl_) co_return dns_error(DnsFailure::shutdown, host + ": resolver shut down");
  if (!plausible_name(host)) co_return dns_error(DnsFailure::bad_name, host + ": invalid host name");
  std::vector<Question> questions(2);  // AAAA and A at once
  questions[0] = Question{host, kTypeAaaa};
  questions[1] = Question{host, kTypeA};
  std::vector<QueryOutcome> outcomes = co_await impl_->ask(std::move(questions));
  auto v6 = parse_addresses(outcomes[0], kTypeAaaa, host);
  auto v4 = parse_addresses(outcomes[1], kTypeA, host);
  // A name that does not exist does not exist for either family.
  if (!v6 && v6.error().failure == DnsFailure::no_such_domain) co_return std::unexpected(v6.error());
  if (!v4 && v4.error().failure == DnsFailure::no_such_domain) co_return std::unexpected(v4.error());
  std::vector<asio::ip::address> addresses;
  if (v6) addresses = std::move(*v6);
  if (v4) addresses.insert(addresses.end(), v4->begin(), v4->end());
  if (!addresses.empty()) co_return addresses;  // RFC 6724 order is IPv6 first
  if (!v6) co_return std::unexpected(v6.error());
  if (!v4) co_return std::unexpected(v4.error());
  co_return addresses;  // NODATA for both
}

}  // namespace postamt::dns
