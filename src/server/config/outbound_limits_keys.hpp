#pragma once
// The [outbound_limits] section (issue 15 §6: per-account sending limits and holds), kept
// out of config_loader.cpp.
#include "base/config.hpp"
#include "server/config/config_checker.hpp"

namespace postamt::config::detail {

void check_outbound_limits(Checker& checker, const Field& field, OutboundLimitsConfig& out);

}  // namespace postamt::config::detail
