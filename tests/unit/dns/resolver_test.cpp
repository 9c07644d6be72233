// The resolver against a real DNS server (zone_fixture.hpp): answers, failures, lifetime.
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>

#include <set>

#include "dns/resolver.hpp"
#include "zone_fixture.hpp"

namespace postamt::dns {
namespace {

using namespace std::chrono_literals;
using testing::texts;

class ResolverTest : public testing::ZoneServerTest {};

TEST_F(ResolverTest, MxHostsInPreferenceOrder) {
  auto hosts = run(resolver().lookup_mx("multi.test"));
  ASSERT_TRUE(hosts) << hosts.error().message;
  ASSERT_EQ(hosts->size(), 4u);
  EXPECT_EQ((*hosts)[0], (MxHost{"mx-first.multi.test", 5, false}));
  EXPECT_EQ((std::set<std::string>{(*hosts)[1].host, (*hosts)[2].host}),
            (std::set<std::string>{"mx-a.multi.test", "mx-b.multi.test"}));
  EXPECT_EQ((*hosts)[1].preference, 10);
  EXPECT_EQ((*hosts)[3], (MxHost{"mx-c.multi.test", 20, false}));
}

TEST_F(ResolverTest, RawMxRecords) {
  auto records = run(resolver().lookup_mx_records("multi.test"));
  ASSERT_TRUE(records) << records.error().message;
  EXPECT_EQ(records->size(), 4u);
}

TEST_F(ResolverTest, NullMxIsPermanent) {
  auto hosts = run(resolver().lookup_mx("nullmx.test"));
  ASSERT_FALSE(hosts);
  EXPECT_EQ(hosts.error().failure, DnsFailure::null_mx);
  EXPECT_TRUE(hosts.error().permanent());
}

TEST_F(ResolverTest, NoMxRecordsIsImplicitMx) {
  auto hosts = run(resolver().lookup_mx("implicit.test"));
  ASSERT_TRUE(hosts) << hosts.error().message;
  EXPECT_EQ(*hosts, (std::vector<MxHost>{MxHost{"implicit.test", 0, true}}));
}

TEST_F(ResolverTest, NxDomainIsPermanent) {
  auto hosts = run(resolver().lookup_mx("nosuch.test"));
  ASSERT_FALSE(hosts);
  EXPECT_EQ(hosts.error().failure, DnsFailure::no_such_domain);
  EXPECT_TRUE(hosts.error().permanent());
  auto addresses = run(resolver().lookup_addresses("nosuch.test"));
  ASSERT_FALSE(addresses);
  EXPECT_EQ(addresses.error().failure, DnsFailure::no_such_domain);
}

TEST_F(ResolverTest, ServFailIsTemporary) {
  auto hosts = run(resolver().lookup_mx("servfail.test"));
  ASSERT_FALSE(hosts);
  // c-ares 1.18 reports the retried SERVFAIL as ARES_ECONNREFUSED (refused) or ESERVFAIL.
  EXPECT_TRUE(hosts.error().failure == DnsFailure::server_failure ||
              hosts.error().failure == DnsFailure::refused) << hosts.error().message;
  EXPECT_TRUE(hosts.error().temporary());
  auto addresses = run(resolver().lookup_addresses("servfail.test"));
  ASSERT_FALSE(addresses);
  EXPECT_TRUE(addresses.error().temporary());
}

TEST_F(ResolverTest, RefusedIsTemporary) {
  auto hosts = run(resolver().lookup_mx("refused.test"));
  ASSERT_FALSE(hosts);
  EXPECT_EQ(hosts.error().failure, DnsFailure::refused);
  EXPECT_TRUE(hosts.error().temporary());
}

TEST_F(ResolverTest, SilenceIsATimeout) {
  auto started = std::chrono::steady_clock::now();
  auto hosts = run(resolver().lookup_mx("silent.test"));
  auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(hosts);
  EXPECT_EQ(hosts.error().failure, DnsFailure::timeout);
  EXPECT_TRUE(hosts.error().temporary());
  EXPECT_GE(elapsed, 600ms);
  EXPECT_LT(elapsed, 2s);
}

TEST_F(ResolverTest, AddressesIpv6First) {
  auto addresses = run(resolver().lookup_addresses("host.test"));
  ASSERT_TRUE(addresses) << addresses.error().message;
  EXPECT_EQ(texts(*addresses), (std::vector<std::string>{"2001:db8::1", "192.0.2.1", "192.0.2.2"}));
}

TEST_F(ResolverTest, AddressesOfOneFamily) {
  auto addresses = run(resolver().lookup_addresses("v4only.test"));
  ASSERT_TRUE(addresses) << addresses.error().message;
  EXPECT_EQ(texts(*addresses), (std::vector<std::string>{"192.0.2.3"}));
}

TEST_F(ResolverTest, CnameIsFollowed) {
  auto addresses = run(resolver().lookup_addresses("alias.test"));
  ASSERT_TRUE(addresses) << addresses.error().message;
  EXPECT_EQ(texts(*addresses), (std::vector<std::string>{"2001:db8::1", "192.0.2.1", "192.0.2.2"}));
}

TEST_F(ResolverTest, NoDataIsAnEmptyList) {
  auto addresses = run(resolver().lookup_addresses("nullmx.test"));  // only an MX record
  ASSERT_TRUE(addresses) << addresses.error().message;
  EXPECT_TRUE(addresses->empty());
}

TEST_F(ResolverTest, ConcurrentLookupsShareTheLoop) {
  std::vector<DnsResult<std::vector<asio::ip::address>>> results(3);
  const char* names[] = {"host.test", "silent.test", "v4only.test"};
  int done = 0;
  for (int i = 0; i < 3; ++i)
    asio::co_spawn(io_, resolver().lookup_addresses(names[i]),
                   [&, i](std::exception_ptr e, DnsResult<std::vector<asio::ip::address>> value) {
                     if (e) std::rethrow_exception(e);
                     results[i] = std::move(value);
                     ++done;
                   });
  io_.run_for(5s);
  ASSERT_EQ(done, 3);
  ASSERT_TRUE(results[0]);
  EXPECT_EQ(results[0]->size(), 3u);
  ASSERT_FALSE(results[1]);
  EXPECT_EQ(results[1].error().failure, DnsFailure::timeout);
  ASSERT_TRUE(results[2]);
  EXPECT_EQ(results[2]->size(), 1u);
}

TEST_F(ResolverTest, DestroyingTheResolverEndsPendingLookups) {
  std::optional<DnsResult<std::vector<MxHost>>> result;
  asio::co_spawn(io_, resolver().lookup_mx("silent.test"),
                 [&](std::exception_ptr e, DnsResult<std::vector<MxHost>> value) {
                   if (e) std::rethrow_exception(e);
                   result = std::move(value);
                 });
  asio::steady_timer timer(io_, 50ms);
  timer.async_wait([&](std::error_code) { resolver_.reset(); });
  auto started = std::chrono::steady_clock::now();
  io_.run_for(5s);
  ASSERT_TRUE(result.has_value());
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error().failure, DnsFailure::shutdown);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 500ms);
}

