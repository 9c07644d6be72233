#pragma once
// What the store keeps for DMARC aggregate reports (RFC 7489 §7.2, RFC 9990):
//  - DmarcEvaluation: one message's DMARC evaluation at SMTP time, recorded so that a
//    report can be sent to the policy domain's rua addresses once a day;
//  - DmarcReportRow / DmarcReceivedReport: the rows of reports OTHER receivers sent about
//    our own domains, read into the store (`postamt dmarc reports`).
// Light header: value types only.
#include <cstdint>
#include <string>
#include <vector>

namespace postamt::storage {

// RFC 7489 Appendix C: DKIMAuthResultType / SPFAuthResultType / DMARCResultType are plain
// words ("pass", "fail", "none", "neutral", "softfail", "temperror", "permerror",
// "policy"); they are kept as the words, lower case.
struct DmarcDkimAuth {
  std::string domain;    // d=
  std::string selector;  // s= ("" when unknown)
  std::string result;    // pass | fail | neutral | policy | temperror | permerror | none
  friend bool operator==(const DmarcDkimAuth&, const DmarcDkimAuth&) = default;
};

struct DmarcSpfAuth {
  std::string domain;             // the identity checked (MAIL FROM domain or HELO name)
  std::string scope = "mfrom";    // mfrom | helo
  std::string result = "none";    // none | neutral | pass | fail | softfail | temperror | permerror
  friend bool operator==(const DmarcSpfAuth&, const DmarcSpfAuth&) = default;
};

// The policy record as published (RFC 7489 §6.3, RFC 9989 np=), in its words.
struct DmarcPublishedPolicy {
  std::string p = "none";  // none | quarantine | reject
  std::string sp;          // "" when absent
  std::string np;          // "" when absent
  int pct = 100;
  std::string adkim = "r";  // r | s
  std::string aspf = "r";   // r | s
  // The rua tag as published: a comma-separated list of URIs, each maybe with "!size".
  std::string rua;
  friend bool operator==(const DmarcPublishedPolicy&, const DmarcPublishedPolicy&) = default;
};

// One message as DMARC saw it at SMTP time: what the integrator records for each message
// evaluated against a published policy (no record: nothing to report, nothing recorded).
struct DmarcEvaluation {
  std::int64_t time = 0;             // unix seconds, UTC
  std::string source_ip;             // the connecting client's address, text form
  std::string header_from;           // RFC5322.From domain
  std::string envelope_from;         // RFC5321.MailFrom domain ("" for the null sender)
  std::string policy_domain;         // where the policy record was found
  // The organisational domain of policy_domain ("" when unknown: policy_domain is used).
  // Decides when a rua address needs the external-destination check (RFC 7489 §7.1).
  std::string policy_org_domain;
  DmarcPublishedPolicy policy;
  std::string disposition = "none";  // none | quarantine | reject (what was applied)
  std::string dkim_aligned = "fail";  // pass | fail: an aligned DKIM pass (DMARC's dkim)
  std::string spf_aligned = "fail";   // pass | fail: an aligned SPF pass (DMARC's spf)
  DmarcSpfAuth spf;
  std::vector<DmarcDkimAuth> dkim;   // every signature checked, in header order
  friend bool operator==(const DmarcEvaluation&, const DmarcEvaluation&) = default;
};

// One aggregated row of our own evaluations (identical evaluations of one UTC day
// counted together): what a report's <record> is made of.
struct DmarcEvaluationGroup {
  std::int64_t id = 0;
  std::int64_t day = 0;              // UTC midnight of the evaluations' day
  DmarcEvaluation evaluation;        // time: the first evaluation of the group
  std::uint64_t count = 0;           // evaluations not reported yet
  std::uint64_t reported = 0;        // evaluations of this row already reported
};

// Evaluations waiting for one policy domain's report.
struct DmarcPendingReport {
  std::string policy_domain;
  std::int64_t reported_until = 0;   // end of the last report sent for it (0: none yet)
  std::vector<DmarcEvaluationGroup> groups;  // count = the not-yet-reported number
};

// A report that arrived for one of our domains (RFC 7489 Appendix C, feedback).
struct DmarcReportRow {
  std::string source_ip;
  std::uint64_t count = 0;
  std::string disposition;      // none | quarantine | reject
  std::string dkim_aligned;     // policy_evaluated/dkim: pass | fail
  std::string spf_aligned;      // policy_evaluated/spf: pass | fail
  std::string header_from;
  std::string envelope_from;
  std::vector<DmarcDkimAuth> dkim;
  std::vector<DmarcSpfAuth> spf;
  friend bool operator==(const DmarcReportRow&, const DmarcReportRow&) = default;
};

struct DmarcReceivedReport {
  std::int64_t id = 0;
  std::string org_name;        // the reporter
  std::string email;
  std::string report_id;
  std::string policy_domain;
  std::int64_t begin = 0;      // date_range
  std::int64_t end = 0;
  std::int64_t received_at = 0;
  std::vector<DmarcReportRow> rows;
};

// A row of a received report together with its report's reporter and period (the CLI's
// input: it sums them per source IP).
struct DmarcReceivedRow {
  std::string org_name;
  std::string policy_domain;
  std::int64_t begin = 0;
  std::int64_t end = 0;
  DmarcReportRow row;
};

}  // namespace postamt::storage
