#pragma once
// SelectedMailbox: one session's view of its selected mailbox (RFC 9051 §2.3.1.2, §7.5.1).
//
// The store is the truth; a session keeps the message sequence numbers it has announced to
// its client, with each message's summary (UID, flags, MODSEQ, size, date). Changes other
// sessions (or deliveries) commit reach the view only through apply(), which turns the
// difference into the untagged responses the client must see: EXPUNGE (or VANISHED with
// QRESYNC), EXISTS, RECENT for IMAP4rev1, and FETCH FLAGS. Applying the same changes twice,
// or changes this session made itself and already recorded, produces nothing: the view
// compares against what it already told the client.
//
// Sequence numbers only change when apply() or remove() runs, which the session does only
// where RFC 9051 §7.5.1 allows EXPUNGE responses (not during FETCH, STORE or SEARCH).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "proto/imap/sequence_set.hpp"
#include "storage/api/types.hpp"

namespace postamt::imap {

struct ViewOptions {
  bool imap4rev2 = false;   // no RECENT responses
  bool condstore = false;   // MODSEQ in unsolicited FETCH (RFC 7162 §3.1.4)
  bool qresync = false;     // VANISHED instead of EXPUNGE (RFC 7162 §3.2.10)
};

// What the store reported since the view's last look.
struct MailboxChanges {
  std::uint64_t highest_modseq = 0;             // read BEFORE the two lists below
  std::vector<std::uint32_t> expunged_uids;     // expunged_since(known modseq)
  std::vector<storage::MessageSummary> changed; // list_summaries(mailbox, known modseq)
  std::uint32_t first_recent_uid = 0;           // claimed \Recent mark, 0: none claimed
};

class SelectedMailbox {
 public:
  SelectedMailbox(const storage::MailboxRecord& mailbox, bool read_only,
                  std::vector<storage::MessageSummary> messages, std::uint32_t first_recent_uid);

  storage::Id id() const { return mailbox_id_; }
  const std::string& name() const { return name_; }
  bool read_only() const { return read_only_; }
  std::uint32_t uidvalidity() const { return uidvalidity_; }
  std::uint32_t uidnext() const { return uidnext_; }
  std::uint64_t highest_modseq() const { return highest_modseq_; }
  std::uint32_t exists() const { return static_cast<std::uint32_t>(messages_.size()); }
  std::uint32_t recent_count() const;
  std::uint32_t max_uid() const { return messages_.empty() ? 0 : messages_.back().uid; }

  // 1-based sequence number n (1 <= n <= exists()).
  const storage::MessageSummary& message(std::uint32_t n) const { return messages_[n - 1]; }
  bool is_recent(std::uint32_t uid) const { return first_recent_uid_ != 0 && uid >= first_recent_uid_; }
  std::optional<std::uint32_t> sequence_of(std::uint32_t uid) const;
  std::optional<std::uint32_t> first_unseen() const;  // sequence number

  // The sequence numbers a set names, ascending, without duplicates. A UID set names the
  // messages whose UIDs it holds ("*" = the highest UID; RFC 9051 §6.4.9: a range whose
  // numbers do not exist still matches the ones that do). "$" uses `saved_uids`.
  std::vector<std::uint32_t> resolve(const proto::imap::SequenceSet& set, bool uid,
                                     const std::vector<std::uint32_t>* saved_uids) const;

  // RFC 9051 §9 seq-number: a message sequence number above EXISTS (and "*" in an empty
  // mailbox) deserves BAD. UID sets are never invalid this way.
  bool names_missing_sequence_numbers(const proto::imap::SequenceSet& set) const;

  // Keywords in use (for the FLAGS response), sorted.
  std::vector<std::string> keywords() const;
  // "* FLAGS (...)" and "* OK [PERMANENTFLAGS (...)]" (each with CRLF) with the system
  // flags and every keyword announced so far (SELECT, and whenever a keyword is first used).
  std::string flags_response() const;
  std::string permanent_flags_response() const;
  // RFC 9051 §7.3.5: a keyword the client has not seen in FLAGS is announced (FLAGS and
  // PERMANENTFLAGS) before any FETCH shows it. Writes the two responses to `out` when a
  // summary holds a keyword not announced yet.
  void announce_keywords(std::span<const storage::MessageSummary> summaries, std::string& out);

  // Other sessions' changes, as untagged responses appended to `out`. Returns the UIDs
  // that left the view (the session drops them from its saved search result).
  std::vector<std::uint32_t> apply(const MailboxChanges& changes, const ViewOptions& options,
                                   std::string& out);

  // This session's own flag changes (STORE, FETCH setting \Seen): recorded so that
  // apply() does not announce them again.
  void record(const storage::MessageSummary& summary);
  // This session's own expunge / move: removes the UIDs and announces them.
  void remove(std::span<const std::uint32_t> uids, const ViewOptions& options, std::string& out);
  // A message this session appended or copied into the selected mailbox is announced by
  // apply() like any other new message; nothing to do here.

 private:
  void announce_exists(const ViewOptions& options, std::string& out) const;

  storage::Id mailbox_id_;
  std::string name_;
  bool read_only_;
  std::uint32_t uidvalidity_;
  std::uint32_t uidnext_;
  std::uint64_t highest_modseq_;
  std::uint32_t first_recent_uid_;
  std::vector<storage::MessageSummary> messages_;  // ascending UID = sequence order
  std::vector<std::string> announced_keywords_;     // sorted, in FLAGS so far
};

// "* FLAGS (...)" flag list text: "\Seen $Forwarded" -> "(\Seen $Forwarded)".
std::string flag_list(std::span<const std::string> flags, bool recent = false);

}  // namespace postamt::imap
