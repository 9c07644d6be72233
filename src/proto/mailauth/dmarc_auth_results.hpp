#pragma once
// The dmarc method result of our Authentication-Results field (RFC 8601 §2.7.2, RFC 7489
// §11.2): dmarc=<result> (p=… sp=… dis=…) header.from=<From domain>, with a reason for
// anything but a pass. Written through the one A-R writer, so every value is escaped.
#include "proto/mailauth/auth_results.hpp"
#include "proto/mailauth/dmarc_evaluator.hpp"

namespace postamt::mailauth {

AuthMethodResult dmarc_auth_result(const DmarcOutcome& outcome);

}  // namespace postamt::mailauth
