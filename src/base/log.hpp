#pragma once
// One line per event: `ts level event key=value key=value ...`. Values with spaces,
// quotes or '=' are quoted so lines stay machine-splittable. spdlog stays in log.cpp.
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/config.hpp"

namespace postamt::log {

struct Field {
  std::string_view key;
  std::string value;

  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  template <class Number>
    requires std::is_arithmetic_v<Number>
  Field(std::string_view k, Number v) : key(k), value(std::to_string(v)) {}
};

// Sets up the process-wide logger (stderr, or a file). Safe to call again (SIGHUP).
void init(LogLevel level, const std::optional<std::filesystem::path>& file = std::nullopt);
void set_level(LogLevel level);
bool enabled(LogLevel level);

void write(LogLevel level, std::string_view event, std::initializer_list<Field> fields);
// The same with fields made at run time (security events: a kind's own fields).
void write_fields(LogLevel level, std::string_view event, std::span<const Field> fields);

inline void trace(std::string_view event, std::initializer_list<Field> fields = {}) {
  if (enabled(LogLevel::trace)) write(LogLevel::trace, event, fields);
}
inline void debug(std::string_view event, std::initializer_list<Field> fields = {}) {
  if (enabled(LogLevel::debug)) write(LogLevel::debug, event, fields);
}
inline void info(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(LogLevel::info, event, fields);
}
inline void warn(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(LogLevel::warn, event, fields);
}
inline void error(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(LogLevel::error, event, fields);
}

// Formats `event key=value ...` (exposed for tests).
std::string format_line(std::string_view event, std::initializer_list<Field> fields);

}  // namespace postamt::log
