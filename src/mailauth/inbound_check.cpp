#include "mailauth/inbound_check.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/this_coro.hpp>

#include <algorithm>
#include <ctime>
#include <random>

#include "mailauth/arc_lookup.hpp"
#include "mailauth/dkim_lookup.hpp"
#include "mailauth/dmarc_check.hpp"
#include "mailauth/dmarc_report_recorder.hpp"
#include "mailauth/resolver_record_lookup.hpp"
#include "mailauth/spf_check.hpp"
#include "net/ip_network.hpp"
#include "proto/mailauth/dmarc_auth_results.hpp"
#include "proto/mailauth/from_domain.hpp"
#include "proto/mailauth/header_field_list.hpp"

namespace postamt::mailauth {
namespace {

std::string lowered(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

DmarcVerdict verdict_of(DmarcResult result) {
  switch (result) {
    case DmarcResult::pass: return DmarcVerdict::pass;
    case DmarcResult::fail: return DmarcVerdict::fail;
    case DmarcResult::temperror: return DmarcVerdict::temperror;
    case DmarcResult::permerror: return DmarcVerdict::permerror;
    case DmarcResult::none: break;
  }
  return DmarcVerdict::none;
}

unsigned random_percent() {
  thread_local std::minstd_rand engine{std::random_device{}()};
  return std::uniform_int_distribution<unsigned>(0, 99)(engine);
}

// RFC 8617 §7.2: a trusted sealer vouches only for what it saw, so its own
// ARC-Authentication-Results must say dmarc=pass for the override to hold.
bool sealer_saw_dmarc_pass(const ArcVerdict& verdict, std::uint32_t instance) {
  if (instance == 0 || instance > verdict.auth_results.size()) return false;
  auto parsed = parse_authentication_results(verdict.auth_results[instance - 1]);
  if (!parsed) return false;
  return std::ranges::any_of(parsed->results, [](const AuthMethodResult& r) {
    return r.method == "dmarc" && r.result == "pass";
  });
}

// The Authentication-Results of this message (RFC 8601 §2.7), the one place that says it.
AuthenticationResults authentication_results(const std::string& authserv_id, const InboundResult& r,
                                             const InboundIdentity& identity) {
  AuthenticationResults ar;
  ar.authserv_id = authserv_id;
  AuthMethodResult spf{"spf", std::string(spf_result_name(r.spf.result)), "", "", {}};
  if (r.spf.identity == SpfIdentity::helo) {
    spf.with("smtp", "helo", identity.helo);
  } else {
    spf.with("smtp", "mailfrom", r.spf.sender);
  }
  if (!r.spf.problem.empty()) spf.reason = r.spf.problem;
  ar.results.push_back(std::move(spf));
  if (r.dkim.empty()) {
    ar.results.push_back(AuthMethodResult{"dkim", "none", "", "", {}});
  }
  for (const DkimResult& d : r.dkim) {
    AuthMethodResult dkim{"dkim", std::string(dkim_status_name(d.status)), d.reason, "", {}};
    if (d.body_partly_unsigned) dkim.comment = "body partly unsigned (l=)";
    if (!d.domain.empty()) dkim.with("header", "d", d.domain);
    if (!d.selector.empty()) dkim.with("header", "s", d.selector);
    if (!d.identity.empty()) dkim.with("header", "i", d.identity);
    if (!d.header_b.empty()) dkim.with("header", "b", d.header_b);
    ar.results.push_back(std::move(dkim));
  }
  ar.results.push_back(dmarc_auth_result(r.dmarc));
  AuthMethodResult arc{"arc", r.arc.temporary ? "temperror" : std::string(arc_status_name(r.arc.status)), "", "", {}};
  if (r.arc.status == ArcChainStatus::fail && !r.arc.reason.empty()) arc.reason = r.arc.reason;
  if (r.arc.instance_count > 0) arc.comment = "i=" + std::to_string(r.arc.instance_count);
  if (r.arc.oldest_pass > 0) arc.with("header", "oldest-pass", std::to_string(r.arc.oldest_pass));
  if (r.trusted_arc) arc.comment += " trusted sealer at i=" + std::to_string(*r.trusted_arc);
  ar.results.push_back(std::move(arc));
  return ar;
}

}  // namespace

InboundChecker::InboundChecker(const Config& config, RecordLookupPool& lookups, const PublicSuffixList* suffixes)
    : config_(config),
      lookups_(lookups),
      suffixes_(suffixes),
      allow_networks_(std::make_unique<net::IpNetworkList>(config.mailauth.allow_networks)) {}

InboundChecker::~InboundChecker() = default;

std::unique_ptr<InboundCheck> InboundChecker::begin(InboundIdentity identity,
                                                   const asio::any_io_executor& executor) const {
  return std::make_unique<InboundCheck>(*this, std::move(identity), executor);
}

// Shared by the check and the lookups it started: a lookup that outlives the check (the
// client said RSET) still has its verifier and somewhere to put its answer.
struct InboundCheck::Flight {
  explicit Flight(const asio::any_io_executor& executor) : wake(executor) {}
  asio::steady_timer wake;  // cancelled whenever a lookup ends
  unsigned running = 0;
  DkimVerifier dkim{DkimVerifierOptions{.now = static_cast<std::uint64_t>(std::time(nullptr))}};
  bool keys_asked = false;
  SpfOutcome spf;        // MAIL FROM
  SpfOutcome spf_helo;   // HELO

