#pragma once
// `postamt security holds|release` (issue 15 §6): accounts whose outbound mail is on hold.
//   security holds [--json]     held accounts: since when, why, how many recipients wait
//   security release ACCOUNT    lifts the hold in the store; the running server notices
//                               within seconds: the waiting mail goes out, submissions
//                               are accepted again. Exit 1 when the account is not held.
#include <functional>

#include "base/config.hpp"

namespace CLI {
class App;
}

namespace postamt::server {

// `with_config` turns an action on the loaded configuration into a CLI callback (the
// exit status goes where main() keeps it).
using HoldConfigAction = std::function<int(const Config&)>;
void add_hold_commands(CLI::App& security,
                       std::function<std::function<void()>(HoldConfigAction)> with_config);

int security_holds(const Config& config, bool json);
int security_release(const Config& config, const std::string& account);

}  // namespace postamt::server
