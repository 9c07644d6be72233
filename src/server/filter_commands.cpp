#include "server/filter_commands.hpp"

#include <CLI/CLI.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

#include "filter/rspamd_learner.hpp"

namespace postamt::server {

namespace {

// Lessons are messages as stored: CRLF line ends (a file written on Unix has LF).
std::string with_crlf(const std::string& text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
    out += text[i];
  }
  return out;
}

}  // namespace

int filter_learn(const Config& config, bool spam, const std::string& file, const std::string& account) {
  if (config.filter.rspamd.url.empty() && config.filter.rspamd.controller_url.empty()) {
    std::cerr << "postamt: error: no rspamd configured ([filter.rspamd] url or controller_url)\n";
    return 2;
  }
  std::string bytes;
  if (file == "-") {
    bytes.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << "postamt: error: cannot read " << file << "\n";
      return 1;
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    bytes = buffer.str();
  }
  auto learner = filter::make_rspamd_learner(config.filter.rspamd);
  if (!learner) {
    std::cerr << "postamt: error: " << learner.error().message << "\n";
    return 2;
  }
  auto message = std::make_shared<const std::string>(with_crlf(bytes));
  asio::io_context io;
  std::string outcome = "not run";
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        outcome = co_await (*learner)->learn(account, message, spam ? filter::Lesson::spam : filter::Lesson::ham);
      },
      asio::detached);
  io.run();
  const auto url = filter::rspamd_controller_url(config.filter.rspamd);
  if (!outcome.empty()) {
    std::cerr << "postamt: error: rspamd at " << url.value_or("?") << " did not take the lesson: " << outcome << "\n";
    return 1;
  }
  std::cout << "learned as " << (spam ? "spam" : "ham") << " by rspamd at " << url.value_or("?") << "\n";
  return 0;
}

void add_filter_commands(CLI::App& app, std::function<std::function<void()>(FilterConfigAction)> with_config) {
  CLI::App* group = nullptr;
  try {
    group = app.get_subcommand("filter");
  } catch (const CLI::OptionNotFound&) {
    group = app.add_subcommand("filter", "The SMTP-time filters (rspamd, the classifier)")->require_subcommand(1);
  }
  struct Options {
    bool spam = false;
    bool ham = false;
    std::string file;
    std::string account;
  };
  auto options = std::make_shared<Options>();
  auto* learn = group->add_subcommand("learn", "Teach rspamd one message as spam or ham (through its controller)");
  auto* spam = learn->add_flag("--spam", options->spam, "The message is spam");
  auto* ham = learn->add_flag("--ham", options->ham, "The message is ham");
  spam->excludes(ham);
  learn->add_option("file", options->file, "The message (RFC 5322), or - for stdin")->required();
  learn->add_option("--account", options->account, "The mailbox owner, for rspamd's per-user statistics");
  learn->callback(with_config([options](const Config& c) {
    if (options->spam == options->ham) {
      std::cerr << "postamt: error: say --spam or --ham\n";
      return 2;
    }
    return filter_learn(c, options->spam, options->file, options->account);
  }));
}

}  // namespace postamt::server
