// SqliteMailStore: DMARC aggregate reports (schema version 5) — our evaluations waiting to
// be reported, and the reports other receivers sent about our domains.
#include <algorithm>
#include <map>

#include "storage/sqlite/sqlite_mail_store.hpp"
#include "storage/sqlite/sqlite_rows.hpp"
#include "storage/sqlite/sqlite_transaction.hpp"

namespace postamt::storage {

using namespace sqlite;

namespace {

constexpr std::size_t kMaxValue = 255;       // a domain name's length (RFC 1035 §2.3.4)
constexpr std::size_t kMaxRua = 2048;        // the published rua list
constexpr std::size_t kMaxDkimResults = 32;  // signatures per message kept
constexpr char kFieldSeparator = '\x1f';
constexpr char kEntrySeparator = '\x1e';
constexpr std::int64_t kDay = 86400;

// Values come from the network: cut to size, and without the separators of the encoded
// lists or other control characters.
std::string clean(std::string_view value, std::size_t limit = kMaxValue) {
  std::string out;
  out.reserve(std::min(value.size(), limit));
  for (const char c : value) {
    if (out.size() == limit) break;
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) continue;
    out += c;
  }
  return out;
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  if (text.empty()) return parts;
  std::size_t start = 0;
  while (true) {
    const auto end = text.find(separator, start);
    parts.emplace_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::string field(const std::vector<std::string>& fields, std::size_t index) {
  return index < fields.size() ? fields[index] : std::string();
}

std::string encode_policy(const DmarcPublishedPolicy& policy) {
  const char sep = kFieldSeparator;
  return clean(policy.p) + sep + clean(policy.sp) + sep + clean(policy.np) + sep +
         std::to_string(std::clamp(policy.pct, 0, 100)) + sep + clean(policy.adkim) + sep + clean(policy.aspf) +
         sep + clean(policy.rua, kMaxRua);
}

DmarcPublishedPolicy decode_policy(std::string_view text) {
  const auto fields = split(text, kFieldSeparator);
  DmarcPublishedPolicy policy;
  policy.p = field(fields, 0);
  policy.sp = field(fields, 1);
  policy.np = field(fields, 2);
  const std::string pct = field(fields, 3);
  policy.pct = pct.empty() ? 100 : std::clamp(std::atoi(pct.c_str()), 0, 100);
  policy.adkim = field(fields, 4);
  policy.aspf = field(fields, 5);
  policy.rua = field(fields, 6);
  return policy;
}

std::string encode_spf(const DmarcSpfAuth& spf) {
  return clean(spf.domain) + kFieldSeparator + clean(spf.scope) + kFieldSeparator + clean(spf.result);
}

DmarcSpfAuth decode_spf(std::string_view text) {
  const auto fields = split(text, kFieldSeparator);
  return DmarcSpfAuth{field(fields, 0), field(fields, 1), field(fields, 2)};
}

std::string encode_spf_list(std::span<const DmarcSpfAuth> list) {
  std::string out;
  for (std::size_t i = 0; i < list.size() && i < kMaxDkimResults; ++i) {
    if (i > 0) out += kEntrySeparator;
    out += encode_spf(list[i]);
  }
  return out;
}

std::vector<DmarcSpfAuth> decode_spf_list(std::string_view text) {
  std::vector<DmarcSpfAuth> list;
  for (const auto& entry : split(text, kEntrySeparator)) list.push_back(decode_spf(entry));
  return list;
}

std::string encode_dkim(std::span<const DmarcDkimAuth> list) {
  std::string out;
  for (std::size_t i = 0; i < list.size() && i < kMaxDkimResults; ++i) {
    if (i > 0) out += kEntrySeparator;
    out += clean(list[i].domain) + kFieldSeparator + clean(list[i].selector) + kFieldSeparator + clean(list[i].result);
  }
  return out;
}

std::vector<DmarcDkimAuth> decode_dkim(std::string_view text) {
  std::vector<DmarcDkimAuth> list;
  for (const auto& entry : split(text, kEntrySeparator)) {
    const auto fields = split(entry, kFieldSeparator);
    list.push_back(DmarcDkimAuth{field(fields, 0), field(fields, 1), field(fields, 2)});
  }
  return list;
}

std::int64_t day_of(std::int64_t time) {
  const std::int64_t rest = time % kDay;
  return time - (rest < 0 ? rest + kDay : rest);
}

constexpr std::string_view kGroupColumns =
    "id, day, policy_domain, policy_org_domain, source_ip, header_from, envelope_from, policy, disposition, "
    "dkim_aligned, spf_aligned, spf_auth, dkim_auth, first_time, count, reported";

DmarcEvaluationGroup read_group(const Statement& s) {
  DmarcEvaluationGroup group;
  group.id = s.column_int64(0);
  group.day = s.column_int64(1);
  auto& e = group.evaluation;
  e.policy_domain = s.column_text(2);
  e.policy_org_domain = s.column_text(3);
  e.source_ip = s.column_text(4);
  e.header_from = s.column_text(5);
  e.envelope_from = s.column_text(6);
  e.policy = decode_policy(s.column_text(7));
  e.disposition = s.column_text(8);
  e.dkim_aligned = s.column_text(9);
  e.spf_aligned = s.column_text(10);
  e.spf = decode_spf(s.column_text(11));
  e.dkim = decode_dkim(s.column_text(12));
  e.time = s.column_int64(13);
  group.count = static_cast<std::uint64_t>(s.column_int64(14));
  group.reported = static_cast<std::uint64_t>(s.column_int64(15));
  return group;
}

}  // namespace

StoreResult<void> SqliteMailStore::record_dmarc_evaluations(std::span<const DmarcEvaluation> evaluations) {
  if (evaluations.empty()) return {};
  std::lock_guard lock(mutex_);
  // Not synced: losing the last evaluations in a power cut costs a few counts in a report.
  auto txn = Transaction::begin(*db_, Transaction::Mode::write_unsynced);
  if (!txn) return fail(txn);
  const std::int64_t now = now_seconds();
  for (const auto& e : evaluations) {
    const std::int64_t time = e.time > 0 ? e.time : now;  // an evaluation without a time happened now
    auto stmt = db_->prepare(
        "INSERT INTO dmarc_evaluations(day, policy_domain, policy_org_domain, source_ip, header_from, "
        "envelope_from, policy, disposition, dkim_aligned, spf_aligned, spf_auth, dkim_auth, first_time, count) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 1) "
        "ON CONFLICT(day, policy_domain, source_ip, header_from, envelope_from, disposition, dkim_aligned, "
        "spf_aligned, spf_auth, dkim_auth, policy, policy_org_domain) DO UPDATE SET count = count + 1");
    if (!stmt) return fail(stmt);
    stmt->bind(1, day_of(time))
        .bind(2, clean(e.policy_domain))
        .bind(3, clean(e.policy_org_domain))
        .bind(4, clean(e.source_ip, 64))
        .bind(5, clean(e.header_from))
        .bind(6, clean(e.envelope_from))
        .bind(7, encode_policy(e.policy))
        .bind(8, clean(e.disposition, 16))
        .bind(9, clean(e.dkim_aligned, 16))
        .bind(10, clean(e.spf_aligned, 16))
        .bind(11, encode_spf(e.spf))
        .bind(12, encode_dkim(e.dkim))
        .bind(13, time);
    if (auto done = stmt->run(); !done) return done;
  }
  return txn->commit();
}

StoreResult<std::vector<DmarcPendingReport>> SqliteMailStore::pending_dmarc_reports(UnixTime until) {
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::read);
  if (!txn) return fail(txn);
  auto stmt = db_->prepare("SELECT " + std::string(kGroupColumns) +
                           " FROM dmarc_evaluations WHERE count > reported AND day < ?1"
                           " ORDER BY policy_domain, day, id");
  if (!stmt) return fail(stmt);
  auto groups = collect(stmt->bind(1, until), read_group);
  if (!groups) return fail(groups);
  std::vector<DmarcPendingReport> reports;
  for (auto& group : *groups) {
    group.count -= group.reported;  // what the next report covers
    if (reports.empty() || reports.back().policy_domain != group.evaluation.policy_domain) {
      reports.push_back(DmarcPendingReport{group.evaluation.policy_domain, 0, {}});
    }
    reports.back().groups.push_back(std::move(group));
  }
  for (auto& report : reports) {
    auto state = db_->prepare("SELECT reported_until FROM dmarc_report_domains WHERE policy_domain = ?1");
    if (!state) return fail(state);
    auto row = state->bind(1, report.policy_domain).step();
    if (!row) return fail(row);
    if (*row) report.reported_until = state->column_int64(0);
  }
  return reports;
}

StoreResult<void> SqliteMailStore::mark_dmarc_reported(const DmarcPendingReport& report, UnixTime until) {
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  for (const auto& group : report.groups) {
    auto stmt = db_->prepare("UPDATE dmarc_evaluations SET reported = min(count, reported + ?2) WHERE id = ?1");
    if (!stmt) return fail(stmt);
    if (auto done = stmt->bind(1, group.id).bind(2, static_cast<std::int64_t>(group.count)).run(); !done) return done;
  }
  auto state = db_->prepare(
      "INSERT INTO dmarc_report_domains(policy_domain, reported_until) VALUES (?1, ?2) "
      "ON CONFLICT(policy_domain) DO UPDATE SET reported_until = max(reported_until, excluded.reported_until)");
  if (!state) return fail(state);
  if (auto done = state->bind(1, report.policy_domain).bind(2, until).run(); !done) return done;
  return txn->commit();
}

StoreResult<std::vector<DmarcEvaluationGroup>> SqliteMailStore::list_dmarc_evaluations(std::size_t limit) {
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare("SELECT " + std::string(kGroupColumns) +
                           " FROM dmarc_evaluations ORDER BY day DESC, policy_domain, id LIMIT ?1");
  if (!stmt) return fail(stmt);
  return collect(stmt->bind(1, static_cast<std::int64_t>(limit)), read_group);
}

StoreResult<std::size_t> SqliteMailStore::prune_dmarc(UnixTime evaluations_before, UnixTime received_before) {
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  std::size_t removed = 0;
  auto evaluations = db_->prepare("DELETE FROM dmarc_evaluations WHERE day < ?1");
  if (!evaluations) return fail(evaluations);
  if (auto done = evaluations->bind(1, evaluations_before).run(); !done) return fail(done);
  removed += static_cast<std::size_t>(db_->changes());
  // Rows of received reports go with their report (ON DELETE CASCADE).
  auto received = db_->prepare("DELETE FROM dmarc_received_reports WHERE end_time < ?1");
  if (!received) return fail(received);
  if (auto done = received->bind(1, received_before).run(); !done) return fail(done);
  removed += static_cast<std::size_t>(db_->changes());
  auto committed = txn->commit();
  if (!committed) return fail(committed);
  return removed;
}

StoreResult<UnixTime> SqliteMailStore::dmarc_report_run_day() {
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare("SELECT value FROM meta WHERE key = 'dmarc_report_run_day'");
  if (!stmt) return fail(stmt);
  auto row = stmt->step();
  if (!row) return fail(row);
  return *row ? stmt->column_int64(0) : UnixTime{0};
}

StoreResult<void> SqliteMailStore::set_dmarc_report_run_day(UnixTime day) {
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare(
      "INSERT INTO meta(key, value) VALUES ('dmarc_report_run_day', ?1) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  if (!stmt) return fail(stmt);
  return stmt->bind(1, day).run();
}

StoreResult<bool> SqliteMailStore::add_dmarc_received_report(const DmarcReceivedReport& report) {
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write);
  if (!txn) return fail(txn);
  auto insert = db_->prepare(
      "INSERT INTO dmarc_received_reports(org_name, email, report_id, policy_domain, begin_time, end_time, "
      "received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(org_name, report_id) DO NOTHING");
  if (!insert) return fail(insert);
  insert->bind(1, clean(report.org_name))
      .bind(2, clean(report.email))
      .bind(3, clean(report.report_id))
      .bind(4, clean(report.policy_domain))
      .bind(5, report.begin)
      .bind(6, report.end)
      .bind(7, report.received_at);
  if (auto done = insert->run(); !done) return fail(done);
  if (db_->changes() == 0) return false;
  const Id report_row = db_->last_insert_rowid();
  for (const auto& row : report.rows) {
    auto stmt = db_->prepare(
        "INSERT INTO dmarc_received_rows(report, source_ip, count, disposition, dkim_aligned, spf_aligned, "
        "header_from, envelope_from, dkim_auth, spf_auth) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    if (!stmt) return fail(stmt);
    stmt->bind(1, report_row)
        .bind(2, clean(row.source_ip, 64))
        .bind(3, static_cast<std::int64_t>(std::min<std::uint64_t>(row.count, INT64_MAX)))
        .bind(4, clean(row.disposition, 16))
        .bind(5, clean(row.dkim_aligned, 16))
        .bind(6, clean(row.spf_aligned, 16))
        .bind(7, clean(row.header_from))
        .bind(8, clean(row.envelope_from))
        .bind(9, encode_dkim(row.dkim))
        .bind(10, encode_spf_list(row.spf));
    if (auto done = stmt->run(); !done) return fail(done);
  }
  auto committed = txn->commit();
  if (!committed) return fail(committed);
  return true;
}

StoreResult<std::vector<DmarcReceivedRow>> SqliteMailStore::dmarc_received_rows(std::string_view policy_domain,
                                                                                UnixTime since) {
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare(
      "SELECT r.org_name, r.policy_domain, r.begin_time, r.end_time, w.source_ip, w.count, w.disposition, "
      "w.dkim_aligned, w.spf_aligned, w.header_from, w.envelope_from, w.dkim_auth, w.spf_auth "
      "FROM dmarc_received_reports r JOIN dmarc_received_rows w ON w.report = r.id "
      "WHERE r.end_time >= ?1 AND (?2 = '' OR r.policy_domain = ?2 COLLATE NOCASE) "
      "ORDER BY r.end_time DESC, r.id, w.rowid");
  if (!stmt) return fail(stmt);
  stmt->bind(1, since).bind(2, policy_domain);
  return collect(*stmt, [](const Statement& s) {
    DmarcReceivedRow out;
    out.org_name = s.column_text(0);
    out.policy_domain = s.column_text(1);
    out.begin = s.column_int64(2);
    out.end = s.column_int64(3);
    out.row.source_ip = s.column_text(4);
    out.row.count = static_cast<std::uint64_t>(s.column_int64(5));
    out.row.disposition = s.column_text(6);
    out.row.dkim_aligned = s.column_text(7);
    out.row.spf_aligned = s.column_text(8);
    out.row.header_from = s.column_text(9);
    out.row.envelope_from = s.column_text(10);
    out.row.dkim = decode_dkim(s.column_text(11));
    out.row.spf = decode_spf_list(s.column_text(12));
    return out;
  });
}

StoreResult<std::uint32_t> SqliteMailStore::dmarc_ingest_cursor(Id mailbox_id) {
  std::lock_guard lock(mutex_);
  auto stmt = db_->prepare("SELECT last_uid FROM dmarc_ingest_cursors WHERE mailbox_id = ?1");
  if (!stmt) return fail(stmt);
  auto row = stmt->bind(1, mailbox_id).step();
  if (!row) return fail(row);
  return *row ? static_cast<std::uint32_t>(stmt->column_int64(0)) : 0u;
}

StoreResult<void> SqliteMailStore::set_dmarc_ingest_cursor(Id mailbox_id, std::uint32_t last_uid) {
  std::lock_guard lock(mutex_);
  auto txn = Transaction::begin(*db_, Transaction::Mode::write_unsynced);
  if (!txn) return fail(txn);
  auto mailbox = require_mailbox_locked(mailbox_id);
  if (!mailbox) return mailbox;
  auto stmt = db_->prepare(
      "INSERT INTO dmarc_ingest_cursors(mailbox_id, last_uid) VALUES (?1, ?2) "
      "ON CONFLICT(mailbox_id) DO UPDATE SET last_uid = excluded.last_uid");
  if (!stmt) return fail(stmt);
  if (auto done = stmt->bind(1, mailbox_id).bind(2, static_cast<std::int64_t>(last_uid)).run(); !done) return done;
  return txn->commit();
}

}  // namespace postamt::storage
