#pragma once
// The [filter] section (the SMTP-time filter pipeline, issue 15), kept out of config_loader.cpp.
#include "base/config.hpp"
#include "server/config/config_checker.hpp"

namespace postamt::config::detail {

void check_filter(Checker& checker, const Field& field, FilterConfig& out);

}  // namespace postamt::config::detail