// A stopping server shuts its resolver down while it still holds it: the lookup waiting on a
// silent server ends at once, and a lookup asked afterwards does not wait at all.
TEST_F(ResolverTest, ShutDownEndsPendingAndLaterLookups) {
  std::optional<DnsResult<std::vector<MxHost>>> pending;
  std::optional<DnsResult<std::vector<asio::ip::address>>> later;
  asio::co_spawn(io_, resolver().lookup_mx("silent.test"),
                 [&](std::exception_ptr e, DnsResult<std::vector<MxHost>> value) {
                   if (e) std::rethrow_exception(e);
                   pending = std::move(value);
                 });
  asio::steady_timer timer(io_, 50ms);
  timer.async_wait([&](std::error_code) {
    resolver().shut_down();
    asio::co_spawn(io_, resolver().lookup_addresses("host.test"),
                   [&](std::exception_ptr e, DnsResult<std::vector<asio::ip::address>> value) {
                     if (e) std::rethrow_exception(e);
                     later = std::move(value);
                   });
  });
  auto started = std::chrono::steady_clock::now();
  io_.run_for(5s);
  ASSERT_TRUE(pending.has_value());
  ASSERT_FALSE(*pending);
  EXPECT_EQ(pending->error().failure, DnsFailure::shutdown);
  ASSERT_TRUE(later.has_value());
  ASSERT_FALSE(*later);
  EXPECT_EQ(later->error().failure, DnsFailure::shutdown);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 500ms);
}

TEST_F(ResolverTest, NoServerListeningIsTemporary) {
  asio::ip::udp::socket probe(io_, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  int closed_port = probe.local_endpoint().port();
  probe.close();
  ResolverOptions settings = options();
  settings.servers = {"127.0.0.1:" + std::to_string(closed_port)};
  auto created = Resolver::create(io_.get_executor(), settings);
  ASSERT_TRUE(created);
  resolver_.emplace(std::move(*created));
  auto hosts = run(resolver().lookup_mx("multi.test"));
  ASSERT_FALSE(hosts);
  EXPECT_TRUE(hosts.error().temporary()) << hosts.error().message;
}

TEST_F(ResolverTest, InvalidNamesAndServersAreRejected) {
  auto hosts = run(resolver().lookup_mx(std::string(300, 'a')));
  ASSERT_FALSE(hosts);
  EXPECT_EQ(hosts.error().failure, DnsFailure::bad_name);
  ResolverOptions settings = options();
  settings.servers = {"not an address"};
  EXPECT_FALSE(Resolver::create(io_.get_executor(), settings));
}

}  // namespace
}  // namespace postamt::dns
