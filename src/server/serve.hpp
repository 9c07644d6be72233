#pragma once
#include "base/config.hpp"

namespace postamt::server {

// The exit status of a command refused because another process holds the data
// directory's lock ("data directory <path> is in use by pid N").
inline constexpr int kExitDataDirInUse = 2;

// `postamt serve`: locks the data directory, binds every listener, writes the ports file,
// drops privileges, then opens the store (migrations, blob collection) and runs until
// SIGTERM/SIGINT (drain, exit 0). SIGHUP reloads certificates and the log level. Returns
// the process exit status (kExitDataDirInUse when another server holds the directory).
int serve(const Config& config);

}  // namespace postamt::server
