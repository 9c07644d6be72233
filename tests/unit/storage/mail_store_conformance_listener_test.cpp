// The MailStore conformance suite, part three: the change listener. It hears about every
// committed change of messages, with the mailbox ids, once per transaction, after the
// store's lock is released; never about failed or empty transactions.
#include <algorithm>
#include <memory>
#include <stdexcept>
#include <thread>
#include <utility>

#include "mail_store_conformance.hpp"

namespace postamt::storage::test {
namespace {

using Code = StorageError::Code;
using Uids = std::vector<std::uint32_t>;
using Flags = std::vector<std::string>;
using Calls = std::vector<std::vector<Id>>;

// Records the listener's calls.
struct Recorder {
  Calls calls;
  std::vector<std::thread::id> threads;

  // The calls since the last look.
  Calls take() { return std::exchange(calls, {}); }
};

std::shared_ptr<Recorder> listen(MailStore& store) {
  auto recorder = std::make_shared<Recorder>();
  store.set_change_listener([recorder](std::span<const Id> ids) {
    recorder->calls.emplace_back(ids.begin(), ids.end());
    recorder->threads.push_back(std::this_thread::get_id());
  });
  return recorder;
}

std::vector<Id> sorted(std::vector<Id> ids) {
  std::ranges::sort(ids);
  return ids;
}

// Two accounts, through the public interface only.
struct TwoAccounts {
  AccountRecord alice;
  AccountRecord bob;
  MailboxRecord inbox;
  MailboxRecord archive;
  MailboxRecord bob_inbox;
};

TwoAccounts two_accounts(MailStore& store) {
  TwoAccounts out;
  EXPECT_TRUE(store.add_domain("example.com"));
  auto alice = store.add_account("alice@example.com", "h");
  auto bob = store.add_account("bob@example.com", "h");
  if (!alice || !bob) {
    ADD_FAILURE() << "cannot create the accounts";
    return out;
  }
  out.alice = *alice;
  out.bob = *bob;
  out.inbox = store.find_mailbox(alice->id, "INBOX").value_or(MailboxRecord{});
  out.archive = store.find_mailbox(alice->id, "Archive").value_or(MailboxRecord{});
  out.bob_inbox = store.find_mailbox(bob->id, "INBOX").value_or(MailboxRecord{});
  return out;
}

TEST_P(MailStoreConformance, ListenerAccountAndMailboxSetUpIsNotAMessageChange) {
  const TwoAccounts w = two_accounts(store());
  auto recorder = listen(store());
  EXPECT_TRUE(recorder->take().empty());
  make_account("carol@example.com");
  ASSERT_TRUE(store().create_mailbox(w.alice.id, "Work"));
  ASSERT_TRUE(store().subscribe(w.alice.id, "Work"));
  ASSERT_TRUE(store().claim_recent(w.inbox.id));
  ASSERT_TRUE(store().set_quota("alice@example.com", 10));
  EXPECT_TRUE(recorder->take().empty());
}

TEST_P(MailStoreConformance, ListenerAppendReportsEachMailboxOnceOnTheCallingThread) {
  const TwoAccounts w = two_accounts(store());
  auto recorder = listen(store());
  append({message_for(w.bob_inbox.id, blob('1')), message_for(w.inbox.id, blob('2')),
          message_for(w.bob_inbox.id, blob('3'))});
  const Calls calls = recorder->take();
  ASSERT_EQ(calls.size(), 1u) << "one call per transaction";
  EXPECT_EQ(calls[0], sorted({w.inbox.id, w.bob_inbox.id}));
  ASSERT_EQ(recorder->threads.size(), 1u);
  EXPECT_EQ(recorder->threads[0], std::this_thread::get_id());
}

TEST_P(MailStoreConformance, ListenerFailedOrEmptyChangesAreNotReported) {
  const TwoAccounts w = two_accounts(store());
  auto recorder = listen(store());
  EXPECT_EQ(code_of(store().append_messages(std::vector<NewMessage>{
                message_for(w.inbox.id, blob('1')), message_for(w.inbox.id + 1000, blob('2'))})),
            Code::not_found);
  ASSERT_TRUE(store().append_messages({}));
  ASSERT_TRUE(store().set_quota("alice@example.com", 10));
  EXPECT_EQ(code_of(store().append_messages(
                std::vector<NewMessage>{message_for(w.inbox.id, blob('1'), 11)})),
            Code::quota_exceeded);
  EXPECT_TRUE(recorder->take().empty());

  ASSERT_TRUE(store().set_quota("alice@example.com", 0));
  append({message_for(w.inbox.id, blob('1'), 1, {"\\Seen"})});
  recorder->take();
  ASSERT_TRUE(store().set_flags(w.inbox.id, Uids{1, 9}, Flags{"\\Seen"}));  // unchanged
  auto same = store().update_flags(w.inbox.id, Uids{1}, FlagChange::add, Flags{"\\Seen"});
  ASSERT_TRUE(same);
  auto refused =
      store().update_flags(w.inbox.id, Uids{1}, FlagChange::replace, Flags{}, std::uint64_t{0});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->modified, Uids{1});
  EXPECT_EQ(code_of(store().update_flags(w.inbox.id, Uids{1}, FlagChange::add, Flags{"\\Recent"})),
            Code::invalid);
  ASSERT_TRUE(store().expunge(w.inbox.id, Uids{5}));
  ASSERT_TRUE(store().copy_messages(w.inbox.id, Uids{5}, w.archive.id, true));
  EXPECT_EQ(code_of(store().copy_messages(w.inbox.id, Uids{1}, w.archive.id + 1000, true)),
            Code::not_found);
  EXPECT_EQ(code_of(store().delete_mailbox(w.alice.id, "Nothing")), Code::not_found);
  EXPECT_EQ(code_of(store().rename_mailbox(w.alice.id, "Nothing", "Else")), Code::not_found);
  EXPECT_EQ(code_of(store().delete_account("nobody@example.com")), Code::not_found);
  EXPECT_TRUE(recorder->take().empty());
}

TEST_P(MailStoreConformance, ListenerFlagChangesExpungeCopyAndMoveAreReported) {
  const TwoAccounts w = two_accounts(store());
  auto recorder = listen(store());
  append({message_for(w.inbox.id, blob('1')), message_for(w.inbox.id, blob('2'))});
  recorder->take();
  ASSERT_TRUE(store().set_flags(w.inbox.id, Uids{1}, Flags{"\\Seen"}));
  EXPECT_EQ(recorder->take(), (Calls{{w.inbox.id}}));
  ASSERT_TRUE(store().update_flags(w.inbox.id, Uids{1, 2}, FlagChange::add, Flags{"\\Flagged"}));
  EXPECT_EQ(recorder->take(), (Calls{{w.inbox.id}}));
  ASSERT_TRUE(store().copy_messages(w.inbox.id, Uids{1}, w.archive.id, false));
  EXPECT_EQ(recorder->take(), (Calls{{w.archive.id}}));
  ASSERT_TRUE(store().copy_messages(w.inbox.id, Uids{1}, w.archive.id, true));
  EXPECT_EQ(recorder->take(), (Calls{sorted({w.inbox.id, w.archive.id})}));
  ASSERT_TRUE(store().copy_messages(w.inbox.id, Uids{2}, w.inbox.id, true));
  EXPECT_EQ(recorder->take(), (Calls{{w.inbox.id}})) << "one mailbox, reported once";
  ASSERT_TRUE(store().expunge(w.archive.id, Uids{1, 2}));
  EXPECT_EQ(recorder->take(), (Calls{{w.archive.id}}));
}

TEST_P(MailStoreConformance, ListenerDeliveriesReportOnlyTheItemsThatCommitted) {
  const TwoAccounts w = two_accounts(store());
  auto recorder = listen(store());
  DeliveryItem to_bob;
  to_bob.messages = {message_for(w.bob_inbox.id, blob('1'))};
  DeliveryItem broken;
  broken.messages = {message_for(w.archive.id, blob('2')),
                     message_for(w.inbox.id + 1000, blob('2'))};
  DeliveryItem invalid;
  invalid.messages = {message_for(w.inbox.id, "bad")};
  DeliveryItem queue_only;
  queue_only.outbound = queue_message(blob('3'), {"x@remote.test"});
  const std::vector<DeliveryItem> items = {to_bob, broken, invalid, queue_only};
  auto outcomes = store().commit_deliveries(items);
  ASSERT_TRUE(outcomes[0]);
  ASSERT_FALSE(outcomes[1]);
  ASSERT_FALSE(outcomes[2]);
  ASSERT_TRUE(outcomes[3]);
  EXPECT_EQ(recorder->take(), (Calls{{w.bob_inbox.id}}));
  const std::vector<DeliveryItem> only_queue = {queue_only};
  ASSERT_TRUE(store().commit_deliveries(only_queue)[0]);
  EXPECT_TRUE(recorder->take().empty());
}

TEST_P(MailStoreConformance, ListenerMailboxAndAccountRemovalAndRenameAreReported) {
  const TwoAccounts w = two_accounts(store());
  auto recorder = listen(store());
  auto work = store().create_mailbox(w.alice.id, "Work");
  auto child = store().create_mailbox(w.alice.id, "Work/Child");
  ASSERT_TRUE(work && child);
  ASSERT_TRUE(store().rename_mailbox(w.alice.id, "Work", "Play"));
  EXPECT_EQ(recorder->take(), (Calls{sorted({work->id, child->id})}));
  ASSERT_TRUE(store().delete_mailbox(w.alice.id, "Play/Child"));
  EXPECT_EQ(recorder->take(), (Calls{{child->id}}));

  auto mailboxes = store().list_mailboxes(w.bob.id);
  ASSERT_TRUE(mailboxes);
  std::vector<Id> bobs;
  for (const auto& mailbox : *mailboxes) bobs.push_back(mailbox.id);
  ASSERT_TRUE(store().delete_account("bob@example.com"));
  EXPECT_EQ(recorder->take(), (Calls{sorted(bobs)}));
}

TEST_P(MailStoreConformance, ListenerMayCallTheStore) {
  const TwoAccounts w = two_accounts(store());
  auto recorder = listen(store());
  std::vector<std::uint32_t> seen_counts;
  store().set_change_listener([&](std::span<const Id> ids) {
    for (const Id id : ids) {
      auto status = store().mailbox_status(id);  // would deadlock under the store's lock
      if (status) seen_counts.push_back(status->mailbox.message_count);
    }
  });
  append({message_for(w.inbox.id, blob('1')), message_for(w.inbox.id, blob('2'))});
  EXPECT_EQ(seen_counts, std::vector<std::uint32_t>{2}) << "the change is committed already";
}

TEST_P(MailStoreConformance, ListenerThatThrowsDoesNotFailTheCommittedChange) {
  const TwoAccounts w = two_accounts(store());
  auto recorder = listen(store());
  store().set_change_listener([](std::span<const Id>) { throw std::runtime_error("boom"); });
  auto rows = store().append_messages(std::vector<NewMessage>{message_for(w.inbox.id, blob('1'))});
  ASSERT_TRUE(rows) << rows.error().message;
  store().set_change_listener([](std::span<const Id>) { throw 42; });
  ASSERT_TRUE(store().expunge(w.inbox.id, Uids{1}));
  EXPECT_TRUE(messages(w.inbox.id).empty());
  auto more = store().append_messages(std::vector<NewMessage>{message_for(w.inbox.id, blob('2'))});
  ASSERT_TRUE(more);
  EXPECT_EQ((*more)[0].uid, 2u);
}

TEST_P(MailStoreConformance, ListenerSetEmptyStopsTheCalls) {
  const TwoAccounts w = two_accounts(store());
  auto recorder = listen(store());
  store().set_change_listener({});
  append({message_for(w.inbox.id, blob('1'))});
  EXPECT_TRUE(recorder->take().empty());
}

}  // namespace
}  // namespace postamt::storage::test
