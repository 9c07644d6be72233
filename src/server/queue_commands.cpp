#include "server/queue_commands.hpp"

#include <chrono>
#include <cstdint>
#include <ctime>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "storage/blob_fs/fs_blob_store.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"

namespace postamt::server {
namespace {

using storage::QueueMessage;
using storage::QueueRecipient;
using storage::QueueState;
using storage::UnixTime;

// `queue show` reads at most this much of a message looking for the end of its header
// section; a longer header section is shown cut off.
constexpr std::uint64_t kMaxHeaderOctets = 64 * 1024;

int fail(const std::string& message) {
  std::cerr << "postamt: error: " << message << "\n";
  return 1;
}

std::unique_ptr<storage::MailStore> open_store(const Config& config) {
  return storage::open_sqlite_store(config.server.data_dir);
}

UnixTime now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string utc_time(UnixTime when, const char* format) {
  const auto seconds = static_cast<std::time_t>(when);
  std::tm parts{};
  if (!::gmtime_r(&seconds, &parts)) return "?";
  char buffer[64];
  const std::size_t length = std::strftime(buffer, sizeof buffer, format, &parts);
  return std::string(buffer, length);
}

std::string text_time(UnixTime when) { return utc_time(when, "%Y-%m-%d %H:%M:%S UTC"); }
std::string json_time(UnixTime when) { return utc_time(when, "%Y-%m-%dT%H:%M:%SZ"); }

std::int64_t age_seconds(const QueueMessage& message, UnixTime now) {
  return now > message.created_at ? now - message.created_at : 0;
}

// "42s", "5m 3s", "3h 12m", "2d 4h": the two largest units.
std::string age_text(std::int64_t seconds) {
  const std::int64_t days = seconds / 86400;
  const std::int64_t hours = seconds / 3600 % 24;
  const std::int64_t minutes = seconds / 60 % 60;
  const std::int64_t rest = seconds % 60;
  if (days > 0) return std::to_string(days) + "d " + std::to_string(hours) + "h";
  if (hours > 0) return std::to_string(hours) + "h " + std::to_string(minutes) + "m";
  if (minutes > 0) return std::to_string(minutes) + "m " + std::to_string(rest) + "s";
  return std::to_string(rest) + "s";
}

// Remote replies and message headers come from other parties: their control characters
// (terminal escapes among them) are not written to the operator's terminal. Line breaks
// become spaces in one-line text and stay in multi-line text.
std::string printable(std::string_view text, bool keep_lines) {
  std::string shown;
  shown.reserve(text.size());
  for (const char c : text) {
    const auto octet = static_cast<unsigned char>(c);
    if (c == '\r' && keep_lines) continue;
    if (c == '\n' && keep_lines) {
      shown += '\n';
    } else if (c == '\r' || c == '\n' || c == '\t') {
      shown += ' ';
    } else if (octet < 0x20 || octet == 0x7f) {
      shown += '?';
    } else {
      shown += c;
    }
  }
  return shown;
}

void print_text(const QueueMessage& message, UnixTime now) {
  std::cout << message.id << "  " << (message.sender.empty() ? "<>" : printable(message.sender, false))
            << "  " << message.size << " bytes  created " << text_time(message.created_at) << " ("
            << age_text(age_seconds(message, now)) << " ago)\n";
  for (const QueueRecipient& recipient : message.recipients) {
    std::cout << "    " << printable(recipient.address, false) << "  "
              << storage::queue_state_name(recipient.state) << "  attempts=" << recipient.attempts
              << "  next=" << text_time(recipient.next_attempt_at);
    if (!recipient.last_reply.empty())
      std::cout << "  reply: " << printable(recipient.last_reply, false);
    std::cout << "\n";
  }
}

// The JSON form for scripts: the fields of the text form, times in RFC 3339 UTC, the
// null sender as "".
nlohmann::ordered_json message_json(const QueueMessage& message, UnixTime now) {
  nlohmann::ordered_json recipients = nlohmann::ordered_json::array();
  for (const QueueRecipient& recipient : message.recipients) {
    recipients.push_back({{"address", recipient.address},
                          {"state", storage::queue_state_name(recipient.state)},
                          {"attempts", recipient.attempts},
                          {"next_attempt_at", json_time(recipient.next_attempt_at)},
                          {"last_reply", recipient.last_reply}});
  }
  return {{"id", message.id},
          {"sender", message.sender},
          {"size", message.size},
          {"created_at", json_time(message.created_at)},
          {"age_seconds", age_seconds(message, now)},
          {"recipients", std::move(recipients)}};
}

void print_json(const nlohmann::ordered_json& value) {
  // Stored text need not be UTF-8 (a remote reply, a header): invalid octets become U+FFFD.
  std::cout << value.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
}

struct HeaderSection {
  std::string text;
  bool cut_off = false;
};

// The message's header section (RFC 5322 §2.1: up to the first empty line), read from
// the start of its blob, at most kMaxHeaderOctets.
storage::StoreResult<HeaderSection> read_headers(const Config& config, const QueueMessage& message) {
  storage::FsBlobStore blobs(config.server.data_dir / "blobs");
  auto start = blobs.read_range(message.blob_id, 0, kMaxHeaderOctets);
  if (!start) return std::unexpected(start.error());
  for (const std::string_view end : {std::string_view("\r\n\r\n"), std::string_view("\n\n")}) {
    const auto at = start->find(end);
    if (at != std::string::npos) return HeaderSection{start->substr(0, at + end.size() / 2), false};
  }
  const bool cut_off = start->size() >= kMaxHeaderOctets;
  return HeaderSection{std::move(*start), cut_off};
}

std::string recipients_phrase(std::size_t count) {
  return std::to_string(count) + (count == 1 ? " recipient" : " recipients");
}

}  // namespace

int queue_list(const Config& config, bool json) {
  auto queue = open_store(config)->list_queue();
  if (!queue) return fail(queue.error().message);
  const UnixTime now = now_seconds();
  if (json) {
    nlohmann::ordered_json listing = nlohmann::ordered_json::array();
    for (const QueueMessage& message : *queue) listing.push_back(message_json(message, now));
    print_json(listing);
    return 0;
  }
  if (queue->empty()) {
    std::cout << "the queue is empty\n";
    return 0;
  }
  for (const QueueMessage& message : *queue) print_text(message, now);
  std::cout << queue->size() << (queue->size() == 1 ? " message" : " messages")
            << " in the queue\n";
  return 0;
}

int queue_show(const Config& config, storage::Id message_id, bool json) {
  auto message = open_store(config)->find_queued(message_id);
  if (!message) return fail(message.error().message);
  auto headers = read_headers(config, *message);
  const UnixTime now = now_seconds();
  if (json) {
    nlohmann::ordered_json shown = message_json(*message, now);
    shown["headers"] = headers ? headers->text : "";
    print_json(shown);
  } else {
    print_text(*message, now);
    if (headers) {
      std::cout << "\n" << printable(headers->text, true);
      if (headers->cut_off)
        std::cout << "\n[header section cut off after " << kMaxHeaderOctets << " octets]\n";
    }
  }
  if (!headers) return fail("cannot read the headers of message " + std::to_string(message_id) +
                            ": " + headers.error().message);
  return 0;
}

int queue_flush(const Config& config, std::optional<storage::Id> message_id) {
  auto flushed = open_store(config)->flush_queue(message_id, now_seconds());
  if (!flushed) return fail(flushed.error().message);
  if (message_id) std::cout << "message " << *message_id << ": ";
  std::cout << recipients_phrase(*flushed) << " due now\n";
  return 0;
}

int queue_delete(const Config& config, storage::Id message_id) {
  auto deleted = open_store(config)->delete_queued(message_id);
  if (!deleted) return fail(deleted.error().message);
  std::cout << "message " << message_id << " deleted\n";
  return 0;
}

int queue_hold(const Config& config, storage::Id message_id) {
  auto held = open_store(config)->hold_queued(message_id);
  if (!held) return fail(held.error().message);
  std::cout << "message " << message_id << ": " << recipients_phrase(*held) << " held\n";
  return 0;
}

int queue_release(const Config& config, storage::Id message_id) {
  auto released = open_store(config)->release_queued(message_id, now_seconds());
  if (!released) return fail(released.error().message);
  std::cout << "message " << message_id << ": " << recipients_phrase(*released)
            << " released\n";
  return 0;
}

}  // namespace postamt::server
