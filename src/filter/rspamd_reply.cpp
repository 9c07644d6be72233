#include "filter/rspamd_reply.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>

namespace postamt::filter {

namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxSymbols = 1000;
constexpr std::size_t kMaxHeaderChanges = 64;
constexpr int kMaxRemovedOccurrences = 32;  // "remove all" deletes at most this many

bool safe_field_text(std::string_view text) {
  for (const char c : text) {
    if (c == '\0') return false;
  }
  return true;
}

// RFC 5322 §3.6.8: field-name = 1*ftext (printable ASCII but ':').
bool is_field_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (const char c : name) {
    if (c <= 32 || c >= 127 || c == ':') return false;
  }
  return true;
}

// A header value from the milter block: no bare CR or LF except CRLF followed by WSP (a fold).
std::string clean_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '\r' || c == '\n') {
      const bool fold = c == '\r' && i + 2 < value.size() && value[i + 1] == '\n' &&
                        (value[i + 2] == ' ' || value[i + 2] == '\t');
      if (fold) {
        out += "\r\n";
        ++i;
      } else if (c == '\n' && i + 1 < value.size() && (value[i + 1] == ' ' || value[i + 1] == '\t')) {
        out += "\r\n";
      } else {
        out += ' ';
      }
      continue;
    }
    out += c;
  }
  return out;
}

Result<void> add_header_entry(RspamdReply& reply, const std::string& name, const json& entry) {
  if (!is_field_name(name)) return permanent_error(fmt::format("rspamd: bad header name in milter.add_headers"));
  if (reply.add_headers.size() >= kMaxHeaderChanges) return permanent_error("rspamd: too many header changes");
  RspamdReply::Added added;
  added.name = name;
  if (entry.is_string()) {
    added.value = entry.get<std::string>();
  } else if (entry.is_object()) {
    const auto value = entry.find("value");
    if (value == entry.end() || !value->is_string()) return permanent_error("rspamd: milter.add_headers without a value");
    added.value = value->get<std::string>();
    if (const auto order = entry.find("order"); order != entry.end() && order->is_number_integer()) {
      added.order = static_cast<int>(std::clamp<std::int64_t>(order->get<std::int64_t>(), -1, 1000));
    }
  } else {
    return permanent_error("rspamd: milter.add_headers entry is neither a string nor an object");
  }
  if (!safe_field_text(added.value)) return permanent_error("rspamd: NUL in a header value");
  added.value = clean_value(added.value);
  reply.add_headers.push_back(std::move(added));
  return {};
}

Result<void> parse_milter(RspamdReply& reply, const json& milter) {
  if (!milter.is_object()) return {};
  if (const auto add = milter.find("add_headers"); add != milter.end() && add->is_object()) {
    for (const auto& [name, entry] : add->items()) {
      if (entry.is_array()) {  // several fields of one name
        for (const auto& one : entry) {
          if (auto ok = add_header_entry(reply, name, one); !ok) return ok;
        }
      } else if (auto ok = add_header_entry(reply, name, entry); !ok) {
        return ok;
      }
    }
  }
  if (const auto remove = milter.find("remove_headers"); remove != milter.end() && remove->is_object()) {
    for (const auto& [name, which] : remove->items()) {
      if (!is_field_name(name)) return permanent_error("rspamd: bad header name in milter.remove_headers");
      if (reply.remove_headers.size() >= kMaxHeaderChanges) return permanent_error("rspamd: too many header changes");
      int index = 0;
      if (which.is_number_integer()) index = static_cast<int>(std::clamp<std::int64_t>(which.get<std::int64_t>(), -1000, 1000));
      reply.remove_headers.push_back({name, index});
    }
  }
  return {};
}

std::optional<double> finite_number(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  const double value = it->get<double>();
  if (!std::isfinite(value)) return std::nullopt;
  return value;
}

}  // namespace

