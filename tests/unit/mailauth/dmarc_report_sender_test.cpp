// DMARC aggregate reports end to end inside the process: evaluations in a real SQLite
// store -> DmarcReportSender (a scripted DNS zone for RFC 7489 §7.1) -> the outbound queue
// -> the queued mail's attachment gunzipped and parsed back; and received report mails
// read into the store.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <fstream>
#include <map>
#include <sstream>

#include "../storage/temp_dir.hpp"
#include "mailauth/dmarc_report_gzip.hpp"
#include "mailauth/dmarc_report_ingest.hpp"
#include "mailauth/dmarc_report_mail.hpp"
#include "mailauth/dmarc_report_sender.hpp"
#include "mime/transfer_encoders.hpp"
#include "proto/mailauth/dmarc_report.hpp"
#include "storage/blob_fs/fs_blob_store.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"

namespace postamt::mailauth {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kMonday = 1'764'547'200;  // 2025-12-01T00:00:00Z

class ScriptedLookup final : public RecordLookup {
 public:
  std::map<std::string, DnsAnswer> zone;
  std::vector<std::string> asked;
  asio::awaitable<DnsAnswer> lookup(DnsQuestion question) override {
    asked.push_back(question.name);
    const auto found = zone.find(question.name);
    co_return found == zone.end() ? DnsAnswer::nx_domain() : found->second;
  }
};

storage::DmarcEvaluation evaluation(std::string ip, std::int64_t time, std::string rua) {
  storage::DmarcEvaluation e;
  e.time = time;
  e.source_ip = std::move(ip);
  e.header_from = "example.org";
  e.envelope_from = "bounce.example.org";
  e.policy_domain = "example.org";
  e.policy.p = "reject";
  e.policy.rua = std::move(rua);
  e.disposition = "reject";
  e.dkim_aligned = "fail";
  e.spf_aligned = "fail";
  e.spf = storage::DmarcSpfAuth{"bounce.example.org", "mfrom", "softfail"};
  e.dkim = {storage::DmarcDkimAuth{"example.org", "sel", "fail"}};
  return e;
}

std::string read_data(const std::string& name) {
  std::ifstream in(std::string(POSTAMT_TEST_DATA_DIR) + "/" + name, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class DmarcReportSenderTest : public ::testing::Test {
 protected:
  DmarcReportSenderTest()
      : store_(storage::open_sqlite_store(dir_.path())), blobs_(dir_.path() / "blobs") {}

  DmarcReportRun send(std::int64_t until, std::string_view sign_fields = "") {
    DmarcReportSender sender(DmarcReportSettings{"mx.receiver.test", "", 1},
                             DmarcReportDependencies{*store_, blobs_, &lookup_, nullptr});
    if (!sign_fields.empty()) {
      sender.set_sign([fields = std::string(sign_fields)](std::string_view message) {
        EXPECT_NE(message.find("Subject: Report Domain:"), std::string_view::npos);
        return fields;
      });
    }
    int woken = 0;
    sender.set_queued_listener([&] { ++woken; });
    asio::io_context io;
    auto future = asio::co_spawn(io, sender.send_reports(until, until + 3600), asio::use_future);
    io.run();
    auto run = future.get();
    EXPECT_EQ(static_cast<std::size_t>(woken), run.reports_queued);
    return run;
  }

  std::vector<storage::QueueMessage> queue() { return *store_->list_queue(); }

  AggregateReport queued_report(const storage::QueueMessage& message, std::string* mail = nullptr) {
    auto bytes = blobs_.read(message.blob_id);
    EXPECT_TRUE(bytes);
    if (mail) *mail = *bytes;
    auto found = find_report_documents(*bytes, 1 << 20);
    EXPECT_EQ(found.documents.size(), 1u);
    if (found.documents.empty()) return {};
    auto report = parse_aggregate_report(found.documents[0]);
    EXPECT_TRUE(report) << report.error().message;
    return report ? *report : AggregateReport{};
  }

  storage::test::TempDir dir_;
  std::unique_ptr<storage::MailStore> store_;
  storage::FsBlobStore blobs_;
  ScriptedLookup lookup_;
};

TEST_F(DmarcReportSenderTest, ADaysEvaluationsBecomeOneQueuedReport) {
  const std::string rua = "mailto:dmarc@example.org!10m, mailto:agg@reports.thirdparty.test";
  lookup_.zone["example.org._report._dmarc.reports.thirdparty.test"] = DnsAnswer::with({"v=DMARC1"});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store_->record_dmarc_evaluation(evaluation("192.0.2.1", kMonday + i, rua)));
  ASSERT_TRUE(store_->record_dmarc_evaluation(evaluation("2001:db8::7", kMonday + 50, rua)));
  ASSERT_TRUE(store_->record_dmarc_evaluation(evaluation("192.0.2.1", kMonday + kDay + 5, rua)));  // tomorrow

  const auto run = send(kMonday + kDay, "DKIM-Signature: v=1; test\r\n");
  EXPECT_EQ(run.reports_queued, 1u);
  EXPECT_TRUE(run.skipped.empty());
  EXPECT_EQ(lookup_.asked, std::vector<std::string>{"example.org._report._dmarc.reports.thirdparty.test"})
      << "only the other organisation's address is checked";

  const auto messages = queue();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].sender, "") << "the null reverse-path";
  ASSERT_EQ(messages[0].recipients.size(), 2u);
  EXPECT_EQ(messages[0].recipients[0].address, "dmarc@example.org");
  EXPECT_EQ(messages[0].recipients[1].address, "agg@reports.thirdparty.test");
  std::string mail;
  const auto report = queued_report(messages[0], &mail);
  EXPECT_TRUE(mail.starts_with("DKIM-Signature: v=1; test\r\nFrom: <postmaster@mx.receiver.test>\r\n"));
  EXPECT_NE(mail.find("Subject: Report Domain: example.org Submitter: mx.receiver.test\r\n Report-ID: <" +
                      report.report_id + ">"),
            std::string::npos);
  EXPECT_NE(mail.find("filename=\"mx.receiver.test!example.org!" + std::to_string(kMonday) + "!" +
                      std::to_string(kMonday + kDay - 1) + "!" + report.report_id + ".xml.gz\""),
            std::string::npos);
  EXPECT_EQ(report.org_name, "mx.receiver.test");
  EXPECT_EQ(report.email, "postmaster@mx.receiver.test");
  EXPECT_EQ(report.begin, kMonday);
  EXPECT_EQ(report.end, kMonday + kDay - 1);
  EXPECT_EQ(report.domain, "example.org");
  EXPECT_EQ(report.p, "reject");
  ASSERT_EQ(report.records.size(), 2u);
  EXPECT_EQ(report.records[0].source_ip, "192.0.2.1");
  EXPECT_EQ(report.records[0].count, 3u);
  EXPECT_EQ(report.records[0].disposition, "reject");
  EXPECT_EQ(report.records[0].envelope_from, "bounce.example.org");
  EXPECT_EQ(report.records[0].dkim_results, (std::vector<ReportDkimResult>{{"example.org", "sel", "fail"}}));
  EXPECT_EQ(report.records[0].spf_results, (std::vector<ReportSpfResult>{{"bounce.example.org", "mfrom", "softfail"}}));
  EXPECT_EQ(report.records[1].source_ip, "2001:db8::7");
  EXPECT_EQ(report.records[1].count, 1u);

