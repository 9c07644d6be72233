#pragma once
// The [mailauth] section (sender authentication, issue 14), kept out of config_loader.cpp.
#include "base/config.hpp"
#include "server/config/config_checker.hpp"

namespace postamt::config::detail {

void check_mailauth(Checker& checker, const Field& field, MailauthConfig& out);

}  // namespace postamt::config::detail
