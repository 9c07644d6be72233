#include "server/dmarc_commands.hpp"

#include "mailauth/dkim_signing_service.hpp"

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "mailauth/dmarc_report_ingest.hpp"
#include "mailauth/dmarc_report_sender.hpp"
#include "server/dmarc_report_wiring.hpp"
#include "storage/blob_fs/fs_blob_store.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"

namespace postamt::server {
namespace {

constexpr std::int64_t kDay = 86400;

int fail(const std::string& message) {
  std::cerr << "postamt: error: " << message << "\n";
  return 1;
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Report contents come from other parties: no control characters on the terminal.
std::string printable(std::string_view text) {
  std::string shown;
  for (const char c : text) shown += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return shown;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string utc_date(std::int64_t when) {
  const auto seconds = static_cast<std::time_t>(when);
  std::tm parts{};
  if (!::gmtime_r(&seconds, &parts)) return "?";
  char buffer[32];
  return std::string(buffer, std::strftime(buffer, sizeof buffer, "%Y-%m-%d", &parts));
}

struct Options {
  std::string domain;
  int days = 30;
  bool json = false;
  bool now = false;
  std::size_t limit = 100;
  std::string evaluation_json;
};

int dmarc_reports(const Config& config, const Options& options) {
  auto store = storage::open_sqlite_store(config.server.data_dir);
  storage::FsBlobStore blobs(config.server.data_dir / "blobs");
  // New report mail first, so what was delivered a moment ago shows.
  auto ingested = mailauth::ingest_new_dmarc_reports(*store, blobs, 10'000);
  if (!ingested) return fail("reading the reports mailboxes: " + ingested.error().message);
  const std::int64_t since = now_seconds() - static_cast<std::int64_t>(options.days) * kDay;
  auto rows = store->dmarc_received_rows(lower(options.domain), since);
  if (!rows) return fail(rows.error().message);
  const auto summaries = summarize_dmarc_rows(*rows);

  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : summaries) {
      out.push_back({{"domain", s.policy_domain},
                     {"source_ip", s.source_ip},
                     {"messages", s.messages},
                     {"spf", {{"pass", s.spf_pass}, {"fail", s.spf_fail}}},
                     {"dkim", {{"pass", s.dkim_pass}, {"fail", s.dkim_fail}}},
                     {"aligned", {{"pass", s.aligned_pass}, {"fail", s.aligned_fail}}},
                     {"disposition", {{"none", s.none}, {"quarantine", s.quarantine}, {"reject", s.reject}}},
                     {"reporters", s.reporters}});
    }
    // Replacement instead of an exception for invalid UTF-8 from a report.
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  if (summaries.empty()) {
    std::cout << "No DMARC reports" << (options.domain.empty() ? "" : " for " + printable(options.domain))
              << " in the last " << options.days << " days.\n";
    // Without the account the reports bounce: say so.
    if (!options.domain.empty() && store->find_domain(lower(options.domain))) {
      const std::string address = mailauth::dmarc_reports_address(options.domain);
      if (auto account = store->find_account(address); !account)
        std::cout << "Reports arrive at " << printable(address) << ", which does not exist: create it with "
                  << "`postamt user add " << printable(address) << "`.\n";
    }
    return 0;
  }
  std::string current;
  for (const auto& s : summaries) {
    if (s.policy_domain != current) {
      current = s.policy_domain;
      std::cout << (current == summaries.front().policy_domain ? "" : "\n") << "Domain " << printable(current)
                << " (reports of the last " << options.days << " days)\n";
      std::printf("  %-39s %8s %13s %13s %13s  %-22s %s\n", "SOURCE IP", "MESSAGES", "SPF PASS/FAIL",
                  "DKIM PASS/FAIL", "DMARC PASS/FAIL", "NONE/QUARANT./REJECT", "REPORTERS");
      std::fflush(stdout);
    }
    std::string reporters;
    for (const auto& reporter : s.reporters) reporters += (reporters.empty() ? "" : ", ") + printable(reporter);
    const auto pair = [](std::uint64_t a, std::uint64_t b) { return std::to_string(a) + "/" + std::to_string(b); };
    std::printf("  %-39s %8llu %13s %13s %13s  %-22s %s%s\n", printable(s.source_ip).c_str(),
                static_cast<unsigned long long>(s.messages), pair(s.spf_pass, s.spf_fail).c_str(),
                pair(s.dkim_pass, s.dkim_fail).c_str(), pair(s.aligned_pass, s.aligned_fail).c_str(),
                (std::to_string(s.none) + "/" + std::to_string(s.quarantine) + "/" + std::to_string(s.reject)).c_str(),
                reporters.c_str(), s.aligned_fail > 0 ? "  <- fails DMARC" : "");
    std::fflush(stdout);
  }
  return 0;
}

int dmarc_send_reports(const Config& config, const Options& options) {
  auto store = storage::open_sqlite_store(config.server.data_dir);
  storage::FsBlobStore blobs(config.server.data_dir / "blobs");
  asio::io_context io;
  auto lookup = make_dmarc_report_lookup(io, config);
  mailauth::DmarcReportSender sender(dmarc_report_settings(config),
                                     mailauth::DmarcReportDependencies{*store, blobs, lookup.get(), nullptr});
  // Reports are mail Postamt originates: signed like the server signs them.
  mailauth::DkimSigningService dkim(config.server.data_dir);
  if (auto keys = dkim.load(); !keys) {
    std::cerr << "postamt: warning: DKIM keys: " << keys.error().message << "; reports go out unsigned\n";
  }
  sender.set_sign(make_dmarc_report_signer(config, dkim));
  const std::int64_t now = now_seconds();
  // --now: everything up to this second; else the complete days before today.
  const std::int64_t until = options.now ? now + 1 : now - now % kDay;
  auto future = asio::co_spawn(io, sender.send_reports(until, now), asio::use_future);
  io.run();
  const auto run = future.get();
  for (const auto& line : run.queued) std::cout << "queued: " << printable(line) << "\n";
  for (const auto& line : run.skipped) std::cout << "skipped: " << printable(line) << "\n";
  std::cout << run.reports_queued << " report(s) queued";
  if (run.domains_without_rua > 0) std::cout << ", " << run.domains_without_rua << " domain(s) asked for none";
  std::cout << "\n";
  return 0;
}

int dmarc_evaluations(const Config& config, const Options& options) {
  auto store = storage::open_sqlite_store(config.server.data_dir);
  auto groups = store->list_dmarc_evaluations(options.limit);
  if (!groups) return fail(groups.error().message);
  for (const auto& g : *groups) {
    const auto& e = g.evaluation;
    std::cout << utc_date(g.day) << " " << printable(e.policy_domain) << " " << printable(e.source_ip)
              << " count=" << g.count << " reported=" << g.reported << " from=" << printable(e.header_from)
              << " mailfrom=" << printable(e.envelope_from) << " dkim=" << e.dkim_aligned << " spf=" << e.spf_aligned
              << " disposition=" << e.disposition << " p=" << e.policy.p << " rua=" << printable(e.policy.rua) << "\n";
  }
  return 0;
}

std::string text_of(const nlohmann::json& object, const char* key, std::string fallback = "") {
  const auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : fallback;
}

int dmarc_record_evaluation(const Config& config, const Options& options) {
  const auto json = nlohmann::json::parse(options.evaluation_json, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return fail("expected one evaluation as a JSON object");
  storage::DmarcEvaluation e;
  e.time = json.value("time", now_seconds());
  e.source_ip = text_of(json, "source_ip");
  e.header_from = text_of(json, "header_from");
  e.envelope_from = text_of(json, "envelope_from");
  e.policy_domain = text_of(json, "policy_domain", e.header_from);
  e.policy_org_domain = text_of(json, "policy_org_domain");
  if (const auto policy = json.find("policy"); policy != json.end() && policy->is_object()) {
    e.policy.p = text_of(*policy, "p", "none");
    e.policy.sp = text_of(*policy, "sp");
    e.policy.np = text_of(*policy, "np");
    e.policy.pct = policy->value("pct", 100);
    e.policy.adkim = text_of(*policy, "adkim", "r");
    e.policy.aspf = text_of(*policy, "aspf", "r");
    e.policy.rua = text_of(*policy, "rua");
  }
  e.disposition = text_of(json, "disposition", "none");
  e.dkim_aligned = text_of(json, "dkim_aligned", "fail");
  e.spf_aligned = text_of(json, "spf_aligned", "fail");
  if (const auto spf = json.find("spf"); spf != json.end() && spf->is_object()) {
    e.spf = storage::DmarcSpfAuth{text_of(*spf, "domain"), text_of(*spf, "scope", "mfrom"), text_of(*spf, "result", "none")};
  }
  if (const auto dkim = json.find("dkim"); dkim != json.end() && dkim->is_array()) {
    for (const auto& item : *dkim) {
      if (item.is_object())
        e.dkim.push_back(storage::DmarcDkimAuth{text_of(item, "domain"), text_of(item, "selector"), text_of(item, "result")});
    }
  }
  if (e.source_ip.empty() || e.policy_domain.empty()) return fail("source_ip and header_from are required");
  const int count = json.value("count", 1);
  if (count < 1 || count > 100000) return fail("count must be 1-100000");
  auto store = storage::open_sqlite_store(config.server.data_dir);
  std::vector<storage::DmarcEvaluation> batch(static_cast<std::size_t>(count), e);
  auto recorded = store->record_dmarc_evaluations(batch);
  if (!recorded) return fail(recorded.error().message);
  return 0;
}

}  // namespace

std::vector<DmarcSourceSummary> summarize_dmarc_rows(const std::vector<storage::DmarcReceivedRow>& rows) {
  std::map<std::pair<std::string, std::string>, DmarcSourceSummary> by_source;
  for (const auto& received : rows) {
    const auto& row = received.row;
    auto& s = by_source[{received.policy_domain, row.source_ip}];
    s.policy_domain = received.policy_domain;
    s.source_ip = row.source_ip;
    const std::uint64_t n = row.count;
    s.messages += n;
    const bool spf_pass = std::ranges::any_of(row.spf, [](const auto& spf) { return spf.result == "pass"; });
    const bool dkim_pass = std::ranges::any_of(row.dkim, [](const auto& dkim) { return dkim.result == "pass"; });
    const bool aligned = row.dkim_aligned == "pass" || row.spf_aligned == "pass";
    (spf_pass ? s.spf_pass : s.spf_fail) += n;
    (dkim_pass ? s.dkim_pass : s.dkim_fail) += n;
    (aligned ? s.aligned_pass : s.aligned_fail) += n;
    if (row.disposition == "reject") s.reject += n;
    else if (row.disposition == "quarantine") s.quarantine += n;
    else s.none += n;
    if (std::ranges::find(s.reporters, received.org_name) == s.reporters.end()) s.reporters.push_back(received.org_name);
  }
  std::vector<DmarcSourceSummary> out;
  for (auto& [key, summary] : by_source) out.push_back(std::move(summary));
  std::ranges::stable_sort(out, [](const DmarcSourceSummary& a, const DmarcSourceSummary& b) {
    if (a.policy_domain != b.policy_domain) return a.policy_domain < b.policy_domain;
    if (a.aligned_fail != b.aligned_fail) return a.aligned_fail > b.aligned_fail;
    return a.messages > b.messages;
  });
  return out;
}

void add_dmarc_commands(CLI::App& app, const WithConfig& with_config) {
  auto options = std::make_shared<Options>();
  auto* dmarc = app.add_subcommand("dmarc", "DMARC aggregate reports")->require_subcommand(1);

  auto* reports = dmarc->add_subcommand("reports", "What receivers reported about our domains, per source IP");
  reports->add_option("domain", options->domain, "Only this domain");
  reports->add_option("--days", options->days, "Reports of the last N days (default 30)")->check(CLI::Range(1, 36500));
  reports->add_flag("--json", options->json, "Print a JSON array");
  reports->callback(with_config([options](const Config& c) { return dmarc_reports(c, *options); }));

  auto* send = dmarc->add_subcommand("send-reports", "Send our aggregate reports now");
  send->add_flag("--now", options->now, "Include everything recorded up to now (default: complete days)");
  send->callback(with_config([options](const Config& c) { return dmarc_send_reports(c, *options); }));

  auto* evaluations = dmarc->add_subcommand("evaluations", "List our recorded DMARC evaluations");
  evaluations->add_option("--limit", options->limit, "At most N rows (default 100)");
  evaluations->callback(with_config([options](const Config& c) { return dmarc_evaluations(c, *options); }));

  auto* record = dmarc->add_subcommand("record-evaluation", "Record one evaluation given as JSON (testing)");
  record->add_option("json", options->evaluation_json, "The evaluation")->required();
  record->callback(with_config([options](const Config& c) { return dmarc_record_evaluation(c, *options); }));
}

}  // namespace postamt::server
