#pragma once
// Keeps toml++ away from input that makes it misbehave.
//
// toml++ 3.3 (Debian 12) reaches __builtin_unreachable() -- undefined behaviour -- when it
// asks "is this whitespace?" about some non-ASCII characters (upstream issues #190, #295):
// outside strings, where it may scan several characters past an error, and right after a
// line-ending backslash in a """multi-line""" string. Rather than guess where toml++ looks,
// the check lets toml++ parse an ASCII copy of the text first, in which every non-ASCII
// character is replaced by '?': that copy is safe, and as '?' is legal only inside strings
// and comments, a successful parse proves every non-ASCII character of the original sits
// there too. What remains is the multi-line string case, which a small lexer finds (it can
// trust its idea of where strings are once the text is known to be valid TOML).
#include <optional>
#include <string_view>

#include "server/config/config_loader.hpp"

namespace postamt::config {

// A syntax problem (invalid UTF-8, a TOML syntax error, a non-ASCII character where
// toml++ cannot take it), or nullopt when the text is safe to hand to toml::parse.
std::optional<ConfigProblem> prescan_toml(std::string_view text, std::string_view source_name);

}  // namespace postamt::config
