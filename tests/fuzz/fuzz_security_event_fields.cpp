// Fuzzes security/security_event's fields_json, the JSON object a security event's fields
// are stored as and `postamt security events` reads back (nlohmann): the input is split
// into key/value pairs at NUL octets, any octets in them (clients' user names, recipients,
// cut at any octet). Checks: no crash, UB or leak; the text always parses as an object of
// strings, one line; pairs of valid UTF-8 come back exactly (the last of equal keys).
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "proto/smtp/utf8.hpp"
#include "security/security_event.hpp"

#include "fuzz_bits.hpp"

using postamt::fuzz::fail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  postamt::security::SecurityEvent event;
  std::vector<std::string> parts;
  while (!input.empty() && parts.size() < 64) {
    const auto nul = input.find('\0');
    parts.emplace_back(input.substr(0, nul));
    input = nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);
  }
  for (std::size_t i = 0; i + 1 < parts.size(); i += 2) event.fields.emplace_back(parts[i], parts[i + 1]);
  const std::string text = postamt::security::fields_json(event);
  if (text.find('\n') != std::string::npos || text.find('\r') != std::string::npos) fail();
  const auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) fail();
  std::map<std::string, std::string> expected;
  bool all_utf8 = true;
  for (const auto& [key, value] : event.fields) {
    all_utf8 = all_utf8 && postamt::proto::smtp::is_valid_utf8(key) && postamt::proto::smtp::is_valid_utf8(value);
    expected[key] = value;
  }
  for (const auto& [key, value] : parsed.items()) {
    if (!value.is_string()) fail();
  }
  if (all_utf8) {
    if (parsed.size() != expected.size()) fail();
    for (const auto& [key, value] : expected) {
      if (!parsed.contains(key) || parsed.at(key).get<std::string>() != value) fail();
    }
  }
  return 0;
}
