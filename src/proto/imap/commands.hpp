#pragma once
// Typed IMAP commands: what parse_command() makes of a tokenized command (RFC 9051 §6,
// §9 formal syntax, and the extensions Postamt announces). Everything here is checked
// syntax; whether a command is allowed in the session's state, and what the names and
// numbers refer to, is the session's business.
//
// Mailbox names are kept as the client sent them (astring, after unquoting): a rev1 client
// sends modified UTF-7 (RFC 3501 §5.1.3), a rev2 / UTF8=ACCEPT client UTF-8. The session
// converts with mailbox_name.hpp, because only it knows what the client ENABLEd.
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "proto/imap/partial_range.hpp"
#include "proto/imap/sequence_set.hpp"
#include "proto/imap/tokenizer.hpp"

namespace postamt::proto::imap {

// A calendar date of SEARCH (RFC 9051 §9 "date"), as days since 1970-01-01.
using DayNumber = std::int32_t;
// A date-time of APPEND (RFC 9051 §9 "date-time") as Unix seconds, the zone applied.
using UnixSeconds = std::int64_t;

// --- commands without arguments (any state rules are the session's)
struct CapabilityCommand {};
struct NoopCommand {};
struct LogoutCommand {};
struct StartTlsCommand {};
struct IdleCommand {};        // RFC 2177; the session then reads "DONE"
struct CloseCommand {};
struct UnselectCommand {};    // RFC 3691
struct CheckCommand {};       // RFC 3501 only; a NOOP for Postamt
struct NamespaceCommand {};   // RFC 2342
struct ExpungeCommand {};     // plain EXPUNGE

// --- authentication
struct LoginCommand {
  std::string user;
  std::string password;
};
struct AuthenticateCommand {
  std::string mechanism;                          // upper-cased
  std::optional<std::string> initial_response;    // SASL-IR (RFC 4959), base64 or "="
};
struct EnableCommand {
  std::vector<std::string> capabilities;          // upper-cased, as listed
};
// RFC 2971: NIL or a list of field/value pairs (values may be NIL -> nullopt).
struct IdCommand {
  std::vector<std::pair<std::string, std::optional<std::string>>> parameters;
};
struct CompressCommand {                          // RFC 4978
  std::string mechanism;                          // upper-cased ("DEFLATE")
};

// --- mailboxes
struct QresyncParameters {                        // RFC 7162 §3.2.5
  std::uint32_t uidvalidity = 0;
  std::uint64_t modseq = 0;
  std::optional<SequenceSet> known_uids;
  // Optional sequence-match-data: the known sequence numbers and their UIDs.
  std::optional<SequenceSet> known_sequence_set;
  std::optional<SequenceSet> known_uid_set;
};
struct SelectCommand {
  std::string mailbox;
  bool read_only = false;                         // EXAMINE
  bool condstore = false;                         // (CONDSTORE) parameter, RFC 7162 §3.1.8
  std::optional<QresyncParameters> qresync;       // (QRESYNC (...))
};
struct CreateCommand {
  std::string mailbox;
  std::vector<std::string> special_use;           // RFC 6154 §3 CREATE ... (USE (\Drafts))
};
struct DeleteCommand { std::string mailbox; };
struct RenameCommand {
  std::string from;
  std::string to;
};
struct SubscribeCommand {
  std::string mailbox;
  bool subscribe = true;                          // false: UNSUBSCRIBE
};

enum class StatusItem {
  messages, uidnext, uidvalidity, unseen, deleted, size, recent, highestmodseq, appendlimit,
};

// LIST (RFC 9051 §6.3.9, LIST-EXTENDED RFC 5258, LIST-STATUS RFC 5819, RFC 6154) and LSUB.
struct ListCommand {
  bool lsub = false;                              // LSUB (rev1): selection SUBSCRIBED, no
                                                  // return options
  std::string reference;
  std::vector<std::string> patterns;              // one, or several with LIST-EXTENDED
  // selection options
  bool select_subscribed = false;
  bool select_remote = false;
  bool select_recursive_match = false;
  bool select_special_use = false;
  // return options
  bool return_subscribed = false;
  bool return_children = false;
  bool return_special_use = false;
  std::optional<std::vector<StatusItem>> return_status;
  // Whether the client used the extended syntax at all (selection options, several
  // patterns or RETURN): then the answer follows RFC 5258 rules.
  bool extended = false;
};

struct StatusCommand {
  std::string mailbox;
  std::vector<StatusItem> items;
};

struct AppendCommand {
  std::string mailbox;
  std::vector<std::string> flags;                 // as given (session validates \Recent etc.)
  std::optional<UnixSeconds> internal_date;
  std::string message;                            // the literal's octets
  bool binary = false;                            // literal8 (RFC 3516 §4.4)
  bool utf8 = false;                              // UTF8 (...) form of RFC 6855 §4
};

// --- selected state
struct Section {
  enum class Text { none, header, header_fields, header_fields_not, text, mime };
  std::vector<std::uint32_t> part;                // "1.2.3" -> {1, 2, 3}; empty: the message
  Text text = Text::none;
  std::vector<std::string> fields;                // HEADER.FIELDS (...) names, upper-cased
  bool operator==(const Section&) const = default;
};

struct Partial {                                  // "<offset.length>"
  std::uint32_t offset = 0;
  std::uint32_t length = 0;                       // nz-number
  bool operator==(const Partial&) const = default;
};

struct FetchAttribute {
  enum class Kind {
    envelope, flags, internal_date, rfc822_size, body_structure,
    body,            // BODY without section: the non-extensible BODYSTRUCTURE
    body_section,    // BODY[...] / BODY.PEEK[...]
    rfc822,          // RFC822      = BODY[]        (sets \Seen)
    rfc822_header,   // RFC822.HEADER = BODY.PEEK[HEADER]
    rfc822_text,     // RFC822.TEXT = BODY[TEXT]   (sets \Seen)
    binary,          // BINARY[...] / BINARY.PEEK[...] (RFC 3516)
    binary_size,     // BINARY.SIZE[...]
    uid, modseq,
  };
  Kind kind = Kind::flags;
  Section section;                                // body_section, binary, binary_size
  bool peek = false;
  std::optional<Partial> partial;
  bool operator==(const FetchAttribute&) const = default;
};

struct FetchCommand {
  bool uid = false;
  SequenceSet set;
  // Macros ALL / FAST / FULL are expanded; duplicates kept out; order as given.
  std::vector<FetchAttribute> attributes;
  std::optional<std::uint64_t> changed_since;     // (CHANGEDSINCE n), RFC 7162 §3.1.4
  bool vanished = false;                          // (VANISHED), RFC 7162 §3.2.6; UID only
  std::optional<PartialRange> partial;            // (PARTIAL range), RFC 9394 §3.2
};

enum class FlagMode { replace, add, remove };

struct StoreCommand {
  bool uid = false;
  SequenceSet set;
  FlagMode mode = FlagMode::replace;
  bool silent = false;
  std::vector<std::string> flags;
  std::optional<std::uint64_t> unchanged_since;   // (UNCHANGEDSINCE n), RFC 7162 §3.1.3
};

struct CopyCommand {
  bool uid = false;
  bool move = false;                              // MOVE (RFC 6851)
  SequenceSet set;
  std::string mailbox;
};

struct UidExpungeCommand {                        // RFC 4315 §2.1
  SequenceSet set;
};

// One search key (RFC 9051 §6.4.4; MODSEQ RFC 7162 §3.1.5; OLDER/YOUNGER RFC 5032).
struct SearchKey {
  enum class Kind {
    all,
    // flags
    answered, deleted, draft, flagged, seen, recent, new_, old,
    unanswered, undeleted, undraft, unflagged, unseen,
    keyword, unkeyword,                           // text = the keyword
    // strings (text = the needle, already in UTF-8 when CHARSET was given)
    bcc, body, cc, from, subject, text, to,
    header,                                       // text = field name, value = needle
    // dates
    before, on, since,                            // internal date, day = the date
    sent_before, sent_on, sent_since,             // Date: header
    older, younger,                               // number = seconds (WITHIN, RFC 5032)
    // sizes
    larger, smaller,                              // number = octets
    // sets
    sequence_set,                                 // set
    uid,                                          // set
    // CONDSTORE
    modseq,                                       // number = modseq
    // structure
    not_,                                         // children[0]
    or_,                                          // children[0], children[1]
    and_,                                         // "(" ... ")" and the top level: all children
  };
  Kind kind = Kind::all;
  std::string text;
  std::string value;
  DayNumber day = 0;
  std::uint64_t number = 0;
  SequenceSet set;
  std::vector<SearchKey> children;
};

// ESEARCH return options (RFC 4731 §3.1, SAVE RFC 5182).
struct SearchReturn {
  bool min = false, max = false, all = false, count = false, save = false;
  std::optional<PartialRange> partial;  // PARTIAL (RFC 9394 §3.1); never with ALL
};

struct SearchCommand {
  bool uid = false;
  std::optional<std::string> charset;             // upper-cased when given
  // Absent: no RETURN given (a rev1 client gets "* SEARCH"). RETURN () means ALL.
  std::optional<SearchReturn> return_options;
  SearchKey key;                                  // kind and_ holding every top-level key
};

// SORT (RFC 5256 §3; ESORT RFC 5267 §3; SORT=DISPLAY RFC 5957 §3).
enum class SortKey { arrival, cc, date, from, size, subject, to, display_from, display_to };
struct SortCriterion {
  SortKey key = SortKey::arrival;
  bool reverse = false;
  bool operator==(const SortCriterion&) const = default;
};
struct SortCommand {
  bool uid = false;
  // Absent: a plain "* SORT" answer; present: ESEARCH (RFC 5267 §3.2). RETURN () = ALL.
  std::optional<SearchReturn> return_options;
  std::vector<SortCriterion> criteria;            // at least one
  std::string charset;                            // upper-cased; mandatory in SORT
  SearchKey key;
};

// THREAD (RFC 5256 §3).
enum class ThreadAlgorithm { ordered_subject, references };
struct ThreadCommand {
  bool uid = false;
  ThreadAlgorithm algorithm = ThreadAlgorithm::references;
  std::string charset;                            // upper-cased
  SearchKey key;
};

// --- QUOTA (RFC 9208)
struct GetQuotaCommand { std::string root; };
struct GetQuotaRootCommand { std::string mailbox; };
struct SetQuotaCommand {
  std::string root;
  std::vector<std::pair<std::string, std::uint64_t>> limits;  // resource (upper-cased), limit
};

using AnyCommand = std::variant<
    CapabilityCommand, NoopCommand, LogoutCommand, StartTlsCommand, IdleCommand, CloseCommand,
    UnselectCommand, CheckCommand, NamespaceCommand, ExpungeCommand, LoginCommand,
    AuthenticateCommand, EnableCommand, IdCommand, CompressCommand, SelectCommand,
    CreateCommand, DeleteCommand, RenameCommand, SubscribeCommand, ListCommand, StatusCommand,
    AppendCommand, FetchCommand, StoreCommand, CopyCommand, UidExpungeCommand, SearchCommand,
    SortCommand, ThreadCommand, GetQuotaCommand, GetQuotaRootCommand, SetQuotaCommand>;

struct TypedCommand {
  std::string tag;
  AnyCommand command;
};

struct CommandError {
  std::string tag;       // as sent (valid: the tokenizer checked it)
  std::string message;   // reason for "tag BAD <message>" naming what was wrong
};

// Parses every command above from a tokenized command; unknown names and any grammar
// error give a CommandError. Moves the APPEND literal instead of copying it.
std::expected<TypedCommand, CommandError> parse_command(ParsedCommand&& command);

}  // namespace postamt::proto::imap
