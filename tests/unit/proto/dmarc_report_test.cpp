// DMARC aggregate reports: the writer's XML read back by the parser, the escaping of
// hostile values, the sample report (tests/data/dmarc, see SOURCES.md) and the limits.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "proto/mailauth/dmarc_report.hpp"
#include "proto/mailauth/dmarc_report_uri.hpp"

namespace postamt::mailauth {
namespace {

std::string read_data(const std::string& name) {
  std::ifstream in(std::string(POSTAMT_TEST_DATA_DIR) + "/" + name, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

AggregateReport sample() {
  AggregateReport report;
  report.org_name = "mail.example.net";
  report.email = "postmaster@mail.example.net";
  report.report_id = "1764547200.example.org";
  report.begin = 1'764'547'200;
  report.end = 1'764'633'599;
  report.domain = "example.org";
  report.adkim = "s";
  report.p = "reject";
  report.sp = "quarantine";
  report.np = "reject";
  report.pct = 50;
  ReportRecord record;
  record.source_ip = "192.0.2.1";
  record.count = 12;
  record.disposition = "reject";
  record.dkim = "fail";
  record.spf = "fail";
  record.reasons = {ReportReason{"local_policy", "test"}};
  record.envelope_from = "bounce.example.org";
  record.header_from = "example.org";
  record.dkim_results = {ReportDkimResult{"example.org", "sel1", "fail"}, ReportDkimResult{"esp.test", "", "pass"}};
  record.spf_results = {ReportSpfResult{"bounce.example.org", "mfrom", "softfail"}};
  report.records.push_back(record);
  record.source_ip = "2001:db8::1";
  record.count = 1;
  record.reasons.clear();
  record.dkim_results.clear();
  report.records.push_back(record);
  return report;
}

TEST(DmarcReport, WrittenReportParsesBackToTheSameReport) {
  const auto report = sample();
  const std::string xml = write_aggregate_report(report);
  EXPECT_TRUE(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback>\n  <version>1.0</version>"));
  auto parsed = parse_aggregate_report(xml);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(*parsed, report);
}

TEST(DmarcReport, WriterFollowsTheSchemaOrder) {
  const std::string xml = write_aggregate_report(sample());
  // RFC 7489 Appendix C: xs:sequence order inside report_metadata, row, identifiers,
  // auth_results.
  auto before = [&](std::string_view a, std::string_view b) {
    const auto ia = xml.find(a), ib = xml.find(b);
    return ia != std::string::npos && ib != std::string::npos && ia < ib;
  };
  EXPECT_TRUE(before("<org_name>", "<email>"));
  EXPECT_TRUE(before("<email>", "<report_id>"));
  EXPECT_TRUE(before("<report_id>", "<date_range>"));
  EXPECT_TRUE(before("<report_metadata>", "<policy_published>"));
  EXPECT_TRUE(before("</policy_published>", "<record>"));
  EXPECT_TRUE(before("<source_ip>", "<count>"));
  EXPECT_TRUE(before("<count>", "<policy_evaluated>"));
  EXPECT_TRUE(before("<envelope_from>", "<header_from>"));
  EXPECT_TRUE(before("<auth_results>\n      <dkim>", "<spf>\n"));
  EXPECT_NE(xml.find("<sp>quarantine</sp>"), std::string::npos);
  EXPECT_NE(xml.find("<pct>50</pct>"), std::string::npos);
  EXPECT_NE(xml.find("<fo>0</fo>"), std::string::npos);
}

TEST(DmarcReport, AbsentSpIsWrittenAsPAndNpOnlyWhenPublished) {
  auto report = sample();
  report.sp.clear();
  report.np.clear();
  const std::string xml = write_aggregate_report(report);
  EXPECT_NE(xml.find("<sp>reject</sp>"), std::string::npos);
  EXPECT_EQ(xml.find("<np>"), std::string::npos);
}

TEST(DmarcReport, HostileValuesAreEscaped) {
  auto report = sample();
  report.org_name = "a<b>&\"c'</org_name><x>";
  report.records[0].header_from = std::string("evil\x01\x1b[31m\xff\xfe.test", 17);
  report.records[0].dkim_results[0].selector = "]]><!--";
  const std::string xml = write_aggregate_report(report);
  EXPECT_NE(xml.find("<org_name>a&lt;b&gt;&amp;&quot;c&apos;&lt;/org_name&gt;&lt;x&gt;</org_name>"), std::string::npos);
  EXPECT_EQ(xml.find('\x01'), std::string::npos);
  EXPECT_EQ(xml.find('\x1b'), std::string::npos);
  auto parsed = parse_aggregate_report(xml);
  ASSERT_TRUE(parsed) << parsed.error().message << "\n" << xml;
  EXPECT_EQ(parsed->org_name, report.org_name);
  EXPECT_EQ(parsed->records[0].header_from, "evil\xEF\xBF\xBD\xEF\xBF\xBD[31m\xEF\xBF\xBD\xEF\xBF\xBD.test");
  EXPECT_EQ(parsed->records[0].dkim_results[0].selector, "]]><!--");
}

TEST(DmarcReport, ParsesTheRfc9990SampleReport) {
  const std::string xml = read_data("dmarc/rfc9990-sample-report.xml");
  ASSERT_FALSE(xml.empty());
  auto report = parse_aggregate_report(xml);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->org_name, "Sample Reporter");
  EXPECT_EQ(report->email, "report_sender@example-reporter.com");
  EXPECT_EQ(report->report_id, "3v98abbp8ya9n3va8yr8oa3ya");
  EXPECT_EQ(report->begin, 302832000);
  EXPECT_EQ(report->end, 302918399);
  EXPECT_EQ(report->domain, "example.com");
  EXPECT_EQ(report->p, "quarantine");
  EXPECT_EQ(report->sp, "none");
  EXPECT_EQ(report->np, "none");
  ASSERT_EQ(report->records.size(), 2u);
  const auto& first = report->records[0];
  EXPECT_EQ(first.source_ip, "192.0.2.123");
  EXPECT_EQ(first.count, 123u);
  EXPECT_EQ(first.disposition, "pass");
  EXPECT_EQ(first.dkim, "pass");
  EXPECT_EQ(first.spf, "fail");
  EXPECT_EQ(first.envelope_from, "example.com");
  EXPECT_EQ(first.header_from, "example.com");
  ASSERT_EQ(first.dkim_results.size(), 1u);
  EXPECT_EQ(first.dkim_results[0], (ReportDkimResult{"example.com", "abc123", "pass"}));
  ASSERT_EQ(first.spf_results.size(), 1u);
  EXPECT_EQ(first.spf_results[0], (ReportSpfResult{"example.com", "", "fail"}));
  const auto& second = report->records[1];
  EXPECT_EQ(second.source_ip, "2001:db8::25");
  EXPECT_EQ(second.count, 4u);
  ASSERT_EQ(second.reasons.size(), 1u);
  EXPECT_EQ(second.reasons[0], (ReportReason{"local_policy", "sender & signer unknown"}));
  EXPECT_TRUE(second.dkim_results.empty());
  EXPECT_EQ(second.spf_results[0], (ReportSpfResult{"bounces.example.net", "mfrom", "softfail"}));
}

TEST(DmarcReport, RefusesDoctypesAndEntities) {
  const std::string laughs =
      "<?xml version=\"1.0\"?><!DOCTYPE feedback [<!ENTITY a \"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>"
      "<feedback><report_metadata><org_name>&b;</org_name></report_metadata></feedback>";
  auto parsed = parse_aggregate_report(laughs);
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("DOCTYPE"), std::string::npos);
  const std::string external =
      "<?xml version=\"1.0\"?><!DOCTYPE feedback SYSTEM \"file:///etc/passwd\"><feedback/>";
  EXPECT_FALSE(parse_aggregate_report(external));
}

std::string minimal(std::string records) {
  return "<feedback><report_metadata><org_name>r</org_name><email>e</email><report_id>1</report_id>"
         "<date_range><begin>10</begin><end>20</end></date_range></report_metadata>"
         "<policy_published><domain>example.org</domain><p>none</p></policy_published>" +
         records + "</feedback>";
}

std::string record(std::string ip, std::string count = "1") {
  return "<record><row><source_ip>" + ip + "</source_ip><count>" + count +
         "</count></row><identifiers><header_from>example.org</header_from></identifiers></record>";
}

TEST(DmarcReport, RefusesWhatIsNotAReport) {
  EXPECT_TRUE(parse_aggregate_report(minimal(record("192.0.2.1"))));
  EXPECT_FALSE(parse_aggregate_report("<html><body/></html>"));
  EXPECT_FALSE(parse_aggregate_report("<feedback>"));  // not well-formed
  EXPECT_FALSE(parse_aggregate_report(""));
  EXPECT_FALSE(parse_aggregate_report(minimal(record("192.0.2.1", "-5"))));
  EXPECT_FALSE(parse_aggregate_report(minimal(record("192.0.2.1", "12x"))));
  EXPECT_FALSE(parse_aggregate_report(minimal(record(""))));
  std::string no_id = minimal("");
  no_id.replace(no_id.find("<report_id>1</report_id>"), 24, "");
  EXPECT_FALSE(parse_aggregate_report(no_id));
  std::string backwards = minimal("");
  backwards.replace(backwards.find("<begin>10</begin>"), 17, "<begin>30</begin>");
  EXPECT_FALSE(parse_aggregate_report(backwards));
}

TEST(DmarcReport, LimitsAreEnforced) {
  ReportParseLimits limits;
  limits.max_records = 2;
  EXPECT_TRUE(parse_aggregate_report(minimal(record("192.0.2.1") + record("192.0.2.2")), limits));
  auto too_many = parse_aggregate_report(minimal(record("192.0.2.1") + record("192.0.2.2") + record("192.0.2.3")), limits);
  ASSERT_FALSE(too_many);
  EXPECT_NE(too_many.error().message.find("too many records"), std::string::npos);

  limits = {};
  limits.max_xml_octets = 100;
  EXPECT_FALSE(parse_aggregate_report(minimal(record("192.0.2.1")), limits));

  limits = {};
  limits.max_text_octets = 11;  // "192.0.2.100", "example.org"
  EXPECT_TRUE(parse_aggregate_report(minimal(record("192.0.2.100")), limits));
  limits.max_text_octets = 10;
  EXPECT_FALSE(parse_aggregate_report(minimal(record("192.0.2.100")), limits));

  std::string deep = "<feedback>";
  for (int i = 0; i < 40; ++i) deep += "<x>";
  for (int i = 0; i < 40; ++i) deep += "</x>";
  deep += "</feedback>";
  auto nested = parse_aggregate_report(deep);
  ASSERT_FALSE(nested);
  EXPECT_NE(nested.error().message.find("deeply"), std::string::npos);

  std::string results = "<record><row><source_ip>192.0.2.1</source_ip><count>1</count></row><auth_results>";
  for (int i = 0; i < 100; ++i) results += "<spf><domain>d</domain><result>pass</result></spf>";
  results += "</auth_results></record>";
  EXPECT_FALSE(parse_aggregate_report(minimal(results)));

  std::string two = "<record><row><source_ip>192.0.2.1</source_ip><count>1</count></row><auth_results>"
                    "<spf><domain>d</domain><result>pass</result></spf><spf><domain>d</domain><result>pass</result></spf>"
                    "</auth_results></record>";
  limits = {};
  limits.max_results = 5;
  EXPECT_TRUE(parse_aggregate_report(minimal(two + two), limits));
  auto total = parse_aggregate_report(minimal(two + two + two), limits);
  ASSERT_FALSE(total);
  EXPECT_NE(total.error().message.find("too many results in the report"), std::string::npos);
}

}  // namespace
}  // namespace postamt::mailauth

// --- rua (RFC 7489 §6.2, §7.1)

namespace postamt::mailauth {
namespace {

TEST(DmarcReportUri, KeepsMailtoUrisWithTheirSizeLimits) {
  const auto uris = parse_report_uris(
      " mailto:dmarc@Example.ORG!10m , https://example.org/r, mailto:a%21b@reports.test!50k,"
      "mailto:x@y.test?subject=hi, mailto:dmarc@example.org, mailto:big@z.test!1t");
  ASSERT_EQ(uris.size(), 4u);
  EXPECT_EQ(uris[0], (ReportUri{"mailto:dmarc@Example.ORG", "dmarc@example.org", "example.org", 10u << 20}));
  EXPECT_EQ(uris[1].address, "a!b@reports.test");
  EXPECT_EQ(uris[1].max_size, 50u << 10);
  EXPECT_EQ(uris[2].address, "x@y.test");
  EXPECT_EQ(uris[2].max_size, 0u);
  EXPECT_EQ(uris[3].max_size, 1ull << 40);
}

TEST(DmarcReportUri, LeavesOutMalformedUris) {
  EXPECT_TRUE(parse_report_uris("").empty());
  EXPECT_TRUE(parse_report_uris("mailto:").empty());
  EXPECT_TRUE(parse_report_uris("mailto:nobody").empty());
  EXPECT_TRUE(parse_report_uris("mailto:a@b.test!").empty());
  EXPECT_TRUE(parse_report_uris("mailto:a@b.test!x").empty());
  EXPECT_TRUE(parse_report_uris("mailto:a@b.test!99999999999999999999t").empty());
  EXPECT_TRUE(parse_report_uris("mailto:a%4@b.test").empty());
  EXPECT_TRUE(parse_report_uris("mailto:a%0d%0aRCPT@b.test").empty()) << "no line breaks smuggled in";
  EXPECT_TRUE(parse_report_uris("mailto:<a@b.test>").empty());
  EXPECT_EQ(parse_report_uris("mailto:a@b.test,mailto:c@d.test,mailto:e@f.test", 2).size(), 2u);
}

TEST(DmarcReportUri, SameOrganizationAndTheExternalCheck) {
  EXPECT_TRUE(same_organization("example.org", "", "example.org"));
  EXPECT_TRUE(same_organization("example.org", "", "reports.example.org"));
  EXPECT_TRUE(same_organization("mail.example.org", "example.org", "example.org"));
  EXPECT_FALSE(same_organization("mail.example.org", "", "example.org")) << "unknown org: only below";
  EXPECT_FALSE(same_organization("example.org", "", "badexample.org"));
  EXPECT_FALSE(same_organization("example.org", "", "thirdparty.example"));
  EXPECT_EQ(external_report_authorization_name("Example.ORG", "Reports.Test"), "example.org._report._dmarc.reports.test");
  EXPECT_TRUE(authorizes_external_reports("v=DMARC1"));
  EXPECT_TRUE(authorizes_external_reports("v = DMARC1; rua=mailto:x@y.test"));
  EXPECT_FALSE(authorizes_external_reports("v=DMARC10"));
  EXPECT_FALSE(authorizes_external_reports("v=spf1 -all"));
  EXPECT_FALSE(authorizes_external_reports(""));
}

}  // namespace
}  // namespace postamt::mailauth
