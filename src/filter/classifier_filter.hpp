#pragma once
// The built-in classifier at work (issue 15 §5; the arithmetic in classifier.hpp, the
// tokens in classifier_tokens.hpp, the counts in the store):
//  - the filter ("classifier") judges mail arriving on port 25 by the counts of the FIRST
//    recipient that is a local account itself (a message for several accounts is judged
//    once, and all of them get that verdict); mail whose recipients are all aliases or
//    forwards is judged by the shared base (every account's lessons) alone. Its verdict is
//    Junk or nothing, never a refusal.
//  - the learner ("classifier") takes the lessons of messages moved into and out of Junk
//    (server/junk_training.hpp) and of `postamt classifier train`.
// Both do their work (tokenizing included) on the blocking pool.
#include <memory>

#include "filter/classifier.hpp"
#include "filter/filter.hpp"
#include "filter/spam_learner.hpp"

namespace postamt {
namespace storage {
class MailStore;
}
namespace net {
class BlockingPool;
}
}  // namespace postamt

namespace postamt::filter {

std::unique_ptr<Filter> make_classifier_filter(storage::MailStore& store, net::BlockingPool& pool,
                                               ClassifierOptions options = {});

std::shared_ptr<SpamLearner> make_classifier_learner(storage::MailStore& store, net::BlockingPool& pool);

// What one lesson does, blocking (the learner's work; `postamt classifier train`).
// Returns "" or the store's error. Every 64th lesson also prunes old tokens seen once.
std::string teach_classifier(storage::MailStore& store, std::string_view account, std::string_view message,
                             Lesson lesson);

}  // namespace postamt::filter
