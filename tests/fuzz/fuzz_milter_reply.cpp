// Fuzzes proto/milter: the input is everything a milter sends back (its OPTNEG answer
// first, then its replies), read by PacketReader in pieces whose sizes the input chooses
// and played into a Conversation about a fixed message. Every packet is also decoded on
// its own (decode_negotiation for the first, decode_response for the rest), and the whole
// input is read as SMFIR_REPLYCODE text. Checks: no crash, UB or leak; a framing error
// sticks; the negotiation never exceeds our offer; a verdict's reply code is 4xx/5xx with
// a status of its class; header changes come at EOM only, with field names, bounded; the
// same bytes fed whole give the same outcome.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/milter/milter_codec.hpp"
#include "proto/milter/milter_conversation.hpp"

#include "fuzz_bits.hpp"

namespace {

using namespace postamt::proto::milter;
using postamt::fuzz::Bits;
using postamt::fuzz::fail;

// Headers, a body of two chunks' worth of steps, two recipients: every step of plan().
constexpr std::string_view kMessage =
    "From: Alice <alice@example.org>\r\n"
    "To: bob@example.com\r\n"
    "Subject: fuzz\r\n"
    "X-Long: one\r\n two\r\n"
    "\r\n"
    "Body line\r\n.\r\n";

Envelope envelope() {
  Envelope e;
  e.our_hostname = "mx.example.com";
  e.queue_id = "Q1";
  e.client_name = "client.example.org";
  e.client_address = "192.0.2.7";
  e.client_port = 40000;
  e.helo = "client.example.org";
  e.tls_version = "TLSv1.3";
  e.auth_user = "alice";
  e.sender = "alice@example.org";
  e.recipients = {"bob@example.com", "carol@example.com"};
  return e;
}

bool field_name(std::string_view name) {
  if (name.empty()) return false;
  for (const char c : name) {
    if (c < 33 || c > 126 || c == ':') return false;
  }
  return true;
}

void check_reply(const postamt::proto::smtp::Reply& reply) {
  if (reply.code < 400 || reply.code > 599) fail();
  if (reply.status.empty() || reply.status[0] != static_cast<char>('0' + reply.code / 100)) fail();
}

void check_response(const Response& r) {
  using K = Response::Kind;
  switch (r.kind) {
    case K::reply_code:
      check_reply(r.reply);
      break;
    case K::add_header:
    case K::insert_header:
    case K::change_header:
      if (!field_name(r.name)) fail();
      if (r.name.find('\0') != std::string::npos || r.value.find('\0') != std::string::npos) fail();
      break;
    default:
      break;
  }
}

struct RunResult {
  bool error = false;
  bool done = false;
  Outcome::Verdict verdict = Outcome::Verdict::accept;
  std::string stage;
  std::size_t edits = 0;
  bool quarantined = false;
  unsigned packets = 0;
};

RunResult run(std::string_view input, Bits* bits) {
  Conversation conversation(envelope(), kMessage);
  if (conversation.start().empty()) fail();
  PacketReader reader;
  RunResult out;
  std::size_t at = 0;
  while (!out.done && !out.error) {
    if (at >= input.size()) break;
    const std::size_t piece = bits ? 1 + bits->take(32) : input.size();
    const auto chunk = input.substr(at, piece);
    at += chunk.size();
    reader.feed(chunk);
    while (!out.done && !out.error) {
      auto next = reader.next();
      if (!next) {
        if (reader.next()) fail();  // a framing error sticks
        out.error = true;
        break;
      }
      if (!*next) break;
      const Packet& packet = **next;
      if (packet.data.size() + 1 > kMaxResponsePacket) fail();
      // Each packet decoded on its own, as the conversation's first or a later one.
      if (out.packets == 0) {
        if (auto n = decode_negotiation(packet); n && n->symbol_lists.size() > kStages) fail();
      } else if (auto r = decode_response(packet)) {
        check_response(*r);
      }
      ++out.packets;
      auto step = conversation.on_packet(packet);
      if (!step) {
        out.error = true;
        break;
      }
      if (step->done) {
        if (step->send != encode_bare(command::quit)) fail();
        out.done = true;
      }
    }
  }
  const Negotiation& n = conversation.negotiation();
  if ((n.actions & ~kOfferedActions) != 0 || (n.protocol & ~kOfferedProtocol) != 0) fail();
  const Outcome& outcome = conversation.outcome();
  if (outcome.header_edits.size() > kMaxHeaderEdits) fail();
  for (const auto& edit : outcome.header_edits) {
    if (!field_name(edit.name)) fail();
  }
  if (out.done) {
    if (outcome.stage != "eom" && (!outcome.header_edits.empty() || outcome.quarantine)) fail();
    if (outcome.verdict == Outcome::Verdict::reply_code) check_reply(outcome.reply);
    out.verdict = outcome.verdict;
    out.stage = outcome.stage;
    out.edits = outcome.header_edits.size();
    out.quarantined = outcome.quarantine.has_value();
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Bits bits(data, size);
  const RunResult pieces = run(input, &bits);
  const RunResult whole = run(input, nullptr);
  if (pieces.error != whole.error || pieces.done != whole.done || pieces.verdict != whole.verdict ||
      pieces.stage != whole.stage || pieces.edits != whole.edits || pieces.quarantined != whole.quarantined ||
      pieces.packets != whole.packets) {
    fail();
  }
  // The whole input as SMFIR_REPLYCODE's text.
  if (auto reply = parse_reply_code(input)) check_reply(*reply);
  return 0;
}
