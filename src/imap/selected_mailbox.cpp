#include "imap/selected_mailbox.hpp"

#include <algorithm>
#include <set>

#include "imap/response_text.hpp"

namespace postamt::imap {
namespace {

bool has_flag(const storage::MessageSummary& message, std::string_view flag) {
  return std::binary_search(message.flags.begin(), message.flags.end(), flag,
                            [](std::string_view a, std::string_view b) { return a < b; });
}

bool less_uid(const storage::MessageSummary& m, std::uint32_t uid) { return m.uid < uid; }

}  // namespace

std::string flag_list(std::span<const std::string> flags, bool recent) {
  std::string out = "(";
  for (const auto& flag : flags) {
    if (out.size() > 1) out += ' ';
    out += flag;
  }
  if (recent) out += out.size() > 1 ? " \\Recent" : "\\Recent";
  out += ')';
  return out;
}

SelectedMailbox::SelectedMailbox(const storage::MailboxRecord& mailbox, bool read_only,
                                 std::vector<storage::MessageSummary> messages,
                                 std::uint32_t first_recent_uid)
    : mailbox_id_(mailbox.id),
      name_(mailbox.name),
      read_only_(read_only),
      uidvalidity_(mailbox.uidvalidity),
      uidnext_(mailbox.uidnext),
      highest_modseq_(mailbox.highestmodseq),
      first_recent_uid_(first_recent_uid),
      messages_(std::move(messages)) {
  std::sort(messages_.begin(), messages_.end(),
            [](const auto& a, const auto& b) { return a.uid < b.uid; });
  if (!messages_.empty() && messages_.back().uid >= uidnext_) uidnext_ = messages_.back().uid + 1;
  announced_keywords_ = keywords();
}

std::uint32_t SelectedMailbox::recent_count() const {
  if (first_recent_uid_ == 0) return 0;
  auto it = std::lower_bound(messages_.begin(), messages_.end(), first_recent_uid_, less_uid);
  return static_cast<std::uint32_t>(messages_.end() - it);
}

std::optional<std::uint32_t> SelectedMailbox::sequence_of(std::uint32_t uid) const {
  auto it = std::lower_bound(messages_.begin(), messages_.end(), uid, less_uid);
  if (it == messages_.end() || it->uid != uid) return std::nullopt;
  return static_cast<std::uint32_t>(it - messages_.begin()) + 1;
}

std::optional<std::uint32_t> SelectedMailbox::first_unseen() const {
  for (std::size_t i = 0; i < messages_.size(); ++i) {
    if (!has_flag(messages_[i], "\\Seen")) return static_cast<std::uint32_t>(i + 1);
  }
  return std::nullopt;
}

std::vector<std::uint32_t> SelectedMailbox::resolve(const proto::imap::SequenceSet& set, bool uid,
                                                    const std::vector<std::uint32_t>* saved_uids) const {
  std::vector<std::uint32_t> out;
  if (set.is_saved_result()) {
    if (!saved_uids) return out;
    for (std::uint32_t u : *saved_uids) {
      if (auto n = sequence_of(u)) out.push_back(*n);
    }
    return out;  // saved UIDs are ascending, so are their sequence numbers
  }
  if (messages_.empty()) return out;
  if (!uid) {
    for (const auto& range : set.resolve(exists())) {
      for (std::uint32_t n = range.low; n <= range.high; ++n) {
        out.push_back(n);
        if (n == range.high) break;  // guards n + 1 overflow at UINT32_MAX
      }
    }
  } else {
    // "*" is the highest UID in use; ranges clip to the UIDs that exist (§6.4.9), and the
    // cost follows the messages in the range, not the numbers the client wrote.
    for (const auto& range : set.resolve(std::max(max_uid(), 1u))) {
      auto first = std::lower_bound(messages_.begin(), messages_.end(), range.low, less_uid);
      for (auto it = first; it != messages_.end() && it->uid <= range.high; ++it) {
        out.push_back(static_cast<std::uint32_t>(it - messages_.begin()) + 1);
      }
    }
    // RFC 9051 §6.4.9 note: "n:*" with n above every UID still names the highest message.
    for (const auto& r : set.ranges()) {
      const bool star_range = r.first == proto::imap::SequenceSet::kStar ||
                              r.last == proto::imap::SequenceSet::kStar;
      const std::uint32_t other = r.first == proto::imap::SequenceSet::kStar ? r.last : r.first;
      if (star_range && other > max_uid()) out.push_back(exists());
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool SelectedMailbox::names_missing_sequence_numbers(const proto::imap::SequenceSet& set) const {
  if (set.is_saved_result()) return false;
  for (const auto& range : set.ranges()) {
    for (std::uint32_t n : {range.first, range.last}) {
      if (n == proto::imap::SequenceSet::kStar ? exists() == 0 : n > exists()) return true;
    }
  }
  return false;
}

std::vector<std::string> SelectedMailbox::keywords() const {
  std::set<std::string> found;
  for (const auto& message : messages_) {
    for (const auto& flag : message.flags) {
      if (!flag.empty() && flag.front() != '\\') found.insert(flag);
    }
  }
  return {found.begin(), found.end()};
}

namespace {
constexpr std::string_view kSystemFlags = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";
}  // namespace

std::string SelectedMailbox::flags_response() const {
  std::string out = "* FLAGS (" + std::string(kSystemFlags);
  for (const auto& keyword : announced_keywords_) out += " " + keyword;
  return out + ")\r\n";
}

std::string SelectedMailbox::permanent_flags_response() const {
  if (read_only_) return "* OK [PERMANENTFLAGS ()] No permanent flags in a read-only mailbox\r\n";
  std::string out = "* OK [PERMANENTFLAGS (" + std::string(kSystemFlags);
  for (const auto& keyword : announced_keywords_) out += " " + keyword;
  return out + " \\*)] Flags permitted\r\n";
}

void SelectedMailbox::announce_keywords(std::span<const storage::MessageSummary> summaries,
                                        std::string& out) {
  bool added = false;
  for (const auto& summary : summaries) {
    for (const auto& flag : summary.flags) {
      if (flag.empty() || flag.front() == '\\') continue;
      auto at = std::lower_bound(announced_keywords_.begin(), announced_keywords_.end(), flag);
      if (at != announced_keywords_.end() && *at == flag) continue;
      announced_keywords_.insert(at, flag);
      added = true;
    }
  }
  if (added) out += flags_response() + permanent_flags_response();
}

void SelectedMailbox::announce_exists(const ViewOptions& options, std::string& out) const {
  out += "* " + std::to_string(exists()) + " EXISTS\r\n";
  if (!options.imap4rev2) out += "* " + std::to_string(recent_count()) + " RECENT\r\n";
}

std::vector<std::uint32_t> SelectedMailbox::apply(const MailboxChanges& changes,
                                                  const ViewOptions& options, std::string& out) {
  // 1. Expunges first, so that sequence numbers in the FETCH responses below are current.
  std::vector<std::uint32_t> gone;
  for (std::uint32_t uid : changes.expunged_uids) {
    if (sequence_of(uid)) gone.push_back(uid);
  }
  std::sort(gone.begin(), gone.end());
  gone.erase(std::unique(gone.begin(), gone.end()), gone.end());
  if (!gone.empty()) remove(gone, options, out);

  // 2. New messages (UIDs above the last one known) and flag changes of known ones; new
  // keywords among them first (RFC 9051 §7.3.5).
  announce_keywords(changes.changed, out);
  bool grew = false;
  const std::uint32_t known_max = max_uid();
  if (changes.first_recent_uid != 0 && first_recent_uid_ == 0) first_recent_uid_ = changes.first_recent_uid;
  for (const auto& summary : changes.changed) {
    if (summary.uid > known_max) {
      if (!messages_.empty() && summary.uid <= messages_.back().uid) continue;  // duplicate
      messages_.push_back(summary);
      uidnext_ = std::max(uidnext_, summary.uid + 1);
      grew = true;
      continue;
    }
    auto n = sequence_of(summary.uid);
    if (!n) continue;  // expunged meanwhile
    storage::MessageSummary& mine = messages_[*n - 1];
    if (summary.modseq <= mine.modseq && mine.flags == summary.flags) continue;
    const bool flags_changed = mine.flags != summary.flags;
    mine = summary;
    if (!flags_changed && !options.condstore) continue;
    out += "* " + std::to_string(*n) + " FETCH (UID " + std::to_string(summary.uid) +
           " FLAGS " + flag_list(summary.flags, !options.imap4rev2 && is_recent(summary.uid));
    if (options.condstore) out += " MODSEQ (" + std::to_string(summary.modseq) + ")";
    out += ")\r\n";
  }
  if (grew) announce_exists(options, out);
  highest_modseq_ = std::max(highest_modseq_, changes.highest_modseq);
  return gone;
}

void SelectedMailbox::record(const storage::MessageSummary& summary) {
  // HIGHESTMODSEQ stays: another session's change with a lower MODSEQ may still be
  // unseen, and apply() reads everything above the mark.
  if (auto n = sequence_of(summary.uid)) messages_[*n - 1] = summary;
}

void SelectedMailbox::remove(std::span<const std::uint32_t> uids, const ViewOptions& options,
                             std::string& out) {
  std::vector<std::uint32_t> present;
  for (std::uint32_t uid : uids) {
    if (sequence_of(uid)) present.push_back(uid);
  }
  std::sort(present.begin(), present.end());
  present.erase(std::unique(present.begin(), present.end()), present.end());
  if (present.empty()) return;
  if (options.qresync) {
    // RFC 7162 §3.2.10: one VANISHED response instead of many EXPUNGEs.
    out += "* VANISHED " + compact_set(present) + "\r\n";
  } else {
    // Highest first: each EXPUNGE renumbers only the messages after it (RFC 9051 §7.5.1),
    // so announcing from the end keeps every number valid when the client reads it.
    for (auto it = present.rbegin(); it != present.rend(); ++it) {
      out += "* " + std::to_string(*sequence_of(*it)) + " EXPUNGE\r\n";
    }
  }
  std::erase_if(messages_, [&](const storage::MessageSummary& m) {
    return std::binary_search(present.begin(), present.end(), m.uid);
  });
}

}  // namespace postamt::imap
