// The MailStore conformance suite, part two: what the IMAP server needs (schema version 2):
// mailbox status, summaries, fetch, STORE with UNCHANGEDSINCE, expunge records,
// COPY/MOVE, \Recent and quota.
#include <algorithm>
#include <limits>
#include <random>
#include <set>

#include "mail_store_conformance.hpp"

namespace postamt::storage::test {
namespace {

using Code = StorageError::Code;
using Uids = std::vector<std::uint32_t>;
using Flags = std::vector<std::string>;

MailboxStatus status_of(MailStore& store, Id mailbox_id) {
  auto status = store.mailbox_status(mailbox_id);
  EXPECT_TRUE(status) << status.error().message;
  return status ? *status : MailboxStatus{};
}

std::vector<MessageSummary> summaries(MailStore& store, Id mailbox_id,
                                      std::uint64_t changed_since = 0) {
  auto rows = store.list_summaries(mailbox_id, changed_since);
  EXPECT_TRUE(rows) << rows.error().message;
  return rows ? *rows : std::vector<MessageSummary>{};
}

Uids uids_of(const std::vector<MessageSummary>& rows) {
  Uids out;
  for (const auto& row : rows) out.push_back(row.uid);
  return out;
}

Uids uids_of(const std::vector<MessageRecord>& rows) {
  Uids out;
  for (const auto& row : rows) out.push_back(row.uid);
  return out;
}

FlagUpdateResult store_flags(MailStore& store, Id mailbox_id, Uids uids, FlagChange change,
                             Flags flags, std::optional<std::uint64_t> unchanged_since = {}) {
  auto result = store.update_flags(mailbox_id, uids, change, flags, unchanged_since);
  EXPECT_TRUE(result) << result.error().message;
  return result ? *result : FlagUpdateResult{};
}

// --- find_mailbox_by_id, mailbox_status

TEST_P(MailStoreConformance, FindMailboxById) {
  const AccountRecord account = make_account();
  const MailboxRecord sent = mailbox(account.id, "Sent");
  append({message_for(sent.id, blob('1'), 70)});
  auto found = store().find_mailbox_by_id(sent.id);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->name, "Sent");
  EXPECT_EQ(found->account_id, account.id);
  EXPECT_EQ(found->uidvalidity, sent.uidvalidity);
  EXPECT_EQ(found->special_use, SpecialUse::sent);
  EXPECT_EQ(found->uidnext, 2u);
  EXPECT_EQ(found->message_count, 1u);
  EXPECT_EQ(found->total_size, 70u);
  EXPECT_EQ(code_of(store().find_mailbox_by_id(sent.id + 1000)), Code::not_found);
}

TEST_P(MailStoreConformance, MailboxStatusCountsUnseenDeletedAndRecent) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  MailboxStatus empty = status_of(store(), inbox.id);
  EXPECT_EQ(empty.mailbox.id, inbox.id);
  EXPECT_EQ(empty.mailbox.message_count, 0u);
  EXPECT_EQ(empty.unseen, 0u);
  EXPECT_EQ(empty.deleted, 0u);
  EXPECT_EQ(empty.recent, 0u);

  append({message_for(inbox.id, blob('1'), 10, {"\\Seen"}),
          message_for(inbox.id, blob('2'), 20, {"\\Deleted", "\\Seen"}),
          message_for(inbox.id, blob('3'), 30, {"$Seen", "\\Deleted"}),
          message_for(inbox.id, blob('4'), 40, {})});
  MailboxStatus status = status_of(store(), inbox.id);
  EXPECT_EQ(status.mailbox.message_count, 4u);
  EXPECT_EQ(status.mailbox.total_size, 100u);
  EXPECT_EQ(status.mailbox.uidnext, 5u);
  EXPECT_EQ(status.unseen, 2u) << "the keyword $Seen is not \\Seen";
  EXPECT_EQ(status.deleted, 2u);
  EXPECT_EQ(status.recent, 4u);

  store_flags(store(), inbox.id, {3, 4}, FlagChange::add, {"\\seen"});
  store_flags(store(), inbox.id, {2}, FlagChange::remove, {"\\DELETED"});
  status = status_of(store(), inbox.id);
  EXPECT_EQ(status.unseen, 0u);
  EXPECT_EQ(status.deleted, 1u);

  ASSERT_TRUE(store().set_flags(inbox.id, Uids{1, 2}, Flags{"\\Deleted"}));
  status = status_of(store(), inbox.id);
  EXPECT_EQ(status.unseen, 2u);
  EXPECT_EQ(status.deleted, 3u);

  ASSERT_TRUE(store().expunge(inbox.id, Uids{1, 3}));
  status = status_of(store(), inbox.id);
  EXPECT_EQ(status.mailbox.message_count, 2u);
  EXPECT_EQ(status.unseen, 1u);
  EXPECT_EQ(status.deleted, 1u);
  EXPECT_EQ(status.recent, 2u);
  EXPECT_EQ(code_of(store().mailbox_status(inbox.id + 1000)), Code::not_found);
}