  // Sent once: a second run for the same day has nothing to send.
  EXPECT_EQ(send(kMonday + kDay).reports_queued, 0u);
  EXPECT_EQ(queue().size(), 1u);
  // The next day's report starts where the first ended.
  EXPECT_EQ(send(kMonday + 2 * kDay).reports_queued, 1u);
  const auto next = queued_report(queue()[1]);
  EXPECT_EQ(next.begin, kMonday + kDay);
  EXPECT_NE(next.report_id, report.report_id);
}

TEST_F(DmarcReportSenderTest, UnauthorisedExternalDestinationsGetNothing) {
  const std::string rua = "mailto:dmarc@example.org, mailto:x@elsewhere.test";
  lookup_.zone["example.org._report._dmarc.elsewhere.test"] = DnsAnswer::with({"v=spf1 -all"});
  ASSERT_TRUE(store_->record_dmarc_evaluation(evaluation("192.0.2.1", kMonday, rua)));
  const auto run = send(kMonday + kDay);
  EXPECT_EQ(run.reports_queued, 1u);
  ASSERT_EQ(run.skipped.size(), 1u);
  EXPECT_NE(run.skipped[0].find("x@elsewhere.test: not authorised"), std::string::npos);
  ASSERT_EQ(queue().size(), 1u);
  ASSERT_EQ(queue()[0].recipients.size(), 1u);
  EXPECT_EQ(queue()[0].recipients[0].address, "dmarc@example.org");
}

TEST_F(DmarcReportSenderTest, ATemporaryDnsFailureLeavesTheReportPending) {
  const std::string rua = "mailto:x@elsewhere.test";
  lookup_.zone["example.org._report._dmarc.elsewhere.test"] = DnsAnswer::timed_out();
  ASSERT_TRUE(store_->record_dmarc_evaluation(evaluation("192.0.2.1", kMonday, rua)));
  EXPECT_EQ(send(kMonday + kDay).reports_queued, 0u);
  EXPECT_TRUE(queue().empty());
  EXPECT_EQ(store_->pending_dmarc_reports(kMonday + kDay)->size(), 1u) << "tried again next time";
  lookup_.zone["example.org._report._dmarc.elsewhere.test"] = DnsAnswer::with({"v=DMARC1;"});
  EXPECT_EQ(send(kMonday + kDay).reports_queued, 1u);
  EXPECT_TRUE(store_->pending_dmarc_reports(kMonday + kDay)->empty());
}

