#include "proto/smtp/line_limits.hpp"

#include <algorithm>

namespace postamt::proto::smtp {

LineLimits extended_line_limits(bool announce_auth) {
  constexpr std::size_t kSize = 26;
  constexpr std::size_t kBody = 14;
  constexpr std::size_t kSmtputf8Keyword = 10;
  constexpr std::size_t kUtf8Path = 460;
  constexpr std::size_t kDsnMail = 9 + 7 + 100;
  constexpr std::size_t kAuthParameter = 500;
  constexpr std::size_t kDsnNotify = 29;
  constexpr std::size_t kDsnOrcpt = 7 + 500;

  LineLimits limits;
  limits.mail = kBaseCommandLine + kSize + kBody + kSmtputf8Keyword + kUtf8Path + kDsnMail +
                (announce_auth ? kAuthParameter : 0);
  limits.rcpt = kBaseCommandLine + kDsnNotify + kDsnOrcpt + kUtf8Path;
  limits.other = kBaseCommandLine;
  limits.buffer = std::max({limits.mail, limits.rcpt, limits.other});
  return limits;
}

}  // namespace postamt::proto::smtp
