#pragma once
// `postamt security locks|unlock`: the running server's login throttle, seen and lifted
// through the files auth/throttle_state.hpp describes (the throttle lives in the server's
// memory; the CLI is another process).
#include <string>

#include "base/config.hpp"

namespace postamt::server {

// Locked sources and slowed accounts, one per line; exit status 0.
int security_locks(const Config& config);
// Asks the running server to lift the lock on an address (an IPv6 address lifts its
// network) or the delay on an account, and waits until it has (at most a few seconds).
// Exit status 1 when no server took the request.
int security_unlock(const Config& config, const std::string& target);

}  // namespace postamt::server
