#pragma once
// Value types of the built-in spam classifier's store (issue 15 §5; schema version 8):
// per account, how often each token (a 64-bit hash, filter/classifier_tokens.hpp)
// was seen in messages taught as spam and as ham, and how many lessons of each kind the
// account gave. The shared base, every account's lessons together, is the account "".
#include <cstdint>
#include <string>
#include <vector>

#include "storage/api/types.hpp"

namespace postamt::storage {

// Lessons taught (messages), per account or ("") for the shared base.
struct ClassifierTotals {
  std::uint64_t spam = 0;
  std::uint64_t ham = 0;
  std::uint64_t tokens = 0;  // distinct tokens stored (classifier_stats only)
  UnixTime updated_at = 0;   // the last lesson (classifier_stats only)
};

// One token's counts, for the account asked and for the shared base.
struct ClassifierTokenCounts {
  std::uint64_t hash = 0;
  std::uint32_t spam = 0;
  std::uint32_t ham = 0;
  std::uint32_t shared_spam = 0;
  std::uint32_t shared_ham = 0;
};

// What classifying one message needs, read in one snapshot.
struct ClassifierSnapshot {
  ClassifierTotals account;
  ClassifierTotals shared;
  std::vector<ClassifierTokenCounts> tokens;  // only tokens known to either; any order
};

// One message taught: its distinct tokens count once each, for the account and for the
// shared base.
struct ClassifierLesson {
  std::string account;  // as the account is stored; "" teaches the shared base only
  bool spam = true;
  std::vector<std::uint64_t> tokens;  // distinct
  UnixTime at = 0;                    // 0: now
};

}  // namespace postamt::storage
