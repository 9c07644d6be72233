#pragma once
// Value types stored by MailStore. Addresses are stored normalised: the domain in lower
// case, the local part as given (RFC 5321 §2.4) but compared case-insensitively for ASCII.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postamt::storage {

using Id = std::int64_t;
using UnixTime = std::int64_t;  // seconds since the epoch, UTC

struct DomainRecord {
  Id id = 0;
  std::string name;  // lower case, no trailing dot
  UnixTime created_at = 0;
};

struct AccountRecord {
  Id id = 0;
  std::string address;        // "local@domain"
  std::string password_hash;  // "{ARGON2ID}$argon2id$...", "{SHA512-CRYPT}$6$...", "{BLF-CRYPT}$2y$..."
  std::uint64_t quota_bytes = 0;  // 0: unlimited
  bool disabled = false;
  UnixTime created_at = 0;
};

// One alias row maps a source to one destination. A source is "local@domain" or, for a
// catch-all, "@domain". A destination is any address, local or external.
struct AliasRecord {
  Id id = 0;
  std::string source;
  std::string destination;
};

// The special-use mailboxes (RFC 6154) created for every account besides INBOX.
enum class SpecialUse { none, drafts, sent, trash, junk, archive };

struct MailboxRecord {
  Id id = 0;
  Id account_id = 0;
  std::string name;  // UTF-8, '/' hierarchy separator; "INBOX" for the inbox
  std::uint32_t uidvalidity = 0;
  std::uint32_t uidnext = 1;
  std::uint64_t highestmodseq = 1;
  SpecialUse special_use = SpecialUse::none;
  std::uint32_t message_count = 0;
  std::uint64_t total_size = 0;
};

// A message as it sits in a mailbox. The MIME metadata (ENVELOPE, BODYSTRUCTURE, part
// offsets) is computed once at delivery and stored as an opaque serialised string that
// the mime/ and imap/ modules own.
struct MessageRecord {
  Id id = 0;
  Id mailbox_id = 0;
  std::uint32_t uid = 0;
  std::uint64_t modseq = 0;
  std::vector<std::string> flags;  // "\\Seen", "$Forwarded", ... sorted, unique
  UnixTime internal_date = 0;
  std::uint64_t size = 0;
  std::string blob_id;  // hex SHA-256 of the stored bytes
  std::string mime_metadata;
};

struct NewMessage {
  Id mailbox_id = 0;
  std::vector<std::string> flags;
  UnixTime internal_date = 0;
  std::uint64_t size = 0;
  std::string blob_id;
  std::string mime_metadata;
};

// A message's index entry without its MIME metadata: what SELECT, FETCH FLAGS/UID/
// RFC822.SIZE/INTERNALDATE/MODSEQ and flag SEARCH need, cheap for 100,000 messages.
struct MessageSummary {
  std::uint32_t uid = 0;
  std::uint64_t modseq = 0;
  std::vector<std::string> flags;  // sorted, unique
  UnixTime internal_date = 0;
  std::uint64_t size = 0;
};

// Counters for STATUS (RFC 9051 §6.3.11, RFC 7162 HIGHESTMODSEQ) without a scan of the
// messages beyond what the index answers.
struct MailboxStatus {
  MailboxRecord mailbox;       // MESSAGES, UIDNEXT, UIDVALIDITY, HIGHESTMODSEQ, SIZE
  std::uint32_t unseen = 0;    // messages without \Seen
  std::uint32_t deleted = 0;   // messages with \Deleted
  std::uint32_t recent = 0;    // UIDs at or above the mailbox's first recent UID
};

enum class FlagChange { replace, add, remove };

// What update_flags changed: every message whose flags changed (with its new MODSEQ), and
// the UIDs refused because their MODSEQ was above UNCHANGEDSINCE (RFC 7162 §3.1.3).
struct FlagUpdateResult {
  std::vector<MessageSummary> changed;
  std::vector<std::uint32_t> modified;  // failed the UNCHANGEDSINCE test, ascending
};

// COPY / MOVE result for UIDPLUS COPYUID (RFC 4315 §3): source UIDs (ascending, only those
// that existed) and the UIDs their copies got in the destination, pairwise.
struct CopyResult {
  std::uint32_t destination_uidvalidity = 0;
  std::vector<std::uint32_t> source_uids;
  std::vector<std::uint32_t> destination_uids;
};

// A blob that messages reference and the full-text index does not hold yet, with the MIME
// metadata of one message that references it (every message of a blob has the same bytes,
// so any one's metadata describes them). `seq` orders the blobs by arrival.
struct UnindexedBlob {
  std::int64_t seq = 0;
  std::string blob_id;
  std::string mime_metadata;
};

// The searchable text of one blob as the IMAP layer extracted and case-folded it ("" when
// there is nothing to search: the blob counts as indexed all the same).
struct BlobText {
  std::string blob_id;
  std::string text;
};

enum class QueueState { queued, deferred, delivered, bounced, held };

// "queued", "deferred", ...: the name the store keeps and the queue CLI and logs show.
std::string_view queue_state_name(QueueState state);

struct QueueRecipient {
  Id id = 0;
  Id message_id = 0;
  std::string address;
  std::string orcpt;   // RFC 3461 ORCPT, as received ("" when absent)
  std::string notify;  // RFC 3461 NOTIFY, e.g. "SUCCESS,FAILURE" ("" when absent)
  QueueState state = QueueState::queued;
  unsigned attempts = 0;
  UnixTime next_attempt_at = 0;
  std::string last_reply;
};

struct QueueMessage {
  Id id = 0;
  std::string sender;  // reverse-path, "" for the null sender <>
  std::string blob_id;
  std::uint64_t size = 0;
  std::string envid;   // RFC 3461 ENVID ("" when absent)
  std::string ret;     // RFC 3461 RET: "FULL", "HDRS" or ""
  UnixTime created_at = 0;
  // The local account that submitted it ("" for mail relayed, forwarded or originated
  // here): an account hold keeps it in the queue (schema version 6).
  std::string account;
  std::vector<QueueRecipient> recipients;
};

struct QueueCounts {
  std::uint64_t queued = 0;
  std::uint64_t deferred = 0;
  std::uint64_t held = 0;
  std::uint64_t messages = 0;  // messages with at least one pending recipient
};

// One delivery as the group commit sees it: a message stored into some mailboxes (one
// row per local recipient, all sharing one blob) and/or queued for remote recipients.
// A sampled reference to a blob (the health probe): the size a row records, the count
// the blobs table keeps and the references actually there.
struct BlobUse {
  std::string blob_id;
  std::uint64_t size = 0;
  std::int64_t refcount = 0;
  std::int64_t references = 0;
};

struct DeliveryItem {
  std::vector<NewMessage> messages;
  std::optional<QueueMessage> outbound;
  // The blob the preparer's put holds (BlobStore::release), released by the committer
  // once the item is committed or refused; "" when nothing is held.
  std::string held_blob;
};

struct DeliveryOutcome {
  std::vector<MessageRecord> stored;
  std::optional<QueueMessage> queued;
};

}  // namespace postamt::storage
