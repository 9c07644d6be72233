#pragma once
// DMARC evaluation as a stepper (sans-I/O): next() says which DNS questions it needs (all
// of one step may be asked at once) or gives the outcome; provide() feeds the answers.
//
// RFC 9989 mode: the policy is the first valid record of the DNS tree walk from the
// RFC5322.From domain (§4.10.1); the organisational domain of a name is found by the same
// walk with psd= (§4.10.2). The walk queries the name itself, then, for names of 8 or
// more labels, jumps to the 7 rightmost labels, then drops one label at a time: at most 8
// queries per name. RFC 7489 mode: the policy at the From domain, else at its
// organisational domain, which a caller-supplied function (the Public Suffix List) gives.
//
// Alignment (RFC 9989 §4.4, RFC 7489 §3.1): strict = the identifier equals the From
// domain; relaxed = both have the same organisational domain. Only identifiers under the
// From domain's organisational domain can align, so only those cost a walk.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "proto/mailauth/dmarc_record.hpp"
#include "proto/mailauth/dns_question.hpp"
#include "proto/mailauth/from_domain.hpp"

namespace postamt::mailauth {

enum class DmarcMode : std::uint8_t { rfc9989, rfc7489 };
// The DMARC result (RFC 8601 §2.7.2 names): none = no policy record.
enum class DmarcResult : std::uint8_t { none, pass, fail, temperror, permerror };
std::string_view to_string(DmarcResult result);

struct DmarcDkimIdentity {
  std::string domain;  // the signature's d=
  bool pass = false;   // the signature verified
};

// How a message without a usable From domain (FromStatus other than ok) is judged. The
// default treats it as a DMARC failure with policy reject: the message cannot claim any
// domain's authentication, and it is the shape of a known bypass.
struct FromFailurePolicy {
  DmarcResult result = DmarcResult::fail;
  DmarcPolicy policy = DmarcPolicy::reject;
};

struct DmarcEvaluationInput {
  AuthorDomain author;            // from classify_from*()
  bool spf_pass = false;          // the SPF result was pass ...
  std::string spf_domain;         // ... for this domain (MAIL FROM's, or HELO's for a null sender)
  std::vector<DmarcDkimIdentity> dkim;
  DmarcMode mode = DmarcMode::rfc9989;
  unsigned random_percent = 0;    // a uniform draw in [0, 100): pct sampling (RFC 7489 §6.6.4)
  // RFC 7489 mode: the organisational domain of a (lower-case) name from the Public Suffix
  // List (mailauth/public_suffix.hpp). Unset: the name itself.
  std::function<std::string(std::string_view)> organisational_domain;
  FromFailurePolicy from_failure;
};

struct DmarcOutcome {
  DmarcResult result = DmarcResult::none;
  FromStatus from_status = FromStatus::ok;
  std::string from_domain;
  std::string policy_domain;          // where the record was found (empty: none)
  std::string organisational_domain;  // of the From domain (empty when not determined)
  std::optional<DmarcRecord> record;  // the policy record (rua, pct, fo, ... for reports)
  // The policy the domain asks for this From domain: p=, or sp= / np= for a subdomain
  // (np= when the From domain does not exist: no A, AAAA or MX, RFC 9989 §4.7).
  DmarcPolicy requested_policy = DmarcPolicy::none;
  // What to do with the message: requested_policy on a failure, lowered one step when pct
  // sampling (RFC 7489 mode) or t=y (RFC 9989 mode) says so; none otherwise.
  DmarcPolicy policy = DmarcPolicy::none;
  bool sampled_out = false;           // pct or t=y lowered the policy
  bool from_domain_nonexistent = false;
  bool spf_aligned = false;
  bool dkim_aligned = false;
  std::string dkim_aligned_domain;    // the first passing d= that aligned
  std::string reason;                 // a short explanation for logs and Authentication-Results
};

struct DmarcNeedAnswers {
  std::vector<DnsQuestion> questions;
};
using DmarcStep = std::variant<DmarcNeedAnswers, DmarcOutcome>;

class DmarcEvaluator {
 public:
  explicit DmarcEvaluator(DmarcEvaluationInput input);

  // The questions still to answer (independent of each other: ask them together), or the
  // outcome. Call again after provide()-ing the answers.
  DmarcStep next();
  void provide(const DnsQuestion& question, DnsAnswer answer);

  // A hard cap on the distinct questions one evaluation asks. The walks need at most 8 for
  // the From domain, 7 new ones for each of at most 9 identifiers (the top label is shared)
  // and 3 for the existence check: 74.
  static constexpr std::size_t kMaxQuestions = 96;

 private:
  enum class Lookup { pending, temporary, none, multiple, invalid, found };
  struct RecordAt {
    Lookup state = Lookup::none;
    DmarcRecord record;
  };
  struct Walk {  // a policy or organisational-domain walk
    Lookup state = Lookup::none;  // pending, temporary, none (nothing found), found
    std::string domain;           // policy: where the record is; org walk: the org domain
    DmarcRecord record;
  };

  const DnsAnswer* ask(const DnsQuestion& question);
  RecordAt record_at(std::string_view domain);
  Walk policy_walk(std::string_view from);
  Walk organisational_walk(std::string_view domain);
  Walk organisational_domain(std::string_view domain);
  DmarcOutcome evaluate();

  DmarcEvaluationInput input_;
  std::map<std::pair<std::string, RecordType>, DnsAnswer> answers_;
  std::vector<DnsQuestion> missing_;  // of the current evaluate()
};

// The names the RFC 9989 §4.10 tree walk queries for `domain` (without "_dmarc."), in order.
std::vector<std::string> dmarc_tree_walk_targets(std::string_view domain);

}  // namespace postamt::mailauth
