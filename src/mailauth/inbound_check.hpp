#pragma once
// InboundCheck: sender authentication of one message arriving from another server
// (issue 14): SPF for the HELO name and MAIL FROM, DKIM over the message as it streams,
// then DMARC over their results; the Authentication-Results and Received-SPF fields to
// put on the message, the forged Authentication-Results to take off it, and the summary
// inbound_policy.hpp decides on.
//
//   auto check = checker.begin({client_ip, helo, mail_from}, executor);  // at DATA
//   check->feed(bytes); ...                                               // as the data arrives
//   InboundResult result = co_await check->finish(head);                  // at its end
//
// DNS goes through the RecordLookupPool's lookup of the session's I/O context. The SPF
// checks start at DATA (they need only the envelope) and the DKIM key lookups as soon as
// the header is in, so both run while the body still streams; ARC, rare, is looked up at
// the end. What is still in flight when the check is dropped (RSET, a broken connection)
// finishes on its own and is discarded.
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/config.hpp"
#include "mailauth/arc_verifier.hpp"
#include "mailauth/dkim_verifier.hpp"
#include "mailauth/inbound_policy.hpp"
#include "proto/mailauth/auth_results.hpp"
#include "proto/mailauth/dmarc_evaluator.hpp"
#include "mailauth/spf_check.hpp"

namespace postamt::net {
class IpNetworkList;
}

namespace postamt::mailauth {

class RecordLookupPool;
class PublicSuffixList;
class DmarcEvaluationRecorder;

struct InboundIdentity {
  std::string client_ip;
  std::string helo;
  std::string mail_from;  // the reverse-path; "" for the null sender
};

struct InboundResult {
  AuthSummary summary;
  std::string fields;              // Authentication-Results and Received-SPF, each ending in CRLF
  std::string auth_results_payload;  // ours after "Authentication-Results:" (ARC's AAR reuses it)
  std::vector<ByteRange> forged;   // fields of the message's header claiming our authserv-id
  SpfOutcome spf;                  // MAIL FROM (postmaster@HELO for the null sender)
  SpfOutcome spf_helo;             // the HELO identity (RFC 7208 §2.3)
  std::vector<DkimResult> dkim;
  DmarcOutcome dmarc;
  ArcVerdict arc;
  std::optional<std::uint32_t> trusted_arc;  // the trusted sealer's instance that vouched
  std::string summary_text;        // "spf=pass dkim=pass dmarc=pass" for the log
};

class InboundCheck;

class InboundChecker {
 public:
  // `lookups` and `suffixes` (null unless dmarc_mode = "rfc7489") outlive the checker.
  InboundChecker(const Config& config, RecordLookupPool& lookups, const PublicSuffixList* suffixes);
  ~InboundChecker();
  // Call on the session's I/O context; `executor` is that context's.
  std::unique_ptr<InboundCheck> begin(InboundIdentity identity, const asio::any_io_executor& executor) const;
  // Where DMARC evaluations go for the aggregate reports (issue 14 §8); set before the
  // listeners start. Null: not recorded.
  void set_evaluation_recorder(DmarcEvaluationRecorder* recorder) { recorder_ = recorder; }

  const MailauthConfig& config() const { return config_.mailauth; }
  const std::string& authserv_id() const { return config_.server.hostname; }

 private:
  friend class InboundCheck;
  const Config& config_;
  RecordLookupPool& lookups_;
  const PublicSuffixList* suffixes_;
  std::unique_ptr<net::IpNetworkList> allow_networks_;
  DmarcEvaluationRecorder* recorder_ = nullptr;
};

class InboundCheck {
 public:
  InboundCheck(const InboundChecker& checker, InboundIdentity identity, const asio::any_io_executor& executor);
  ~InboundCheck();
  // The message as received, in order (after the SMTP dot-unstuffing).
  void feed(std::string_view bytes);
  // The message ended; `head` is its header block as the session kept it.
  asio::awaitable<InboundResult> finish(std::string_view head);
  // Records the DMARC evaluation of `result` (when a policy was found) with the
  // disposition applied: "none", "quarantine" (Junk) or "reject".
  void record(const InboundResult& result, std::string_view disposition) const;

  struct Flight;  // the lookups running while the data streams in (inbound_check.cpp)

 private:
  void ask_dkim_keys();

  const InboundChecker& checker_;
  InboundIdentity identity_;
  RecordLookup& lookup_;
  std::shared_ptr<Flight> flight_;
  SpfRequest mail_from_;  // kept for the Received-SPF and the evaluation
  ArcVerifier arc_;
};

}  // namespace postamt::mailauth
