#include "proto/mailauth/zone_lines.hpp"

namespace postamt::mailauth {
namespace {

std::string absolute(std::string_view name) {
  std::string out(name);
  if (out.empty() || out.back() != '.') out.push_back('.');
  return out;
}

}  // namespace

std::string zone_txt_line(std::string_view name, std::uint32_t ttl, std::string_view value) {
  std::string line = absolute(name) + " " + std::to_string(ttl) + " IN TXT";
  do {
    const std::string_view part = value.substr(0, kTxtStringMax);
    value.remove_prefix(part.size());
    line += " \"";
    for (char c : part) {
      if (c == '"' || c == '\\') line.push_back('\\');
      line.push_back(c);
    }
    line += "\"";
  } while (!value.empty());
  return line;
}

std::string zone_mx_line(std::string_view name, std::uint32_t ttl, unsigned preference, std::string_view exchange) {
  return absolute(name) + " " + std::to_string(ttl) + " IN MX " + std::to_string(preference) + " " + absolute(exchange);
}

}  // namespace postamt::mailauth
