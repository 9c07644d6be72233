#include "imap/message/search_matcher.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>

#include "imap/message/header_field_reader.hpp"
#include "imap/message/message_text.hpp"
#include "imap/message/search_string.hpp"
#include "imap/message/sent_date.hpp"
#include "mime/address_list.hpp"
#include "mime/ascii_case.hpp"
#include "mime/header_decoding.hpp"

namespace postamt::imap {

using proto::imap::DayNumber;
using proto::imap::SearchKey;
using Kind = SearchKey::Kind;

namespace {

// A key nested deeper than this (NOT NOT NOT ...) makes the message not match, whatever
// the rest says. The command parser bounds nesting far below this; the limit only keeps
// the recursion here bounded on its own.
constexpr std::size_t kMaxKeyDepth = 1000;

constexpr std::int64_t kSecondsPerDay = 86400;

// The UTC calendar day of a Unix time (days since 1970-01-01, rounding down).
DayNumber utc_day(std::int64_t unix_time) {
  std::int64_t day = unix_time / kSecondsPerDay;
  if (unix_time % kSecondsPerDay < 0) --day;
  return static_cast<DayNumber>(day);
}

void add_needs(const SearchKey& key, SearchNeeds& needs, std::size_t depth) {
  if (depth > kMaxKeyDepth) return;
  switch (key.kind) {
    case Kind::from:
    case Kind::to:
    case Kind::cc:
    case Kind::subject:
      needs.metadata = true;  // decoded at delivery (MessageMetadata::from, ...)
      break;
    case Kind::bcc:
    case Kind::header:
    case Kind::sent_before:
    case Kind::sent_on:
    case Kind::sent_since:
      needs.content = true;  // read from the stored header: not in the metadata
      break;
    case Kind::body:
    case Kind::text:
      needs.content = true;
      needs.metadata = true;  // the text parts' offsets, types and charsets
      needs.body = true;
      break;
    case Kind::not_:
    case Kind::or_:
    case Kind::and_:
      for (const SearchKey& child : key.children) add_needs(child, needs, depth + 1);
      break;
    default:
      break;  // flags, internal date, size, sets, MODSEQ: the summary answers them
  }
}

class Evaluator {
 public:
  Evaluator(const SearchSubject& message, const SearchScope& scope)
      : message_(message), scope_(scope) {}

  bool too_deep() const { return too_deep_; }

  bool matches(const SearchKey& key, std::size_t depth) {
    if (depth > kMaxKeyDepth) {
      too_deep_ = true;
      return false;
    }
    switch (key.kind) {
      case Kind::all:
        return true;
      // Flags (RFC 9051 §6.4.4; RECENT, NEW and OLD from RFC 3501 §6.4.4).
      case Kind::answered: return has_flag("\\Answered");
      case Kind::deleted: return has_flag("\\Deleted");
      case Kind::draft: return has_flag("\\Draft");
      case Kind::flagged: return has_flag("\\Flagged");
      case Kind::seen: return has_flag("\\Seen");
      case Kind::unanswered: return !has_flag("\\Answered");
      case Kind::undeleted: return !has_flag("\\Deleted");
      case Kind::undraft: return !has_flag("\\Draft");
      case Kind::unflagged: return !has_flag("\\Flagged");
      case Kind::unseen: return !has_flag("\\Seen");
      case Kind::keyword: return has_flag(key.text);
      case Kind::unkeyword: return !has_flag(key.text);
      case Kind::recent: return message_.recent;
      case Kind::new_: return message_.recent && !has_flag("\\Seen");
      case Kind::old: return !message_.recent;
      // Header fields kept in the metadata, decoded at delivery.
      case Kind::from: return metadata_text_contains(&mime::MessageMetadata::from, key.text);
      case Kind::to: return metadata_text_contains(&mime::MessageMetadata::to, key.text);
      case Kind::cc: return metadata_text_contains(&mime::MessageMetadata::cc, key.text);
      case Kind::subject:
        return metadata_text_contains(&mime::MessageMetadata::subject, key.text);
      // Header fields read from the stored header.
      case Kind::bcc: return bcc_contains(key.text);
      case Kind::header: return header_contains(key.text, key.value);
      // Text.
      case Kind::body: return SearchString(key.text).found_in(body_text());
      case Kind::text: {
        const SearchString needle(key.text);
        return needle.found_in(header_text()) || needle.found_in(body_text());
      }
      // The internal date's day in UTC (RFC 9051 §6.4.4 BEFORE / ON / SINCE).
      case Kind::before: return utc_day(summary().internal_date) < key.day;
      case Kind::on: return utc_day(summary().internal_date) == key.day;
      case Kind::since: return utc_day(summary().internal_date) >= key.day;
      // The Date: field's day as written (SENTBEFORE / SENTON / SENTSINCE).
      case Kind::sent_before: return sent_day() && *sent_day() < key.day;
      case Kind::sent_on: return sent_day() && *sent_day() == key.day;
      case Kind::sent_since: return sent_day() && *sent_day() >= key.day;
      // RFC 5032 §3: OLDER / YOUNGER count seconds back from now.
      case Kind::older: return age() > interval(key.number);
      case Kind::younger: return age() <= interval(key.number);
      case Kind::larger: return summary().size > key.number;
      case Kind::smaller: return summary().size < key.number;
      case Kind::sequence_set:
        return in_set(key.set, message_.sequence_number, scope_.max_sequence_number);
      case Kind::uid: return in_set(key.set, summary().uid, scope_.max_uid);
      // RFC 7162 §3.1.5: "equal to or greater than".
      case Kind::modseq: return summary().modseq >= key.number;
      case Kind::not_:
        return !key.children.empty() && !matches(key.children[0], depth + 1);
      case Kind::or_:
        return std::any_of(key.children.begin(), key.children.end(),
                           [&](const SearchKey& child) { return matches(child, depth + 1); });
      case Kind::and_:
        return std::all_of(key.children.begin(), key.children.end(),
                           [&](const SearchKey& child) { return matches(child, depth + 1); });
    }
    return false;
  }