// The counters the store keeps must always agree with the messages, whatever happens.
TEST_P(MailStoreConformance, MailboxStatusAgreesWithTheMessagesAfterRandomChanges) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  const MailboxRecord archive = mailbox(account.id, "Archive");
  const Flags pool = {"\\Seen", "\\Deleted", "\\Flagged", "$Label", "\\Answered"};
  std::mt19937 random(42);
  auto pick_flags = [&] {
    Flags flags;
    for (const auto& flag : pool)
      if (random() % 2 == 0) flags.push_back(flag);
    return flags;
  };
  auto pick_uids = [&](Id mailbox_id) {
    Uids uids;
    for (const auto& row : summaries(store(), mailbox_id))
      if (random() % 3 == 0) uids.push_back(row.uid);
    return uids;
  };
  for (int round = 0; round < 60; ++round) {
    const Id target = random() % 4 == 0 ? archive.id : inbox.id;
    switch (random() % 6) {
      case 0:
      case 1:
        append({message_for(target, blob(static_cast<char>('a' + random() % 6)), 1 + random() % 50,
                            pick_flags())});
        break;
      case 2:
        store_flags(store(), target, pick_uids(target), static_cast<FlagChange>(random() % 3),
                    pick_flags());
        break;
      case 3:
        ASSERT_TRUE(store().set_flags(target, pick_uids(target), pick_flags()));
        break;
      case 4:
        ASSERT_TRUE(store().expunge(target, pick_uids(target)));
        break;
      case 5:
        ASSERT_TRUE(store().copy_messages(target, pick_uids(target),
                                          target == inbox.id ? archive.id : inbox.id,
                                          random() % 2 == 0));
        break;
    }
  }
  for (const Id id : {inbox.id, archive.id}) {
    const auto rows = summaries(store(), id);
    std::uint32_t unseen = 0;
    std::uint32_t deleted = 0;
    std::uint64_t size = 0;
    for (const auto& row : rows) {
      unseen += std::ranges::count(row.flags, std::string("\\Seen")) == 0 ? 1 : 0;
      deleted += std::ranges::count(row.flags, std::string("\\Deleted")) == 1 ? 1 : 0;
      size += row.size;
    }
    const MailboxStatus status = status_of(store(), id);
    EXPECT_EQ(status.mailbox.message_count, rows.size());
    EXPECT_EQ(status.mailbox.total_size, size);
    EXPECT_EQ(status.unseen, unseen);
    EXPECT_EQ(status.deleted, deleted);
  }
}

// --- summaries and fetch

TEST_P(MailStoreConformance, ListSummariesInUidOrderAndChangedSince) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  NewMessage first = message_for(inbox.id, blob('1'), 11, {"\\Seen", "$A"});
  first.internal_date = 1'600'000'000;
  const auto rows =
      append({first, message_for(inbox.id, blob('2'), 22), message_for(inbox.id, blob('3'), 33)});
  ASSERT_EQ(rows.size(), 3u);

  const auto all = summaries(store(), inbox.id);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(uids_of(all), (Uids{1, 2, 3}));
  EXPECT_EQ(all[0].modseq, rows[0].modseq);
  EXPECT_EQ(all[0].flags, (Flags{"$A", "\\Seen"}));
  EXPECT_EQ(all[0].internal_date, 1'600'000'000);
  EXPECT_EQ(all[0].size, 11u);
  EXPECT_EQ(all[2].size, 33u);

  EXPECT_EQ(uids_of(summaries(store(), inbox.id, rows[1].modseq)), (Uids{3}));
  EXPECT_TRUE(summaries(store(), inbox.id, rows[2].modseq).empty());
  store_flags(store(), inbox.id, {1}, FlagChange::add, {"\\Flagged"});
  const auto changed = summaries(store(), inbox.id, rows[2].modseq);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].uid, 1u);
  EXPECT_GT(changed[0].modseq, rows[2].modseq);
  EXPECT_EQ(changed[0].flags, (Flags{"$A", "\\Flagged", "\\Seen"}));
  EXPECT_EQ(uids_of(summaries(store(), inbox.id, rows[1].modseq)), (Uids{1, 3}));
  EXPECT_TRUE(summaries(store(), inbox.id, std::numeric_limits<std::uint64_t>::max()).empty());
  EXPECT_EQ(code_of(store().list_summaries(inbox.id + 1000)), Code::not_found);
}

TEST_P(MailStoreConformance, ListSummariesAfterAUid) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  append({message_for(inbox.id, blob('1')), message_for(inbox.id, blob('2')),
          message_for(inbox.id, blob('3'))});
  ASSERT_TRUE(store().expunge(inbox.id, Uids{2}));
  auto after = store().list_summaries_after(inbox.id, 1);
  ASSERT_TRUE(after);
  EXPECT_EQ(uids_of(*after), (Uids{3}));
  after = store().list_summaries_after(inbox.id, 0);
  ASSERT_TRUE(after);
  EXPECT_EQ(uids_of(*after), (Uids{1, 3}));
  after = store().list_summaries_after(inbox.id, 3);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->empty());
  after = store().list_summaries_after(inbox.id, std::numeric_limits<std::uint32_t>::max());
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->empty());
  EXPECT_EQ(code_of(store().list_summaries_after(inbox.id + 1000, 0)), Code::not_found);
}

