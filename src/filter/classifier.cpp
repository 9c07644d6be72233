#include "filter/classifier.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace postamt::filter {

double robinson_probability(double spam_count, double ham_count, double spam_total, double ham_total,
                            const ClassifierOptions& options) {
  const double n = spam_count + ham_count;
  if (n <= 0 || spam_total <= 0 || ham_total <= 0) return options.assumed;
  const double spam_ratio = std::min(spam_count / spam_total, 1.0);
  const double ham_ratio = std::min(ham_count / ham_total, 1.0);
  const double p = spam_ratio / (spam_ratio + ham_ratio);
  return (options.strength * options.assumed + n * p) / (options.strength + n);
}

double chi2_upper_tail(double chi2, std::size_t degrees) {
  if (chi2 <= 0) return 1.0;
  const double m = chi2 / 2;
  const std::size_t k = degrees / 2;
  // log of each term e^-m m^i / i!; the sum by log-sum-exp around the largest term.
  std::vector<double> logs;
  logs.reserve(k);
  double largest = -INFINITY;
  for (std::size_t i = 0; i < k; ++i) {
    const double term = -m + static_cast<double>(i) * std::log(m) - std::lgamma(static_cast<double>(i) + 1);
    logs.push_back(term);
    largest = std::max(largest, term);
  }
  if (logs.empty()) return 1.0;
  double sum = 0;
  for (const double term : logs) sum += std::exp(term - largest);
  return std::min(1.0, std::exp(largest + std::log(sum)));
}

double fisher_combine(std::span<const double> probabilities) {
  if (probabilities.empty()) return 0.5;
  double ln_f = 0;
  double ln_not_f = 0;
  for (double f : probabilities) {
    f = std::clamp(f, 1e-9, 1 - 1e-9);
    ln_f += std::log(f);
    ln_not_f += std::log(1 - f);
  }
  const std::size_t degrees = 2 * probabilities.size();
  const double h = chi2_upper_tail(-2 * ln_f, degrees);
  const double s = chi2_upper_tail(-2 * ln_not_f, degrees);
  return (1 + h - s) / 2;
}

ClassifierResult classify(const storage::ClassifierSnapshot& snapshot, const ClassifierOptions& options) {
  // The account's own counts plus the others' (shared minus own) at shared_weight.
  auto blend = [&](double own, double shared) { return own + options.shared_weight * std::max(shared - own, 0.0); };
  ClassifierResult result;
  result.spam_lessons = blend(static_cast<double>(snapshot.account.spam), static_cast<double>(snapshot.shared.spam));
  result.ham_lessons = blend(static_cast<double>(snapshot.account.ham), static_cast<double>(snapshot.shared.ham));
  result.trained = result.spam_lessons >= options.min_spam_lessons && result.ham_lessons >= options.min_ham_lessons;
  if (!result.trained) return result;
  std::vector<double> clues;
  for (const storage::ClassifierTokenCounts& token : snapshot.tokens) {
    const double f = robinson_probability(blend(token.spam, token.shared_spam), blend(token.ham, token.shared_ham),
                                          result.spam_lessons, result.ham_lessons, options);
    if (std::abs(f - 0.5) >= options.min_deviation) clues.push_back(f);
  }
  if (clues.size() > options.max_clues) {
    std::ranges::nth_element(clues, clues.begin() + static_cast<std::ptrdiff_t>(options.max_clues),
                             [](double a, double b) { return std::abs(a - 0.5) > std::abs(b - 0.5); });
    clues.resize(options.max_clues);
  }
  result.clues = clues.size();
  result.probability = fisher_combine(clues);
  return result;
}

Verdict classifier_verdict(const ClassifierResult& result, const ClassifierOptions& options) {
  Verdict verdict;
  verdict.filter = "classifier";
  if (!result.trained) {
    verdict.skipped = true;
    verdict.note = fmt::format("learning: {:.0f} of {:.0f} spam, {:.0f} of {:.0f} ham lessons", result.spam_lessons,
                               options.min_spam_lessons, result.ham_lessons, options.min_ham_lessons);
    return verdict;
  }
  verdict.score = result.probability;
  if (result.probability >= options.junk_threshold) {
    verdict.action = Action::junk;
    verdict.symbols.push_back("SPAM");
  } else if (result.probability <= options.ham_threshold) {
    verdict.symbols.push_back("HAM");
  } else {
    verdict.symbols.push_back("UNSURE");
  }
  verdict.note = fmt::format("{} clues", result.clues);
  return verdict;
}

}  // namespace postamt::filter
