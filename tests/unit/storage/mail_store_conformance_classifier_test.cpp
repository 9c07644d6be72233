// The MailStore conformance suite: the built-in classifier's token counts and lesson
// totals (schema version 7, issue 15 §5).
#include <algorithm>

#include "mail_store_conformance.hpp"

namespace postamt::storage::test {
namespace {

const ClassifierTokenCounts* find_token(const ClassifierSnapshot& snapshot, std::uint64_t hash) {
  auto it = std::ranges::find(snapshot.tokens, hash, &ClassifierTokenCounts::hash);
  return it == snapshot.tokens.end() ? nullptr : &*it;
}

TEST_P(MailStoreConformance, ClassifierLessonsCountPerAccountAndInTheSharedBase) {
  const std::uint64_t big = 0xfedcba9876543210ULL;  // above INT64_MAX: stored as its bits
  ASSERT_TRUE(store().record_classifier_lesson({"alice@example.com", true, {1, 2, big}, 100}));
  ASSERT_TRUE(store().record_classifier_lesson({"Alice@Example.com", true, {1}, 110}));
  ASSERT_TRUE(store().record_classifier_lesson({"alice@example.com", false, {2}, 120}));
  ASSERT_TRUE(store().record_classifier_lesson({"bob@example.com", false, {1, 3}, 130}));

  const std::vector<std::uint64_t> asked{1, 2, 3, big, 99};
  auto alice = store().classifier_snapshot("alice@example.com", asked);
  ASSERT_TRUE(alice) << alice.error().message;
  EXPECT_EQ(alice->account.spam, 2u);
  EXPECT_EQ(alice->account.ham, 1u);
  EXPECT_EQ(alice->shared.spam, 2u);
  EXPECT_EQ(alice->shared.ham, 2u);
  EXPECT_EQ(alice->tokens.size(), 4u) << "token 99 is known to nobody";
  const auto* one = find_token(*alice, 1);
  ASSERT_NE(one, nullptr);
  EXPECT_EQ(one->spam, 2u);
  EXPECT_EQ(one->ham, 0u);
  EXPECT_EQ(one->shared_spam, 2u);
  EXPECT_EQ(one->shared_ham, 1u);
  const auto* three = find_token(*alice, 3);
  ASSERT_NE(three, nullptr) << "bob's token shows in the shared base";
  EXPECT_EQ(three->spam + three->ham, 0u);
  EXPECT_EQ(three->shared_ham, 1u);
  const auto* high = find_token(*alice, big);
  ASSERT_NE(high, nullptr);
  EXPECT_EQ(high->spam, 1u);

  auto shared = store().classifier_snapshot("", asked);
  ASSERT_TRUE(shared);
  EXPECT_EQ(shared->account.spam, 2u) << "the shared base asked as the account";
  EXPECT_EQ(find_token(*shared, 1)->spam, 2u);
  EXPECT_EQ(find_token(*shared, 1)->ham, 1u);

  auto stats = store().classifier_stats("ALICE@example.com");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->spam, 2u);
  EXPECT_EQ(stats->ham, 1u);
  EXPECT_EQ(stats->tokens, 3u);
  EXPECT_EQ(stats->updated_at, 120);
  auto nobody = store().classifier_stats("carol@example.com");
  ASSERT_TRUE(nobody);
  EXPECT_EQ(nobody->spam + nobody->ham + nobody->tokens, 0u);
}

TEST_P(MailStoreConformance, ClassifierSnapshotLooksUpManyTokens) {
  std::vector<std::uint64_t> tokens;
  for (std::uint64_t i = 1; i <= 450; ++i) tokens.push_back(i * 7919);
  ASSERT_TRUE(store().record_classifier_lesson({"alice@example.com", true, tokens, 100}));
  auto snapshot = store().classifier_snapshot("alice@example.com", tokens);
  ASSERT_TRUE(snapshot);
  EXPECT_EQ(snapshot->tokens.size(), 450u) << "every chunk of the lookup is read";
}

TEST_P(MailStoreConformance, ClassifierPruneDropsOldTokensSeenOnce) {
  ASSERT_TRUE(store().record_classifier_lesson({"alice@example.com", true, {1, 2}, 100}));
  ASSERT_TRUE(store().record_classifier_lesson({"alice@example.com", false, {2}, 100}));
  ASSERT_TRUE(store().record_classifier_lesson({"alice@example.com", true, {3}, 500}));
  auto removed = store().prune_classifier_tokens(200, 100);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(*removed, 2u) << "token 1 (account and shared rows) goes; 2 was seen twice, 3 lately";
  auto snapshot = store().classifier_snapshot("alice@example.com", std::vector<std::uint64_t>{1, 2, 3});
  ASSERT_TRUE(snapshot);
  EXPECT_EQ(find_token(*snapshot, 1), nullptr);
  EXPECT_NE(find_token(*snapshot, 2), nullptr);
  EXPECT_NE(find_token(*snapshot, 3), nullptr);
  EXPECT_EQ(snapshot->account.spam, 2u) << "lesson totals stay";
}

TEST_P(MailStoreConformance, ClassifierRefusesAnInvalidAccount) {
  auto bad = store().record_classifier_lesson({"bad\naccount", true, {1}, 100});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, StorageError::Code::invalid);
}

}  // namespace
}  // namespace postamt::storage::test
