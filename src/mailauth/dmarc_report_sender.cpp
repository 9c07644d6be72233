#include "mailauth/dmarc_report_sender.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "base/log.hpp"
#include "mailauth/dmarc_report_gzip.hpp"
#include "mailauth/dmarc_report_mail.hpp"
#include "net/blocking_pool.hpp"
#include "proto/mailauth/dmarc_report.hpp"
#include "proto/mailauth/dmarc_report_uri.hpp"

namespace postamt::mailauth {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr auto kCheckInterval = std::chrono::minutes(10);
// A report's <record> rows; more groups than this in one day are left for the next
// report (a receiver of that size should not be Postamt).
constexpr std::size_t kMaxRecordsPerReport = 50'000;

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t midnight(std::int64_t time) { return time - ((time % kDay) + kDay) % kDay; }

ReportRecord to_record(const storage::DmarcEvaluationGroup& group) {
  const auto& e = group.evaluation;
  ReportRecord record;
  record.source_ip = e.source_ip;
  record.count = group.count;
  record.disposition = e.disposition;
  record.dkim = e.dkim_aligned;
  record.spf = e.spf_aligned;
  record.envelope_from = e.envelope_from;
  record.header_from = e.header_from;
  for (const auto& dkim : e.dkim) record.dkim_results.push_back(ReportDkimResult{dkim.domain, dkim.selector, dkim.result});
  // The schema wants at least one spf result; an SPF check that did not run is "none".
  record.spf_results.push_back(ReportSpfResult{e.spf.domain.empty() ? e.envelope_from : e.spf.domain,
                                               e.spf.scope.empty() ? "mfrom" : e.spf.scope,
                                               e.spf.result.empty() ? "none" : e.spf.result});
  return record;
}

}  // namespace

std::string dmarc_report_id(std::string_view policy_domain, std::int64_t begin, std::int64_t end) {
  // FNV-1a, 64 bits: stable across builds and runs.
  std::uint64_t hash = 14695981039346656037ull;
  auto mix = [&](std::string_view text) {
    for (const char c : text) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 1099511628211ull;
    }
    hash ^= 0xff;
    hash *= 1099511628211ull;
  };
  mix(policy_domain);
  mix(std::to_string(begin));
  mix(std::to_string(end));
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

bool DmarcReportSender::run_due(std::int64_t now, std::int64_t last_run_day, int report_hour) {
  const std::int64_t today = midnight(now);
  return last_run_day < today && now - today >= static_cast<std::int64_t>(report_hour) * 3600;
}

