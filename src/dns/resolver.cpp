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
#include <chrono>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <unordered_map>
#include <utility>

#include "dns/answer_parse.hpp"
#include "dns/query_batch.hpp"

namespace postamt::dns {
namespace {

constexpr std::size_t kMaxNameLength = 253;  // RFC 1035 §2.3.4, without the trailing dot
constexpr int kClassicUdpPayload = 512;      // RFC 1035 §4.2.1; EDNS never offers less

// A batch whose outcomes go to an Asio completion handler, on the handler's executor.
template <class Handler>
class HandlerBatch final : public QueryBatch {
 public:
  HandlerBatch(Handler h, const asio::any_io_executor& fallback)
      : handler_(std::move(h)),
        work_(asio::make_work_guard(asio::get_associated_executor(handler_, fallback))) {}

 private:
  void deliver(std::vector<QueryOutcome> outcomes) override {
    auto executor = work_.get_executor();
    asio::post(executor, [h = std::move(handler_), o = std::move(outcomes)]() mutable {
      std::move(h)(std::move(o));
    });
    work_.reset();
  }

  Handler handler_;
  asio::executor_work_guard<asio::any_io_executor> work_;
};

bool plausible_name(const std::string& name) {
  return !name.empty() && name.size() <= kMaxNameLength + 1 && name.find('\0') == std::string::npos;
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

// The c-ares channels and the Asio objects that drive them: for each socket c-ares opens, a
// stream_descriptor whose async_wait tells c-ares when the socket is readable or writable
// (ARES_OPT_SOCK_STATE_CB), and one steady_timer for ares_timeout() and the lookup
// deadlines. Handlers hold only a weak_ptr to the Impl, so none runs on a destroyed resolver.
//
// With EDNS there are two channels: the one every question is asked on (with an OPT record)
// and one without EDNS, for the questions a server answered FORMERR (RFC 6891 §7). c-ares
// 1.18 does not fall back by itself, and its EDNS setting holds for a whole channel.
class Resolver::Impl : public std::enable_shared_from_this<Resolver::Impl> {
 public:
  Impl(asio::any_io_executor executor, RandomSource random)
      : executor_(std::move(executor)), timer_(executor_), random_(std::move(random)) {}

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  ~Impl() {
    // Pending queries end with ARES_EDESTRUCTION; the EDNS channel first, so none of them
    // is asked again on the other.
    for (Channel* channel : all_channels())
      if (channel->handle != nullptr) ares_destroy(channel->handle);
    for (auto& [fd, watch] : watches_) release(*watch);
  }

  Result<void> init(const ResolverOptions& options) {
    initialise_library();
    if (options.lookup_deadline.count() > 0) lookup_deadline_ = options.lookup_deadline;
    bool edns = options.edns_payload_size > 0;
    int payload = std::max<int>(kClassicUdpPayload, options.edns_payload_size);  // RFC 6891 §6.2.5
    if (auto ok = open(main_, options, edns ? payload : 0, false); !ok) return ok;
    if (edns)
      if (auto ok = open(without_edns_, options, 0, false); !ok) return ok;
    if (auto ok = open(exact_main_, options, edns ? payload : 0, true); !ok) return ok;
    if (edns) return open(exact_without_edns_, options, 0, true);
    return {};
  }

  const RandomSource& random() const { return random_; }
  bool is_shut_down() const { return shut_down_; }

  // ARES_ECANCELLED for every pending query (answer_parse: DnsFailure::shutdown). The EDNS
  // channel first: a cancelled question is never asked again on the other.
  void shut_down() {
    shut_down_ = true;
    for (Channel* channel : all_channels())
      if (channel->handle != nullptr) ares_cancel(channel->handle);
    reschedule_timer();
  }

  // Asks all questions at once; completes with one outcome per question, in order.
  // `exact_rcode`: on the channels that hand back SERVFAIL/REFUSED answers as they are
  // (ARES_FLAG_NOCHECKRESP) instead of trying the next server and reporting ECONNREFUSED.
  asio::awaitable<std::vector<QueryOutcome>> ask(std::vector<Question> questions, bool exact_rcode = false) {
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::vector<QueryOutcome>)>(
        [this, exact_rcode](auto handler, std::vector<Question> asked) {
          start(std::move(handler), std::move(asked), exact_rcode);
        },
        asio::use_awaitable, std::move(questions));
  }

 private:
  struct Channel {
    Impl* owner = nullptr;  // the sock_state_cb_data
    ares_channel handle = nullptr;
  };

  struct SocketWatch {
    SocketWatch(const asio::any_io_executor& executor, ares_channel owner, int socket)
        : descriptor(executor), channel(owner), fd(socket) {}
    asio::posix::stream_descriptor descriptor;
    ares_channel channel;  // the one that opened the socket and processes it
    int fd;
    bool want_read = false;
    bool want_write = false;
    bool read_pending = false;
    bool write_pending = false;
    bool closed = false;
  };

  std::array<Channel*, 4> all_channels() { return {&main_, &without_edns_, &exact_main_, &exact_without_edns_}; }

  // One c-ares channel with the resolver's settings; EDNS when `edns_payload` > 0.
  Result<void> open(Channel& channel, const ResolverOptions& options, int edns_payload, bool exact_rcode) {
    channel.owner = this;
    ares_options settings{};
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
    settings.sock_state_cb = &Impl::on_socket_state;
    settings.sock_state_cb_data = &channel;
    settings.timeout = static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(
        options.attempt_timeout.count(), 1, std::numeric_limits<int>::max()));
    settings.tries = std::max(1, options.attempts);
    settings.flags = exact_rcode ? ARES_FLAG_NOCHECKRESP : 0;
    if (edns_payload > 0) {
      settings.flags |= ARES_FLAG_EDNS;
      settings.ednspsz = edns_payload;
      mask |= ARES_OPT_EDNSPSZ;
    }
    int rc = ares_init_options(&channel.handle, &settings, mask);
    if (rc != ARES_SUCCESS) {
      channel.handle = nullptr;
      return permanent_error(std::string("DNS resolver: ") + ares_strerror(rc));
    }
    if (options.servers.empty()) return {};
    std::string csv;
    for (const std::string& server : options.servers) {
      if (server.empty() || server.find(',') != std::string::npos)
        return permanent_error("DNS resolver: invalid server \"" + server + "\"");
      if (!csv.empty()) csv += ',';
      csv += server;
    }
    rc = ares_set_servers_ports_csv(channel.handle, csv.c_str());
    if (rc != ARES_SUCCESS)
      return permanent_error("DNS resolver: invalid server list \"" + csv + "\": " + ares_strerror(rc));
    return {};
  }