TEST_P(MailStoreConformance, FetchMessagesReturnsExistingUidsInOrder) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  const MailboxRecord other = mailbox(account.id, "Archive");
  append({message_for(inbox.id, blob('1'), 1), message_for(inbox.id, blob('2'), 2),
          message_for(inbox.id, blob('3'), 3, {"\\Seen"}), message_for(other.id, blob('4'))});
  auto fetched = store().fetch_messages(inbox.id, Uids{3, 1, 3, 99, 1, 0});
  ASSERT_TRUE(fetched) << fetched.error().message;
  ASSERT_EQ(uids_of(*fetched), (Uids{1, 3}));
  EXPECT_EQ((*fetched)[1].blob_id, blob('3'));
  EXPECT_EQ((*fetched)[1].flags, Flags{"\\Seen"});
  EXPECT_EQ((*fetched)[1].size, 3u);
  EXPECT_EQ((*fetched)[1].mailbox_id, inbox.id);
  EXPECT_EQ((*fetched)[1].mime_metadata, std::string("meta\0data", 9));
  EXPECT_EQ((*fetched)[1].modseq, messages(inbox.id)[2].modseq);

  auto none = store().fetch_messages(inbox.id, Uids{});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto missing = store().fetch_messages(inbox.id, Uids{4, 5});
  ASSERT_TRUE(missing);
  EXPECT_TRUE(missing->empty());
  EXPECT_EQ(code_of(store().fetch_messages(inbox.id + 1000, Uids{1})), Code::not_found);
}

TEST_P(MailStoreConformance, FetchMessageBlobsIsFetchMessagesWithoutMetadata) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  append({message_for(inbox.id, blob('1'), 1), message_for(inbox.id, blob('2'), 2),
          message_for(inbox.id, blob('3'), 3, {"\\Seen"})});
  auto full = store().fetch_messages(inbox.id, Uids{3, 1, 99});
  auto light = store().fetch_message_blobs(inbox.id, Uids{3, 1, 99});
  ASSERT_TRUE(full && light);
  ASSERT_EQ(uids_of(*light), (Uids{1, 3}));
  for (std::size_t i = 0; i < light->size(); ++i) {
    EXPECT_EQ((*light)[i].blob_id, (*full)[i].blob_id);
    EXPECT_EQ((*light)[i].flags, (*full)[i].flags);
    EXPECT_EQ((*light)[i].size, (*full)[i].size);
    EXPECT_EQ((*light)[i].modseq, (*full)[i].modseq);
    EXPECT_EQ((*light)[i].id, (*full)[i].id);
    EXPECT_TRUE((*light)[i].mime_metadata.empty());
    EXPECT_FALSE((*full)[i].mime_metadata.empty());
  }
  EXPECT_EQ(code_of(store().fetch_message_blobs(inbox.id + 1000, Uids{1})), Code::not_found);
}

TEST_P(MailStoreConformance, FetchMessagesHandlesLongUidLists) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  std::vector<NewMessage> batch;
  for (int i = 0; i < 1000; ++i) batch.push_back(message_for(inbox.id, blob('1'), 1 + i));
  append(batch);
  // Every third UID, backwards, with duplicates and UIDs beyond UIDNEXT.
  Uids wanted;
  Uids expected;
  for (std::uint32_t uid = 1; uid <= 1000; uid += 3) expected.push_back(uid);
  for (auto it = expected.rbegin(); it != expected.rend(); ++it) {
    wanted.push_back(*it);
    wanted.push_back(*it);
    wanted.push_back(5000 + *it);
  }
  auto fetched = store().fetch_messages(inbox.id, wanted);
  ASSERT_TRUE(fetched) << fetched.error().message;
  EXPECT_EQ(uids_of(*fetched), expected);
  for (const auto& row : *fetched) EXPECT_EQ(row.size, row.uid);
}

// --- update_flags