Result<RspamdReply> parse_rspamd_reply(std::string_view text) {
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return permanent_error("rspamd: the reply is not JSON");
  if (!doc.is_object()) return permanent_error("rspamd: the reply is not a JSON object");
  RspamdReply reply;
  if (const auto error = doc.find("error"); error != doc.end() && error->is_string()) {
    return permanent_error("rspamd: " + error->get<std::string>().substr(0, 200));
  }
  if (const auto skipped = doc.find("is_skipped"); skipped != doc.end() && skipped->is_boolean()) {
    reply.skipped = skipped->get<bool>();
  }
  const auto action = doc.find("action");
  if (action == doc.end() || !action->is_string()) {
    if (!reply.skipped) return permanent_error("rspamd: the reply has no action");
  } else {
    reply.action = action->get<std::string>();
  }
  if (auto score = finite_number(doc, "score")) reply.score = *score;
  reply.required_score = finite_number(doc, "required_score");
  if (const auto symbols = doc.find("symbols"); symbols != doc.end() && symbols->is_object()) {
    for (const auto& [name, symbol] : symbols->items()) {
      if (reply.symbols.size() >= kMaxSymbols) break;
      RspamdSymbol one;
      one.name = name;
      if (symbol.is_object()) {
        if (auto score = finite_number(symbol, "score")) one.score = *score;
      }
      reply.symbols.push_back(std::move(one));
    }
    // Weightiest first, then by name (std::sort: stable_sort's temporary buffer is
    // deprecated under clang with libstdc++ 12).
    std::ranges::sort(reply.symbols, [](const RspamdSymbol& a, const RspamdSymbol& b) {
      const double x = std::fabs(a.score);
      const double y = std::fabs(b.score);
      return x != y ? x > y : a.name < b.name;
    });
  }
  if (const auto messages = doc.find("messages"); messages != doc.end() && messages->is_object()) {
    if (const auto smtp = messages->find("smtp_message"); smtp != messages->end() && smtp->is_string()) {
      reply.smtp_message = smtp->get<std::string>();
    }
  }
  if (const auto milter = doc.find("milter"); milter != doc.end()) {
    if (auto ok = parse_milter(reply, *milter); !ok) return std::unexpected(ok.error());
  }
  return reply;
}

Verdict rspamd_verdict(const RspamdReply& reply) {
  Verdict verdict;
  verdict.filter = "rspamd";
  // rspamd sets is_skipped also when a pre-result (GTUBE, a settings rule) decided without
  // the full scan: an action given then still counts.
  if (reply.skipped && reply.action.empty()) {
    verdict.skipped = true;
    verdict.note = "rspamd skipped the message";
    return verdict;
  }
  verdict.score = reply.score;
  for (const auto& symbol : reply.symbols) {
    if (symbol.score != 0) verdict.symbols.push_back(symbol.name);
  }
  // The reply text: rspamd's own when it gave one (RFC 5321 §4.2 text; format_reply makes it safe).
  const std::string text = reply.smtp_message.substr(0, 400);
  if (reply.action == "reject") {
    verdict.action = Action::reject;
    verdict.reply = proto::smtp::make_reply(550, "5.7.1", text.empty() ? "Spam message rejected" : text);
  } else if (reply.action == "soft reject") {
    verdict.action = Action::defer;
    verdict.reply = proto::smtp::make_reply(451, "4.7.1", text.empty() ? "Try again later" : text);
  } else if (reply.action == "greylist") {
    verdict.action = Action::defer;
    verdict.reply = proto::smtp::make_reply(451, "4.7.1", text.empty() ? "Greylisted, try again later" : text);
  } else if (reply.action == "add header" || reply.action == "rewrite subject") {
    verdict.action = Action::junk;
  } else if (reply.action == "no action") {
    verdict.action = Action::accept;
  } else {
    verdict.action = Action::accept;
    verdict.note = "unknown action \"" + reply.action.substr(0, 40) + "\"";
  }
  for (const auto& removed : reply.remove_headers) {
    // rspamd: 0 removes every occurrence, n > 0 the n-th, n < 0 counts from the end (not
    // supported here: the first is taken instead).
    if (removed.index == 0) {
      for (int i = kMaxRemovedOccurrences; i >= 1; --i) {
        verdict.header_changes.push_back({HeaderChange::Kind::change, removed.name, "", static_cast<std::size_t>(i)});
      }
    } else {
      verdict.header_changes.push_back(
          {HeaderChange::Kind::change, removed.name, "", static_cast<std::size_t>(removed.index > 0 ? removed.index : 1)});
    }
  }
  for (const auto& added : reply.add_headers) {
    if (added.order < 0) {
      verdict.header_changes.push_back({HeaderChange::Kind::add, added.name, added.value, 0});
    } else {
      verdict.header_changes.push_back(
          {HeaderChange::Kind::insert, added.name, added.value, static_cast<std::size_t>(added.order)});
    }
  }
  return verdict;
}

RspamdLearnOutcome parse_rspamd_learn_reply(int status, std::string_view body) {
  RspamdLearnOutcome outcome;
  const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::string error;
  if (doc.is_object()) {
    if (const auto success = doc.find("success"); success != doc.end() && success->is_boolean() && success->get<bool>()) {
      outcome.ok = status >= 200 && status < 300;
      if (outcome.ok) return outcome;
    }
    if (const auto e = doc.find("error"); e != doc.end() && e->is_string()) error = e->get<std::string>().substr(0, 300);
  }
  // rspamd 3.4 answers a message it learned before with 404 and "<id> has been already learned
  // as spam, ignore it": the lesson is in; nothing to retry.
  if (error.find("already learned") != std::string::npos) {
    outcome.ok = true;
    outcome.note = "already learned";
    return outcome;
  }
  if (error.empty()) error = fmt::format("HTTP status {}", status);
  outcome.note = error;
  return outcome;
}

}  // namespace postamt::filter