  template <class Handler>
  void start(Handler handler, std::vector<Question> questions, bool exact_rcode) {
    auto* batch = new HandlerBatch<Handler>(std::move(handler), executor_);
    DeadlineClock::time_point deadline{};
    if (lookup_deadline_) deadline = DeadlineClock::now() + *lookup_deadline_;
    Channel& first = exact_rcode ? exact_main_ : main_;
    Channel& fallback = exact_rcode ? exact_without_edns_ : without_edns_;
    batch->ask(std::move(questions), first.handle, fallback.handle, lookup_deadline_ ? &deadlines_ : nullptr,
               deadline);  // may already have freed the batch
    reschedule_timer();
  }

  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* channel = static_cast<Channel*>(data);
    channel->owner->socket_state(channel->handle, fd, readable != 0, writable != 0);
  }

  void socket_state(ares_channel channel, int fd, bool readable, bool writable) {
    auto it = watches_.find(fd);
    if (!readable && !writable) {  // c-ares is about to close the socket
      if (it != watches_.end()) {
        release(*it->second);
        watches_.erase(it);
      }
      return;
    }
    if (it == watches_.end()) {
      auto watch = std::make_shared<SocketWatch>(executor_, channel, fd);
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
  // A TCP socket c-ares is still connecting asks for writability (the connect completing).
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
    ares_process_fd(watch->channel, direction == Direction::read ? watch->fd : ARES_SOCKET_BAD,
                    direction == Direction::write ? watch->fd : ARES_SOCKET_BAD);
    reschedule_timer();
    if (!rearm || watch->closed) return;  // a failed wait is left to the query timeout
    if (direction == Direction::read ? watch->want_read : watch->want_write) arm(watch, direction);
  }

  // One timer for all: c-ares's retries and timeouts on each channel (ares_timeout says when
  // it next needs to look) and the earliest lookup deadline.
  void reschedule_timer() {
    std::optional<DeadlineClock::time_point> wake;
    DeadlineClock::time_point now = DeadlineClock::now();
    for (const Channel* channel : all_channels()) {
      timeval next{};
      if (channel->handle == nullptr || ares_timeout(channel->handle, nullptr, &next) == nullptr) continue;
      auto when = now + std::chrono::seconds(next.tv_sec) + std::chrono::microseconds(next.tv_usec);
      if (!wake || when < *wake) wake = when;
    }
    if (!deadlines_.empty() && (!wake || deadlines_.begin()->first < *wake)) wake = deadlines_.begin()->first;
    if (!wake) {
      timer_.cancel();
      return;
    }
    timer_.expires_at(*wake);
    timer_.async_wait([weak = weak_from_this()](std::error_code error) {
      if (error == asio::error::operation_aborted) return;
      if (auto self = weak.lock()) self->on_timer();
    });
  }

  void on_timer() {
    for (const Channel* channel : all_channels())
      if (channel->handle != nullptr) ares_process_fd(channel->handle, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    DeadlineClock::time_point now = DeadlineClock::now();
    while (!deadlines_.empty() && deadlines_.begin()->first <= now)
      deadlines_.begin()->second->expire();  // removes its entry
    reschedule_timer();
  }

  asio::any_io_executor executor_;
  asio::steady_timer timer_;
  RandomSource random_;
  Channel main_;          // every question starts here (with EDNS unless configured off)
  Channel without_edns_;  // only with EDNS: for servers that answer it with FORMERR
  // The same pair for lookup_records, with ARES_FLAG_NOCHECKRESP: c-ares 1.18 would retry
  // a SERVFAIL or REFUSED on the next server and, once out of servers, report
  // ARES_ECONNREFUSED, so the RCODE (which DNSSEC-aware callers need) would be lost.
  Channel exact_main_;
  Channel exact_without_edns_;
  std::optional<std::chrono::milliseconds> lookup_deadline_;
  DeadlineList deadlines_;  // of the lookups not yet completed
  std::unordered_map<int, std::shared_ptr<SocketWatch>> watches_;
  bool shut_down_ = false;
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

void Resolver::shut_down() {
  if (impl_) impl_->shut_down();
}

// The coroutines below touch the resolver only before their first suspension: after it, the
// resolver may be gone (its destruction completes pending lookups with `shutdown`).

asio::awaitable<DnsResult<std::vector<MxRecord>>> Resolver::lookup_mx_records(std::string domain) {
  if (!impl_ || impl_->is_shut_down()) co_return dns_error(DnsFailure::shutdown, domain + ": resolver shut down");
  if (!plausible_name(domain)) co_return dns_error(DnsFailure::bad_name, domain + ": invalid domain name");
  std::vector<Question> questions(1);  // (a braced list here trips g++ 12's coroutines)
  questions[0] = Question{domain, kTypeMx};
  std::vector<QueryOutcome> outcomes = co_await impl_->ask(std::move(questions));
  co_return parse_mx_answer(outcomes.front(), domain);
}

asio::awaitable<DnsResult<std::vector<MxHost>>> Resolver::lookup_mx(std::string domain) {
  if (!impl_ || impl_->is_shut_down()) co_return dns_error(DnsFailure::shutdown, domain + ": resolver shut down");
  RandomSource random = impl_->random();
  DnsResult<std::vector<MxRecord>> records = co_await lookup_mx_records(domain);
  if (!records) co_return std::unexpected(std::move(records.error()));
  co_return plan_mx_hosts(domain, std::move(*records), random);
}

asio::awaitable<DnsResult<std::vector<asio::ip::address>>> Resolver::lookup_addresses(std::string host) {
  if (!impl_ || impl_->is_shut_down()) co_return dns_error(DnsFailure::shutdown, host + ": resolver shut down");
  if (!plausible_name(host)) co_return dns_error(DnsFailure::bad_name, host + ": invalid host name");
  std::vector<Question> questions(2);  // AAAA and A at once
  questions[0] = Question{host, kTypeAaaa};
  questions[1] = Question{host, kTypeA};
  std::vector<QueryOutcome> outcomes = co_await impl_->ask(std::move(questions));
  auto v6 = parse_address_answer(outcomes[0], AddressFamily::v6, host);
  auto v4 = parse_address_answer(outcomes[1], AddressFamily::v4, host);
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

asio::awaitable<RecordAnswer> Resolver::lookup_records(std::string name, RecordKind kind) {
  if (!impl_ || impl_->is_shut_down()) {
    RecordAnswer answer;
    answer.status = LookupStatus::shutdown;
    answer.problem = name + ": resolver shut down";
    co_return answer;
  }
  if (!plausible_name(name)) {
    RecordAnswer answer;
    answer.status = LookupStatus::bad_name;
    answer.problem = name + ": not a domain name";
    co_return answer;
  }
  std::vector<Question> questions(1);
  questions[0] = Question{name, static_cast<int>(kind)};
  std::vector<QueryOutcome> outcomes = co_await impl_->ask(std::move(questions), true);
  co_return parse_record_answer(outcomes.front(), kind, name);
}

}  // namespace postamt::dns
