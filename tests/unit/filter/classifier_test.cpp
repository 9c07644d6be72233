// The built-in classifier's arithmetic (Robinson's f(w) and Fisher's chi-square combining,
// filter/classifier.hpp) on small examples worked by hand, and its verdicts.
#include "filter/classifier.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace postamt::filter {
namespace {

TEST(ClassifierMath, RobinsonProbabilityByHand) {
  const ClassifierOptions options;  // s = 1, x = 0.5
  // b = 3 of 10 spam, g = 1 of 10 ham: p = 0.3 / (0.3 + 0.1) = 0.75; n = 4;
  // f = (0.5 + 4 * 0.75) / 5 = 0.7.
  EXPECT_NEAR(robinson_probability(3, 1, 10, 10, options), 0.7, 1e-12);
  // Only in ham, once, of 20 ham and 40 spam: p = 0; f = 0.5 / 2 = 0.25.
  EXPECT_NEAR(robinson_probability(0, 1, 40, 20, options), 0.25, 1e-12);
  // Never seen: the assumed value.
  EXPECT_EQ(robinson_probability(0, 0, 10, 10, options), 0.5);
  // Uneven totals: 2 of 4 spam, 2 of 20 ham: p = 0.5 / 0.6; n = 4; f = (0.5 + 4p) / 5.
  EXPECT_NEAR(robinson_probability(2, 2, 4, 20, options), (0.5 + 4 * (0.5 / 0.6)) / 5, 1e-12);
}

TEST(ClassifierMath, ChiSquareUpperTailByHand) {
  // Two degrees of freedom: e^(-x/2).
  EXPECT_NEAR(chi2_upper_tail(2.0, 2), std::exp(-1.0), 1e-12);
  // Four: e^(-m)(1 + m), m = x/2.
  EXPECT_NEAR(chi2_upper_tail(6.0, 4), std::exp(-3.0) * 4.0, 1e-12);
  // Six: e^(-m)(1 + m + m²/2).
  EXPECT_NEAR(chi2_upper_tail(4.0, 6), std::exp(-2.0) * (1 + 2 + 2), 1e-12);
  EXPECT_EQ(chi2_upper_tail(0.0, 4), 1.0);
  // A long message does not underflow to nonsense: 300 degrees, a large value.
  const double tail = chi2_upper_tail(2000.0, 300);
  EXPECT_GE(tail, 0.0);
  EXPECT_LT(tail, 1e-100);
  EXPECT_NEAR(chi2_upper_tail(300.0, 300), 0.5, 0.05) << "about the median at the mean";
}

TEST(ClassifierMath, FisherCombiningByHand) {
  // One clue: H = e^(ln f) = f, S = 1 - f, I = (1 + f - (1 - f)) / 2 = f.
  const std::vector<double> one{0.9};
  EXPECT_NEAR(fisher_combine(one), 0.9, 1e-12);
  // Two clues of 0.9: H = 0.81 (1 + ln(1/0.81)/2·… ) worked out:
  //   -2 ln(0.81) = 0.421442, m = 0.210721, H = e^-m (1 + m) = 0.81 × 1.210721 = 0.980684
  //   -2 ln(0.01) = 9.210340, m = 4.605170, S = 0.01 × 5.605170 = 0.056052
  //   I = (1 + 0.980684 - 0.056052) / 2 = 0.962316
  const std::vector<double> two{0.9, 0.9};
  EXPECT_NEAR(fisher_combine(two), 0.962316, 1e-6);
  // Symmetric: two clues of 0.1 give 1 - 0.962316.
  const std::vector<double> hammy{0.1, 0.1};
  EXPECT_NEAR(fisher_combine(hammy), 1 - 0.962316, 1e-6);
  // Opposite clues cancel.
  const std::vector<double> mixed{0.9, 0.1};
  EXPECT_NEAR(fisher_combine(mixed), 0.5, 1e-12);
  EXPECT_EQ(fisher_combine({}), 0.5);
}

storage::ClassifierSnapshot trained_snapshot() {
  storage::ClassifierSnapshot snapshot;
  snapshot.account = {20, 20, 0, 0};
  snapshot.shared = {20, 20, 0, 0};
  return snapshot;
}

TEST(Classifier, NoVerdictBeforeTheMinimum) {
  const ClassifierOptions options;
  storage::ClassifierSnapshot snapshot;
  snapshot.account = {19, 40, 0, 0};
  snapshot.shared = {19, 40, 0, 0};
  snapshot.tokens.push_back({1, 19, 0, 19, 0});
  const ClassifierResult result = classify(snapshot, options);
  EXPECT_FALSE(result.trained);
  const Verdict verdict = classifier_verdict(result, options);
  EXPECT_EQ(verdict.filter, "classifier");
  EXPECT_EQ(verdict.action, Action::accept);
  EXPECT_TRUE(verdict.skipped);
  EXPECT_FALSE(verdict.score.has_value());
  EXPECT_EQ(verdict.note, "learning: 19 of 20 spam, 40 of 20 ham lessons");
}

TEST(Classifier, OthersLessonsCountAtTheSharedWeight) {
  const ClassifierOptions options;  // shared_weight 0.25
  storage::ClassifierSnapshot snapshot;
  snapshot.account = {10, 10, 0, 0};
  snapshot.shared = {50, 50, 0, 0};  // 40 + 40 of other accounts: 10 + 10 each
  const ClassifierResult result = classify(snapshot, options);
  EXPECT_TRUE(result.trained);
  EXPECT_DOUBLE_EQ(result.spam_lessons, 20);
  EXPECT_DOUBLE_EQ(result.ham_lessons, 20);
}

TEST(Classifier, SpammyTokensGoToJunkNeverRefused) {
  const ClassifierOptions options;
  storage::ClassifierSnapshot snapshot = trained_snapshot();
  for (std::uint64_t h = 1; h <= 10; ++h) snapshot.tokens.push_back({h, 18, 0, 18, 0});
  snapshot.tokens.push_back({99, 1, 1, 1, 1});  // f = 0.5: no clue
  const ClassifierResult result = classify(snapshot, options);
  EXPECT_TRUE(result.trained);
  EXPECT_EQ(result.clues, 10u);
  EXPECT_GT(result.probability, 0.99);
  const Verdict verdict = classifier_verdict(result, options);
  EXPECT_EQ(verdict.action, Action::junk);
  ASSERT_TRUE(verdict.score.has_value());
  EXPECT_DOUBLE_EQ(*verdict.score, result.probability);
  EXPECT_EQ(verdict.symbols, std::vector<std::string>{"SPAM"});
}

TEST(Classifier, HammyTokensAreAccepted) {
  const ClassifierOptions options;
  storage::ClassifierSnapshot snapshot = trained_snapshot();
  for (std::uint64_t h = 1; h <= 10; ++h) snapshot.tokens.push_back({h, 0, 15, 0, 15});
  const ClassifierResult result = classify(snapshot, options);
  EXPECT_LT(result.probability, 0.01);
  const Verdict verdict = classifier_verdict(result, options);
  EXPECT_EQ(verdict.action, Action::accept);
  EXPECT_EQ(verdict.symbols, std::vector<std::string>{"HAM"});
}

TEST(Classifier, AtMostMaxCluesTheMostExtreme) {
  ClassifierOptions options;
  options.max_clues = 3;
  storage::ClassifierSnapshot snapshot = trained_snapshot();
  for (std::uint64_t h = 1; h <= 3; ++h) snapshot.tokens.push_back({h, 20, 0, 20, 0});  // strong spam
  for (std::uint64_t h = 4; h <= 10; ++h) snapshot.tokens.push_back({h, 2, 1, 2, 1});  // weak spam
  const ClassifierResult result = classify(snapshot, options);
  EXPECT_EQ(result.clues, 3u);
  const double f = robinson_probability(20, 0, 20, 20, options);
  const std::vector<double> strongest{f, f, f};
  EXPECT_NEAR(result.probability, fisher_combine(strongest), 1e-12);
}

}  // namespace
}  // namespace postamt::filter
