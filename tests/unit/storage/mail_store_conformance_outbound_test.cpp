// The MailStore conformance suite: per-account outbound counts, correspondents and holds
// (schema version 6, issue 15 §6).
#include "mail_store_conformance.hpp"

namespace postamt::storage::test {
namespace {

using Code = StorageError::Code;

constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kNoon = 1'764'590'400;  // 2025-12-01T12:00:00Z

QueueMessage submitted(QueueMessage message, std::string account) {
  message.account = std::move(account);
  return message;
}

TEST_P(MailStoreConformance, HeldAccountsMailIsNotDueAndComesBackWhenReleased) {
  auto mine = store().enqueue(submitted(queue_message(blob('a'), {"x@remote.test"}), "alice@example.com"));
  ASSERT_TRUE(mine) << mine.error().message;
  auto other = store().enqueue(queue_message(blob('b'), {"y@remote.test"}));  // not submitted by an account
  ASSERT_TRUE(other);
  EXPECT_EQ(mine->account, "alice@example.com");
  EXPECT_EQ(store().find_queued(mine->id)->account, "alice@example.com") << "the account is stored";

  const UnixTime now = mine->created_at + 10;
  AccountHold hold{"Alice@Example.com", "messages_per_hour", "6 messages in the last hour", now - 5, 0};
  auto added = store().hold_account(hold);
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_TRUE(*added);
  EXPECT_FALSE(*store().hold_account(hold)) << "a second hold keeps the first";

  auto due = store().due_queue(now, 100);
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 1u) << "only the unheld account's mail is due";
  EXPECT_EQ((*due)[0].id, other->id);

  auto found = store().find_account_hold("alice@EXAMPLE.com");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->reason, "messages_per_hour");
  EXPECT_EQ((*found)->held_at, now - 5);
  EXPECT_EQ((*found)->held_recipients, 1u);
  auto listed = store().list_account_holds();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].detail, "6 messages in the last hour");
  EXPECT_FALSE(*store().find_account_hold("bob@example.com"));

  // Released 100 s after the hold: due at once, its lifetime clock paused for the hold.
  auto released = store().release_account_hold("alice@example.com", now + 95);
  ASSERT_TRUE(released) << released.error().message;
  EXPECT_EQ(released->reason, "messages_per_hour");
  EXPECT_FALSE(*store().find_account_hold("alice@example.com"));
  EXPECT_EQ(code_of(store().release_account_hold("alice@example.com", now + 96)), Code::not_found);
  due = store().due_queue(now + 95, 100);
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ(store().find_queued(mine->id)->created_at, mine->created_at + 100);
  EXPECT_EQ(store().find_queued(other->id)->created_at, other->created_at);
}

TEST_P(MailStoreConformance, HoldsAreValidated) {
  EXPECT_EQ(code_of(store().hold_account(AccountHold{"", "burst", "", 1, 0})), Code::invalid);
  EXPECT_EQ(code_of(store().hold_account(AccountHold{"a@example.com", "", "", 1, 0})), Code::invalid);
  EXPECT_EQ(code_of(store().hold_account(AccountHold{"a@example.com", "burst", "two\r\nlines", 1, 0})),
            Code::invalid);
}

TEST_P(MailStoreConformance, SubmissionsAreCountedPerHourWithFirstTimeRecipients) {
  OutboundSubmission first{"alice@example.com", kNoon + 10, {"x@remote.test", "Y@Remote.test", "x@REMOTE.test"}, 100};
  auto fresh = store().record_submission(first);
  ASSERT_TRUE(fresh) << fresh.error().message;
  EXPECT_EQ(*fresh, 2u) << "duplicates count once";
  OutboundSubmission second{"alice@example.com", kNoon + 20, {"y@remote.test", "z@remote.test"}, 100};
  EXPECT_EQ(*store().record_submission(second), 1u);
  OutboundSubmission later{"alice@example.com", kNoon + kHour + 5, {"x@remote.test"}, 100};
  EXPECT_EQ(*store().record_submission(later), 0u);

  auto hours = store().outbound_hours("ALICE@example.com", kNoon - kHour);
  ASSERT_TRUE(hours) << hours.error().message;
  ASSERT_EQ(hours->size(), 2u);
  EXPECT_EQ((*hours)[0].hour, kNoon);
  EXPECT_EQ((*hours)[0].messages, 2u);
  EXPECT_EQ((*hours)[0].recipients, 4u);
  EXPECT_EQ((*hours)[0].new_recipients, 3u);
  EXPECT_EQ((*hours)[1].hour, kNoon + kHour);
  EXPECT_EQ((*hours)[1].messages, 1u);
  EXPECT_TRUE(store().outbound_hours("bob@example.com", 0)->empty());

  const std::vector<std::string> asked = {"X@remote.test", "new@remote.test", "new@remote.test"};
  auto unknown = store().new_correspondents("alice@example.com", asked);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(*unknown, std::vector<std::string>{"new@remote.test"});

  // Counts survive reopening the store (a restart).
  reopen();
  EXPECT_EQ(store().outbound_hours("alice@example.com", 0)->size(), 2u);
  EXPECT_EQ(store().prune_outbound_hours(kNoon + kHour).value_or(0), 1u);
  EXPECT_EQ(store().outbound_hours("alice@example.com", 0)->size(), 1u);
}

TEST_P(MailStoreConformance, KnownCorrespondentsAreBounded) {
  for (int i = 0; i < 5; ++i) {
    OutboundSubmission one{"alice@example.com", kNoon + i, {"r" + std::to_string(i) + "@remote.test"}, 3};
    ASSERT_TRUE(store().record_submission(one));
  }
  const std::vector<std::string> all = {"r0@remote.test", "r1@remote.test", "r2@remote.test", "r3@remote.test",
                                        "r4@remote.test"};
  auto unknown = store().new_correspondents("alice@example.com", all);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(*unknown, (std::vector<std::string>{"r0@remote.test", "r1@remote.test"}))
      << "the least recently used are forgotten first";
}

TEST_P(MailStoreConformance, QueueOutcomesCountForTheSubmittingAccount) {
  auto queued = store().enqueue(
      submitted(queue_message(blob('c'), {"a@remote.test", "b@remote.test", "c@remote.test"}), "alice@example.com"));
  ASSERT_TRUE(queued);
  auto r = queued->recipients;
  r[0].state = QueueState::bounced;
  r[1].state = QueueState::delivered;
  r[2].state = QueueState::deferred;
  for (const auto& recipient : r) ASSERT_TRUE(store().update_recipient(recipient));
  r[2].state = QueueState::bounced;
  ASSERT_TRUE(store().update_recipient(r[2]));  // the last one: the message leaves the queue

  auto hours = store().outbound_hours("alice@example.com", 0);
  ASSERT_TRUE(hours);
  ASSERT_EQ(hours->size(), 1u);
  EXPECT_EQ((*hours)[0].bounced, 2u);
  EXPECT_EQ((*hours)[0].delivered, 1u);
  auto accounts = store().accounts_with_bounces(0);
  ASSERT_TRUE(accounts);
  EXPECT_EQ(*accounts, std::vector<std::string>{"alice@example.com"});

  // Release clears the last day's counts (they led to the hold).
  ASSERT_TRUE(store().hold_account(AccountHold{"alice@example.com", "bounces", "2 of 3", 0, 0}));
  ASSERT_TRUE(store().release_account_hold("alice@example.com", (*hours)[0].hour + 60));
  EXPECT_TRUE(store().outbound_hours("alice@example.com", 0)->empty());
}

}  // namespace
}  // namespace postamt::storage::test