TEST_P(MailStoreConformance, UpdateFlagsReplaceAddAndRemove) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  const auto rows = append({message_for(inbox.id, blob('1'), 1, {"\\Seen", "$Work"}),
                            message_for(inbox.id, blob('2'), 2, {}),
                            message_for(inbox.id, blob('3'), 3, {"\\Flagged"})});
  const std::uint64_t before = mailbox(account.id, "INBOX").highestmodseq;

  // Add: message 1 has \Seen already; $work matches $Work and keeps the stored spelling.
  FlagUpdateResult added =
      store_flags(store(), inbox.id, {3, 1, 2, 2, 77}, FlagChange::add, {"\\seen", "$work"});
  ASSERT_EQ(added.changed.size(), 2u);
  EXPECT_TRUE(added.modified.empty());
  EXPECT_EQ(added.changed[0].uid, 2u);
  EXPECT_EQ(added.changed[0].flags, (Flags{"$work", "\\Seen"}));
  EXPECT_EQ(added.changed[0].size, 2u);
  EXPECT_EQ(added.changed[0].internal_date, rows[1].internal_date);
  EXPECT_EQ(added.changed[1].uid, 3u);
  EXPECT_EQ(added.changed[1].flags, (Flags{"$work", "\\Flagged", "\\Seen"}));
  EXPECT_GT(added.changed[0].modseq, before);
  EXPECT_GT(added.changed[1].modseq, added.changed[0].modseq) << "one MODSEQ per message";
  EXPECT_EQ(mailbox(account.id, "INBOX").highestmodseq, added.changed[1].modseq);
  auto listed = messages(inbox.id);
  EXPECT_EQ(listed[0].modseq, rows[0].modseq) << "no real change, no new MODSEQ";
  EXPECT_EQ(listed[0].flags, (Flags{"$Work", "\\Seen"}));
  EXPECT_EQ(listed[1].modseq, added.changed[0].modseq);
  EXPECT_EQ(listed[2].flags, added.changed[1].flags);

  // Remove compares case-insensitively; flags the message lacks are ignored.
  FlagUpdateResult removed =
      store_flags(store(), inbox.id, {1, 2, 3}, FlagChange::remove, {"$WORK", "\\Answered"});
  ASSERT_EQ(uids_of(removed.changed), (Uids{1, 2, 3}));
  EXPECT_EQ(removed.changed[0].flags, Flags{"\\Seen"});
  EXPECT_EQ(removed.changed[1].flags, Flags{"\\Seen"});
  EXPECT_EQ(removed.changed[2].flags, (Flags{"\\Flagged", "\\Seen"}));

  // Replace.
  FlagUpdateResult replaced =
      store_flags(store(), inbox.id, {1, 2}, FlagChange::replace, {"\\Draft"});
  EXPECT_EQ(uids_of(replaced.changed), (Uids{1, 2}));
  EXPECT_EQ(messages(inbox.id)[0].flags, Flags{"\\Draft"});
  FlagUpdateResult cleared = store_flags(store(), inbox.id, {2}, FlagChange::replace, {});
  ASSERT_EQ(cleared.changed.size(), 1u);
  EXPECT_TRUE(cleared.changed[0].flags.empty());

  // Nothing to change: no MODSEQ moves.
  const std::uint64_t settled = mailbox(account.id, "INBOX").highestmodseq;
  EXPECT_TRUE(store_flags(store(), inbox.id, {1}, FlagChange::add, {"\\draft"}).changed.empty());
  EXPECT_TRUE(store_flags(store(), inbox.id, {2}, FlagChange::remove, {"\\Seen"}).changed.empty());
  EXPECT_TRUE(
      store_flags(store(), inbox.id, {1}, FlagChange::replace, {"\\Draft"}).changed.empty());
  EXPECT_TRUE(store_flags(store(), inbox.id, {}, FlagChange::replace, {"\\Seen"}).changed.empty());
  EXPECT_TRUE(store_flags(store(), inbox.id, {50}, FlagChange::add, {"\\Seen"}).changed.empty());
  EXPECT_EQ(mailbox(account.id, "INBOX").highestmodseq, settled);
}

TEST_P(MailStoreConformance, UpdateFlagsUnchangedSince) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  const auto rows = append({message_for(inbox.id, blob('1')), message_for(inbox.id, blob('2')),
                            message_for(inbox.id, blob('3'))});
  // Message 2 changes after the client last looked (its MODSEQ passes rows[2].modseq).
  const std::uint64_t seen = rows[2].modseq;
  store_flags(store(), inbox.id, {2}, FlagChange::add, {"$Other"});

  // RFC 7162 §3.1.3: message 2 is left alone and reported; 1 and 3 change.
  FlagUpdateResult result =
      store_flags(store(), inbox.id, {1, 2, 3}, FlagChange::add, {"\\Seen"}, seen);
  EXPECT_EQ(uids_of(result.changed), (Uids{1, 3}));
  EXPECT_EQ(result.modified, Uids{2});
  EXPECT_EQ(messages(inbox.id)[1].flags, Flags{"$Other"});

  // A message whose MODSEQ equals UNCHANGEDSINCE passes the test.
  const std::uint64_t now = messages(inbox.id)[0].modseq;
  result = store_flags(store(), inbox.id, {1}, FlagChange::add, {"\\Flagged"}, now);
  EXPECT_EQ(uids_of(result.changed), (Uids{1}));
  EXPECT_TRUE(result.modified.empty());

  // A message that passes but would not change is neither changed nor modified.
  const std::uint64_t highest = mailbox(account.id, "INBOX").highestmodseq;
  result = store_flags(store(), inbox.id, {1, 3}, FlagChange::add, {"\\Seen"}, highest);
  EXPECT_TRUE(result.changed.empty());
  EXPECT_TRUE(result.modified.empty());

  // UNCHANGEDSINCE 0 fails for every message (every MODSEQ is at least 1).
  result = store_flags(store(), inbox.id, {3, 1, 2, 9}, FlagChange::replace, {}, 0);
  EXPECT_TRUE(result.changed.empty());
  EXPECT_EQ(result.modified, (Uids{1, 2, 3}));
  EXPECT_EQ(mailbox(account.id, "INBOX").highestmodseq, highest);
}