  void ended() {
    --running;
    wake.cancel();
  }
};

namespace {

asio::awaitable<void> dkim_keys_of(std::shared_ptr<InboundCheck::Flight> flight, RecordLookup& lookup) {
  co_await look_up_dkim_keys(flight->dkim, lookup);
}

// A check that fails unexpectedly counts as a temporary failure (451), never a pass.
void start_spf(const std::shared_ptr<InboundCheck::Flight>& flight, RecordLookup& lookup, const SpfRequest& request,
               SpfOutcome InboundCheck::Flight::*into) {
  ++flight->running;
  asio::co_spawn(flight->wake.get_executor(), check_spf(lookup, request),
                 [flight, into](std::exception_ptr error, SpfOutcome outcome) {
                   if (error) {
                     outcome.result = SpfResult::temperror;
                     outcome.problem = "the check failed";
                   }
                   (*flight).*into = std::move(outcome);
                   flight->ended();
                 });
}

}  // namespace

InboundCheck::InboundCheck(const InboundChecker& checker, InboundIdentity identity,
                           const asio::any_io_executor& executor)
    : checker_(checker),
      identity_(std::move(identity)),
      lookup_(checker.lookups_.for_executor(executor)),
      flight_(std::make_shared<Flight>(executor)) {
  mail_from_.client_ip = identity_.client_ip;
  mail_from_.helo = identity_.helo;
  mail_from_.mail_from = identity_.mail_from;
  mail_from_.receiver = checker_.authserv_id();
  SpfRequest helo = mail_from_;
  helo.identity = SpfIdentity::helo;
  // RFC 7208 §2.3, §2.4: both identities, at once, while the data is still to come.
  start_spf(flight_, lookup_, mail_from_, &Flight::spf);
  start_spf(flight_, lookup_, helo, &Flight::spf_helo);
}

InboundCheck::~InboundCheck() = default;

void InboundCheck::feed(std::string_view bytes) {
  flight_->dkim.feed(bytes);
  arc_.feed(bytes);
  if (!flight_->keys_asked && flight_->dkim.header_complete()) ask_dkim_keys();
}

// The key records are asked once the header is in (RFC 6376 §6.1.2 needs only the
// signature fields); their answers may come while the body is still being hashed.
void InboundCheck::ask_dkim_keys() {
  flight_->keys_asked = true;
  ++flight_->running;
  asio::co_spawn(flight_->wake.get_executor(), dkim_keys_of(flight_, lookup_),
                 [flight = flight_](std::exception_ptr) { flight->ended(); });
}

asio::awaitable<InboundResult> InboundCheck::finish(std::string_view head) {
  Flight& flight = *flight_;
  flight.dkim.finish();
  if (!flight.keys_asked) ask_dkim_keys();  // a message that is all header
  arc_.finish();
  RecordLookup& lookup = lookup_;
  InboundResult result;
  const std::string& hostname = checker_.authserv_id();
  result.arc = co_await verify_arc(arc_, lookup);
  while (flight.running > 0) {
    flight.wake.expires_at(asio::steady_timer::time_point::max());
    co_await flight.wake.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
  result.spf = flight.spf;
  result.spf_helo = flight.spf_helo;
  result.dkim = flight.dkim.results();

  DmarcInput dmarc;
  dmarc.author = classify_from_header_block(head);
  dmarc.spf_pass = result.spf.result == SpfResult::pass;
  dmarc.spf_domain = result.spf.domain;
  for (const DkimResult& d : result.dkim) dmarc.dkim.push_back({d.domain, d.status == DkimStatus::pass});
  dmarc.mode = checker_.config().dmarc_mode == postamt::DmarcMode::rfc7489 ? DmarcMode::rfc7489 : DmarcMode::rfc9989;
  dmarc.random_percent = random_percent();
  dmarc.public_suffixes = checker_.suffixes_;
  result.dmarc = co_await check_dmarc(lookup, dmarc);

  AuthSummary& summary = result.summary;
  summary.dmarc = verdict_of(result.dmarc.result);
  summary.policy = result.dmarc.policy;
  summary.spf_fail = result.spf.result == SpfResult::fail;
  summary.dkim_pass = std::ranges::any_of(result.dkim, [](const DkimResult& d) { return d.status == DkimStatus::pass; });
  summary.from_unusable = result.dmarc.from_status != FromStatus::ok;
  if (const auto instance = trusted_arc_instance(result.arc, checker_.config().trusted_arc_sealers);
      instance && sealer_saw_dmarc_pass(result.arc, *instance)) {
    result.trusted_arc = instance;
    summary.trusted_arc = true;
  }
  // Allow-listed domains count only when authenticated: a From domain is easy to forge.
  const auto allowed = [&](const std::string& domain) {
    return !domain.empty() && std::ranges::find(checker_.config().allow_domains, domain) !=
                                  checker_.config().allow_domains.end();
  };
  summary.allow_listed = checker_.allow_networks_->contains(identity_.client_ip) ||
                         (result.spf.result == SpfResult::pass && allowed(result.spf.domain)) ||
                         (result.dmarc.result == DmarcResult::pass && allowed(result.dmarc.from_domain)) ||
                         std::ranges::any_of(result.dkim, [&](const DkimResult& d) {
                           return d.status == DkimStatus::pass && allowed(lowered(d.domain));
                         });

  const AuthenticationResults ours = authentication_results(hostname, result, identity_);
  result.fields = format_authentication_results_field(ours);
  result.auth_results_payload = format_authentication_results_value(ours);
  const auto first = result.auth_results_payload.find_first_not_of(" \t");
  result.auth_results_payload.erase(0, first == std::string::npos ? 0 : first);
  result.fields += "Received-SPF: " + result.spf.received_spf + "\r\n";
  result.forged = forged_authentication_results(head, hostname);
  // ARC-Authentication-Results claiming our authserv-id go too, unless the chain they are
  // part of verified (then our own key sealed them: mail of ours coming back).
  if (result.arc.status != ArcChainStatus::pass) {
    for (const RawHeaderField& field : split_header_fields(head)) {
      if (!header_name_equals(field.name, "ARC-Authentication-Results")) continue;
      const auto instance_end = field.value.find(';');
      if (instance_end == std::string_view::npos) continue;
      if (claims_authserv_id(field.value.substr(instance_end + 1), hostname)) {
        result.forged.push_back(ByteRange{field.offset, field.length});
      }
    }
    std::ranges::sort(result.forged, {}, &ByteRange::offset);
  }
  result.summary_text = "spf=" + std::string(spf_result_name(result.spf.result)) + " dkim=" +
                        (result.dkim.empty() ? std::string("none") : std::string(dkim_status_name(result.dkim.front().status))) +
                        " dmarc=" + std::string(to_string(result.dmarc.result)) +
                        " arc=" + std::string(arc_status_name(result.arc.status));
  co_return result;
}

void InboundCheck::record(const InboundResult& result, std::string_view disposition) const {
  if (checker_.recorder_ == nullptr || !result.dmarc.record || result.dmarc.policy_domain.empty()) return;
  const DmarcRecord& published = *result.dmarc.record;
  const auto mode = [](DmarcAlignmentMode m) { return m == DmarcAlignmentMode::strict ? "s" : "r"; };
  storage::DmarcEvaluation evaluation;
  evaluation.source_ip = identity_.client_ip;
  evaluation.header_from = result.dmarc.from_domain;
  evaluation.envelope_from = result.spf.domain;
  evaluation.policy_domain = result.dmarc.policy_domain;
  evaluation.policy_org_domain = result.dmarc.organisational_domain;
  evaluation.policy.p = std::string(to_string(published.policy));
  if (published.subdomain_policy) evaluation.policy.sp = std::string(to_string(*published.subdomain_policy));
  if (published.nonexistent_policy) evaluation.policy.np = std::string(to_string(*published.nonexistent_policy));
  evaluation.policy.pct = static_cast<int>(published.percent);
  evaluation.policy.adkim = mode(published.dkim_alignment);
  evaluation.policy.aspf = mode(published.spf_alignment);
  for (const DmarcReportUri& uri : published.aggregate_report_uris) {
    if (!evaluation.policy.rua.empty()) evaluation.policy.rua += ',';
    evaluation.policy.rua += uri.uri;
    if (uri.max_size) evaluation.policy.rua += "!" + std::to_string(*uri.max_size);
  }
  evaluation.disposition = std::string(disposition);
  evaluation.dkim_aligned = result.dmarc.dkim_aligned ? "pass" : "fail";
  evaluation.spf_aligned = result.dmarc.spf_aligned ? "pass" : "fail";
  evaluation.spf.domain = result.spf.domain;
  evaluation.spf.scope = result.spf.identity == SpfIdentity::helo ? "helo" : "mfrom";
  evaluation.spf.result = std::string(spf_result_name(result.spf.result));
  for (const DkimResult& d : result.dkim) {
    if (d.domain.empty()) continue;
    evaluation.dkim.push_back({d.domain, d.selector, std::string(dkim_status_name(d.status))});
  }
  checker_.recorder_->record(std::move(evaluation));
}

}  // namespace postamt::mailauth
