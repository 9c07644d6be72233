#pragma once
// The built-in spam classifier's arithmetic (issue 15 §5): Gary Robinson's method, as he
// published it ("A Statistical Approach to the Spam Problem", Linux Journal, 2003).
//
//   p(w) = (b(w)/nbad) / (b(w)/nbad + g(w)/ngood)    b, g: spam and ham lessons with token w
//   f(w) = (s·x + n·p(w)) / (s + n)                  n = b + g; s strength, x assumed value
//   H = C⁻¹(-2 ln Π f(w), 2N)   S = C⁻¹(-2 ln Π (1 - f(w)), 2N)   over the N clues
//   I = (1 + H - S) / 2                              the message's spam probability
//
// where C⁻¹(χ², ν) is the chi-square distribution's upper tail (the probability of a value
// at least χ² with ν degrees of freedom), and the clues are the tokens whose f(w) is at
// least `min_deviation` away from 0.5, the `max_clues` most extreme.
//
// Counts are the account's own plus `shared_weight` times the other accounts' (the shared
// base less the account's part). No verdict before the account has that much training:
// `min_spam_lessons` and `min_ham_lessons`, counted the same way. Pure: no I/O.
#include <cstddef>
#include <cstdint>
#include <span>

#include "filter/filter.hpp"
#include "storage/api/classifier_types.hpp"

namespace postamt::filter {

struct ClassifierOptions {
  double min_spam_lessons = 20;
  double min_ham_lessons = 20;
  double shared_weight = 0.25;
  double strength = 1.0;  // s
  double assumed = 0.5;   // x
  double min_deviation = 0.1;
  std::size_t max_clues = 150;
  double junk_threshold = 0.9;  // I at or above: Junk
  double ham_threshold = 0.2;   // I at or below: called ham (the symbol only)
};

// f(w) of one token.
double robinson_probability(double spam_count, double ham_count, double spam_total, double ham_total,
                            const ClassifierOptions& options);

// C⁻¹(χ², ν) for an even ν = 2k: e^(-χ²/2) Σ_{i<k} (χ²/2)^i / i!, summed in logarithms so
// that a long message does not underflow.
double chi2_upper_tail(double chi2, std::size_t degrees);

// I of the clues' f(w) values; 0.5 when there are none.
double fisher_combine(std::span<const double> probabilities);

struct ClassifierResult {
  bool trained = false;
  double spam_lessons = 0;  // as counted for the minimum
  double ham_lessons = 0;
  double probability = 0.5;  // I
  std::size_t clues = 0;
};

ClassifierResult classify(const storage::ClassifierSnapshot& snapshot, const ClassifierOptions& options);

// The filter's verdict ("classifier"): junk at or above junk_threshold with I as score,
// accept otherwise; never reject or defer. Untrained: accept, skipped, no score.
Verdict classifier_verdict(const ClassifierResult& result, const ClassifierOptions& options);

}  // namespace postamt::filter
