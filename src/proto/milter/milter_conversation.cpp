#include "proto/milter/milter_conversation.hpp"

#include <algorithm>

#include "proto/mailauth/message_head.hpp"

namespace postamt::proto::milter {
namespace {

// "{client_addr}" and "client_addr" name the same macro; one-letter names stand alone.
std::string bare_name(std::string_view name) {
  if (name.size() > 2 && name.front() == '{' && name.back() == '}') name = name.substr(1, name.size() - 2);
  return std::string(name);
}

std::vector<std::string> split_words(std::string_view list) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < list.size()) {
    while (at < list.size() && (list[at] == ' ' || list[at] == ',' || list[at] == '\t')) ++at;
    std::size_t end = at;
    while (end < list.size() && list[end] != ' ' && list[end] != ',' && list[end] != '\t') ++end;
    if (end > at) out.push_back(bare_name(list.substr(at, end - at)));
    at = end;
  }
  return out;
}

// Sendmail's form of a header value for a milter without SMFIP_HDR_LEADSPC: without the
// one space after the colon, folds as LF + WSP (libmilter's line ends).
std::string milter_header_value(std::string_view value) {
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\r' && i + 1 < value.size() && value[i + 1] == '\n') continue;
    out += value[i];
  }
  return out;
}

}  // namespace

Conversation::Conversation(Envelope envelope, std::string_view message)
    : envelope_(std::move(envelope)), message_(message), symbol_lists_(kStages) {}

std::string Conversation::start() { return encode_optneg(kVersion, kOfferedActions, kOfferedProtocol); }

std::vector<Macro> Conversation::macros(Stage stage) const {
  std::vector<Macro> all;
  const auto& e = envelope_;
  switch (stage) {
    case Stage::connect:
      all = {{"j", e.our_hostname},
             {"{daemon_name}", e.daemon_name},
             {"v", "Postamt"},
             {"_", e.client_name.starts_with('[') ? e.client_name : e.client_name + " [" + e.client_address + "]"},
             {"{client_addr}", e.client_address},
             {"{client_port}", std::to_string(e.client_port)},
             {"{client_name}", e.client_name}};
      break;
    case Stage::helo:
      if (!e.tls_version.empty()) all.push_back({"{tls_version}", e.tls_version});
      break;
    case Stage::mail:
      all = {{"i", e.queue_id}, {"{mail_addr}", e.sender}};
      if (!e.auth_user.empty()) all.push_back({"{auth_authen}", e.auth_user});
      break;
    case Stage::rcpt:
      break;  // {rcpt_addr} per recipient, added by plan()
    case Stage::data:
    case Stage::eoh:
    case Stage::eom:
      all = {{"i", e.queue_id}};
      break;
  }
  const auto& wanted = symbol_lists_[static_cast<std::size_t>(stage)];
  if (wanted) {  // SMFIR_SETSYMLIST: only the macros the milter asked for at this stage
    std::erase_if(all, [&](const Macro& m) {
      return std::find(wanted->begin(), wanted->end(), bare_name(m.name)) == wanted->end();
    });
  }
  return all;
}

void Conversation::add(Stage macro_stage, char macro_command, std::string bytes, bool reply, std::string stage,
                       bool body) {
  std::string packets;
  if (macro_command != 0) {
    auto list = macros(macro_stage);
    if (macro_stage == Stage::rcpt) {
      Macro rcpt{"{rcpt_addr}", stage.substr(5)};  // stage is "rcpt:ADDRESS"
      const auto& wanted = symbol_lists_[static_cast<std::size_t>(Stage::rcpt)];
      if (!wanted || std::find(wanted->begin(), wanted->end(), "rcpt_addr") != wanted->end()) {
        list.push_back(std::move(rcpt));
      }
      stage = "rcpt";
    }
    if (!list.empty()) packets = encode_macros(macro_command, list);
  }
  packets += bytes;
  if (packets.empty()) return;
  items_.push_back({std::move(packets), reply, std::move(stage), body});
}

// The steps of the whole message, as the negotiation left them.
void Conversation::plan() {
  const std::uint32_t p = negotiation_.version >= 6 ? negotiation_.protocol
                                                    : negotiation_.protocol & 0x7f;  // NO* of v2
  const auto on = [&](std::uint32_t flag) { return (p & flag) != 0; };
  const auto& e = envelope_;
  // Macros go out even for a step the milter skips (as Sendmail does): they stay readable
  // at the later steps (a milter without a connect callback still asks {client_addr} at EOM).
  add(Stage::connect, command::connect,
      on(protocol::no_connect) ? std::string()
                               : encode_connect(e.client_name, e.family, e.client_port, e.client_address),
      !on(protocol::no_connect) && !on(protocol::nr_connect), "connect");
  const bool helo = !on(protocol::no_helo) && !e.helo.empty();
  add(Stage::helo, command::helo, helo ? encode_helo(e.helo) : std::string(), helo && !on(protocol::nr_helo),
      "helo");
  add(Stage::mail, command::mail, on(protocol::no_mail) ? std::string() : encode_mail(e.sender),
      !on(protocol::no_mail) && !on(protocol::nr_mail), "mail");
  for (const auto& r : e.recipients) {
    add(Stage::rcpt, command::rcpt, on(protocol::no_rcpt) ? std::string() : encode_rcpt(r),
        !on(protocol::no_rcpt) && !on(protocol::nr_rcpt), "rcpt:" + r);
  }
  const bool data = negotiation_.version >= 4 && !on(protocol::no_data);
  add(Stage::data, command::data, data ? encode_bare(command::data) : std::string(), data && !on(protocol::nr_data),
      "data");
  const mailauth::SplitHead head = mailauth::split_message_head(message_);
  if (!on(protocol::no_headers)) {
    for (const auto& field : head.fields) {
      add(Stage::eoh, 0, encode_header(field.name, milter_header_value(field.value)), !on(protocol::nr_header),
          "header");
    }
  }
  add(Stage::eoh, command::end_of_header, on(protocol::no_eoh) ? std::string() : encode_bare(command::end_of_header),
      !on(protocol::no_eoh) && !on(protocol::nr_eoh), "eoh");
  if (!on(protocol::no_body)) {
    std::string_view body = message_.substr(std::min(head.body_offset, message_.size()));
    while (!body.empty()) {
      const std::string_view chunk = body.substr(0, kMaxBodyChunk);
      add(Stage::eoh, 0, encode_body(chunk), !on(protocol::nr_body), "body", true);
      body.remove_prefix(chunk.size());
    }
  }
  add(Stage::eom, command::end_of_body, encode_bare(command::end_of_body), true, "eom");
}

