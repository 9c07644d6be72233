// Fuzzes proto/http's ResponseParser (and the URL parser): server bytes in arbitrary
// pieces. Checks: no crash, UB or leak; the body never exceeds the limit; a complete
// response has a status of 100..999 (the interim ones skipped) and stays complete;
// an error is sticky; the same bytes fed whole give the same outcome.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/http/response_parser.hpp"
#include "proto/http/url.hpp"

#include "fuzz_bits.hpp"

namespace {

using namespace postamt::proto::http;
using postamt::fuzz::Bits;
using postamt::fuzz::fail;

constexpr std::size_t kMaxBody = 4096;

struct Outcome {
  bool error = false;
  bool complete = false;
  int status = 0;
  std::string body;
};

Outcome run(std::string_view input, Bits* bits) {
  ResponseParser parser(kMaxBody);
  Outcome out;
  std::size_t at = 0;
  while (at < input.size()) {
    const std::size_t piece = bits ? 1 + bits->take(64) : input.size();
    const auto chunk = input.substr(at, piece);
    at += chunk.size();
    auto done = parser.feed(chunk);
    if (!done) {
      out.error = true;
      if (parser.feed("x")) fail();  // errors stick
      return out;
    }
    if (parser.response().body.size() > kMaxBody) fail();
    if (*done) {
      out.complete = true;
      break;
    }
  }
  if (!out.complete) {
    if (!parser.finish()) {
      out.error = true;
      return out;
    }
    out.complete = true;
  }
  if (!parser.complete()) fail();
  auto again = parser.feed("more");
  if (!again || !*again) fail();
  out.status = parser.response().status;
  if (out.status < 200 || out.status > 999) fail();
  out.body = parser.response().body;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Bits bits(data, size);
  const Outcome pieces = run(input, &bits);
  const Outcome whole = run(input, nullptr);
  if (pieces.error != whole.error || pieces.status != whole.status || pieces.body != whole.body) fail();
  // The URL parser on the first line.
  const auto url = parse_url(input.substr(0, input.find('\n')));
  if (url && (url->host.empty() || url->path.empty() || url->path.front() != '/' || url->port == 0)) fail();
  return 0;
}
