#pragma once
// The [security] section (issue 15 §7, §8: bans and security events), kept out of
// config_loader.cpp.
#include "base/config.hpp"
#include "server/config/config_checker.hpp"

namespace postamt::config::detail {

void check_security(Checker& checker, const Field& field, SecurityConfig& out);

}  // namespace postamt::config::detail
