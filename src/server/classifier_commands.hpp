#pragma once
// `postamt classifier stats|train` (issue 15 §5): the built-in classifier's training.
//   classifier stats ACCOUNT [--json]        lessons taught (spam, ham), tokens stored,
//                                            the shared base's, and whether it judges yet
//   classifier train --spam|--ham ACCOUNT FILE...
//                                            teaches each file (one message each) as the
//                                            user would by moving it into or out of Junk
// Both work on the store directly (SQLite allows the running server to go on meanwhile).
#include <functional>
#include <string>
#include <vector>

#include "base/config.hpp"

namespace CLI {
class App;
}

namespace postamt::server {

using ClassifierConfigAction = std::function<int(const Config&)>;
void add_classifier_commands(CLI::App& app,
                             std::function<std::function<void()>(ClassifierConfigAction)> with_config);

int classifier_stats(const Config& config, const std::string& account, bool json);
int classifier_train(const Config& config, const std::string& account, bool spam,
                     const std::vector<std::string>& files);

}  // namespace postamt::server
