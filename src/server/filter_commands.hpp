#pragma once
// `postamt filter learn --spam|--ham FILE [--account ADDRESS]` (issue 15 §5): gives one
// message to rspamd's controller as a lesson, as a move into or out of Junk would; for
// operators (teaching rspamd from a folder of known spam) and for the tests. Exit 0 when
// the lesson was taken (also "already learned"), 1 when it was not, 2 when no rspamd is
// configured.
#include <functional>

#include "base/config.hpp"

namespace CLI {
class App;
}

namespace postamt::server {

using FilterConfigAction = std::function<int(const Config&)>;
// Adds `filter learn` under `app` (creating the `filter` group if no one has yet).
void add_filter_commands(CLI::App& app, std::function<std::function<void()>(FilterConfigAction)> with_config);

int filter_learn(const Config& config, bool spam, const std::string& file, const std::string& account);

}  // namespace postamt::server
