#pragma once
// The "base subject" of RFC 5256 §2.1, which SORT SUBJECT compares and THREAD groups by:
// "Re: [list] Fwd: Lunch (fwd)" and "lunch" have the same base subject, LUNCH once folded
// for i;ascii-casemap.
#include <string>
#include <string_view>

namespace postamt::imap {

struct BaseSubject {
  std::string text;        // the base subject, as extracted (case kept)
  // Whether the extraction removed a reply/forward marker: a subj-refwd leader ("Re:",
  // "Fwd:", "Re[2]:"), a "(fwd)" trailer or a "[fwd: ...]" wrapper. THREAD REFERENCES
  // (RFC 5256 §4 step 5) needs it.
  bool reply_or_forward = false;
};

// RFC 5256 §2.1 steps (1) to (7) on a Subject already decoded to UTF-8 (step 1's RFC 2047
// decoding is done at delivery, MessageMetadata::subject; mime::decode_header_text).
BaseSubject base_subject(std::string_view decoded_subject);

// The base subject's sort key: i;ascii-casemap (RFC 4790 §9.2), ASCII letters upper-cased,
// every other octet as it is, compared octet by octet.
std::string ascii_casemap(std::string_view text);

}  // namespace postamt::imap
