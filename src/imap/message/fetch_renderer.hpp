#pragma once
// FETCH response data (RFC 9051 §7.5.2; BINARY RFC 3516; MODSEQ RFC 7162 §3.1.4) from a
// message's index entry, its metadata cached at delivery, and — only when an attribute
// needs them — its stored bytes. Nothing here parses the whole message again: sections
// are slices at the offsets in MessageMetadata::parts.
#include <cstdint>
#include <expected>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "mime/message_metadata.hpp"
#include "proto/imap/commands.hpp"
#include "storage/api/types.hpp"

namespace postamt::imap {

// What the attributes of one FETCH need beyond the summary; the session loads only that.
struct FetchNeeds {
  bool metadata = false;  // ENVELOPE, BODY, BODYSTRUCTURE, sections, BINARY
  bool content = false;   // any section / BINARY / RFC822*
};
FetchNeeds fetch_needs(std::span<const proto::imap::FetchAttribute> attributes);

// Whether the FETCH sets \Seen on the messages (RFC 9051 §6.4.5: BODY[...], RFC822,
// RFC822.TEXT and BINARY[...] without .PEEK).
bool fetch_sets_seen(std::span<const proto::imap::FetchAttribute> attributes);

struct FetchSource {
  std::uint32_t sequence_number = 0;
  const storage::MessageSummary* summary = nullptr;       // always
  const mime::MessageMetadata* metadata = nullptr;        // when FetchNeeds::metadata
  std::string_view content;                               // when FetchNeeds::content
  bool recent = false;                                    // rev1: add \Recent to FLAGS
};

struct FetchOptions {
  bool imap4rev2 = false;  // rev2 never sends \Recent; otherwise identical here
  bool include_uid = false;  // UID FETCH: UID is always in the answer (RFC 9051 §6.4.9)
  bool include_modseq = false;  // CONDSTORE enabled and CHANGEDSINCE/flags changed
};

struct FetchError {
  enum class Kind {
    unknown_cte,      // BINARY of a part with an unknown transfer encoding: NO [UNKNOWN-CTE]
    no_such_section,  // a section that does not exist (not returned: answered with "")
  };
  Kind kind;
  std::string message;
};

// Appends "* <seq> FETCH (<items>)\r\n" to `out`, items in the order asked; UID and
// MODSEQ added by the options come first, and never twice. Answers name sections without
// .PEEK and name a partial's origin octet ("BODY[]<0>", "BINARY[1]<0>" as RFC 3516 §4.2
// and RFC 9051 §7.5.2 describe). Stored octets are sliced at the metadata's offsets
// (clamped to `content`), never parsed again. Strings are quoted when short and 7-bit,
// literals otherwise, literal8 for BINARY content holding NUL (response_string.hpp).
// Sections that do not exist are answered with an empty string as RFC 9051 §6.4.5
// suggests for BODY[] (BINARY.SIZE with 0), so a FetchError only comes from BINARY or
// BINARY.SIZE of a part with an unknown transfer encoding (Kind::unknown_cte); `out` is
// then left as it was. If the session supplied less than fetch_needs() asked for, the
// items answer NIL / "" rather than fail.
std::expected<void, FetchError> render_fetch(const FetchSource& source,
                                             std::span<const proto::imap::FetchAttribute> attributes,
                                             const FetchOptions& options, std::string& out);

// render_fetch one item at a time, so the session can write between items and send big
// sections in pieces (issue 13 §2: a FETCH of 250 partials of a big message never sits in
// memory whole). begin() writes "* <seq> FETCH (" and the UID/MODSEQ the options add,
// item() one attribute, end() ")\r\n", all appended to `out` (which the caller may empty
// between calls). A BODY[]/RFC822 string over `defer_above` octets that is a slice of
// `source.content` is not copied: `out` ends with its literal prefix "{n}\r\n" and
// item() returns the octets, for the caller to send (append_literal_octets) before the
// next call. On a FetchError nothing of the item was written. `source` (and the content
// it points to) and `out` must outlive the writer.
class FetchResponseWriter {
 public:
  FetchResponseWriter(const FetchSource& source, const FetchOptions& options, std::string& out);
  ~FetchResponseWriter();
  FetchResponseWriter(const FetchResponseWriter&) = delete;
  FetchResponseWriter& operator=(const FetchResponseWriter&) = delete;

  void begin(std::span<const proto::imap::FetchAttribute> attributes);
  std::expected<std::string_view, FetchError> item(const proto::imap::FetchAttribute& attribute,
                                                   std::size_t defer_above);
  void end();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// "dd-Mon-yyyy hh:mm:ss +0000" (RFC 9051 §9 date-time) for INTERNALDATE, in UTC.
std::string format_internal_date(storage::UnixTime time);

}  // namespace postamt::imap
