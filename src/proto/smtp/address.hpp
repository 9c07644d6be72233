#pragma once
// Reverse- and forward-path parsing (RFC 5321 §4.1.2, §4.1.1.3; UTF-8 per RFC 6531 §3.3).
//
//   Path           = "<" [ A-d-l ":" ] Mailbox ">"
//   A-d-l          = At-domain *( "," At-domain )      ; source route, parsed and dropped
//   Mailbox        = Local-part "@" ( Domain / address-literal )
//   Local-part     = Dot-string / Quoted-string
//   address-literal= "[" ( IPv4-address-literal / "IPv6:" IPv6-addr ) "]"
//
// The result is canonical so policy compares like with like: the source route is
// stripped (RFC 5321 §3.6.1 and Appendix C: it must be accepted and may be ignored),
// the domain is lower-cased (ASCII only), and a quoted local part that needs no quoting
// loses its quotes ("john"@x -> john@x, §4.1.2 "SHOULD avoid quoting"); one that does is
// re-quoted with only '"' and '\' escaped. The local part keeps its case.
#include <cstddef>
#include <expected>
#include <string>
#include <string_view>

namespace postamt::proto::smtp {

enum class PathKind { reverse, forward };

enum class PathError {
  syntax,    // not a path: 501 5.1.7 (sender) / 501 5.1.3 (recipient)
  too_long,  // over kMaxPathLength
};

// RFC 5321 §4.5.3.1.3: a path is at most 256 octets including "<", ">" and the route.
// The 64-octet local-part limit of §4.5.3.1.1 is deliberately not enforced: VERP and SRS
// senders exceed it in practice, and the path limit already bounds the whole.
inline constexpr std::size_t kMaxPathLength = 256;

struct ParsedPath {
  // "local@domain"; empty for the null reverse-path "<>" (MAIL only); "postmaster"
  // (no domain) for the special "<Postmaster>" recipient of §4.1.1.3.
  std::string mailbox;
  bool non_ascii = false;  // contains UTF-8: legal only when MAIL carried SMTPUTF8
  std::size_t length = 0;  // octets of the input consumed, from "<" through ">"
};

// Parses the path at the start of text. Non-ASCII is accepted when it is well-formed
// UTF-8 in the places RFC 6531 §3.3 allows (atext, qtext, domain labels) and reported
// through non_ascii; the caller refuses it when SMTPUTF8 was not given.
std::expected<ParsedPath, PathError> parse_path(std::string_view text, PathKind kind);

// Checks a whole string for Mailbox syntax and returns it in canonical form.
std::expected<std::string, PathError> parse_mailbox(std::string_view text);

}  // namespace postamt::proto::smtp