TEST_F(DmarcReportSenderTest, SizeLimitsAndMissingRuaAreRespected) {
  ASSERT_TRUE(store_->record_dmarc_evaluation(evaluation("192.0.2.1", kMonday, "mailto:small@example.org!100")));
  auto other = evaluation("192.0.2.2", kMonday, "");
  other.policy_domain = other.header_from = "norua.test";
  ASSERT_TRUE(store_->record_dmarc_evaluation(other));
  const auto run = send(kMonday + kDay);
  EXPECT_EQ(run.reports_queued, 0u);
  EXPECT_EQ(run.domains_without_rua, 1u);
  ASSERT_EQ(run.skipped.size(), 1u);
  EXPECT_NE(run.skipped[0].find("exceeds its limit of 100"), std::string::npos);
  EXPECT_TRUE(queue().empty());
  EXPECT_TRUE(store_->pending_dmarc_reports(kMonday + kDay)->empty()) << "neither is listed again";
}

TEST_F(DmarcReportSenderTest, WithoutAResolverOnlyTheOwnOrganisationGetsReports) {
  ASSERT_TRUE(store_->record_dmarc_evaluation(evaluation("192.0.2.1", kMonday, "mailto:x@elsewhere.test")));
  DmarcReportSender sender(DmarcReportSettings{"mx.receiver.test", "reports@receiver.test", 1},
                           DmarcReportDependencies{*store_, blobs_, nullptr, nullptr});
  asio::io_context io;
  auto future = asio::co_spawn(io, sender.send_reports(kMonday + kDay, kMonday + kDay), asio::use_future);
  io.run();
  const auto run = future.get();
  EXPECT_EQ(run.reports_queued, 0u);
  ASSERT_EQ(run.skipped.size(), 1u);
  EXPECT_NE(run.skipped[0].find("no resolver"), std::string::npos);
}

TEST(DmarcReportSchedule, RunsOnceADayAfterTheReportHour) {
  EXPECT_FALSE(DmarcReportSender::run_due(kMonday + 1800, 0, 1)) << "before 01:00";
  EXPECT_TRUE(DmarcReportSender::run_due(kMonday + 3600, 0, 1));
  EXPECT_TRUE(DmarcReportSender::run_due(kMonday + 23 * 3600, kMonday - kDay, 1)) << "missed at 01:00: later";
  EXPECT_FALSE(DmarcReportSender::run_due(kMonday + 5 * 3600, kMonday, 1)) << "ran today";
  EXPECT_TRUE(DmarcReportSender::run_due(kMonday, kMonday - kDay, 0));
  EXPECT_EQ(dmarc_report_id("example.org", 1, 2), dmarc_report_id("example.org", 1, 2));
  EXPECT_NE(dmarc_report_id("example.org", 1, 2), dmarc_report_id("example.org", 1, 3));
  EXPECT_EQ(dmarc_report_id("example.org", 1, 2).size(), 16u);
}

// --- received reports

std::string report_mail(const std::string& xml, std::string type = "application/gzip", bool gzip = true) {
  const std::string body = gzip ? gzip_compress(xml) : xml;
  return "From: <noreply-dmarc@reporter.test>\r\nTo: <dmarc-reports@example.com>\r\nSubject: Report\r\n"
         "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
         "--b\r\nContent-Type: text/plain\r\n\r\nA report.\r\n"
         "--b\r\nContent-Type: " + type + "\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
         mime::encode_base64_lines(body) + "\r\n--b--\r\n";
}

class DmarcReportIngestTest : public DmarcReportSenderTest {};

TEST_F(DmarcReportIngestTest, TheSampleReportIsReadIntoTheStoreOnce) {
  ASSERT_TRUE(store_->add_domain("example.com"));
  const std::string xml = read_data("dmarc/rfc9990-sample-report.xml");
  const auto first = ingest_dmarc_report(*store_, report_mail(xml), 1000);
  EXPECT_EQ(first.stored, 1u);
  EXPECT_TRUE(first.problems.empty()) << first.problems[0];
  const auto again = ingest_dmarc_report(*store_, report_mail(xml, "text/xml", false), 1000);
  EXPECT_EQ(again.stored, 0u);
  EXPECT_EQ(again.duplicates, 1u);
  auto rows = store_->dmarc_received_rows("example.com", 0);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].org_name, "Sample Reporter");
  EXPECT_EQ((*rows)[0].row.source_ip, "192.0.2.123");
  EXPECT_EQ((*rows)[0].row.count, 123u);
  EXPECT_EQ((*rows)[1].row.spf[0].result, "softfail");
}

