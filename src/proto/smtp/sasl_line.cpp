#include "proto/smtp/sasl_line.hpp"

namespace postamt::proto::smtp {

bool is_base64_line(std::string_view line) {
  std::size_t padding = 0;
  for (char c : line) {
    const bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (c == '=') {
      if (++padding > 2) return false;
    } else if (!alphabet || padding > 0) {
      return false;
    }
  }
  return true;
}

}  // namespace postamt::proto::smtp