 private:
  const storage::MessageSummary& summary() const {
    static const storage::MessageSummary none;
    return message_.summary != nullptr ? *message_.summary : none;
  }

  // Flag names compare case-insensitively (RFC 9051 §2.3.2 keywords are atoms; clients
  // and servers treat their case as insignificant).
  bool has_flag(std::string_view flag) const {
    const auto& flags = summary().flags;
    return std::any_of(flags.begin(), flags.end(),
                       [&](const std::string& f) { return mime::ascii_iequals(f, flag); });
  }

  bool metadata_text_contains(std::string mime::MessageMetadata::*field,
                              std::string_view needle) const {
    if (message_.metadata == nullptr) return false;
    return SearchString(needle).found_in(message_.metadata->*field);
  }

  // Every Bcc: field, rendered like the metadata's From/To/Cc (display names decoded).
  bool bcc_contains(std::string_view needle) const {
    const SearchString wanted(needle);
    HeaderFieldReader reader(message_.content);
    while (auto field = reader.next()) {
      if (field->has_colon && mime::ascii_iequals(field->name, "bcc") &&
          wanted.found_in(mime::format_address_list_for_search(field->raw_value))) {
        return true;
      }
    }
    return false;
  }

  // RFC 9051 §6.4.4 HEADER: a field of that name whose value contains the string; the
  // empty string matches every message that has the field at all.
  bool header_contains(std::string_view name, std::string_view needle) const {
    const SearchString wanted(needle);
    HeaderFieldReader reader(message_.content);
    while (auto field = reader.next()) {
      if (!field->has_colon || !mime::ascii_iequals(field->name, name)) continue;
      if (needle.empty() || wanted.found_in(mime::decode_header_text(field->raw_value))) {
        return true;
      }
    }
    return false;
  }

  const std::string& body_text() {
    if (!body_text_) {
      body_text_ = message_.metadata != nullptr
                       ? searchable_body_text(message_.content, *message_.metadata)
                       : std::string();
    }
    return *body_text_;
  }

  const std::string& header_text() {
    if (!header_text_) header_text_ = searchable_header_text(message_.content);
    return *header_text_;
  }

  // The Date: field as written, read from the stored header. Without the content (the
  // session did not follow search_needs) the metadata's Date: in UTC is the fallback.
  const std::optional<DayNumber>& sent_day() {
    if (!sent_day_) {
      if (!message_.content.empty()) {
        sent_day_ = sent_date(message_.content);
      } else if (message_.metadata != nullptr && message_.metadata->date) {
        sent_day_ = utc_day(*message_.metadata->date);
      } else {
        sent_day_ = std::optional<DayNumber>();
      }
    }
    return *sent_day_;
  }

  std::int64_t age() const { return scope_.now - summary().internal_date; }

  static std::int64_t interval(std::uint64_t seconds) {
    return static_cast<std::int64_t>(
        std::min<std::uint64_t>(seconds, std::numeric_limits<std::int64_t>::max()));
  }

  // A set of numbers with "*" as `max`, or "$": the UIDs the last SEARCH SAVE kept
  // (RFC 5182 §2.1; for sequence numbers too, the message is found by its UID).
  bool in_set(const proto::imap::SequenceSet& set, std::uint32_t number,
              std::uint32_t max) const {
    if (set.is_saved_result()) {
      const auto* saved = scope_.saved_uids;
      return saved != nullptr && std::binary_search(saved->begin(), saved->end(), summary().uid);
    }
    return set.contains(number, max);
  }

  const SearchSubject& message_;
  const SearchScope& scope_;
  std::optional<std::string> body_text_;
  std::optional<std::string> header_text_;
  std::optional<std::optional<DayNumber>> sent_day_;
  bool too_deep_ = false;
};

}  // namespace

SearchNeeds search_needs(const SearchKey& key) {
  SearchNeeds needs;
  add_needs(key, needs, 0);
  return needs;
}

bool search_matches(const SearchKey& key, const SearchSubject& message, const SearchScope& scope) {
  Evaluator evaluator(message, scope);
  const bool matched = evaluator.matches(key, 0);
  return matched && !evaluator.too_deep();
}

}  // namespace postamt::imap
