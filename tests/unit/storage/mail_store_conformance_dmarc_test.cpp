// The MailStore conformance suite: DMARC aggregate reports (our evaluations, their report
// state, received reports, the ingestion cursor).
#include "mail_store_conformance.hpp"

namespace postamt::storage::test {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kMonday = 1'764'547'200;  // 2025-12-01T00:00:00Z

DmarcEvaluation evaluation(std::string ip, std::int64_t time, std::string domain = "example.org") {
  DmarcEvaluation e;
  e.time = time;
  e.source_ip = std::move(ip);
  e.header_from = domain;
  e.envelope_from = domain;
  e.policy_domain = domain;
  e.policy.p = "quarantine";
  e.policy.pct = 50;
  e.policy.adkim = "s";
  e.policy.rua = "mailto:dmarc@" + domain + "!10m";
  e.disposition = "quarantine";
  e.dkim_aligned = "fail";
  e.spf_aligned = "pass";
  e.spf = DmarcSpfAuth{domain, "mfrom", "pass"};
  e.dkim = {DmarcDkimAuth{"other.test", "s1", "pass"}, DmarcDkimAuth{domain, "sel", "fail"}};
  return e;
}

std::vector<DmarcPendingReport> pending(MailStore& store, std::int64_t until) {
  auto reports = store.pending_dmarc_reports(until);
  EXPECT_TRUE(reports) << reports.error().message;
  return reports ? *reports : std::vector<DmarcPendingReport>{};
}

TEST_P(MailStoreConformance, DmarcEvaluationsOfADayAreCountedPerGroup) {
  ASSERT_TRUE(store().record_dmarc_evaluation(evaluation("192.0.2.1", kMonday + 10)));
  ASSERT_TRUE(store().record_dmarc_evaluation(evaluation("192.0.2.1", kMonday + 20)));
  const std::vector<DmarcEvaluation> batch = {evaluation("192.0.2.1", kMonday + 30), evaluation("192.0.2.2", kMonday + 40),
                                              evaluation("192.0.2.1", kMonday + kDay + 5),
                                              evaluation("198.51.100.7", kMonday + 50, "other.test")};
  ASSERT_TRUE(store().record_dmarc_evaluations(batch));

  // Only days before `until`: the second day is not over yet.
  const auto reports = pending(store(), kMonday + kDay);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].policy_domain, "example.org");
  EXPECT_EQ(reports[1].policy_domain, "other.test");
  EXPECT_EQ(reports[0].reported_until, 0);
  ASSERT_EQ(reports[0].groups.size(), 2u);
  const auto& first = reports[0].groups[0];
  EXPECT_EQ(first.count, 3u);
  EXPECT_EQ(first.day, kMonday);
  EXPECT_EQ(first.evaluation.time, kMonday + 10) << "the group keeps its first evaluation's time";
  auto expected = evaluation("192.0.2.1", kMonday + 10);
  EXPECT_EQ(first.evaluation, expected) << "every field comes back as recorded";
  EXPECT_EQ(reports[0].groups[1].evaluation.source_ip, "192.0.2.2");
  EXPECT_EQ(reports[0].groups[1].count, 1u);

  // A different result is another group.
  auto failing = evaluation("192.0.2.1", kMonday + 60);
  failing.spf.result = "fail";
  failing.spf_aligned = "fail";
  ASSERT_TRUE(store().record_dmarc_evaluation(failing));
  EXPECT_EQ(pending(store(), kMonday + kDay)[0].groups.size(), 3u);
}

TEST_P(MailStoreConformance, DmarcReportedEvaluationsAreNotReportedAgain) {
  ASSERT_TRUE(store().record_dmarc_evaluation(evaluation("192.0.2.1", kMonday + 10)));
  ASSERT_TRUE(store().record_dmarc_evaluation(evaluation("192.0.2.1", kMonday + 20)));
  auto reports = pending(store(), kMonday + kDay);
  ASSERT_EQ(reports.size(), 1u);
  // An evaluation arriving while the report is being sent stays pending.
  ASSERT_TRUE(store().record_dmarc_evaluation(evaluation("192.0.2.1", kMonday + 30)));
  ASSERT_TRUE(store().mark_dmarc_reported(reports[0], kMonday + 1000));

  reopen();  // what was sent survives a restart
  reports = pending(store(), kMonday + kDay);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].reported_until, kMonday + 1000);
  ASSERT_EQ(reports[0].groups.size(), 1u);
  EXPECT_EQ(reports[0].groups[0].count, 1u);
  EXPECT_EQ(reports[0].groups[0].reported, 2u);
  ASSERT_TRUE(store().mark_dmarc_reported(reports[0], kMonday + 2000));
  EXPECT_TRUE(pending(store(), kMonday + kDay).empty());
  // reported_until never goes back.
  ASSERT_TRUE(store().record_dmarc_evaluation(evaluation("192.0.2.9", kMonday + 40)));
  reports = pending(store(), kMonday + kDay);
  ASSERT_TRUE(store().mark_dmarc_reported(reports[0], kMonday + 5));
  ASSERT_TRUE(store().record_dmarc_evaluation(evaluation("192.0.2.9", kMonday + 50)));
  EXPECT_EQ(pending(store(), kMonday + kDay)[0].reported_until, kMonday + 2000);
}

