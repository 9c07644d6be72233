#include "filter/classifier_filter.hpp"

#include <atomic>
#include <chrono>
#include <string>

#include "filter/classifier_tokens.hpp"
#include "net/blocking_pool.hpp"
#include "storage/api/mail_store.hpp"

namespace postamt::filter {
namespace {

// Pruning: tokens seen in one lesson only and not again for this long go, a bounded
// batch every kPruneEvery lessons.
constexpr std::int64_t kPruneAfterSeconds = 30 * 24 * 3600;
constexpr std::size_t kPruneBatch = 10000;
constexpr unsigned kPruneEvery = 64;
std::atomic<unsigned> lessons_since_prune{0};

struct Judgement {
  ClassifierResult result;
  std::string account;  // judged by ("" = the shared base)
  std::string error;
};

class ClassifierFilter final : public Filter {
 public:
  ClassifierFilter(storage::MailStore& store, net::BlockingPool& pool, ClassifierOptions options)
      : store_(store), pool_(pool), options_(options) {}

  std::string name() const override { return "classifier"; }

  asio::awaitable<Verdict> check(const MessageFacts& facts, std::shared_ptr<const MessageContent> content) override {
    Verdict verdict;
    verdict.filter = "classifier";
    if (!content || content->truncated) {
      verdict.skipped = true;
      verdict.note = "message too large";
      co_return verdict;
    }
    const Judgement judged = co_await pool_.run([&]() -> Judgement {
      Judgement out;
      for (const std::string& recipient : facts.recipients) {
        if (auto account = store_.find_account(recipient)) {
          out.account = account->address;
          break;
        }
      }
      // The lesson totals alone first: until there are enough lessons to act on, the
      // message is neither tokenized nor are its tokens looked up (most of the cost).
      auto totals = store_.classifier_snapshot(out.account, {});
      if (!totals) {
        out.error = totals.error().message;
        return out;
      }
      out.result = classify(*totals, options_);
      if (!out.result.trained) return out;
      const std::vector<std::uint64_t> tokens = classifier_tokens(content->bytes);
      auto snapshot = store_.classifier_snapshot(out.account, tokens);
      if (!snapshot) {
        out.error = snapshot.error().message;
        return out;
      }
      out.result = classify(*snapshot, options_);
      return out;
    });
    if (!judged.error.empty()) {
      verdict.failed = true;
      verdict.note = judged.error;
      co_return verdict;
    }
    verdict = classifier_verdict(judged.result, options_);
    if (judged.account.empty()) verdict.note += verdict.note.empty() ? "shared base" : "; shared base";
    co_return verdict;
  }

 private:
  storage::MailStore& store_;
  net::BlockingPool& pool_;
  ClassifierOptions options_;
};

class ClassifierLearner final : public SpamLearner {
 public:
  ClassifierLearner(storage::MailStore& store, net::BlockingPool& pool) : store_(store), pool_(pool) {}

  std::string name() const override { return "classifier"; }

  asio::awaitable<std::string> learn(std::string account, std::shared_ptr<const std::string> message,
                                     Lesson lesson) override {
    if (!message) co_return "no message";
    co_return co_await pool_.run([&] { return teach_classifier(store_, account, *message, lesson); });
  }

 private:
  storage::MailStore& store_;
  net::BlockingPool& pool_;
};

}  // namespace

std::unique_ptr<Filter> make_classifier_filter(storage::MailStore& store, net::BlockingPool& pool,
                                               ClassifierOptions options) {
  return std::make_unique<ClassifierFilter>(store, pool, options);
}

std::shared_ptr<SpamLearner> make_classifier_learner(storage::MailStore& store, net::BlockingPool& pool) {
  return std::make_shared<ClassifierLearner>(store, pool);
}

std::string teach_classifier(storage::MailStore& store, std::string_view account, std::string_view message,
                             Lesson lesson) {
  storage::ClassifierLesson taught;
  taught.account = std::string(account);
  taught.spam = lesson == Lesson::spam;
  taught.tokens = classifier_tokens(message);
  if (auto done = store.record_classifier_lesson(taught); !done) return done.error().message;
  if (lessons_since_prune.fetch_add(1) + 1 >= kPruneEvery) {
    lessons_since_prune = 0;
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    (void)store.prune_classifier_tokens(now - kPruneAfterSeconds, kPruneBatch);
  }
  return "";
}

}  // namespace postamt::filter