TEST_P(MailStoreConformance, UpdateFlagsRefusesRecentAndBadFlags) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  append({message_for(inbox.id, blob('1'))});
  for (const std::string& flag : {std::string("\\Recent"), std::string("\\RECENT"),
                                  std::string("a b"), std::string(""), std::string("(x")}) {
    for (const FlagChange change : {FlagChange::replace, FlagChange::add, FlagChange::remove})
      EXPECT_EQ(code_of(store().update_flags(inbox.id, Uids{1}, change, Flags{flag})),
                Code::invalid)
          << flag;
  }
  EXPECT_TRUE(messages(inbox.id)[0].flags.empty());
  EXPECT_EQ(
      code_of(store().update_flags(inbox.id + 1000, Uids{1}, FlagChange::add, Flags{"\\Seen"})),
      Code::not_found);
}

// --- expunge records

TEST_P(MailStoreConformance, ExpungedSinceListsRemovedUidsByModseq) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  append({message_for(inbox.id, blob('1')), message_for(inbox.id, blob('2')),
          message_for(inbox.id, blob('3')), message_for(inbox.id, blob('4'))});
  const std::uint64_t m0 = mailbox(account.id, "INBOX").highestmodseq;
  ASSERT_TRUE(store().expunge(inbox.id, Uids{3, 1, 3, 42}));
  const std::uint64_t m1 = mailbox(account.id, "INBOX").highestmodseq;
  EXPECT_GT(m1, m0);
  ASSERT_TRUE(store().expunge(inbox.id, Uids{2}));
  const std::uint64_t m2 = mailbox(account.id, "INBOX").highestmodseq;
  EXPECT_GT(m2, m1);

  auto since = store().expunged_since(inbox.id, 0);
  ASSERT_TRUE(since);
  EXPECT_EQ(*since, (Uids{1, 2, 3}));
  since = store().expunged_since(inbox.id, m0);
  ASSERT_TRUE(since);
  EXPECT_EQ(*since, (Uids{1, 2, 3}));
  since = store().expunged_since(inbox.id, m1);
  ASSERT_TRUE(since);
  EXPECT_EQ(*since, Uids{2});
  since = store().expunged_since(inbox.id, m2);
  ASSERT_TRUE(since);
  EXPECT_TRUE(since->empty());

  ASSERT_TRUE(store().expunge(inbox.id, Uids{1, 2}));  // gone already: no record, no MODSEQ
  EXPECT_EQ(mailbox(account.id, "INBOX").highestmodseq, m2);
  EXPECT_EQ(code_of(store().expunged_since(inbox.id + 1000, 0)), Code::not_found);
}

TEST_P(MailStoreConformance, ExpungeRecordsGoWithTheirMailbox) {
  const AccountRecord account = make_account();
  auto work = store().create_mailbox(account.id, "Work");
  ASSERT_TRUE(work);
  append({message_for(work->id, blob('1'))});
  ASSERT_TRUE(store().expunge(work->id, Uids{1}));
  ASSERT_TRUE(store().delete_mailbox(account.id, "Work"));
  EXPECT_EQ(code_of(store().expunged_since(work->id, 0)), Code::not_found);
  auto again = store().create_mailbox(account.id, "Work");
  ASSERT_TRUE(again);
  auto since = store().expunged_since(again->id, 0);
  ASSERT_TRUE(since);
  EXPECT_TRUE(since->empty());
}

// --- copy and move

TEST_P(MailStoreConformance, CopyKeepsFlagsDateBlobAndMetadata) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  const MailboxRecord archive = mailbox(account.id, "Archive");
  append({message_for(archive.id, blob('0'))});  // the destination has UID 1 in use
  NewMessage third = message_for(inbox.id, blob('3'), 33, {"\\Seen", "$Label"});
  third.internal_date = 1'500'000'000;
  third.mime_metadata = "third";
  const auto rows = append({message_for(inbox.id, blob('1'), 11, {"\\Flagged"}),
                            message_for(inbox.id, blob('2')), third});
  const std::uint64_t archive_modseq = mailbox(account.id, "Archive").highestmodseq;

  auto copied = store().copy_messages(inbox.id, Uids{3, 99, 1, 3}, archive.id, false);
  ASSERT_TRUE(copied) << copied.error().message;
  EXPECT_EQ(copied->destination_uidvalidity, archive.uidvalidity);
  EXPECT_EQ(copied->source_uids, (Uids{1, 3}));
  EXPECT_EQ(copied->destination_uids, (Uids{2, 3}));

  const auto in_archive = messages(archive.id);
  ASSERT_EQ(in_archive.size(), 3u);
  const MessageRecord& copy = in_archive[2];
  EXPECT_EQ(copy.uid, 3u);
  EXPECT_EQ(copy.flags, (Flags{"$Label", "\\Seen"}));
  EXPECT_EQ(copy.internal_date, 1'500'000'000);
  EXPECT_EQ(copy.size, 33u);
  EXPECT_EQ(copy.blob_id, blob('3'));
  EXPECT_EQ(copy.mime_metadata, "third");
  EXPECT_NE(copy.id, rows[2].id);
  EXPECT_GT(in_archive[1].modseq, archive_modseq);
  EXPECT_GT(copy.modseq, in_archive[1].modseq);
  EXPECT_EQ(in_archive[1].flags, Flags{"\\Flagged"});
  EXPECT_EQ(messages(inbox.id).size(), 3u) << "COPY leaves the source alone";
  const MailboxRecord after = mailbox(account.id, "Archive");
  EXPECT_EQ(after.uidnext, 4u);
  EXPECT_EQ(after.message_count, 3u);
  EXPECT_EQ(after.highestmodseq, copy.modseq);

  // The copy holds its own blob reference.
  ASSERT_TRUE(store().expunge(inbox.id, Uids{1, 2, 3}));
  EXPECT_EQ(unreferenced(store()), std::vector<std::string>{blob('2')});
  ASSERT_TRUE(store().expunge(archive.id, Uids{2, 3}));
  EXPECT_EQ(unreferenced(store()), (std::vector<std::string>{blob('1'), blob('2'), blob('3')}));
}

