#pragma once
// Evaluates an IMAP search key against one message (RFC 9051 §6.4.4; MODSEQ RFC 7162;
// OLDER/YOUNGER RFC 5032). String keys match case-insensitively as substrings of the
// decoded text (RFC 2047 words in header fields, transfer encodings and charsets of text
// parts all decoded to UTF-8 first), as RFC 9051 §6.4.4 asks.
//
// The session calls search_needs() once per command and supplies only what is needed, so
// a flag or UID search over 100,000 messages never touches metadata or content.
#include <cstdint>
#include <string_view>
#include <vector>

#include "mime/message_metadata.hpp"
#include "proto/imap/commands.hpp"
#include "storage/api/types.hpp"

namespace postamt::imap {

// What each key reads:
//   summary only   flags, keywords, RECENT/NEW/OLD, BEFORE/ON/SINCE, OLDER/YOUNGER,
//                  LARGER/SMALLER, sequence sets, UID, MODSEQ
//   metadata       FROM, TO, CC, SUBJECT (decoded at delivery, MessageMetadata::from, ...)
//   content        BCC, HEADER (fields the metadata does not keep) and SENTBEFORE/SENTON/
//                  SENTSINCE: the Date: field is read from the stored header because the
//                  comparison uses the date as written, "disregarding time and timezone",
//                  and MessageMetadata::date is a UTC instant whose zone is lost. Only the
//                  header is parsed; the body is not looked at.
//   both           BODY, TEXT (the text parts' offsets and charsets, see message_text.hpp)
struct SearchNeeds {
  bool metadata = false;  // FROM/TO/CC/SUBJECT, BODY, TEXT
  bool content = false;   // BCC, HEADER, SENTBEFORE/ON/SINCE, BODY, TEXT
  bool body = false;      // BODY, TEXT: without them the header alone is enough content
};
SearchNeeds search_needs(const proto::imap::SearchKey& key);

struct SearchSubject {
  std::uint32_t sequence_number = 0;
  const storage::MessageSummary* summary = nullptr;   // always
  const mime::MessageMetadata* metadata = nullptr;    // when SearchNeeds::metadata
  std::string_view content;                           // when SearchNeeds::content
  bool recent = false;
};

struct SearchScope {
  std::uint32_t max_sequence_number = 0;  // "*" in a sequence set
  std::uint32_t max_uid = 0;              // "*" in a UID set
  storage::UnixTime now = 0;              // for OLDER / YOUNGER
  // "$" (RFC 5182): the UIDs the last SEARCH SAVE kept, ascending; null when none saved.
  const std::vector<std::uint32_t>* saved_uids = nullptr;
};

bool search_matches(const proto::imap::SearchKey& key, const SearchSubject& message,
                    const SearchScope& scope);

}  // namespace postamt::imap
