#include "mailauth/dmarc_report_ingest.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>

#include "base/log.hpp"
#include "mailauth/dmarc_report_mail.hpp"
#include "net/blocking_pool.hpp"
#include "proto/mailauth/dmarc_report.hpp"

namespace postamt::mailauth {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool within(std::string_view domain, std::string_view ours) {
  return domain == ours ||
         (domain.size() > ours.size() && domain.ends_with(ours) && domain[domain.size() - ours.size() - 1] == '.');
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

storage::DmarcReceivedReport to_stored(const AggregateReport& report, std::int64_t received_at) {
  storage::DmarcReceivedReport stored;
  stored.org_name = report.org_name;
  stored.email = report.email;
  stored.report_id = report.report_id;
  stored.policy_domain = lower(report.domain);
  stored.begin = report.begin;
  stored.end = report.end;
  stored.received_at = received_at;
  for (const auto& record : report.records) {
    storage::DmarcReportRow row;
    row.source_ip = record.source_ip;
    row.count = record.count;
    row.disposition = lower(record.disposition);
    row.dkim_aligned = lower(record.dkim);
    row.spf_aligned = lower(record.spf);
    row.header_from = lower(record.header_from);
    row.envelope_from = lower(record.envelope_from);
    for (const auto& dkim : record.dkim_results)
      row.dkim.push_back(storage::DmarcDkimAuth{lower(dkim.domain), dkim.selector, lower(dkim.result)});
    for (const auto& spf : record.spf_results)
      row.spf.push_back(storage::DmarcSpfAuth{lower(spf.domain), lower(spf.scope), lower(spf.result)});
    stored.rows.push_back(std::move(row));
  }
  return stored;
}

}  // namespace

std::string dmarc_reports_address(std::string_view domain) {
  return std::string(kDmarcReportsLocalPart) + "@" + lower(domain);
}

IngestResult ingest_dmarc_report(storage::MailStore& store, std::string_view message_bytes, std::int64_t received_at) {
  IngestResult result;
  result.messages = 1;
  if (received_at == 0) received_at = now_seconds();
  auto found = find_report_documents(message_bytes, kMaxReportXmlOctets);
  result.problems = std::move(found.problems);
  if (found.documents.empty() && result.problems.empty()) result.problems.push_back("no report attachment");
  auto domains = store.list_domains();
  if (!domains) {
    result.problems.push_back("the store: " + domains.error().message);
    return result;
  }
  ReportParseLimits limits;
  limits.max_xml_octets = kMaxReportXmlOctets;
  limits.max_records = kMaxReportRecords;
  for (const auto& document : found.documents) {
    auto report = parse_aggregate_report(document, limits);
    if (!report) {
      result.problems.push_back("the report: " + report.error().message);
      continue;
    }
    const std::string domain = lower(report->domain);
    const bool ours = std::ranges::any_of(*domains, [&](const storage::DomainRecord& d) { return within(domain, d.name); });
    if (!ours) {
      result.problems.push_back("a report about " + domain + ", not a domain of this server");
      continue;
    }
    auto added = store.add_dmarc_received_report(to_stored(*report, received_at));
    if (!added) {
      result.problems.push_back("the store: " + added.error().message);
      continue;
    }
    if (*added) {
      ++result.stored;
      log::info("dmarc.report_received", {{"reporter", report->org_name},
                                          {"domain", domain},
                                          {"report_id", report->report_id},
                                          {"records", report->records.size()}});
    } else {
      ++result.duplicates;
    }
  }
  return result;
}

storage::StoreResult<IngestResult> ingest_new_dmarc_reports(storage::MailStore& store, storage::BlobStore& blobs,
                                                            std::size_t max_messages) {
  IngestResult total;
  auto domains = store.list_domains();
  if (!domains) return std::unexpected(domains.error());
  for (const auto& domain : *domains) {
    auto account = store.find_account(dmarc_reports_address(domain.name));
    if (!account) {
      if (account.error().code == storage::StorageError::Code::not_found) continue;
      return std::unexpected(account.error());
    }
    auto inbox = store.find_mailbox(account->id, "INBOX");
    if (!inbox) continue;
    auto cursor = store.dmarc_ingest_cursor(inbox->id);
    if (!cursor) return std::unexpected(cursor.error());
    auto summaries = store.list_summaries_after(inbox->id, *cursor);
    if (!summaries) return std::unexpected(summaries.error());
    for (const auto& summary : *summaries) {
      if (total.messages >= max_messages) return total;
      const std::uint32_t uid = summary.uid;
      auto rows = store.fetch_message_blobs(inbox->id, std::span<const std::uint32_t>(&uid, 1));
      if (!rows) return std::unexpected(rows.error());
      if (!rows->empty()) {
        auto bytes = blobs.read(rows->front().blob_id);
        if (!bytes) {
          total.problems.push_back("message " + std::to_string(uid) + ": " + bytes.error().message);
        } else {
          auto one = ingest_dmarc_report(store, *bytes, summary.internal_date);
          total.stored += one.stored;
          total.duplicates += one.duplicates;
          for (auto& problem : one.problems) {
            log::warn("dmarc.report_unreadable", {{"mailbox", account->address}, {"uid", uid}, {"why", problem}});
            total.problems.push_back(account->address + " message " + std::to_string(uid) + ": " + problem);
          }
        }
      }
      ++total.messages;
      if (auto moved = store.set_dmarc_ingest_cursor(inbox->id, uid); !moved) return std::unexpected(moved.error());
    }
  }
  return total;
}

class DmarcReportIngestTask::Impl {
 public:
  Impl(storage::MailStore& store, storage::BlobStore& blobs, net::BlockingPool& pool)
      : store_(store), blobs_(blobs), pool_(pool) {}

  static asio::awaitable<void> loop(std::shared_ptr<Impl> self) {
    auto delay = std::chrono::seconds(60);
    while (!self->stopped_) {
      self->timer_->expires_after(delay);
      auto [ec] = co_await self->timer_->async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      if (ec || self->stopped_) break;
      delay = std::chrono::minutes(5);
      auto scan = [&] { return ingest_new_dmarc_reports(self->store_, self->blobs_); };
      try {
        auto result = co_await self->pool_.run(scan);
        if (!result) log::error("dmarc.report_ingest_failed", {{"error", result.error().message}});
      } catch (const std::exception& error) {
        log::error("dmarc.report_ingest_failed", {{"error", error.what()}});
      }
    }
  }

  storage::MailStore& store_;
  storage::BlobStore& blobs_;
  net::BlockingPool& pool_;
  std::unique_ptr<asio::steady_timer> timer_;
  bool stopped_ = false;
};

DmarcReportIngestTask::DmarcReportIngestTask(storage::MailStore& store, storage::BlobStore& blobs,
                                             net::BlockingPool& pool)
    : impl_(std::make_shared<Impl>(store, blobs, pool)) {}

DmarcReportIngestTask::~DmarcReportIngestTask() = default;

void DmarcReportIngestTask::start(asio::io_context& io) {
  impl_->timer_ = std::make_unique<asio::steady_timer>(io);
  asio::co_spawn(io, Impl::loop(impl_), asio::detached);
}

void DmarcReportIngestTask::stop() {
  if (!impl_->timer_) return;
  asio::post(impl_->timer_->get_executor(), [impl = impl_] {
    impl->stopped_ = true;
    impl->timer_->cancel();
  });
}

}  // namespace postamt::mailauth
