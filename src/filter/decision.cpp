#include "filter/decision.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace postamt::filter {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return lower(x) == lower(y);
  });
}

// Symbols in a header field stay short: a field is read by people and by Sieve scripts.
constexpr std::size_t kMaxSymbolsShown = 20;

std::string symbol_list(const std::vector<std::string>& symbols) {
  std::string out;
  for (std::size_t i = 0; i < symbols.size() && i < kMaxSymbolsShown; ++i) {
    if (i > 0) out += ',';
    out += symbols[i];
  }
  if (symbols.size() > kMaxSymbolsShown) out += ",...";
  return out;
}

std::string verdict_summary(const Verdict& verdict) {
  std::string out = fmt::format("{}={}", verdict.filter, action_name(verdict.action));
  std::string detail;
  if (verdict.score) detail = fmt::format("{:.2f}", *verdict.score);
  if (!verdict.symbols.empty()) detail += (detail.empty() ? "" : "; ") + symbol_list(verdict.symbols);
  if (verdict.failed) detail += (detail.empty() ? "" : "; ") + std::string("failed");
  if (verdict.skipped) detail += (detail.empty() ? "" : "; ") + std::string("skipped");
  if (!verdict.note.empty()) detail += (detail.empty() ? "" : "; ") + verdict.note;
  if (!detail.empty()) out += "(" + detail + ")";
  return out;
}

}  // namespace

std::string_view action_name(Action action) {
  switch (action) {
    case Action::accept: return "accept";
    case Action::junk: return "junk";
    case Action::defer: return "defer";
    case Action::reject: return "reject";
  }
  return "accept";
}

proto::smtp::Reply default_reject_reply() {
  return proto::smtp::make_reply(550, "5.7.1", "Message refused as spam or policy violation");
}

proto::smtp::Reply default_defer_reply() {
  return proto::smtp::make_reply(451, "4.7.1", "Message cannot be checked now, try again later");
}

bool is_our_verdict_field(std::string_view field_name) {
  return iequals(field_name, "X-Spam-Status") || iequals(field_name, "X-Spam-Flag") ||
         iequals(field_name, "X-Spam-Score");
}

Decision decide(const std::vector<Verdict>& verdicts) {
  Decision decision;
  const Verdict* deciding = nullptr;
  std::vector<std::string> symbols;
  for (const Verdict& verdict : verdicts) {
    if (!decision.summary.empty()) decision.summary += ' ';
    decision.summary += verdict_summary(verdict);
    if (verdict.score) {
      decision.score += *verdict.score;
      decision.scored = true;
    }
    for (const auto& symbol : verdict.symbols) symbols.push_back(verdict.filter + ":" + symbol);
    // The first filter with the most severe action decides (filters run in their order).
    if (verdict.action > decision.action) {
      decision.action = verdict.action;
      deciding = &verdict;
    }
  }
  if (deciding != nullptr) decision.decided_by = deciding->filter;
  if (decision.action == Action::reject || decision.action == Action::defer) {
    const bool own_reply_fits = deciding->reply && (decision.action == Action::reject
                                                        ? deciding->reply->permanent_failure()
                                                        : deciding->reply->transient_failure());
    decision.reply = own_reply_fits ? *deciding->reply
                     : decision.action == Action::reject ? default_reject_reply()
                                                         : default_defer_reply();
    return decision;  // nothing is stored: no header changes
  }
  for (const Verdict& verdict : verdicts) {
    decision.header_changes.insert(decision.header_changes.end(), verdict.header_changes.begin(),
                                   verdict.header_changes.end());
  }
  // Nobody judged the message (every filter skipped it, such as the classifier while it is
  // still learning): it is stored as it came, without fields of ours.
  if (std::ranges::none_of(verdicts, [](const Verdict& v) { return !v.skipped; })) return decision;
  const bool junk = decision.action == Action::junk;
  std::string status = junk ? "Yes" : "No";
  if (decision.scored) status += fmt::format(", score={:.2f}", decision.score);
  if (junk) status += ", filter=" + decision.decided_by;
  if (!symbols.empty()) status += ", tests=" + symbol_list(symbols);
  decision.header_changes.push_back({HeaderChange::Kind::insert, "X-Spam-Status", status, 0});
  if (junk) decision.header_changes.push_back({HeaderChange::Kind::insert, "X-Spam-Flag", "YES", 0});
  return decision;
}

}  // namespace postamt::filter
