#pragma once
#include "base/config.hpp"

namespace postamt::server {

// `postamt serve`: binds every listener, writes the ports file, drops privileges and
// runs until SIGTERM/SIGINT (drain, exit 0). SIGHUP reloads certificates and the log
// level. Returns the process exit status.
int serve(const Config& config);

}  // namespace postamt::server
