#include "queue/destination.hpp"

#include <gtest/gtest.h>

#include "queue/destination_delivery.hpp"

namespace postamt::queue {
namespace {

storage::QueueMessage message(storage::Id id, std::vector<std::string> recipients) {
  storage::QueueMessage m;
  m.id = id;
  m.sender = "alice@example.test";
  storage::Id next = id * 100;
  for (auto& address : recipients) {
    storage::QueueRecipient r;
    r.id = ++next;
    r.message_id = id;
    r.address = std::move(address);
    m.recipients.push_back(std::move(r));
  }
  return m;
}

TEST(RecipientDomain, IsTheLowerCasedTextAfterTheLastAt) {
  EXPECT_EQ(recipient_domain("bob@Remote.TEST"), "remote.test");
  EXPECT_EQ(recipient_domain("\"a@b\"@example.org"), "example.org");
  EXPECT_EQ(recipient_domain("postmaster"), "");
}

TEST(GroupByDestination, SplitsMessagesByDomainKeepingOrder) {
  std::vector<storage::QueueMessage> due;
  due.push_back(message(1, {"a@one.test", "b@two.test", "c@ONE.test"}));
  due.push_back(message(2, {"d@two.test"}));
  const auto jobs = group_by_destination(std::move(due), false);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].domain, "one.test");
  ASSERT_EQ(jobs[0].messages.size(), 1u);
  ASSERT_EQ(jobs[0].messages[0].recipients.size(), 2u);
  EXPECT_EQ(jobs[0].messages[0].recipients[0].address, "a@one.test");
  EXPECT_EQ(jobs[0].messages[0].recipients[1].address, "c@ONE.test");
  EXPECT_EQ(jobs[0].messages[0].sender, "alice@example.test");
  EXPECT_EQ(jobs[1].domain, "two.test");
  ASSERT_EQ(jobs[1].messages.size(), 2u);
  EXPECT_EQ(jobs[1].messages[0].id, 1);
  EXPECT_EQ(jobs[1].messages[1].id, 2);
}

TEST(GroupByDestination, ARelayHostTakesEverythingInOneJob) {
  std::vector<storage::QueueMessage> due;
  due.push_back(message(1, {"a@one.test", "b@two.test"}));
  due.push_back(message(2, {"d@three.test"}));
  const auto jobs = group_by_destination(std::move(due), true);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].domain, "");
  ASSERT_EQ(jobs[0].messages.size(), 2u);
  EXPECT_EQ(jobs[0].messages[0].recipients.size(), 2u);
}

TEST(ParseRelayhost, AcceptsNamesAddressesAndPorts) {
  auto plain = parse_relayhost("smtp.example.test:587");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->host, "smtp.example.test");
  EXPECT_EQ(plain->port, 587);
  auto v6 = parse_relayhost("[2001:db8::1]:2525");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "2001:db8::1");
  EXPECT_EQ(v6->port, 2525);
  auto bare = parse_relayhost("relay.test");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->port, 25);
  EXPECT_FALSE(parse_relayhost(""));
  EXPECT_FALSE(parse_relayhost("host:0"));
  EXPECT_FALSE(parse_relayhost("host:99999"));
  EXPECT_FALSE(parse_relayhost("[::1"));
  EXPECT_FALSE(parse_relayhost("host:25x"));
}

}  // namespace
}  // namespace postamt::queue

namespace postamt::queue {
namespace {

TEST(HostsBeyondSelf, DropsOurselvesAndLessPreferredHosts) {
  const std::vector<dns::MxHost> hosts = {{"mx1.remote.test", 5, false},
                                          {"mail.example.test", 10, false},
                                          {"peer.example.test", 10, false},
                                          {"backup.remote.test", 20, false}};
  const auto left = hosts_beyond_self(hosts, "Mail.Example.TEST.");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].host, "mx1.remote.test");
  EXPECT_EQ(hosts_beyond_self(hosts, "other.example.test"), hosts) << "not an MX: all hosts stay";
  EXPECT_TRUE(hosts_beyond_self({{"mail.example.test", 0, true}}, "mail.example.test").empty())
      << "the only route is ourselves: a loop";
}

}  // namespace
}  // namespace postamt::queue
