#include "security/security_event.hpp"

#include <array>
#include <ctime>
#include <memory>
#include <mutex>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "proto/smtp/utf8.hpp"

namespace postamt::security {
namespace {

constexpr std::array<std::string_view, kEventKinds> kNames = {
    "auth_failure", "auth_lockout",   "login_new_network", "ban",           "unban",
    "hold",         "release",        "filter_reject",     "protocol_abuse", "recipient_probe"};

std::mutex g_sink_mutex;
std::shared_ptr<const EventSink> g_sink;

metrics::Counter& counter(EventKind kind) {
  static const auto counters = [] {
    std::array<metrics::Counter*, kEventKinds> all{};
    for (std::size_t i = 0; i < kEventKinds; ++i) {
      all[i] = &metrics::registry().counter("postamt_security_events_total", "Security events by kind",
                                             {{"kind", std::string(kNames[i])}});
    }
    return all;
  }();
  return *counters[static_cast<std::size_t>(kind)];
}

LogLevel level_of(EventKind kind) {
  switch (kind) {
    case EventKind::auth_lockout:
    case EventKind::ban:
    case EventKind::hold:
    case EventKind::protocol_abuse:
      return LogLevel::warn;
    default:
      return LogLevel::info;
  }
}

// A JSON string (RFC 8259 §7) of any octets: what clients sent (an 8-bit user name, a
// recipient cut at 320 octets in the middle of a character) must not make the stored
// object unreadable, so an octet that is not UTF-8 becomes U+FFFD.
void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      const std::size_t length = proto::smtp::utf8_sequence_length(text.substr(i));
      if (length == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out += text.substr(i, length);
        i += length;
      }
      continue;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
    ++i;
  }
  out += '"';
}

}  // namespace

void export_event_counters() { counter(EventKind::auth_failure); }  // registers every kind

std::string_view kind_name(EventKind kind) { return kNames[static_cast<std::size_t>(kind)]; }

std::optional<EventKind> parse_kind(std::string_view name) {
  for (std::size_t i = 0; i < kEventKinds; ++i) {
    if (kNames[i] == name) return static_cast<EventKind>(i);
  }
  return std::nullopt;
}

const std::vector<std::string_view>& kind_names() {
  static const std::vector<std::string_view> names(kNames.begin(), kNames.end());
  return names;
}

std::string fields_json(const SecurityEvent& event) {
  std::string out = "{";
  for (const auto& [key, value] : event.fields) {
    if (out.size() > 1) out += ',';
    append_json_string(out, key);
    out += ':';
    append_json_string(out, value);
  }
  out += '}';
  return out;
}

void emit(SecurityEvent event) {
  if (event.at == 0) event.at = static_cast<std::int64_t>(std::time(nullptr));
  counter(event.kind).inc();
  const LogLevel level = level_of(event.kind);
  if (log::enabled(level)) {
    std::vector<log::Field> fields;
    fields.reserve(3 + event.fields.size());
    if (!event.ip.empty()) fields.emplace_back("ip", event.ip);
    if (!event.account.empty()) fields.emplace_back("account", event.account);
    if (!event.protocol.empty()) fields.emplace_back("proto", event.protocol);
    for (const auto& [key, value] : event.fields) fields.emplace_back(key, value);
    log::write_fields(level, "security." + std::string(kind_name(event.kind)), fields);
  }
  std::shared_ptr<const EventSink> sink;
  {
    std::lock_guard lock(g_sink_mutex);
    sink = g_sink;
  }
  if (sink && *sink) (*sink)(event);
}

void report_protocol_abuse(std::string_view protocol, std::string_view ip, std::uint64_t session_id, unsigned errors) {
  SecurityEvent event;
  event.kind = EventKind::protocol_abuse;
  event.ip = std::string(ip);
  event.protocol = std::string(protocol);
  event.fields = {{"sid", std::to_string(session_id)}, {"errors", std::to_string(errors)}};
  emit(std::move(event));
}

void report_recipient_probe(std::string_view protocol, std::string_view ip, std::uint64_t session_id,
                            std::string_view recipient) {
  SecurityEvent event;
  event.kind = EventKind::recipient_probe;
  event.ip = std::string(ip);
  event.protocol = std::string(protocol);
  event.fields = {{"sid", std::to_string(session_id)}, {"recipient", std::string(recipient.substr(0, 320))}};
  emit(std::move(event));
}

void set_event_sink(EventSink sink) {
  auto shared = sink ? std::make_shared<const EventSink>(std::move(sink)) : nullptr;
  std::lock_guard lock(g_sink_mutex);
  g_sink = std::move(shared);
}

}  // namespace postamt::security
