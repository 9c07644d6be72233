#pragma once
// SPF macros (RFC 7208 §7): the syntax check done when a record is parsed, and the
// expansion done when a term is evaluated. Pure functions; the `p` macro's validated name
// comes from the evaluator (it needs DNS).
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "proto/mailauth/ip_address.hpp"

namespace postamt::mailauth {

// Where a macro-string stands: a domain-spec (terms and the exp= / redirect= targets),
// or the explanation string fetched for exp= (§6.2), where c, r and t may appear too.
enum class MacroUse { domain_spec, explanation };

struct SpfMacroContext {
  std::string sender;         // %{s}: local-part@domain ("postmaster" when the local-part is empty)
  std::string local_part;     // %{l}
  std::string sender_domain;  // %{o}
  std::string domain;         // %{d}: the <domain> under evaluation
  IpAddress ip;               // %{i}, %{c}, %{v}
  std::string helo;           // %{h}
  std::string validated_name = "unknown";  // %{p} (§7.3: "unknown" when none validates)
  std::string receiver = "unknown";        // %{r}
  std::uint64_t timestamp = 0;             // %{t}: seconds since the epoch
};

// Syntax only (§7.1): "%{" letter *DIGIT ["r"] *delimiter "}", "%%", "%_", "%-", else
// visible ASCII except "%" (and, in an explanation, spaces). The error says what is wrong.
std::expected<void, std::string> check_macro_string(std::string_view text, MacroUse use);

// A domain-spec (§4.6.1): a non-empty macro-string ending in a macro or in "." toplabel
// (optionally "." after it).
std::expected<void, std::string> check_domain_spec(std::string_view text);

// Whether the string uses the p macro (the evaluator must validate a name first).
bool uses_p_macro(std::string_view text);

// The expansion (§7.3, §7.4): transformers, delimiters, URL escaping for upper-case letters.
std::expected<std::string, std::string> expand_macros(std::string_view text, const SpfMacroContext& context,
                                                      MacroUse use);

// A domain-spec expanded for a DNS query: a trailing dot dropped, and a name over 253
// octets shortened by whole labels from the left (§7.3).
std::expected<std::string, std::string> expand_domain_spec(std::string_view text, const SpfMacroContext& context);

}  // namespace postamt::mailauth
