#pragma once
// The results of an SPF check (RFC 7208 §2.6) and the identity checked (§2.3, §2.4).
#include <string_view>

namespace postamt::mailauth {

enum class SpfResult { none, neutral, pass, fail, softfail, temperror, permerror };

// The lower-case names RFC 7208 §2.6 and RFC 8601 §2.7.2 use ("pass", "temperror", ...).
constexpr std::string_view spf_result_name(SpfResult result) {
  switch (result) {
    case SpfResult::none: return "none";
    case SpfResult::neutral: return "neutral";
    case SpfResult::pass: return "pass";
    case SpfResult::fail: return "fail";
    case SpfResult::softfail: return "softfail";
    case SpfResult::temperror: return "temperror";
    case SpfResult::permerror: return "permerror";
  }
  return "none";
}

// MAIL FROM: the reverse-path's domain; HELO: the EHLO/HELO name (§2.3). A MAIL FROM check
// with an empty reverse-path checks postmaster@<HELO name> (§2.4).
enum class SpfIdentity { mail_from, helo };

constexpr std::string_view spf_identity_name(SpfIdentity identity) {
  return identity == SpfIdentity::helo ? "helo" : "mailfrom";
}

}  // namespace postamt::mailauth