TEST_P(MailStoreConformance, CopyIntoTheSameMailbox) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  append({message_for(inbox.id, blob('1'), 5, {"\\Seen"}), message_for(inbox.id, blob('2'))});
  auto copied = store().copy_messages(inbox.id, Uids{1, 2}, inbox.id, false);
  ASSERT_TRUE(copied) << copied.error().message;
  EXPECT_EQ(copied->source_uids, (Uids{1, 2}));
  EXPECT_EQ(copied->destination_uids, (Uids{3, 4}));
  const auto rows = messages(inbox.id);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[2].flags, Flags{"\\Seen"});
  EXPECT_EQ(rows[2].blob_id, blob('1'));
}

TEST_P(MailStoreConformance, MoveExpungesTheSourceAndRecordsIt) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  const MailboxRecord trash = mailbox(account.id, "Trash");
  append({message_for(inbox.id, blob('1'), 10), message_for(inbox.id, blob('2'), 20),
          message_for(inbox.id, blob('3'), 30, {"\\Deleted"})});
  const std::uint64_t before = mailbox(account.id, "INBOX").highestmodseq;

  auto moved = store().copy_messages(inbox.id, Uids{3, 1}, trash.id, true);
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_EQ(moved->destination_uidvalidity, trash.uidvalidity);
  EXPECT_EQ(moved->source_uids, (Uids{1, 3}));
  EXPECT_EQ(moved->destination_uids, (Uids{1, 2}));
  EXPECT_EQ(uids_of(messages(inbox.id)), Uids{2});
  const auto in_trash = messages(trash.id);
  ASSERT_EQ(in_trash.size(), 2u);
  EXPECT_EQ(in_trash[1].flags, Flags{"\\Deleted"});
  EXPECT_EQ(in_trash[1].blob_id, blob('3'));

  const MailboxRecord source = mailbox(account.id, "INBOX");
  EXPECT_GT(source.highestmodseq, before) << "RFC 7162: the expunge is a change";
  EXPECT_EQ(source.message_count, 1u);
  EXPECT_EQ(source.total_size, 20u);
  auto vanished = store().expunged_since(inbox.id, before);
  ASSERT_TRUE(vanished);
  EXPECT_EQ(*vanished, (Uids{1, 3}));
  EXPECT_TRUE(unreferenced(store()).empty()) << "the moved messages keep their blobs";
  auto usage = store().account_usage(account.id);
  ASSERT_TRUE(usage);
  EXPECT_EQ(*usage, 60u);

  // MOVE within one mailbox: new UIDs, the old ones are expunged.
  auto again = store().copy_messages(inbox.id, Uids{2}, inbox.id, true);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->destination_uids, Uids{4});
  EXPECT_EQ(uids_of(messages(inbox.id)), Uids{4});
}

TEST_P(MailStoreConformance, CopyOfNothingAndCopyErrors) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  const MailboxRecord archive = mailbox(account.id, "Archive");
  append({message_for(inbox.id, blob('1'))});
  const std::uint64_t before = mailbox(account.id, "Archive").highestmodseq;
  for (const bool move : {false, true}) {
    auto none = store().copy_messages(inbox.id, Uids{5, 6}, archive.id, move);
    ASSERT_TRUE(none) << none.error().message;
    EXPECT_EQ(none->destination_uidvalidity, archive.uidvalidity);
    EXPECT_TRUE(none->source_uids.empty());
    EXPECT_TRUE(none->destination_uids.empty());
  }
  EXPECT_EQ(mailbox(account.id, "Archive").highestmodseq, before);
  EXPECT_EQ(messages(inbox.id).size(), 1u);
  EXPECT_EQ(code_of(store().copy_messages(inbox.id + 1000, Uids{1}, archive.id, false)),
            Code::not_found);
  EXPECT_EQ(code_of(store().copy_messages(inbox.id, Uids{1}, archive.id + 1000, true)),
            Code::not_found);
  EXPECT_EQ(messages(inbox.id).size(), 1u) << "a failed MOVE leaves the source alone";
}

