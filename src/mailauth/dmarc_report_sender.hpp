#pragma once
// DmarcReportSender: sends DMARC aggregate reports (RFC 7489 §7.2, RFC 9990) about the
// mail Postamt evaluated, once a day, to the rua addresses of each policy domain.
//
//   evaluations (store, counted per day) ──pending_dmarc_reports(until)──> per policy domain:
//     rua mailto: URIs ──(another organisation? RFC 7489 §7.1 TXT check via RecordLookup)──>
//     AggregateReport XML ──gzip──> report mail ──sign hook──> outbound queue (null sender)
//     ──mark_dmarc_reported──> nothing is sent twice, even after a restart.
//
// Schedule (run_daily): at start and every 10 minutes it looks whether today's run is due
// (the UTC hour is at least report_hour and the store's last run day is before today);
// a due run reports every day before today's midnight, then prunes (evaluations after
// kEvaluationRetentionDays, received reports after kReceivedRetentionDays) and records
// the day. `postamt dmarc send-reports --now` calls send_reports() with until = now.
//
// Store calls go to the blocking pool when one is given (the server), else run inline
// (the CLI). The coroutines hold the sender's state by shared pointer, so stop() and
// destruction while a run waits are safe.
#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mailauth/record_lookup.hpp"
#include "storage/api/blob_store.hpp"
#include "storage/api/mail_store.hpp"

namespace postamt::net {
class BlockingPool;
}

namespace postamt::mailauth {

inline constexpr int kEvaluationRetentionDays = 31;
inline constexpr int kReceivedRetentionDays = 400;

struct DmarcReportSettings {
  std::string hostname;     // org_name and the "Submitter:" (server.hostname)
  std::string report_from;  // From: and report_metadata/email; "" -> postmaster@hostname
  int report_hour = 1;      // UTC hour of the daily run (0-23)
};

struct DmarcReportDependencies {
  storage::MailStore& store;
  storage::BlobStore& blobs;
  // For the external-destination check (RFC 7489 §7.1). Null: reports go only to
  // destinations of the policy domain's own organisation; others are skipped (logged).
  RecordLookup* lookup = nullptr;
  net::BlockingPool* pool = nullptr;  // null: store calls inline (CLI)
};

// What one run did (logged; `postamt dmarc send-reports` prints it).
struct DmarcReportRun {
  std::size_t reports_queued = 0;   // report mails put into the outbound queue
  std::size_t domains_without_rua = 0;
  std::vector<std::string> skipped;  // "domain -> address: why" for each destination not used
  std::vector<std::string> queued;   // "domain -> address, address (report id)"
};

class DmarcReportSender {
 public:
  // Returns the header fields (each ending in CRLF) to put before the message: the
  // DKIM-Signature(s) of the message Postamt originates. Empty: sent unsigned.
  using Sign = std::function<std::string(std::string_view message)>;

  DmarcReportSender(DmarcReportSettings settings, DmarcReportDependencies dependencies);
  ~DmarcReportSender();
  DmarcReportSender(const DmarcReportSender&) = delete;
  DmarcReportSender& operator=(const DmarcReportSender&) = delete;

  // Set before start()/send_reports(). Any thread may call the hooks' results later.
  void set_sign(Sign sign);
  // Called after a report went into the queue (the server wakes the queue scheduler).
  void set_queued_listener(std::function<void()> listener);

  // Sends a report for each policy domain with evaluations of days before `until` not
  // reported yet; the reports cover up to until - 1. `now` dates the mail.
  asio::awaitable<DmarcReportRun> send_reports(std::int64_t until, std::int64_t now);

  // The daily schedule on `io` (co_spawned); stop() ends it.
  void start(asio::io_context& io);
  void stop();

  // Whether the daily run is due at `now` after the last run on `last_run_day` (a UTC
  // midnight; 0 = never).
  static bool run_due(std::int64_t now, std::int64_t last_run_day, int report_hour);

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// The report id of one report: 16 hex digits, stable for (domain, begin, end) so a report
// resent after a crash keeps its id (receivers then see a duplicate, not a new report).
std::string dmarc_report_id(std::string_view policy_domain, std::int64_t begin, std::int64_t end);

}  // namespace postamt::mailauth
