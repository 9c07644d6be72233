#pragma once
// SpfEvaluator: check_host() (RFC 7208 §4) as a stepper. It never does I/O: it says which
// DNS questions it needs, is given the answers, and ends with a verdict.
//
//   SpfEvaluator spf(inputs);
//   while (!spf.done()) spf.provide(ask_all(spf.questions()));   // one answer per question
//   use(spf.verdict());
//
// How it steps: the evaluation is deterministic given the answers, so each step runs
// check_host() from the start over the answers known so far, until the first question it
// has no answer for; every question that point needs at once (all MX hosts' addresses,
// all PTR names' addresses) is asked together. Re-running is cheap (a few short records)
// and keeps one answer per question for the whole check, as a caching resolver would.
//
// Limits (§4.6.4): 10 terms that query DNS (include, a, mx, ptr, exists, redirect),
// 2 void lookups (NXDOMAIN or no records), more than 10 MX names is a permerror, only the
// first 10 PTR names are looked at; the p macro looks at 10 names too.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "proto/mailauth/dns_question.hpp"
#include "proto/mailauth/ip_address.hpp"
#include "proto/mailauth/spf_result.hpp"

namespace postamt::mailauth {

struct SpfInputs {
  IpAddress ip;                 // the SMTP client
  std::string helo;             // the EHLO/HELO name as given
  std::string mail_from;        // the reverse-path without <>; empty for a null sender
  SpfIdentity identity = SpfIdentity::mail_from;
  std::string receiver = "unknown";  // our host name, for %{r} in explanations
  std::uint64_t timestamp = 0;       // seconds since the epoch, for %{t}
};

struct SpfVerdict {
  SpfResult result = SpfResult::none;
  SpfIdentity identity = SpfIdentity::mail_from;  // the identity actually checked
  std::string sender;       // <sender>: local-part@domain as checked (§4.1)
  std::string domain;       // <domain> whose policy was checked (the sender's domain)
  std::string mechanism;    // the term that decided ("default" when none matched)
  std::string explanation;  // fail only: the exp= text, else a default text
  bool explanation_from_record = false;
  std::string problem;      // temperror / permerror: what went wrong
  unsigned dns_terms = 0;   // terms that queried DNS
  unsigned void_lookups = 0;
};

class SpfEvaluator {
 public:
  static constexpr unsigned kMaxDnsTerms = 10;
  static constexpr unsigned kMaxVoidLookups = 2;
  static constexpr std::size_t kMaxMxNames = 10;
  static constexpr std::size_t kMaxPtrNames = 10;
  static constexpr std::size_t kMaxQuestions = 256;  // a backstop; the limits above stay far below

  explicit SpfEvaluator(SpfInputs inputs);

  bool done() const { return done_; }
  // The questions to answer next (empty once done).
  const std::vector<DnsQuestion>& questions() const { return questions_; }
  // The answers to questions(), in the same order.
  void provide(const std::vector<DnsAnswer>& answers);
  const SpfVerdict& verdict() const { return verdict_; }

  // The default explanation for a fail without a usable exp= (§6.2).
  static std::string default_explanation(const std::string& domain, const IpAddress& ip);

 private:
  void step();

  SpfInputs inputs_;
  std::unordered_map<std::string, DnsAnswer> answers_;  // by question key
  std::vector<DnsQuestion> questions_;
  SpfVerdict verdict_;
  bool done_ = false;
};

}  // namespace postamt::mailauth
