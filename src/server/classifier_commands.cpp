#include "server/classifier_commands.hpp"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "auth/address.hpp"
#include "filter/classifier.hpp"
#include "filter/classifier_filter.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"

namespace postamt::server {
namespace {

int fail(const std::string& message) {
  std::cerr << "postamt: error: " << message << "\n";
  return 1;
}

// The account as stored, or an exit status.
std::expected<std::string, int> stored_account(storage::MailStore& store, const std::string& given) {
  auto address = auth::normalize_address(given);
  if (!address) {
    std::cerr << "postamt: error: give the account's address (user@example.com)\n";
    return std::unexpected(2);
  }
  auto account = store.find_account(*address);
  if (!account) {
    std::cerr << "postamt: error: " << *address << ": " << account.error().message << "\n";
    return std::unexpected(1);
  }
  return account->address;
}

}  // namespace

int classifier_stats(const Config& config, const std::string& account, bool json) {
  auto store = storage::open_sqlite_store(config.server.data_dir);
  auto name = stored_account(*store, account);
  if (!name) return name.error();
  auto own = store->classifier_stats(*name);
  if (!own) return fail(own.error().message);
  auto shared = store->classifier_stats("");
  if (!shared) return fail(shared.error().message);
  // Trained as the filter counts it (filter/classifier.hpp): own lessons + others' at the shared weight.
  storage::ClassifierSnapshot snapshot;
  snapshot.account = *own;
  snapshot.shared = *shared;
  const filter::ClassifierOptions options;
  const filter::ClassifierResult result = filter::classify(snapshot, options);
  if (json) {
    nlohmann::json out = {{"account", *name},
                          {"spam_lessons", own->spam},
                          {"ham_lessons", own->ham},
                          {"tokens", own->tokens},
                          {"last_lesson", own->updated_at},
                          {"shared_spam_lessons", shared->spam},
                          {"shared_ham_lessons", shared->ham},
                          {"shared_tokens", shared->tokens},
                          {"enabled", config.filter.classifier},
                          {"trained", result.trained}};
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << *name << "\tspam=" << own->spam << "\tham=" << own->ham << "\ttokens=" << own->tokens << "\n"
            << "shared base\tspam=" << shared->spam << "\tham=" << shared->ham << "\ttokens=" << shared->tokens
            << "\n";
  if (!config.filter.classifier) std::cout << "the classifier is off ([filter] classifier = false)\n";
  else if (result.trained) std::cout << "trained: the classifier judges this account's mail\n";
  else
    std::cout << "learning: needs " << options.min_spam_lessons << " spam and " << options.min_ham_lessons
              << " ham lessons before it judges (counting others' at " << options.shared_weight << ")\n";
  return 0;
}

int classifier_train(const Config& config, const std::string& account, bool spam,
                     const std::vector<std::string>& files) {
  auto store = storage::open_sqlite_store(config.server.data_dir);
  auto name = stored_account(*store, account);
  if (!name) return name.error();
  std::size_t taught = 0;
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return fail("cannot read " + file);
    const std::string message((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string failed =
        filter::teach_classifier(*store, *name, message, spam ? filter::Lesson::spam : filter::Lesson::ham);
    if (!failed.empty()) return fail(file + ": " + failed);
    ++taught;
  }
  std::cout << "taught " << taught << (spam ? " spam" : " ham") << " message" << (taught == 1 ? "" : "s") << " to "
            << *name << "\n";
  return 0;
}

void add_classifier_commands(CLI::App& app, std::function<std::function<void()>(ClassifierConfigAction)> with_config) {
  auto* classifier = app.add_subcommand("classifier", "The built-in spam classifier's training")->require_subcommand(1);
  auto json = std::make_shared<bool>(false);
  auto account = std::make_shared<std::string>();
  auto files = std::make_shared<std::vector<std::string>>();
  auto spam = std::make_shared<bool>(false);
  auto ham = std::make_shared<bool>(false);
  auto* stats = classifier->add_subcommand("stats", "Lessons taught and whether the classifier judges yet");
  stats->add_option("account", *account, "The account (user@example.com)")->required();
  stats->add_flag("--json", *json, "JSON instead of lines");
  stats->callback(with_config([=](const Config& c) { return classifier_stats(c, *account, *json); }));
  auto* train = classifier->add_subcommand("train", "Teach messages (files) as spam or as ham");
  auto* spam_flag = train->add_flag("--spam", *spam, "The files are spam");
  auto* ham_flag = train->add_flag("--ham", *ham, "The files are ham (wanted mail)");
  spam_flag->excludes(ham_flag);
  train->add_option("account", *account, "The account (user@example.com)")->required();
  train->add_option("files", *files, "Message files (one message each)")->required();
  train->callback(with_config([=](const Config& c) {
    if (*spam == *ham) {
      std::cerr << "postamt: error: give --spam or --ham\n";
      return 2;
    }
    return classifier_train(c, *account, *spam, *files);
  }));
}

}  // namespace postamt::server
