#include "base/log.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>

namespace postamt::log {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::info)};

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::trace: return spdlog::level::trace;
    case LogLevel::debug: return spdlog::level::debug;
    case LogLevel::info: return spdlog::level::info;
    case LogLevel::warn: return spdlog::level::warn;
    case LogLevel::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

bool needs_quotes(std::string_view value) {
  if (value.empty()) return true;
  for (unsigned char c : value) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) return true;
  }
  return false;
}

void append_value(std::string& out, std::string_view value) {
  if (!needs_quotes(value)) {
    out += value;
    return;
  }
  out += '"';
  for (unsigned char c : value) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < ' ' || c == 0x7f) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

std::shared_ptr<spdlog::logger> make_logger(const std::optional<std::filesystem::path>& file) {
  spdlog::sink_ptr sink;
  if (file) {
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file->string(), false);
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  }
  auto logger = std::make_shared<spdlog::logger>("postamt", sink);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::trace);  // filtering happens in enabled()
  logger->flush_on(spdlog::level::trace);
  return logger;
}

std::shared_ptr<spdlog::logger>& logger() {
  static std::shared_ptr<spdlog::logger> instance = make_logger(std::nullopt);
  return instance;
}

}  // namespace

void init(LogLevel level, const std::optional<std::filesystem::path>& file) {
  auto fresh = make_logger(file);
  std::atomic_store(&logger(), fresh);
  set_level(level);
}

void set_level(LogLevel level) { g_level.store(static_cast<int>(level)); }

bool enabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(); }

namespace {
std::string format_span(std::string_view event, std::span<const Field> fields) {
  std::string line(event);
  for (const auto& field : fields) {
    line += ' ';
    line += field.key;
    line += '=';
    append_value(line, field.value);
  }
  return line;
}
}  // namespace

std::string format_line(std::string_view event, std::initializer_list<Field> fields) {
  return format_span(event, std::span<const Field>(fields.begin(), fields.size()));
}

void write(LogLevel level, std::string_view event, std::initializer_list<Field> fields) {
  if (!enabled(level)) return;
  auto current = std::atomic_load(&logger());
  current->log(to_spdlog(level), "{}", format_line(event, fields));
}

void write_fields(LogLevel level, std::string_view event, std::span<const Field> fields) {
  if (!enabled(level)) return;
  auto current = std::atomic_load(&logger());
  current->log(to_spdlog(level), "{}", format_span(event, fields));
}

}  // namespace postamt::log
