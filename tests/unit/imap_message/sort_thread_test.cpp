// RFC 5256: base subject (§2.1), sent date (§2.2), SORT order (§3) and THREAD (§4).
#include <gtest/gtest.h>

#include <vector>

#include "imap/message/base_subject.hpp"
#include "imap/message/sort_order.hpp"
#include "imap/message/thread_builder.hpp"

namespace postamt::imap {
namespace {

using proto::imap::SortCriterion;
using proto::imap::SortKey;

std::string base(std::string_view subject) { return base_subject(subject).text; }
bool reply(std::string_view subject) { return base_subject(subject).reply_or_forward; }

TEST(BaseSubject, RemovesReplyAndForwardLeaders) {
  EXPECT_EQ(base("Re: Lunch"), "Lunch");
  EXPECT_EQ(base("RE: re: Re:Lunch"), "Lunch");
  EXPECT_EQ(base("Fwd: Lunch"), "Lunch");
  EXPECT_EQ(base("FW: Lunch"), "Lunch");
  EXPECT_EQ(base("Re[2]: Lunch"), "Lunch");  // subj-refwd with a subj-blob
  EXPECT_EQ(base("Re [3] : Lunch"), "Lunch");
  EXPECT_TRUE(reply("Re[2]: Lunch"));
  EXPECT_FALSE(reply("Lunch"));
  // Not a leader: "Re" without its colon, or "Reply:".
  EXPECT_EQ(base("Re Lunch"), "Re Lunch");
  EXPECT_EQ(base("Reply: Lunch"), "Reply: Lunch");
  EXPECT_FALSE(reply("Reply: Lunch"));
}

TEST(BaseSubject, ListTagsAndNestedLeaders) {
  EXPECT_EQ(base("Re: [list] Fwd: Lunch"), "Lunch");
  EXPECT_EQ(base("[list] Re: Lunch"), "Lunch");  // *subj-blob subj-refwd
  EXPECT_EQ(base("[list] [other] Lunch"), "Lunch");
  EXPECT_TRUE(reply("Re: [list] Fwd: Lunch"));
  EXPECT_FALSE(reply("[list] Lunch"));
  // Step 4: a blob stays when nothing would be left after it.
  EXPECT_EQ(base("[list]"), "[list]");
  EXPECT_EQ(base("Re: [list]"), "[list]");
  EXPECT_EQ(base("[a] [b]"), "[b]");
}

TEST(BaseSubject, ForwardTrailersAndWrappers) {
  EXPECT_EQ(base("Lunch (fwd)"), "Lunch");
  EXPECT_EQ(base("Lunch (FWD) (fwd)  "), "Lunch");
  EXPECT_TRUE(reply("Lunch (fwd)"));
  EXPECT_EQ(base("[Fwd: Lunch]"), "Lunch");
  EXPECT_EQ(base("[fwd: Re: [list] Lunch (fwd)]"), "Lunch");
  EXPECT_TRUE(reply("[Fwd: Lunch]"));
  EXPECT_EQ(base("[Fwd: Lunch"), "[Fwd: Lunch");  // no "]": neither wrapper nor blob
}

TEST(BaseSubject, WhiteSpaceRunsAndEncodedWordResults) {
  EXPECT_EQ(base("  Re:\t Lunch \t  at   noon  "), "Lunch at noon");
  EXPECT_EQ(base("Lunch\r\n at noon"), "Lunch at noon");
  // Step 1's RFC 2047 decoding is done at delivery; what reaches here is UTF-8.
  EXPECT_EQ(base("Re: Grüße aus Köln"), "Grüße aus Köln");
  EXPECT_EQ(base(""), "");
  EXPECT_EQ(base("Re:"), "");
  EXPECT_EQ(ascii_casemap("Grüße lunch"), "GRüßE LUNCH");
}

TEST(SentDate, FallsBackToInternalDate) {
  EXPECT_EQ(sent_date_for_sort(100, 5), 100);
  EXPECT_EQ(sent_date_for_sort(std::nullopt, 5), 5);
}

TEST(SortKeys, FirstMailboxAndDisplay) {
  EXPECT_EQ(first_mailbox_key("\"Zed\" <alice@example.org>, bob@example.org"), "ALICE");
  EXPECT_EQ(first_mailbox_key(""), "");
  EXPECT_EQ(first_mailbox_key("team: carol@x.org;"), "TEAM");
  EXPECT_EQ(display_key("\"Zed Zulu\" <alice@example.org>"), "ZED ZULU");
  EXPECT_EQ(display_key("alice@Example.org"), "ALICE@EXAMPLE.ORG");
  EXPECT_EQ(unicode_casemap("ärger"), "A\u0308RGER");  // titlecase, then NFKD
  EXPECT_EQ(display_key("=?utf-8?q?=C3=84rger?= <a@b.c>"), unicode_casemap("Ärger"));
}

SortFields fields(std::uint32_t seq, std::int64_t arrival, std::uint64_t size, std::string subject) {
  SortFields f;
  f.sequence_number = seq;
  f.arrival = arrival;
  f.sent = arrival;
  f.size = size;
  f.subject = ascii_casemap(base(subject));
  return f;
}

TEST(SortOrder, CriteriaReverseAndSequenceTieBreak) {
  std::vector<SortFields> messages = {
      fields(1, 30, 100, "Re: b"), fields(2, 10, 300, "a"), fields(3, 20, 100, "B"),
      fields(4, 10, 200, "A")};
  EXPECT_EQ(sort_order(messages, std::vector<SortCriterion>{{SortKey::arrival, false}}),
            (std::vector<std::uint32_t>{2, 4, 3, 1}));
  EXPECT_EQ(sort_order(messages, std::vector<SortCriterion>{{SortKey::arrival, true}}),
            (std::vector<std::uint32_t>{1, 3, 2, 4}));  // equal keys stay in mailbox order
  EXPECT_EQ(sort_order(messages, std::vector<SortCriterion>{{SortKey::subject, false},
                                                            {SortKey::size, true}}),
            (std::vector<std::uint32_t>{2, 4, 1, 3}));
  EXPECT_EQ(sort_order(messages, std::vector<SortCriterion>{{SortKey::size, false}}),
            (std::vector<std::uint32_t>{1, 3, 4, 2}));
}

ThreadMessage message(std::uint32_t n, std::int64_t sent, std::string subject, std::string id,
                      std::vector<std::string> references = {}) {
  ThreadMessage m;
  m.number = n;
  m.sequence_number = n;
  m.sent = sent;
  const BaseSubject b = base_subject(subject);
  m.base_subject = ascii_casemap(b.text);
  m.reply_or_forward = b.reply_or_forward;
  m.message_id = std::move(id);
  m.references = std::move(references);
  return m;
}

TEST(MessageIds, ParsesIdsSkippingComments) {
  EXPECT_EQ(message_ids("<a@b> (comment <x@y>) <c@d>"), (std::vector<std::string>{"<a@b>", "<c@d>"}));
  EXPECT_EQ(message_ids("<a@\r\n b>"), std::vector<std::string>{});  // white space inside
  EXPECT_EQ(message_ids("<a@b\r\n>"), (std::vector<std::string>{"<a@b>"}));
  EXPECT_EQ(message_ids("junk <> <x@y"), std::vector<std::string>{});
}

TEST(OrderedSubject, GroupsBySubjectThenDate) {
  std::vector<ThreadMessage> messages = {
      message(1, 10, "Lunch", ""), message(2, 5, "Dinner", ""), message(3, 20, "Re: lunch", ""),
      message(4, 30, "Re: Dinner", ""), message(5, 25, "[Fwd: Lunch]", "")};
  EXPECT_EQ(thread_ordered_subject(messages), "(2 4)(1 (3)(5))");
  EXPECT_EQ(thread_ordered_subject({}), "");
}

TEST(References, ChainsAndBranches) {
  std::vector<ThreadMessage> messages = {
      message(1, 10, "Plan", "<1@x>"),
      message(2, 20, "Re: Plan", "<2@x>", {"<1@x>"}),
      message(3, 30, "Re: Plan", "<3@x>", {"<1@x>", "<2@x>"}),
      message(4, 25, "Re: Plan", "<4@x>", {"<1@x>"}),
      message(5, 5, "Other", "<5@x>")};
  EXPECT_EQ(thread_references(messages), "(5)(1 (2 3)(4))");
}

TEST(References, MissingParentBecomesDummyAndIsPruned) {
  // 1 and 2 both answer <gone@x>, which is not in the mailbox: a dummy root keeps them
  // together; 3 answers a missing message alone: the dummy with one child goes.
  std::vector<ThreadMessage> messages = {
      message(1, 10, "Re: A", "<1@x>", {"<gone@x>"}),
      message(2, 20, "Re: A", "<2@x>", {"<gone@x>"}),
      message(3, 15, "Re: B", "<3@x>", {"<gone2@x>"})};
  EXPECT_EQ(thread_references(messages), "((1)(2))(3)");
}

TEST(References, SubjectMergeOfUnlinkedThreads) {
  // No references at all: step 5 joins by base subject. The original (not a reply)
  // becomes the parent of the replies; two originals get a dummy.
  std::vector<ThreadMessage> messages = {
      message(1, 10, "Re: Budget", "<1@x>"), message(2, 5, "Budget", "<2@x>"),
      message(3, 30, "Report", "<3@x>"), message(4, 40, "Report", "<4@x>"),
      message(5, 50, "", "<5@x>"), message(6, 60, "", "<6@x>")};
  EXPECT_EQ(thread_references(messages), "(2 1)((3)(4))(5)(6)");
}

TEST(References, DuplicateIdsAndLoopsAreHarmless) {
  std::vector<ThreadMessage> messages = {
      message(1, 10, "A", "<1@x>", {"<2@x>"}),
      message(2, 20, "B", "<2@x>", {"<1@x>"}),   // would close a loop: ignored
      message(3, 30, "C", "<1@x>"),               // duplicate id: its own thread
      message(4, 40, "D", "<4@x>", {"<4@x>"})};   // references itself
  EXPECT_EQ(thread_references(messages), "(2 1)(3)(4)");
}

TEST(References, InReplyToChainOrder) {
  std::vector<ThreadMessage> messages = {
      message(3, 30, "Re: Re: T", "<c@x>", {"<b@x>"}),
      message(1, 10, "T", "<a@x>"),
      message(2, 20, "Re: T", "<b@x>", {"<a@x>"})};
  EXPECT_EQ(thread_references(messages), "(1 2 3)");
}

TEST(References, DeepChainsStayBounded) {
  // 3,000 messages each answering the one before: the thread is flattened below depth
  // 500 instead of recursing 3,000 deep; every message is still in the one thread.
  std::vector<ThreadMessage> messages;
  for (std::uint32_t n = 1; n <= 3000; ++n) {
    std::vector<std::string> references;
    if (n > 1) references.push_back("<" + std::to_string(n - 1) + "@x>");
    messages.push_back(message(n, n, "Chain", "<" + std::to_string(n) + "@x>", references));
  }
  const std::string threads = thread_references(messages);
  EXPECT_TRUE(threads.starts_with("(1 2 3 4 5 "));
  int depth = 0, deepest = 0, open_lists = 0;
  for (char c : threads) {
    if (c == '(') {
      deepest = std::max(deepest, ++depth);
      ++open_lists;
    }
    if (c == ')') --depth;
  }
  EXPECT_EQ(depth, 0);
  // One thread: 1 ... 501 in a chain, then 502 ... 3000 as siblings under 501.
  EXPECT_EQ(deepest, 2);
  EXPECT_EQ(open_lists, 1 + (3000 - 501));
  EXPECT_NE(threads.find(" 500 501 (502)(503)"), std::string::npos);
  // One message naming 100,000 ids: only the last ones count, and it stays quick.
  std::vector<std::string> many;
  for (int i = 0; i < 100000; ++i) many.push_back("<r" + std::to_string(i) + "@x>");
  std::vector<ThreadMessage> one = {message(1, 1, "Many", "<m@x>", many)};
  EXPECT_EQ(thread_references(one), "(1)");
}

}  // namespace
}  // namespace postamt::imap