TEST_P(MailStoreConformance, DmarcValuesFromTheNetworkAreBounded) {
  auto e = evaluation("192.0.2.1", kMonday);
  e.header_from = std::string(1000, 'a') + "\x1f\x1e\r\n";
  e.dkim.assign(100, DmarcDkimAuth{"d\x1f" "x.test", "s\x1e", "pass"});
  ASSERT_TRUE(store().record_dmarc_evaluation(e));
  const auto reports = pending(store(), kMonday + kDay);
  ASSERT_EQ(reports.size(), 1u);
  const auto& stored = reports[0].groups[0].evaluation;
  EXPECT_EQ(stored.header_from, std::string(255, 'a'));
  ASSERT_EQ(stored.dkim.size(), 32u);
  EXPECT_EQ(stored.dkim[0], (DmarcDkimAuth{"dx.test", "s", "pass"}));
}

TEST_P(MailStoreConformance, DmarcPruneDropsOldDaysAndReports) {
  ASSERT_TRUE(store().record_dmarc_evaluation(evaluation("192.0.2.1", kMonday)));
  ASSERT_TRUE(store().record_dmarc_evaluation(evaluation("192.0.2.1", kMonday + 40 * kDay)));
  DmarcReceivedReport old_report{0, "Old Reporter", "r@old.test", "r1", "example.org", kMonday, kMonday + kDay, kMonday, {}};
  ASSERT_TRUE(store().add_dmarc_received_report(old_report));
  auto removed = store().prune_dmarc(kMonday + 9 * kDay, kMonday + 2 * kDay);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(*removed, 2u);
  auto left = store().list_dmarc_evaluations(10);
  ASSERT_TRUE(left);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].day, kMonday + 40 * kDay);
  EXPECT_TRUE(store().dmarc_received_rows("", 0)->empty());
}

TEST_P(MailStoreConformance, DmarcReportRunDayIsKept) {
  EXPECT_EQ(*store().dmarc_report_run_day(), 0);
  ASSERT_TRUE(store().set_dmarc_report_run_day(kMonday));
  reopen();
  EXPECT_EQ(*store().dmarc_report_run_day(), kMonday);
}

TEST_P(MailStoreConformance, DmarcReceivedReportsAreStoredOnce) {
  DmarcReceivedReport report;
  report.org_name = "acme.example";
  report.email = "noreply-dmarc@acme.example";
  report.report_id = "9391651994964116463";
  report.policy_domain = "example.com";
  report.begin = kMonday;
  report.end = kMonday + kDay - 1;
  report.received_at = kMonday + kDay + 100;
  DmarcReportRow row;
  row.source_ip = "192.0.2.123";
  row.count = 2;
  row.disposition = "none";
  row.dkim_aligned = "fail";
  row.spf_aligned = "pass";
  row.header_from = "example.com";
  row.envelope_from = "example.com";
  row.dkim = {DmarcDkimAuth{"example.com", "", "fail"}};
  row.spf = {DmarcSpfAuth{"example.com", "mfrom", "pass"}};
  report.rows = {row};
  row.source_ip = "2001:db8::1";
  row.count = 7;
  report.rows.push_back(row);

  auto added = store().add_dmarc_received_report(report);
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_TRUE(*added);
  EXPECT_FALSE(*store().add_dmarc_received_report(report)) << "the same report read twice";

  auto rows = store().dmarc_received_rows("EXAMPLE.COM", kMonday);
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].org_name, "acme.example");
  EXPECT_EQ((*rows)[0].row, report.rows[0]);
  EXPECT_EQ((*rows)[1].row, report.rows[1]);
  EXPECT_TRUE(store().dmarc_received_rows("other.test", 0)->empty());
  EXPECT_TRUE(store().dmarc_received_rows("", kMonday + kDay)->empty()) << "ended before `since`";
  EXPECT_EQ(store().dmarc_received_rows("", 0)->size(), 2u);
}

TEST_P(MailStoreConformance, DmarcIngestCursorPerMailbox) {
  const auto account = make_account("dmarc-reports@example.com");
  const auto inbox = mailbox(account.id, "INBOX");
  EXPECT_EQ(*store().dmarc_ingest_cursor(inbox.id), 0u);
  ASSERT_TRUE(store().set_dmarc_ingest_cursor(inbox.id, 41));
  ASSERT_TRUE(store().set_dmarc_ingest_cursor(inbox.id, 42));
  reopen();
  EXPECT_EQ(*store().dmarc_ingest_cursor(inbox.id), 42u);
  EXPECT_EQ(code_of(store().set_dmarc_ingest_cursor(inbox.id + 1000, 1)), StorageError::Code::not_found);
  // The cursor goes with its account.
  ASSERT_TRUE(store().delete_account("dmarc-reports@example.com"));
  EXPECT_EQ(*store().dmarc_ingest_cursor(inbox.id), 0u);
}

}  // namespace
}  // namespace postamt::storage::test