// --- \Recent

TEST_P(MailStoreConformance, ClaimRecentHandsMessagesToOneSession) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  const MailboxRecord sent = mailbox(account.id, "Sent");
  auto first = store().claim_recent(sent.id);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, 1u) << "an empty mailbox: UIDNEXT";

  append({message_for(inbox.id, blob('1')), message_for(inbox.id, blob('2'))});
  EXPECT_EQ(status_of(store(), inbox.id).recent, 2u);
  auto claimed = store().claim_recent(inbox.id);
  ASSERT_TRUE(claimed);
  EXPECT_EQ(*claimed, 1u) << "UIDs 1 and 2 are recent for the first session";
  EXPECT_EQ(status_of(store(), inbox.id).recent, 0u);
  auto second = store().claim_recent(inbox.id);
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, 3u) << "nothing is recent for the second session";

  append({message_for(inbox.id, blob('3'))});
  ASSERT_TRUE(store().copy_messages(inbox.id, Uids{1}, inbox.id, false));
  EXPECT_EQ(status_of(store(), inbox.id).recent, 2u) << "copies are recent too";
  auto third = store().claim_recent(inbox.id);
  ASSERT_TRUE(third);
  EXPECT_EQ(*third, 3u);
  EXPECT_EQ(status_of(store(), inbox.id).recent, 0u);
  EXPECT_EQ(code_of(store().claim_recent(inbox.id + 1000)), Code::not_found);
}

// --- quota

TEST_P(MailStoreConformance, AccountUsageSumsAllMailboxes) {
  const AccountRecord alice = make_account("alice@example.com");
  const AccountRecord bob = make_account("bob@example.com");
  auto usage = store().account_usage(alice.id);
  ASSERT_TRUE(usage);
  EXPECT_EQ(*usage, 0u);
  append({message_for(mailbox(alice.id, "INBOX").id, blob('1'), 100),
          message_for(mailbox(alice.id, "Sent").id, blob('1'), 100),
          message_for(mailbox(alice.id, "Archive").id, blob('2'), 50),
          message_for(mailbox(bob.id, "INBOX").id, blob('3'), 7)});
  usage = store().account_usage(alice.id);
  ASSERT_TRUE(usage);
  EXPECT_EQ(*usage, 250u) << "each message counts, also when they share a blob";
  ASSERT_TRUE(store().expunge(mailbox(alice.id, "Sent").id, Uids{1}));
  usage = store().account_usage(alice.id);
  ASSERT_TRUE(usage);
  EXPECT_EQ(*usage, 150u);
  usage = store().account_usage(bob.id);
  ASSERT_TRUE(usage);
  EXPECT_EQ(*usage, 7u);
  EXPECT_EQ(code_of(store().account_usage(bob.id + 1000)), Code::not_found);
}

TEST_P(MailStoreConformance, QuotaLimitsAppend) {
  const AccountRecord alice = make_account("alice@example.com");
  const AccountRecord bob = make_account("bob@example.com");
  const MailboxRecord inbox = mailbox(alice.id, "INBOX");
  const MailboxRecord bob_inbox = mailbox(bob.id, "INBOX");
  ASSERT_TRUE(store().set_quota("alice@example.com", 300));
  append({message_for(inbox.id, blob('1'), 100)});

  // The batch is all-or-nothing: the part that would fit is not stored either.
  auto over = store().append_messages(std::vector<NewMessage>{
      message_for(bob_inbox.id, blob('2'), 1000), message_for(inbox.id, blob('3'), 100),
      message_for(inbox.id, blob('4'), 150)});
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, Code::quota_exceeded);
  EXPECT_NE(over.error().message.find("alice@example.com"), std::string::npos)
      << over.error().message;
  EXPECT_FALSE(over.error().temporary());
  EXPECT_EQ(messages(inbox.id).size(), 1u);
  EXPECT_TRUE(messages(bob_inbox.id).empty());
  EXPECT_EQ(mailbox(alice.id, "INBOX").uidnext, 2u);

  append({message_for(inbox.id, blob('5'), 200)});  // exactly at the quota
  EXPECT_EQ(code_of(store().append_messages(std::vector<NewMessage>{
                message_for(mailbox(alice.id, "Drafts").id, blob('6'), 1)})),
            Code::quota_exceeded)
      << "the quota covers every mailbox of the account";
  append({message_for(bob_inbox.id, blob('7'), 1'000'000)});  // bob has no quota

  ASSERT_TRUE(store().set_quota("alice@example.com", 0));  // 0: unlimited
  append({message_for(inbox.id, blob('8'), 1'000'000)});
}

