#pragma once
// Authentication-Results (RFC 8601): the data model, the one writer, and the reader used to
// find the fields that claim our authserv-id (RFC 8601 §5: remove those, keep foreign ones).
//
// The writer is the only place that turns verdicts into header text. Every value that may
// come from a sender (HELO, MAIL FROM, d=, s=, i=, b=, reasons) is written as a token when
// it is one and as a quoted-string with escapes otherwise; control characters (CR, LF, NUL,
// ...) and invalid UTF-8 become '?'; values are capped in length. Method, result, ptype and
// property names must be RFC 8601 Keywords; a method result or property whose name is not
// one is left out rather than written. So no input can add a method, a property or a line.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "proto/mailauth/header_field_list.hpp"

namespace postamt::mailauth {

struct AuthResultProperty {
  std::string ptype;     // smtp, header, body, policy (RFC 8601 §2.3)
  std::string property;  // mailfrom, helo, d, i, b, s, from, ...
  std::string value;     // unquoted
  friend bool operator==(const AuthResultProperty&, const AuthResultProperty&) = default;
};

struct AuthMethodResult {
  std::string method;   // spf, dkim, dmarc, arc, auth, iprev, ...
  std::string result;   // pass, fail, none, neutral, softfail, temperror, permerror, policy
  std::string reason;   // reason="..." (empty: none written)
  std::string comment;  // a comment after the result, e.g. "2048-bit key" (empty: none)
  std::vector<AuthResultProperty> properties;

  AuthMethodResult& with(std::string ptype, std::string property, std::string value) {
    properties.push_back({std::move(ptype), std::move(property), std::move(value)});
    return *this;
  }
  // Equality ignores comments: they are not part of the parsed meaning (RFC 8601 §2.2).
  friend bool operator==(const AuthMethodResult& a, const AuthMethodResult& b) {
    return a.method == b.method && a.result == b.result && a.reason == b.reason && a.properties == b.properties;
  }
};

struct AuthenticationResults {
  std::string authserv_id;          // our server.hostname
  std::optional<unsigned> version;  // written only when set (1 is implied, RFC 8601 §2.2)
  std::vector<AuthMethodResult> results;  // empty: "authserv-id; none"
  friend bool operator==(const AuthenticationResults&, const AuthenticationResults&) = default;
};

// The longest value written; longer ones are cut (a header line stays under 998 octets).
inline constexpr std::size_t kMaxAuthResultValue = 256;

// The field value, starting with a space after "Authentication-Results:" and folded
// (CRLF + TAB) before a line would pass 78 octets; no trailing CRLF. An empty authserv_id
// is written as "localhost" (the field needs one); give server.hostname.
std::string format_authentication_results_value(const AuthenticationResults& results);
// "Authentication-Results:" + the value + CRLF, ready to prepend to a message.
std::string format_authentication_results_field(const AuthenticationResults& results);

// Parses a field value (after the colon, folding allowed). Lenient where RFC 8601 §2.2
// allows CFWS, strict about structure; an error is permanent.
Result<AuthenticationResults> parse_authentication_results(std::string_view value);

// Only the authserv-id (the first value, after CFWS): unquoted, or nullopt when absent.
std::optional<std::string> authserv_id_of(std::string_view value);

// Whether an incoming Authentication-Results field must go before ours is added: its
// authserv-id equals ours (ASCII case-insensitive, a trailing dot ignored), or it has no
// readable authserv-id at all (a reader might take it for ours).
bool claims_authserv_id(std::string_view value, std::string_view our_authserv_id);

// The Authentication-Results fields of a header block that must be removed, as byte ranges
// (offset, length) of whole fields in `header_block`, in order.
struct ByteRange {
  std::size_t offset = 0;
  std::size_t length = 0;
  friend bool operator==(const ByteRange&, const ByteRange&) = default;
};
std::vector<ByteRange> forged_authentication_results(std::string_view header_block,
                                                     std::string_view our_authserv_id);
// The header block with those fields removed (every other byte kept).
std::string strip_forged_authentication_results(std::string_view header_block, std::string_view our_authserv_id);

// RFC 8601 §2.2 Keyword: Let-dig [Ldh-str] (RFC 5321 §4.1.2).
bool is_auth_results_keyword(std::string_view text);

}  // namespace postamt::mailauth
