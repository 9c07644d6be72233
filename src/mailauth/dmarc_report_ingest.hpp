#pragma once
// Reading the DMARC aggregate reports other receivers send about our domains into the
// store (`postamt dmarc reports`).
//
// They arrive as ordinary mail for dmarc-reports@<domain> (the rua address `postamt dns
// records` prints and quickstart creates). No SMTP hook: the ingestion reads what was
// delivered to the INBOX of every such account, after a per-mailbox cursor — run by the
// server every few minutes (DmarcReportIngestTask) and by `postamt dmarc reports` before
// it prints. A report read twice is stored once (reporter + report id).
#include <asio/io_context.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/api/blob_store.hpp"
#include "storage/api/mail_store.hpp"

namespace postamt::net {
class BlockingPool;
}

namespace postamt::mailauth {

inline constexpr std::string_view kDmarcReportsLocalPart = "dmarc-reports";
// "dmarc-reports@example.com"
std::string dmarc_reports_address(std::string_view domain);

// Bounds of one incoming report.
inline constexpr std::size_t kMaxReportXmlOctets = 20 * 1024 * 1024;
inline constexpr std::size_t kMaxReportRecords = 100'000;

struct IngestResult {
  std::size_t stored = 0;      // new reports
  std::size_t duplicates = 0;  // reports already stored
  std::size_t messages = 0;    // messages looked at
  std::vector<std::string> problems;  // why a message or a part was not read
};

// Reads the report(s) a delivered message carries (application/gzip, application/zip,
// text/xml attachments; see find_report_documents) into the store. Only reports about one
// of the store's domains (or a subdomain) are kept. received_at 0: now.
IngestResult ingest_dmarc_report(storage::MailStore& store, std::string_view message_bytes,
                                 std::int64_t received_at = 0);

// Reads the new messages (at most `max_messages`) of every dmarc-reports@<domain> INBOX.
storage::StoreResult<IngestResult> ingest_new_dmarc_reports(storage::MailStore& store, storage::BlobStore& blobs,
                                                            std::size_t max_messages = 200);

// The server's periodic ingestion (every 5 minutes, first one minute after start), on
// `io` with the store calls on the blocking pool.
class DmarcReportIngestTask {
 public:
  DmarcReportIngestTask(storage::MailStore& store, storage::BlobStore& blobs, net::BlockingPool& pool);
  ~DmarcReportIngestTask();
  void start(asio::io_context& io);
  void stop();

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace postamt::mailauth
