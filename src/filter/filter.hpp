#pragma once
// The SMTP-time filter pipeline's vocabulary (issue 15 §1): every check — sender
// authentication, the built-in checks, rspamd, each milter — looks at one message at the
// end of DATA and returns a Verdict; one place (filter/decision.hpp) turns the verdicts
// into the one action SMTP takes before it answers, so nothing accepted is bounced later.
//
// Light on purpose: asio/awaitable.hpp only; no JSON, no sockets (filters' own headers hide those).
#include <asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proto/smtp/reply.hpp"

namespace postamt::filter {

// What the session knows of one message when its data has ended.
struct MessageFacts {
  std::string queue_id;         // the transaction id the log uses
  std::string client_ip;        // textual, no brackets
  std::uint16_t client_port = 0;
  std::string client_hostname;  // forward-confirmed reverse DNS name, empty when none
  std::string helo;             // as the client gave it
  std::string user;             // the authenticated account, empty when none
  bool tls = false;
  std::string mail_from;                // reverse-path, empty for the null sender
  std::vector<std::string> recipients;  // accepted forward-paths, in order
  std::string our_hostname;             // server.hostname
};

// The message as the filters see it: the octets as received (CRLF line ends, no trace
// fields of ours), whole in memory up to [filter] max_message_size. Larger messages are
// not shown to filters that need the body (their verdict says "skipped").
struct MessageContent {
  std::string bytes;
  bool truncated = false;  // more arrived than max_message_size: bytes is only the start
};

// A change a filter asks for in the message's header (RFC 5322 fields; the milter
// protocol's SMFIR_ADDHEADER / SMFIR_INSHEADER / SMFIR_CHGHEADER, rspamd's milter block).
struct HeaderChange {
  enum class Kind {
    add,     // a new field at the end of the header
    insert,  // a new field before the `index`-th field of the message's own header (0 = top)
    change,  // the `index`-th (1-based) field called `name` gets `value`; empty value deletes it
  };
  Kind kind = Kind::add;
  std::string name;
  std::string value;  // unfolded or folded with CRLF + WSP; no trailing CRLF
  std::size_t index = 0;
  // Stored exactly as "Name: value" (folds as given, LF made CRLF), never refolded: a
  // milter's fields (a DKIM-Signature over them must still verify).
  bool verbatim = false;
};

// Ordered by severity: the pipeline's action is the most severe verdict's.
enum class Action { accept, junk, defer, reject };

struct Verdict {
  std::string filter;  // who decided: "mailauth", "rspamd", "milter:opendkim", "dnsbl", …
  Action action = Action::accept;
  std::optional<double> score;       // the filter's score, where it has one
  std::vector<std::string> symbols;  // what it found (rule names, list names), for log and header
  // The reply to give for defer/reject when the filter chose its own text (a milter's
  // SMFIR_REPLYCODE, rspamd's "smtp_message"); the pipeline's default otherwise.
  std::optional<proto::smtp::Reply> reply;
  std::vector<HeaderChange> header_changes;
  // The filter could not be asked (unreachable, timed out, broke the protocol) or chose
  // not to look (message too large). `action` is then what its failure mode says
  // (accept when failing open, defer when failing closed).
  bool failed = false;
  bool skipped = false;
  std::string note;  // a short human-readable reason for the log
};

// One filter. `check` runs on the session's I/O executor; it must not block (storage,
// files and other blocking work go to the blocking pool), must finish within its own
// timeout, and never throws: a failure is a Verdict with failed = true.
class Filter {
 public:
  virtual ~Filter() = default;
  virtual std::string name() const = 0;
  // Whether check() reads the message's bytes (false: the facts are enough, and the
  // pipeline need not copy a large message for it).
  virtual bool reads_content() const { return true; }
  virtual asio::awaitable<Verdict> check(const MessageFacts& facts, std::shared_ptr<const MessageContent> content) = 0;
};

}  // namespace postamt::filter
