// Fuzzes Authentication-Results (proto/mailauth/auth_results):
//   1. the reader on arbitrary values: no crash; what it accepts, the writer writes, the
//      reader reads back, and writing that again gives the same text; authserv_id_of()
//      agrees with the full reader;
//   2. the writer on a model built from the input's bytes (any bytes in every value): the
//      field is one header field (every CR is CRLF TAB folding, no NUL, no line over 998
//      octets), it reads back with exactly the methods and properties whose names are
//      keywords, and writing what was read gives the same text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/mailauth/auth_results.hpp"

#include "fuzz_bits.hpp"

using postamt::fuzz::fail;
using namespace postamt::mailauth;

namespace {

void check_one_field(std::string_view field) {
  if (!field.ends_with("\r\n")) fail();
  field.remove_suffix(2);
  std::size_t line = 0;
  for (std::size_t i = 0; i < field.size(); ++i) {
    const char c = field[i];
    if (c == '\0' || c == '\n') fail();
    if (c == '\r') {
      if (i + 2 >= field.size() || field[i + 1] != '\n' || field[i + 2] != '\t') fail();
      ++i;
      line = 0;
    } else if (++line >= 998) {
      fail();
    }
  }
}

void round_trip(const AuthenticationResults& model) {
  check_one_field(format_authentication_results_field(model));
  const std::string value = format_authentication_results_value(model);
  auto parsed = parse_authentication_results(value);
  if (!parsed) fail();
  std::size_t expected_results = 0;
  for (const auto& r : model.results) {
    if (!is_auth_results_keyword(r.method) || !is_auth_results_keyword(r.result)) continue;
    const auto& got = parsed->results.at(expected_results++);
    if (got.method != r.method || got.result != r.result) fail();
    std::size_t properties = 0;
    for (const auto& p : r.properties) {
      properties += is_auth_results_keyword(p.ptype) && is_auth_results_keyword(p.property);
    }
    if (got.properties.size() != properties) fail();
  }
  if (parsed->results.size() != expected_results) fail();
  if (format_authentication_results_value(*parsed) != value) fail();
}

// Fields taken from the input, split at 0x01 bytes.
AuthenticationResults model_from(std::string_view data) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= data.size(); ++i) {
    if (i == data.size() || data[i] == '\x01') {
      parts.emplace_back(data.substr(start, i - start));
      start = i + 1;
    }
  }
  std::size_t next = 0;
  auto take = [&]() -> std::string { return next < parts.size() ? parts[next++] : std::string(); };
  AuthenticationResults model;
  model.authserv_id = take();
  while (next < parts.size() && model.results.size() < 16) {
    AuthMethodResult r;
    r.method = take();
    r.result = take();
    r.reason = take();
    r.comment = take();
    const std::string count = take();
    for (std::size_t k = 0; k < count.size() % 5 && next < parts.size(); ++k) {
      std::string ptype = take(), property = take(), value = take();
      r.with(ptype, property, value);
    }
    model.results.push_back(std::move(r));
  }
  return model;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto parsed = parse_authentication_results(text);
  const auto id = authserv_id_of(text);
  if (parsed) {
    if (!id || *id != parsed->authserv_id) fail();
    round_trip(*parsed);
  }
  (void)claims_authserv_id(text, "mx.example.org");

  round_trip(model_from(text));
  return 0;
}
