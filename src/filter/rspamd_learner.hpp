#pragma once
// Lessons for rspamd (issue 15 §5): a message the user moved into Junk is POSTed to the
// controller's /learnspam, one moved out to /learnham, with the controller's Password
// header when one is configured. The controller is [filter.rspamd] controller_url, or
// the scanner URL's host on port 11334 (rspamd's default controller port).
#include <memory>
#include <string>

#include "base/config.hpp"
#include "base/result.hpp"
#include "filter/spam_learner.hpp"

namespace postamt::filter {

// The controller's URL from the configuration (a parsed and normalised http:// URL).
Result<std::string> rspamd_controller_url(const RspamdConfig& config);

// An error when neither URL is usable.
Result<std::unique_ptr<SpamLearner>> make_rspamd_learner(const RspamdConfig& config);

}  // namespace postamt::filter