TEST_F(DmarcReportIngestTest, ASinglePartGzipMessageIsOneReport) {
  const std::string xml = read_data("dmarc/rfc9990-sample-report.xml");
  const std::string mail = "From: <r@reporter.test>\r\nSubject: Report\r\nMIME-Version: 1.0\r\n"
                           "Content-Type: application/gzip\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
                           mime::encode_base64_lines(gzip_compress(xml)) + "\r\n";
  const auto found = find_report_documents(mail, 1 << 20);
  ASSERT_EQ(found.documents.size(), 1u);
  EXPECT_EQ(found.documents[0], xml);
}

TEST_F(DmarcReportIngestTest, ReportsAboutOtherDomainsAndJunkAreNotStored) {
  ASSERT_TRUE(store_->add_domain("example.net"));
  const std::string xml = read_data("dmarc/rfc9990-sample-report.xml");
  const auto foreign = ingest_dmarc_report(*store_, report_mail(xml));
  EXPECT_EQ(foreign.stored, 0u);
  ASSERT_EQ(foreign.problems.size(), 1u);
  EXPECT_NE(foreign.problems[0].find("not a domain of this server"), std::string::npos);
  const auto junk = ingest_dmarc_report(*store_, report_mail("not gzip at all", "application/gzip", false));
  EXPECT_EQ(junk.stored, 0u);
  EXPECT_FALSE(junk.problems.empty());
  const auto plain = ingest_dmarc_report(*store_, "From: a@b.test\r\nSubject: hi\r\n\r\nhello\r\n");
  EXPECT_EQ(plain.stored, 0u);
  EXPECT_FALSE(plain.problems.empty());
  // A gzip bomb stops at the bound.
  const std::string bomb = gzip_compress(std::string(kMaxReportXmlOctets + 10, ' '));
  EXPECT_FALSE(gunzip_bounded(bomb, kMaxReportXmlOctets));
  EXPECT_TRUE(gunzip_bounded(bomb, kMaxReportXmlOctets + 10));
}

TEST_F(DmarcReportIngestTest, ZipAttachmentsAreRead) {
  ASSERT_TRUE(store_->add_domain("example.com"));
  const std::string xml = read_data("dmarc/rfc9990-sample-report.xml");
  // A one-file ZIP archive, stored (method 0): the local file header, then the data.
  auto le = [](std::uint32_t value, int width) {
    std::string out;
    for (int i = 0; i < width; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
    return out;
  };
  const std::string name = "report.xml";
  std::string zip = std::string("PK\x03\x04", 4) + le(10, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4) +
                    le(static_cast<std::uint32_t>(xml.size()), 4) + le(static_cast<std::uint32_t>(xml.size()), 4) +
                    le(static_cast<std::uint32_t>(name.size()), 2) + le(0, 2) + name + xml;
  const auto result = ingest_dmarc_report(*store_, report_mail(zip, "application/zip", false));
  EXPECT_EQ(result.stored, 1u);
  auto unzipped = unzip_first_file(zip, 1 << 20);
  ASSERT_TRUE(unzipped);
  EXPECT_EQ(*unzipped, xml);
  EXPECT_FALSE(unzip_first_file(zip.substr(0, 40), 1 << 20));
}

TEST_F(DmarcReportIngestTest, TheReportsMailboxIsScannedAfterItsCursor) {
  ASSERT_TRUE(store_->add_domain("example.com"));
  auto account = store_->add_account("dmarc-reports@example.com", "!");
  ASSERT_TRUE(account);
  const auto inbox = *store_->find_mailbox(account->id, "INBOX");
  auto deliver = [&](const std::string& content) {
    auto blob = blobs_.put(content);
    ASSERT_TRUE(blob);
    storage::NewMessage message;
    message.mailbox_id = inbox.id;
    message.blob_id = blob->id;
    message.size = blob->size;
    message.internal_date = 2000;
    ASSERT_TRUE(store_->append_messages(std::span<const storage::NewMessage>(&message, 1)));
  };
  deliver(report_mail(read_data("dmarc/rfc9990-sample-report.xml")));
  deliver("From: a@b.test\r\nSubject: not a report\r\n\r\nhello\r\n");
  auto first = ingest_new_dmarc_reports(*store_, blobs_);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->messages, 2u);
  EXPECT_EQ(first->stored, 1u);
  EXPECT_EQ(first->problems.size(), 1u);
  EXPECT_EQ(*store_->dmarc_ingest_cursor(inbox.id), 2u);
  auto second = ingest_new_dmarc_reports(*store_, blobs_);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->messages, 0u) << "read once";
}

}  // namespace
}  // namespace postamt::mailauth
