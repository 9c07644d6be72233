// libFuzzer target: arbitrary bytes as a config file. parse_config must never crash, leak
// or hit UB, and its result must keep the loader's promises (checked below).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/config/config_loader.hpp"

// Compile toml++'s implementation into the fuzz binary: the Debian package is a shared
// library built without coverage instrumentation, so libFuzzer could not steer through the
// parser and ASan could not check it. These definitions take precedence over the library's.
#define TOML_IMPLEMENTATION
#include <toml++/toml.h>

namespace {

void require(bool condition) {
  if (!condition) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto result = postamt::config::parse_config(text, "/fuzz/postamt.toml");
  if (result) {
    require(!result->listeners.empty());
    require(result->source == "/fuzz/postamt.toml");
    require(result->server.data_dir.is_absolute());
    for (const auto& listener : result->listeners) {
      require(!listener.address().empty());
    }
    return 0;
  }
  const auto& errors = result.error();
  require(!errors.problems.empty());
  // One line per problem, whatever bytes the keys and values held.
  const std::string report = errors.to_string();
  std::size_t lines = 0;
  for (const char c : report) {
    lines += c == '\n' ? 1 : 0;
  }
  require(lines == errors.problems.size());
  // File order: non-decreasing lines, whole-file problems (line 0) last.
  for (std::size_t i = 1; i < errors.problems.size(); ++i) {
    const auto& a = errors.problems[i - 1];
    const auto& b = errors.problems[i];
    require(b.line == 0 || (a.line != 0 && a.line <= b.line));
  }
  return 0;
}
