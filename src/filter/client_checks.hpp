#pragma once
// Checks of the client itself (issue 15 §4): forward-confirmed reverse DNS (the PTR name
// of its address resolves back to that address) and the sanity of its HELO/EHLO name.
// RFC 5321 §4.1.4: a server must not refuse mail only because the HELO name does not
// match the client, so a HELO problem can at most send the mail to Junk — except a client
// that claims to be this server (its host name or address), which no honest one does.
// A missing or unconfirmed reverse DNS name may be refused (RFC 7372 X.7.25).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/config.hpp"
#include "filter/filter.hpp"

namespace postamt::mailauth {
class RecordLookupPool;
}

namespace postamt::filter {

enum class HeloProblem { none, not_a_name, claims_to_be_us, literal_not_the_client };

// `helo` as given; `our_names` the server's host name and local domains (lower case).
HeloProblem check_helo(std::string_view helo, std::string_view client_ip, const std::vector<std::string>& our_names);

std::string_view helo_problem_text(HeloProblem problem);

struct ClientCheckOptions {
  CheckMode reverse_dns = CheckMode::off;
  CheckMode helo = CheckMode::off;
  std::vector<std::string> our_names;  // server.hostname, lower case
};

// `lookups` may be null when reverse_dns is off.
std::unique_ptr<Filter> make_client_check_filter(ClientCheckOptions options, mailauth::RecordLookupPool* lookups);

}  // namespace postamt::filter
