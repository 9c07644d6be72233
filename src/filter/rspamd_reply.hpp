#pragma once
// rspamd's answers, parsed and mapped (issue 15 §2): the /checkv2 JSON reply (action,
// score, symbols, its `milter` block of header changes, `messages.smtp_message`) becomes a
// Verdict; the controller's answer to /learnspam and /learnham becomes a lesson's outcome.
// Pure: no I/O. nlohmann stays in the .cpp.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "filter/filter.hpp"

namespace postamt::filter {

struct RspamdSymbol {
  std::string name;
  double score = 0;
};

struct RspamdReply {
  std::string action;  // "no action", "greylist", "add header", "rewrite subject", "soft reject", "reject"
  double score = 0;
  std::optional<double> required_score;
  std::vector<RspamdSymbol> symbols;  // highest score first, then by name
  std::string smtp_message;           // messages.smtp_message, when given
  bool skipped = false;               // is_skipped: no full scan (a pre-result or settings)
  // milter.add_headers: name, value and where (`order` -1: at the end; n: before the
  // n-th field, 0 the top). milter.remove_headers: name and which occurrence (0: all).
  struct Added {
    std::string name;
    std::string value;
    int order = -1;
  };
  struct Removed {
    std::string name;
    int index = 0;
  };
  std::vector<Added> add_headers;
  std::vector<Removed> remove_headers;
};

// The reply of POST /checkv2 (bounded by the caller); an error says what is wrong.
Result<RspamdReply> parse_rspamd_reply(std::string_view json);

// The verdict for a reply: "reject" → reject (550 5.7.1, rspamd's smtp_message when it
// gave one), "soft reject" and "greylist" → defer (451 4.7.1), "add header" and "rewrite
// subject" → junk, "no action" → accept; an unknown action is accepted with a note.
// The score and the symbols that scored go in; the milter block becomes header changes.
Verdict rspamd_verdict(const RspamdReply& reply);

// The controller's reply to a lesson (HTTP status and body): ok when it was taken,
// an "already learned" answer as a success with that note, otherwise the error text.
struct RspamdLearnOutcome {
  bool ok = false;
  std::string note;  // "already learned", or the error
};
RspamdLearnOutcome parse_rspamd_learn_reply(int status, std::string_view body);

}  // namespace postamt::filter
