#include "storage/sqlite/sqlite_rows.hpp"

#include <algorithm>
#include <chrono>

namespace postamt::storage::sqlite {

UnixTime now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool has_control(std::string_view text) {
  return std::ranges::any_of(text, [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c == 0x7f;
  });
}

bool iequals_ascii(std::string_view a, std::string_view b) {
  const auto lower = [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  };
  return a.size() == b.size() &&
         std::ranges::equal(a, b, [&](char x, char y) { return lower(x) == lower(y); });
}

std::string_view special_use_name(SpecialUse use) {
  switch (use) {
    case SpecialUse::none:
      return "";
    case SpecialUse::drafts:
      return "drafts";
    case SpecialUse::sent:
      return "sent";
    case SpecialUse::trash:
      return "trash";
    case SpecialUse::junk:
      return "junk";
    case SpecialUse::archive:
      return "archive";
  }
  return "";
}

SpecialUse special_use_from_name(std::string_view name) {
  for (const SpecialUse use : {SpecialUse::drafts, SpecialUse::sent, SpecialUse::trash,
                               SpecialUse::junk, SpecialUse::archive})
    if (special_use_name(use) == name) return use;
  return SpecialUse::none;
}

QueueState queue_state_from_name(std::string_view name) {
  for (const QueueState state :
       {QueueState::deferred, QueueState::delivered, QueueState::bounced, QueueState::held})
    if (queue_state_name(state) == name) return state;
  return QueueState::queued;
}

std::string join_flags(const std::vector<std::string>& flags) {
  std::string out;
  for (const std::string& flag : flags) {
    if (!out.empty()) out.push_back(' ');
    out.append(flag);
  }
  return out;
}

std::vector<std::string> split_flags(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const std::size_t space = text.find(' ');
    out.emplace_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return out;
}

DomainRecord read_domain(const Statement& stmt) {
  return DomainRecord{stmt.column_int64(0), stmt.column_text(1), stmt.column_int64(2)};
}

AccountRecord read_account(const Statement& stmt) {
  AccountRecord record;
  record.id = stmt.column_int64(0);
  record.address = stmt.column_text(1);
  record.password_hash = stmt.column_text(2);
  record.quota_bytes = static_cast<std::uint64_t>(stmt.column_int64(3));
  record.disabled = stmt.column_int64(4) != 0;
  record.created_at = stmt.column_int64(5);
  return record;
}

AliasRecord read_alias(const Statement& stmt) {
  return AliasRecord{stmt.column_int64(0), stmt.column_text(1), stmt.column_text(2)};
}

MailboxRecord read_mailbox(const Statement& stmt) {
  MailboxRecord record;
  record.id = stmt.column_int64(0);
  record.account_id = stmt.column_int64(1);
  record.name = stmt.column_text(2);
  record.uidvalidity = static_cast<std::uint32_t>(stmt.column_int64(3));
  record.uidnext = static_cast<std::uint32_t>(stmt.column_int64(4));
  record.highestmodseq = static_cast<std::uint64_t>(stmt.column_int64(5));
  record.special_use = special_use_from_name(stmt.column_text(6));
  record.message_count = static_cast<std::uint32_t>(stmt.column_int64(7));
  record.total_size = static_cast<std::uint64_t>(stmt.column_int64(8));
  return record;
}

MessageRecord read_message(const Statement& stmt) {
  MessageRecord record;
  record.id = stmt.column_int64(0);
  record.mailbox_id = stmt.column_int64(1);
  record.uid = static_cast<std::uint32_t>(stmt.column_int64(2));
  record.modseq = static_cast<std::uint64_t>(stmt.column_int64(3));
  record.flags = split_flags(stmt.column_text(4));
  record.internal_date = stmt.column_int64(5);
  record.size = static_cast<std::uint64_t>(stmt.column_int64(6));
  record.blob_id = stmt.column_text(7);
  record.mime_metadata = stmt.column_blob(8);
  return record;
}

QueueMessage read_queue_message(const Statement& stmt) {
  QueueMessage record;
  record.id = stmt.column_int64(0);
  record.sender = stmt.column_text(1);
  record.blob_id = stmt.column_text(2);
  record.size = static_cast<std::uint64_t>(stmt.column_int64(3));
  record.envid = stmt.column_text(4);
  record.ret = stmt.column_text(5);
  record.created_at = stmt.column_int64(6);
  record.account = stmt.column_text(7);
  return record;
}

QueueRecipient read_queue_recipient(const Statement& stmt) {
  QueueRecipient record;
  record.id = stmt.column_int64(0);
  record.message_id = stmt.column_int64(1);
  record.address = stmt.column_text(2);
  record.orcpt = stmt.column_text(3);
  record.notify = stmt.column_text(4);
  record.state = queue_state_from_name(stmt.column_text(5));
  record.attempts = static_cast<unsigned>(stmt.column_int64(6));
  record.next_attempt_at = stmt.column_int64(7);
  record.last_reply = stmt.column_text(8);
  return record;
}

StoreResult<bool> exists(Statement& stmt) {
  auto row = stmt.step();
  if (!row) return fail(row);
  return *row;
}

MessageSummary read_summary(const Statement& stmt) {
  MessageSummary summary;
  summary.uid = static_cast<std::uint32_t>(stmt.column_int64(0));
  summary.modseq = static_cast<std::uint64_t>(stmt.column_int64(1));
  summary.flags = split_flags(stmt.column_text(2));
  summary.internal_date = stmt.column_int64(3);
  summary.size = static_cast<std::uint64_t>(stmt.column_int64(4));
  return summary;
}

std::uint32_t read_uid(const Statement& stmt) {
  return static_cast<std::uint32_t>(stmt.column_int64(0));
}

std::vector<std::uint32_t> sorted_unique(std::span<const std::uint32_t> uids) {
  std::vector<std::uint32_t> out(uids.begin(), uids.end());
  std::ranges::sort(out);
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

const std::string& uid_chunk_placeholders() {
  static const std::string text = [] {
    std::string out;
    for (std::size_t i = 0; i < kUidChunk; ++i) {
      if (i > 0) out.append(", ");
      out.append("?").append(std::to_string(i + 2));
    }
    return out;
  }();
  return text;
}

}  // namespace postamt::storage::sqlite
