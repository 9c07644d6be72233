// SelectedMailbox: sequence numbers, set resolution and the untagged responses for other
// sessions' changes (RFC 9051 §7.5.1, RFC 7162 §3.2.10).
#include "imap/selected_mailbox.hpp"

#include <gtest/gtest.h>

namespace postamt::imap {
namespace {

using proto::imap::SequenceSet;

storage::MessageSummary summary(std::uint32_t uid, std::uint64_t modseq,
                                std::vector<std::string> flags = {}) {
  storage::MessageSummary s;
  s.uid = uid;
  s.modseq = modseq;
  s.flags = std::move(flags);
  s.size = 100;
  return s;
}

SelectedMailbox make_view(std::vector<std::uint32_t> uids, std::uint32_t first_recent = 0) {
  storage::MailboxRecord mailbox;
  mailbox.id = 7;
  mailbox.name = "INBOX";
  mailbox.uidvalidity = 42;
  mailbox.uidnext = uids.empty() ? 1 : uids.back() + 1;
  mailbox.highestmodseq = 10;
  std::vector<storage::MessageSummary> messages;
  for (auto uid : uids) messages.push_back(summary(uid, 5));
  return SelectedMailbox(mailbox, false, std::move(messages), first_recent);
}

SequenceSet set(std::string_view text) { return *SequenceSet::parse(text); }

TEST(SelectedMailbox, SequenceNumbersFollowUidOrder) {
  auto view = make_view({3, 9, 20});
  EXPECT_EQ(view.exists(), 3u);
  EXPECT_EQ(view.message(2).uid, 9u);
  EXPECT_EQ(view.sequence_of(20), 3u);
  EXPECT_FALSE(view.sequence_of(4));
  EXPECT_EQ(view.uidnext(), 21u);
}

TEST(SelectedMailbox, ResolvesSequenceSets) {
  auto view = make_view({3, 9, 20, 21});
  EXPECT_EQ(view.resolve(set("2:*"), false, nullptr), (std::vector<std::uint32_t>{2, 3, 4}));
  EXPECT_EQ(view.resolve(set("4,1,4"), false, nullptr), (std::vector<std::uint32_t>{1, 4}));
  EXPECT_EQ(view.resolve(set("9"), false, nullptr), std::vector<std::uint32_t>{});
}

TEST(SelectedMailbox, ResolvesUidSetsToExistingMessages) {
  auto view = make_view({3, 9, 20, 21});
  EXPECT_EQ(view.resolve(set("1:10"), true, nullptr), (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(view.resolve(set("20:*"), true, nullptr), (std::vector<std::uint32_t>{3, 4}));
  // RFC 9051 §6.4.9: "n:*" names the highest message even when n is above every UID.
  EXPECT_EQ(view.resolve(set("100:*"), true, nullptr), (std::vector<std::uint32_t>{4}));
  EXPECT_EQ(view.resolve(set("4000000000"), true, nullptr), std::vector<std::uint32_t>{});
}

TEST(SelectedMailbox, SavedResultResolvesThroughUids) {
  auto view = make_view({3, 9, 20});
  std::vector<std::uint32_t> saved{9, 20, 77};
  EXPECT_EQ(view.resolve(set("$"), false, &saved), (std::vector<std::uint32_t>{2, 3}));
  EXPECT_EQ(view.resolve(set("$"), true, nullptr), std::vector<std::uint32_t>{});
}

TEST(SelectedMailbox, EmptyMailboxResolvesNothing) {
  auto view = make_view({});
  EXPECT_TRUE(view.resolve(set("1:*"), false, nullptr).empty());
  EXPECT_TRUE(view.resolve(set("*"), true, nullptr).empty());
}

TEST(SelectedMailbox, AnnouncesExpungesHighestFirst) {
  auto view = make_view({3, 9, 20, 21});
  std::string out;
  MailboxChanges changes;
  changes.highest_modseq = 12;
  changes.expunged_uids = {9, 21, 500};
  auto gone = view.apply(changes, ViewOptions{}, out);
  EXPECT_EQ(out, "* 4 EXPUNGE\r\n* 2 EXPUNGE\r\n");
  EXPECT_EQ(gone, (std::vector<std::uint32_t>{9, 21}));
  EXPECT_EQ(view.exists(), 2u);
  EXPECT_EQ(view.message(2).uid, 20u);
  EXPECT_EQ(view.highest_modseq(), 12u);
}

TEST(SelectedMailbox, QresyncAnnouncesVanished) {
  auto view = make_view({3, 4, 5, 9});
  std::string out;
  MailboxChanges changes;
  changes.expunged_uids = {3, 4, 5, 9};
  view.apply(changes, ViewOptions{true, true, true}, out);
  EXPECT_EQ(out, "* VANISHED 3:5,9\r\n");
  EXPECT_EQ(view.exists(), 0u);
}

TEST(SelectedMailbox, AnnouncesNewMessagesAndFlagChanges) {
  auto view = make_view({3, 9});
  std::string out;
  MailboxChanges changes;
  changes.highest_modseq = 20;
  changes.changed = {summary(9, 15, {"\\Seen"}), summary(10, 16), summary(11, 17)};
  view.apply(changes, ViewOptions{}, out);
  EXPECT_EQ(out,
            "* 2 FETCH (UID 9 FLAGS (\\Seen))\r\n"
            "* 4 EXISTS\r\n* 0 RECENT\r\n");
  EXPECT_EQ(view.uidnext(), 12u);
}

TEST(SelectedMailbox, Rev2HasNoRecentAndCondstoreAddsModseq) {
  auto view = make_view({3});
  std::string out;
  MailboxChanges changes;
  changes.changed = {summary(3, 30, {"$Forwarded"}), summary(4, 31)};
  view.apply(changes, ViewOptions{true, true, false}, out);
  // $Forwarded is new to the view: announced first (RFC 9051 §7.3.5).
  EXPECT_EQ(out,
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n"
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded \\*)] "
            "Flags permitted\r\n"
            "* 1 FETCH (UID 3 FLAGS ($Forwarded) MODSEQ (30))\r\n* 2 EXISTS\r\n");
}

TEST(SelectedMailbox, OwnChangesAreNotAnnouncedAgain) {
  auto view = make_view({3, 9});
  view.record(summary(9, 15, {"\\Flagged"}));
  std::string out;
  MailboxChanges changes;
  changes.highest_modseq = 15;
  changes.changed = {summary(9, 15, {"\\Flagged"})};
  view.apply(changes, ViewOptions{}, out);
  EXPECT_EQ(out, "");
  // The same changes twice: nothing the second time either.
  view.apply(changes, ViewOptions{}, out);
  EXPECT_EQ(out, "");
}

TEST(SelectedMailbox, RecordDoesNotSkipOtherSessionsEarlierChanges) {
  auto view = make_view({3, 9});
  view.record(summary(9, 15, {"\\Flagged"}));  // ours
  EXPECT_EQ(view.highest_modseq(), 10u);     // still reads everything above 10
}

TEST(SelectedMailbox, RecentMessagesCountFromTheClaimedMark) {
  auto view = make_view({3, 9, 20}, 9);
  EXPECT_EQ(view.recent_count(), 2u);
  EXPECT_TRUE(view.is_recent(20));
  EXPECT_FALSE(view.is_recent(3));
  std::string out;
  MailboxChanges changes;
  changes.changed = {summary(21, 30)};
  view.apply(changes, ViewOptions{}, out);
  EXPECT_EQ(out, "* 4 EXISTS\r\n* 3 RECENT\r\n");
}

TEST(SelectedMailbox, OwnRemovalAnnouncesAndRenumbers) {
  auto view = make_view({1, 2, 3, 4});
  std::string out;
  std::vector<std::uint32_t> uids{2, 3};
  view.remove(uids, ViewOptions{}, out);
  EXPECT_EQ(out, "* 3 EXPUNGE\r\n* 2 EXPUNGE\r\n");
  EXPECT_EQ(view.message(2).uid, 4u);
}

TEST(SelectedMailbox, KeywordsAndFirstUnseen) {
  storage::MailboxRecord mailbox;
  mailbox.id = 1;
  std::vector<storage::MessageSummary> messages{summary(1, 1, {"$Label1", "\\Seen"}),
                                                summary(2, 1, {"$Junk"}), summary(3, 1)};
  SelectedMailbox view(mailbox, true, messages, 0);
  EXPECT_EQ(view.keywords(), (std::vector<std::string>{"$Junk", "$Label1"}));
  EXPECT_EQ(view.first_unseen(), 2u);
  EXPECT_TRUE(view.read_only());
  EXPECT_EQ(flag_list(messages[0].flags, true), "($Label1 \\Seen \\Recent)");
  EXPECT_EQ(flag_list({}, false), "()");
}

// RFC 9051 §7.3.5: a keyword first used is announced in FLAGS and PERMANENTFLAGS before the
// FETCH that shows it, once.
TEST(SelectedMailbox, NewKeywordsAreAnnouncedBeforeTheirFetch) {
  storage::MailboxRecord mailbox;
  mailbox.id = 7;
  mailbox.name = "INBOX";
  mailbox.uidvalidity = 42;
  mailbox.uidnext = 3;
  SelectedMailbox view(mailbox, false, {summary(1, 5, {"$Old"}), summary(2, 5)}, 0);
  EXPECT_EQ(view.flags_response(), "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Old)\r\n");
  EXPECT_EQ(view.permanent_flags_response(),
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Old \\*)] "
            "Flags permitted\r\n");