class DmarcReportSender::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(DmarcReportSettings settings, DmarcReportDependencies dependencies)
      : settings_(std::move(settings)), deps_(dependencies) {
    if (settings_.report_from.empty()) settings_.report_from = "postmaster@" + settings_.hostname;
  }

  DmarcReportSettings settings_;
  DmarcReportDependencies deps_;
  Sign sign_;
  std::function<void()> queued_listener_;
  std::unique_ptr<asio::steady_timer> timer_;
  bool stopped_ = false;

  template <class Work>
  asio::awaitable<std::invoke_result_t<Work&>> blocking(Work& work) {
    if (deps_.pool != nullptr) co_return co_await deps_.pool->run(work);
    co_return work();
  }

  // Whether `uri` may receive reports about `report` (RFC 7489 §7.1). Sets `why` when not.
  // Temporary DNS failures set `temporary`.
  asio::awaitable<bool> destination_allowed(const storage::DmarcEvaluation& policy, const ReportUri& uri,
                                            std::string& why, bool& temporary) {
    if (same_organization(policy.policy_domain, policy.policy_org_domain, uri.domain)) co_return true;
    if (deps_.lookup == nullptr) {
      why = "another organisation's address and no resolver to verify it (RFC 7489 §7.1)";
      co_return false;
    }
    const std::string name = external_report_authorization_name(policy.policy_domain, uri.domain);
    // Called outside the co_await expression: g++ 12 destroys a by-value argument of a
    // coroutine called inside one twice.
    auto asking = deps_.lookup->lookup(DnsQuestion{name, RecordType::txt});
    const DnsAnswer answer = co_await std::move(asking);
    if (answer.temporary()) {
      why = "the TXT lookup of " + name + " failed for now";
      temporary = true;
      co_return false;
    }
    if (std::ranges::any_of(answer.records, [](const std::string& txt) { return authorizes_external_reports(txt); }))
      co_return true;
    why = "not authorised: no v=DMARC1 record at " + name + " (RFC 7489 §7.1)";
    co_return false;
  }

  // Puts one report mail into the outbound queue.
  storage::StoreResult<storage::QueueMessage> enqueue(const std::string& content,
                                                      const std::vector<std::string>& recipients, std::int64_t now) {
    auto blob = deps_.blobs.put(content);
    if (!blob) return std::unexpected(blob.error());
    storage::QueueMessage message;
    message.sender = "";  // the null reverse-path: a report is never answered by a bounce
    message.blob_id = blob->id;
    message.size = blob->size;
    message.created_at = now;
    for (const auto& address : recipients) {
      storage::QueueRecipient recipient;
      recipient.address = address;
      recipient.next_attempt_at = now;
      message.recipients.push_back(std::move(recipient));
    }
    auto queued = deps_.store.enqueue(message);
    deps_.blobs.release(blob->id, queued ? storage::BlobPins::After::referenced : storage::BlobPins::After::check);
    return queued;
  }

  asio::awaitable<DmarcReportRun> send_reports(std::int64_t until, std::int64_t now) {
    DmarcReportRun run;
    auto read = [&] { return deps_.store.pending_dmarc_reports(until); };
    auto pending = co_await blocking(read);
    if (!pending) {
      log::error("dmarc.report_read_failed", {{"error", pending.error().message}});
      co_return run;
    }
    for (auto& report : *pending) {
      if (report.groups.size() > kMaxRecordsPerReport) report.groups.resize(kMaxRecordsPerReport);
      co_await send_one(report, until, now, run);
    }
    co_return run;
  }

  asio::awaitable<void> send_one(storage::DmarcPendingReport& report, std::int64_t until, std::int64_t now,
                                 DmarcReportRun& run) {
    // The policy as last seen decides where the report goes.
    const auto latest = std::ranges::max_element(report.groups, {}, [](const auto& g) { return g.evaluation.time; });
    const storage::DmarcEvaluation& policy = latest->evaluation;
    const std::string& domain = report.policy_domain;
    auto mark = [&] { return deps_.store.mark_dmarc_reported(report, until); };

    const auto uris = parse_report_uris(policy.policy.rua);
    if (uris.empty()) {
      // Nobody asked: the evaluations count as done, so they are not listed again.
      ++run.domains_without_rua;
      if (auto marked = co_await blocking(mark); !marked)
        log::error("dmarc.report_mark_failed", {{"domain", domain}, {"error", marked.error().message}});
      co_return;
    }

    AggregateReport xml_report;
    xml_report.org_name = settings_.hostname;
    xml_report.email = settings_.report_from;
    std::int64_t first_day = report.groups.front().day;
    for (const auto& group : report.groups) first_day = std::min(first_day, group.day);
    xml_report.begin = std::max(report.reported_until, first_day);
    xml_report.end = std::max(xml_report.begin, until - 1);
    xml_report.report_id = dmarc_report_id(domain, xml_report.begin, xml_report.end);
    xml_report.domain = domain;
    xml_report.adkim = policy.policy.adkim;
    xml_report.aspf = policy.policy.aspf;
    xml_report.p = policy.policy.p;
    xml_report.sp = policy.policy.sp;
    xml_report.np = policy.policy.np;
    xml_report.pct = policy.policy.pct;
    for (const auto& group : report.groups) xml_report.records.push_back(to_record(group));
    const std::string gzipped = gzip_compress(write_aggregate_report(xml_report));

    ReportMailInput mail;
    mail.submitter = settings_.hostname;
    mail.from = settings_.report_from;
    mail.policy_domain = domain;
    mail.report_id = xml_report.report_id;
    mail.begin = xml_report.begin;
    mail.end = xml_report.end;
    mail.gzipped_xml = gzipped;
    mail.now = now;

    bool temporary = false;
    std::vector<const ReportUri*> allowed;
    for (const auto& uri : uris) {
      std::string why;
      if (co_await destination_allowed(policy, uri, why, temporary)) {
        allowed.push_back(&uri);
      } else {
        run.skipped.push_back(domain + " -> " + uri.address + ": " + why);
        log::warn("dmarc.report_destination_skipped", {{"domain", domain}, {"to", uri.address}, {"why", why}});
      }
    }
    // RFC 7489 §7.2.1.1: a URI's "!size" bounds the mail sent to it.
    for (const auto* uri : allowed) mail.to.push_back(uri->address);
    std::string content = compose_report_mail(mail);
    std::vector<std::string> recipients;
    for (const auto* uri : allowed) {
      if (uri->max_size != 0 && content.size() > uri->max_size) {
        const std::string why = "the report (" + std::to_string(content.size()) + " octets) exceeds its limit of " +
                                std::to_string(uri->max_size);
        run.skipped.push_back(domain + " -> " + uri->address + ": " + why);
        log::warn("dmarc.report_destination_skipped", {{"domain", domain}, {"to", uri->address}, {"why", why}});
        continue;
      }
      recipients.push_back(uri->address);
    }
    if (recipients.size() != allowed.size()) {
      mail.to = recipients;
      content = compose_report_mail(mail);
    }

    if (!recipients.empty()) {
      if (sign_) content = sign_(content) + content;
      auto put = [&] { return enqueue(content, recipients, now); };
      auto queued = co_await blocking(put);
      if (!queued) {
        log::error("dmarc.report_queue_failed", {{"domain", domain}, {"error", queued.error().message}});
        co_return;  // still pending: the next run tries again
      }
      ++run.reports_queued;
      std::string to;
      for (const auto& address : recipients) to += (to.empty() ? "" : ", ") + address;
      run.queued.push_back(domain + " -> " + to + " (report " + xml_report.report_id + ")");
      log::info("dmarc.report_queued", {{"domain", domain},
                                        {"to", to},
                                        {"report_id", xml_report.report_id},
                                        {"records", xml_report.records.size()},
                                        {"octets", content.size()},
                                        {"queue_id", queued->id}});
      if (queued_listener_) queued_listener_();
    } else if (temporary) {
      co_return;  // nothing sent because DNS failed: the next run tries again
    }
    if (auto marked = co_await blocking(mark); !marked)
      log::error("dmarc.report_mark_failed", {{"domain", domain}, {"error", marked.error().message}});
  }

  asio::awaitable<void> run_if_due() {
    const std::int64_t now = now_seconds();
    auto read_day = [&] { return deps_.store.dmarc_report_run_day(); };
    auto last = co_await blocking(read_day);
    if (!last) {
      log::error("dmarc.report_state_failed", {{"error", last.error().message}});
      co_return;
    }
    if (!run_due(now, *last, settings_.report_hour)) co_return;
    const std::int64_t today = midnight(now);
    const DmarcReportRun run = co_await send_reports(today, now);
    auto finish = [&]() -> storage::StoreResult<std::size_t> {
      auto pruned = deps_.store.prune_dmarc(today - kEvaluationRetentionDays * kDay,
                                            today - kReceivedRetentionDays * kDay);
      if (!pruned) return pruned;
      if (auto set = deps_.store.set_dmarc_report_run_day(today); !set) return std::unexpected(set.error());
      return pruned;
    };
    auto finished = co_await blocking(finish);
    if (!finished) {
      log::error("dmarc.report_state_failed", {{"error", finished.error().message}});
      co_return;
    }
    log::info("dmarc.report_run", {{"reports", run.reports_queued},
                                   {"skipped", run.skipped.size()},
                                   {"without_rua", run.domains_without_rua},
                                   {"pruned", *finished}});
  }

  static asio::awaitable<void> daily(std::shared_ptr<Impl> self) {
    while (!self->stopped_) {
      try {
        co_await self->run_if_due();
      } catch (const std::exception& error) {
        log::error("dmarc.report_run_failed", {{"error", error.what()}});
      }
      if (self->stopped_) break;
      self->timer_->expires_after(kCheckInterval);
      auto [ec] = co_await self->timer_->async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      if (ec) break;
    }
  }
};

DmarcReportSender::DmarcReportSender(DmarcReportSettings settings, DmarcReportDependencies dependencies)
    : impl_(std::make_shared<Impl>(std::move(settings), dependencies)) {}

DmarcReportSender::~DmarcReportSender() = default;

void DmarcReportSender::set_sign(Sign sign) { impl_->sign_ = std::move(sign); }

void DmarcReportSender::set_queued_listener(std::function<void()> listener) {
  impl_->queued_listener_ = std::move(listener);
}

asio::awaitable<DmarcReportRun> DmarcReportSender::send_reports(std::int64_t until, std::int64_t now) {
  auto impl = impl_;  // held while the run waits
  co_return co_await impl->send_reports(until, now);
}

void DmarcReportSender::start(asio::io_context& io) {
  impl_->timer_ = std::make_unique<asio::steady_timer>(io);
  asio::co_spawn(io, Impl::daily(impl_), asio::detached);
}

void DmarcReportSender::stop() {
  if (!impl_->timer_) return;
  asio::post(impl_->timer_->get_executor(), [impl = impl_] {
    impl->stopped_ = true;
    impl->timer_->cancel();
  });
}

}  // namespace postamt::mailauth