// Everything up to and including the next item that waits for an answer.
Conversation::Step Conversation::advance() {
  Step step;
  while (next_ < items_.size()) {
    Item& item = items_[next_++];
    step.send += item.bytes;
    if (item.expects_reply) {
      waiting_stage_ = item.stage;
      waiting_body_ = item.body;
      return step;
    }
  }
  // Only after EOM's answer is there nothing left; finish() handles that.
  return step;
}

Conversation::Step Conversation::finish(Outcome::Verdict verdict) {
  outcome_.verdict = verdict;
  outcome_.stage = waiting_stage_;
  if (verdict != Outcome::Verdict::accept || waiting_stage_ != "eom") {
    // Changes count only with the message's acceptance at its end.
    if (waiting_stage_ != "eom") outcome_.header_edits.clear();
  }
  return Step{encode_bare(command::quit), true};
}

Result<Conversation::Step> Conversation::on_packet(const Packet& packet) {
  if (!negotiated_) {
    auto n = decode_negotiation(packet);
    if (!n) return std::unexpected(n.error());
    if (n->version < 2 || n->version > kVersion) {
      return permanent_error("milter speaks protocol version " + std::to_string(n->version) + " (2 to 6 supported)");
    }
    if ((n->actions & ~kOfferedActions) != 0) {
      return permanent_error("milter wants actions we do not offer (" + std::to_string(n->actions) + ")");
    }
    if ((n->protocol & ~kOfferedProtocol) != 0) {
      return permanent_error("milter wants protocol steps we do not offer (" + std::to_string(n->protocol) + ")");
    }
    negotiation_ = std::move(*n);
    for (const auto& [stage, list] : negotiation_.symbol_lists) {
      symbol_lists_[static_cast<std::size_t>(stage)] = split_words(list);
    }
    negotiated_ = true;
    plan();
    return advance();
  }
  if (waiting_stage_.empty()) return permanent_error("milter sent a packet nobody asked for");
  auto response = decode_response(packet);
  if (!response) return std::unexpected(response.error());
  using K = Response::Kind;
  const bool eom = waiting_stage_ == "eom";
  switch (response->kind) {
    case K::progress:
      return Step{};
    case K::continue_:
    case K::skip:
      if (eom) return finish(Outcome::Verdict::accept);
      if (response->kind == K::skip && waiting_body_) {
        while (next_ < items_.size() && items_[next_].body) ++next_;  // to EOM
      }
      return advance();
    case K::accept:
      return finish(Outcome::Verdict::accept);
    case K::reject:
      return finish(Outcome::Verdict::reject);
    case K::tempfail:
      return finish(Outcome::Verdict::tempfail);
    case K::discard:
      return finish(Outcome::Verdict::discard);
    case K::reply_code:
      outcome_.reply = response->reply;
      return finish(Outcome::Verdict::reply_code);
    case K::add_header:
    case K::insert_header:
    case K::change_header: {
      if (!eom) return permanent_error("milter changed a header before the end of the message");
      if (outcome_.header_edits.size() >= kMaxHeaderEdits) return permanent_error("milter made too many header changes");
      const bool change = response->kind == K::change_header;
      if (!change && (negotiation_.actions & action::add_headers) == 0) {
        return permanent_error("milter added a header without negotiating it");
      }
      if (change && (negotiation_.actions & action::change_headers) == 0) {
        return permanent_error("milter changed a header without negotiating it");
      }
      HeaderEdit edit;
      edit.kind = response->kind == K::add_header ? HeaderEdit::Kind::add
                  : change                         ? HeaderEdit::Kind::change
                                                   : HeaderEdit::Kind::insert;
      edit.name = std::move(response->name);
      edit.value = std::move(response->value);
      edit.index = response->index;
      outcome_.header_edits.push_back(std::move(edit));
      return Step{};
    }
    case K::quarantine:
      if (!eom) return permanent_error("milter quarantined before the end of the message");
      outcome_.quarantine = response->value;
      return Step{};
    case K::set_symlist:
      return Step{};  // only meaningful in the negotiation
    case K::unsupported:
      return permanent_error(std::string("milter asked for an action we did not offer ('") + response->command + "')");
  }
  return permanent_error("unexpected milter response");
}

}  // namespace postamt::proto::milter