  MailboxChanges changes;
  changes.highest_modseq = 12;
  changes.changed = {summary(2, 12, {"\\Seen", "newkw"}), summary(3, 12, {"$Old", "z"})};
  std::string out;
  view.apply(changes, ViewOptions{}, out);
  const auto flags = out.find("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Old newkw z)\r\n");
  const auto permanent = out.find("* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Old newkw z \\*)]");
  const auto fetch = out.find("FETCH");
  ASSERT_NE(flags, std::string::npos) << out;
  ASSERT_NE(permanent, std::string::npos) << out;
  ASSERT_NE(fetch, std::string::npos) << out;
  EXPECT_LT(flags, fetch);
  EXPECT_LT(permanent, fetch);

  // Known keywords are not announced again; a read-only view permits none.
  out.clear();
  view.announce_keywords(std::vector<storage::MessageSummary>{summary(1, 13, {"newkw"})}, out);
  EXPECT_EQ(out, "");
  SelectedMailbox examined(mailbox, true, {summary(1, 5)}, 0);
  examined.announce_keywords(std::vector<storage::MessageSummary>{summary(1, 13, {"k"})}, out);
  EXPECT_EQ(out, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft k)\r\n"
                 "* OK [PERMANENTFLAGS ()] No permanent flags in a read-only mailbox\r\n");
}

}  // namespace
}  // namespace postamt::imap