TEST_P(MailStoreConformance, QuotaLimitsCopyButNotAMoveWithinTheAccount) {
  const AccountRecord alice = make_account("alice@example.com");
  const AccountRecord bob = make_account("bob@example.com");
  const MailboxRecord inbox = mailbox(alice.id, "INBOX");
  const MailboxRecord archive = mailbox(alice.id, "Archive");
  const MailboxRecord bob_inbox = mailbox(bob.id, "INBOX");
  append({message_for(inbox.id, blob('1'), 100), message_for(inbox.id, blob('2'), 100),
          message_for(bob_inbox.id, blob('3'), 500)});
  ASSERT_TRUE(store().set_quota("alice@example.com", 250));

  EXPECT_EQ(code_of(store().copy_messages(inbox.id, Uids{1}, archive.id, false)),
            Code::quota_exceeded);
  EXPECT_TRUE(messages(archive.id).empty());
  EXPECT_EQ(code_of(store().copy_messages(bob_inbox.id, Uids{1}, inbox.id, true)),
            Code::quota_exceeded);
  EXPECT_EQ(messages(bob_inbox.id).size(), 1u) << "the failed MOVE left the source alone";

  // Over the quota (lowered below the usage), a MOVE inside the account still works, so
  // the user can clean up; and copying out of the account does not touch its quota.
  ASSERT_TRUE(store().set_quota("alice@example.com", 50));
  auto moved = store().copy_messages(inbox.id, Uids{1, 2}, archive.id, true);
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_EQ(moved->destination_uids, (Uids{1, 2}));
  ASSERT_TRUE(store().copy_messages(archive.id, Uids{1}, bob_inbox.id, false));
  EXPECT_EQ(code_of(store().copy_messages(archive.id, Uids{1}, inbox.id, false)),
            Code::quota_exceeded);
}

TEST_P(MailStoreConformance, QuotaFailsOnlyTheDeliveryThatDoesNotFit) {
  const AccountRecord alice = make_account("alice@example.com");
  const AccountRecord bob = make_account("bob@example.com");
  const MailboxRecord a = mailbox(alice.id, "INBOX");
  const MailboxRecord b = mailbox(bob.id, "INBOX");
  ASSERT_TRUE(store().set_quota("alice@example.com", 1000));
  append({message_for(a.id, blob('0'), 900)});

  DeliveryItem to_bob;
  to_bob.messages = {message_for(b.id, blob('1'), 200)};
  DeliveryItem to_both;  // one message, two recipients: all or nothing
  to_both.messages = {message_for(b.id, blob('2'), 200), message_for(a.id, blob('2'), 200)};
  DeliveryItem small_to_alice;
  small_to_alice.messages = {message_for(a.id, blob('3'), 100)};
  DeliveryItem then_too_much;  // the previous item used the rest of the quota
  then_too_much.messages = {message_for(a.id, blob('4'), 1)};
  then_too_much.outbound = queue_message(blob('4'), {"x@remote.test"});
  const std::vector<DeliveryItem> items = {to_bob, to_both, small_to_alice, then_too_much};

  auto outcomes = store().commit_deliveries(items);
  ASSERT_EQ(outcomes.size(), 4u);
  EXPECT_TRUE(outcomes[0]) << outcomes[0].error().message;
  ASSERT_FALSE(outcomes[1]);
  EXPECT_EQ(outcomes[1].error().code, Code::quota_exceeded);
  EXPECT_NE(outcomes[1].error().message.find("alice@example.com"), std::string::npos);
  EXPECT_TRUE(outcomes[2]) << outcomes[2].error().message;
  EXPECT_EQ(code_of(outcomes[3]), Code::quota_exceeded);

  const auto in_b = messages(b.id);
  ASSERT_EQ(in_b.size(), 1u);
  EXPECT_EQ(in_b[0].blob_id, blob('1'));
  const auto in_a = messages(a.id);
  ASSERT_EQ(in_a.size(), 2u);
  EXPECT_EQ(in_a[1].blob_id, blob('3'));
  EXPECT_EQ(in_a[1].uid, 2u) << "failed items used no UID";
  auto queue = store().list_queue();
  ASSERT_TRUE(queue);
  EXPECT_TRUE(queue->empty()) << "the failed item's outbound part was rolled back too";
  auto usage = store().account_usage(alice.id);
  ASSERT_TRUE(usage);
  EXPECT_EQ(*usage, 1000u);
}

// --- schema version 2 data survives reopening

TEST_P(MailStoreConformance, ImapStateSurvivesReopen) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  append({message_for(inbox.id, blob('1'), 1, {"\\Seen"}), message_for(inbox.id, blob('2')),
          message_for(inbox.id, blob('3'), 1, {"\\Deleted"})});
  ASSERT_TRUE(store().claim_recent(inbox.id));
  append({message_for(inbox.id, blob('4'))});
  ASSERT_TRUE(store().expunge(inbox.id, Uids{2}));
  const MailboxStatus before = status_of(store(), inbox.id);
  reopen();
  const MailboxStatus after = status_of(store(), inbox.id);
  EXPECT_EQ(after.unseen, before.unseen);
  EXPECT_EQ(after.deleted, 1u);
  EXPECT_EQ(after.recent, 1u);
  EXPECT_EQ(after.mailbox.highestmodseq, before.mailbox.highestmodseq);
  auto vanished = store().expunged_since(inbox.id, 0);
  ASSERT_TRUE(vanished);
  EXPECT_EQ(*vanished, Uids{2});
}

}  // namespace
}  // namespace postamt::storage::test
