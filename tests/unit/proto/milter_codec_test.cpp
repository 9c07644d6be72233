// The milter protocol codec and conversation (proto/milter): framing, encoders, the
// decoding of every response, SMFIR_REPLYCODE, and whole conversations against a
// scripted milter (negotiated skips, no-reply steps, SKIP, changes at EOM).
#include <gtest/gtest.h>

#include <string>

#include "proto/milter/milter_codec.hpp"
#include "proto/milter/milter_conversation.hpp"

namespace postamt::proto::milter {
namespace {

std::string u32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xff), static_cast<char>((v >> 8) & 0xff),
          static_cast<char>(v & 0xff)};
}

std::string frame(char command, const std::string& data) { return u32(static_cast<std::uint32_t>(data.size() + 1)) + command + data; }

Packet packet(char command, std::string data = {}) { return Packet{command, std::move(data)}; }

// Splits bytes we sent into packets.
std::vector<Packet> packets_of(const std::string& bytes) {
  PacketReader reader(1 << 20);
  reader.feed(bytes);
  std::vector<Packet> out;
  while (true) {
    auto next = reader.next();
    EXPECT_TRUE(next.has_value());
    if (!next || !*next) break;
    out.push_back(std::move(**next));
  }
  EXPECT_EQ(reader.buffered(), 0u);
  return out;
}

std::string commands_of(const std::string& bytes) {
  std::string out;
  for (const auto& p : packets_of(bytes)) out += p.command;
  return out;
}

TEST(MilterCodec, EncodesOptnegConnectAndHeader) {
  EXPECT_EQ(encode_optneg(6, 0x11, 0x400), frame('O', u32(6) + u32(0x11) + u32(0x400)));
  EXPECT_EQ(encode_connect("[192.0.2.1]", Family::ipv4, 2525, "192.0.2.1"),
            frame('C', std::string("[192.0.2.1]\0" "4\x09\xdd" "192.0.2.1\0", 25)));
  EXPECT_EQ(encode_connect("x", Family::unknown, 0, ""), frame('C', std::string("x\0U", 3)));
  EXPECT_EQ(encode_header("Subject", "hi"), frame('L', std::string("Subject\0hi\0", 11)));
  EXPECT_EQ(encode_mail("a@b.example"), frame('M', std::string("<a@b.example>\0", 14)));
  EXPECT_EQ(encode_mail(""), frame('M', std::string("<>\0", 3)));
  // A NUL inside a string ends it: it can never split into two.
  EXPECT_EQ(encode_helo(std::string("a\0b", 3)), frame('H', std::string("a\0", 2)));
  const Macro macros[] = {{"j", "mx.example"}, {"{client_addr}", "::1"}};
  EXPECT_EQ(encode_macros('C', macros), frame('D', std::string("Cj\0mx.example\0{client_addr}\0::1\0", 32)));
  EXPECT_EQ(encode_body(std::string(70000, 'x')).size(), 5u + kMaxBodyChunk);
}

TEST(MilterCodec, ReaderFramesInPiecesAndBoundsLength) {
  PacketReader reader(100);
  const std::string bytes = frame('c', "") + frame('h', std::string("X\0y\0", 4));
  for (char c : bytes) reader.feed(std::string_view(&c, 1));
  auto first = reader.next();
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->command, 'c');
  auto second = reader.next();
  ASSERT_TRUE(second && *second);
  EXPECT_EQ((*second)->data, std::string("X\0y\0", 4));
  EXPECT_FALSE(*reader.next());

  reader.feed(u32(101) + "c");
  EXPECT_FALSE(reader.next().has_value());
  EXPECT_FALSE(reader.next().has_value());  // sticky
  PacketReader zero;
  zero.feed(u32(0));
  EXPECT_FALSE(zero.next().has_value());
}

TEST(MilterCodec, DecodesResponses) {
  using K = Response::Kind;
  EXPECT_EQ(decode_response(packet('a'))->kind, K::accept);
  EXPECT_EQ(decode_response(packet('c'))->kind, K::continue_);
  EXPECT_EQ(decode_response(packet('r'))->kind, K::reject);
  EXPECT_EQ(decode_response(packet('t'))->kind, K::tempfail);
  EXPECT_EQ(decode_response(packet('d'))->kind, K::discard);
  EXPECT_EQ(decode_response(packet('p'))->kind, K::progress);
  EXPECT_EQ(decode_response(packet('s'))->kind, K::skip);
  EXPECT_EQ(decode_response(packet('b', "new body"))->kind, K::unsupported);
  EXPECT_EQ(decode_response(packet('+', std::string("<x@y>\0", 6)))->kind, K::unsupported);
  EXPECT_FALSE(decode_response(packet('Z')).has_value());

  auto add = decode_response(packet('h', std::string("X-A\0 v\n\tw\0", 10)));
  ASSERT_TRUE(add);
  EXPECT_EQ(add->kind, K::add_header);
  EXPECT_EQ(add->name, "X-A");
  EXPECT_EQ(add->value, " v\n\tw");
  auto change = decode_response(packet('m', u32(2) + std::string("Subject\0\0", 9)));
  ASSERT_TRUE(change);
  EXPECT_EQ(change->kind, K::change_header);
  EXPECT_EQ(change->index, 2u);
  EXPECT_EQ(change->value, "");
  auto insert = decode_response(packet('i', u32(0) + std::string("X-B\0b\0", 6)));
  ASSERT_TRUE(insert);
  EXPECT_EQ(insert->kind, K::insert_header);
  auto quarantine = decode_response(packet('q', std::string("virus\0", 6)));
  ASSERT_TRUE(quarantine);
  EXPECT_EQ(quarantine->value, "virus");

  EXPECT_FALSE(decode_response(packet('h', std::string("X-A\0v", 5))).has_value());     // no NUL
  EXPECT_FALSE(decode_response(packet('h', std::string("Bad Name\0v\0", 11))).has_value());
  EXPECT_FALSE(decode_response(packet('h', std::string("\0v\0", 3))).has_value());
  EXPECT_FALSE(decode_response(packet('m', "ab")).has_value());                        // no index
}

TEST(MilterCodec, ReplyCodes) {
  auto one = parse_reply_code("550 5.7.1 custom text");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->code, 550u);
  EXPECT_EQ(one->status, "5.7.1");
  EXPECT_EQ(one->text, "custom text");
  auto multi = parse_reply_code("451-4.7.0 first\r\n451 4.7.0 second");
  ASSERT_TRUE(multi);
  EXPECT_EQ(multi->code, 451u);
  EXPECT_EQ(multi->text, "first\nsecond");
  auto bare = parse_reply_code("554 no status");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->status, "5.7.1");
  EXPECT_EQ(bare->text, "no status");
  EXPECT_FALSE(parse_reply_code("250 2.0.0 ok").has_value());
  EXPECT_FALSE(parse_reply_code("550 4.7.1 class differs").has_value());
  EXPECT_FALSE(parse_reply_code("550-5.7.1 a\r\n451 4.7.1 b").has_value());
  EXPECT_FALSE(parse_reply_code("550-5.7.1 continues").has_value());
  EXPECT_FALSE(parse_reply_code("55").has_value());
  auto y = decode_response(packet('y', std::string("550 5.7.1 custom text\0", 22)));
  ASSERT_TRUE(y);
  EXPECT_EQ(y->kind, Response::Kind::reply_code);
  EXPECT_EQ(y->reply.text, "custom text");
}

TEST(MilterCodec, Negotiation) {
  auto n = decode_negotiation(packet('O', u32(6) + u32(1) + u32(0x80) + u32(5) + std::string("i {auth_authen}\0", 16)));
  ASSERT_TRUE(n);
  EXPECT_EQ(n->version, 6u);
  EXPECT_EQ(n->actions, 1u);
  EXPECT_EQ(n->protocol, 0x80u);
  ASSERT_EQ(n->symbol_lists.size(), 1u);
  EXPECT_EQ(n->symbol_lists[0].first, Stage::eom);
  EXPECT_FALSE(decode_negotiation(packet('O', u32(6))).has_value());
  EXPECT_FALSE(decode_negotiation(packet('c')).has_value());
}

Envelope envelope() {
  Envelope e;
  e.our_hostname = "mx.example.test";
  e.queue_id = "Q1";
  e.client_name = "[192.0.2.1]";
  e.client_address = "192.0.2.1";
  e.client_port = 40000;
  e.helo = "client.example";
  e.sender = "a@example.org";
  e.recipients = {"b@example.test", "c@example.test"};
  return e;
}

constexpr std::string_view kMessage = "Subject: hi\r\nX-Folded: one\r\n two\r\n\r\nbody line\r\n";

Packet optneg(std::uint32_t actions, std::uint32_t protocol, std::string extra = {}) {
  return packet('O', u32(6) + u32(actions) + u32(protocol) + extra);
}

TEST(MilterConversation, WholeMessageStepByStep) {
  Conversation c(envelope(), kMessage);
  EXPECT_EQ(commands_of(c.start()), "O");
  auto step = c.on_packet(optneg(action::add_headers, 0));
  ASSERT_TRUE(step);
  EXPECT_EQ(commands_of(step->send), "DC");  // macros, CONNECT: wait
  const auto connect = packets_of(step->send);
  EXPECT_NE(connect[0].data.find(std::string("{client_port}\0" "40000\0", 20)), std::string::npos);
  std::string sent;
  const char* expected[] = {"H", "DM", "DR", "DR", "DT", "L", "L", "DN", "B", "DE"};
  for (const char* e : expected) {
    step = c.on_packet(packet('c'));
    ASSERT_TRUE(step);
    EXPECT_FALSE(step->done);
    EXPECT_EQ(commands_of(step->send), e);
    sent += step->send;
  }
  // Header values: without the one leading space, folds as LF + WSP.
  const auto all = packets_of(sent);
  EXPECT_EQ(all[9].data, std::string("Subject\0hi\0", 11));
  EXPECT_EQ(all[10].data, std::string("X-Folded\0one\n two\0", 18));
  EXPECT_EQ(all[13].data, "body line\r\n");
  EXPECT_TRUE(c.on_packet(packet('p'))->send.empty());  // progress: keep waiting
  EXPECT_TRUE(c.on_packet(packet('h', std::string("X-Added\0yes\0", 12))));
  step = c.on_packet(packet('a'));
  ASSERT_TRUE(step);
  EXPECT_TRUE(step->done);
  EXPECT_EQ(commands_of(step->send), "Q");
  EXPECT_EQ(c.outcome().verdict, Outcome::Verdict::accept);
  ASSERT_EQ(c.outcome().header_edits.size(), 1u);
  EXPECT_EQ(c.outcome().header_edits[0].value, "yes");
}

TEST(MilterConversation, SkipsAndNoReplySteps) {
  Conversation c(envelope(), kMessage);
  c.start();
  // No CONNECT, HELO or RCPT; headers unanswered; MAIL, DATA, EOH and body unanswered too:
  // the whole message goes in one write.
  const std::uint32_t p = protocol::no_connect | protocol::no_helo | protocol::no_rcpt | protocol::nr_header |
                          protocol::nr_mail | protocol::nr_data | protocol::nr_eoh | protocol::nr_body;
  auto step = c.on_packet(optneg(0, p, u32(2) + std::string("{mail_addr}\0", 12)));
  ASSERT_TRUE(step);
  EXPECT_EQ(commands_of(step->send), "DDMDDDTLLDNBDE");  // skipped steps: their macros only
  const auto sent = packets_of(step->send);
  EXPECT_EQ(sent[1].data, std::string("M{mail_addr}\0a@example.org\0", 27));  // only the macro it asked for
  step = c.on_packet(packet('r'));
  ASSERT_TRUE(step && step->done);
  EXPECT_EQ(c.outcome().verdict, Outcome::Verdict::reject);
  EXPECT_EQ(c.outcome().stage, "eom");
}

TEST(MilterConversation, SkipEndsTheBody) {
  const std::string message = "A: b\r\n\r\n" + std::string(200000, 'x');
  Conversation c(envelope(), message);
  c.start();
  auto step = c.on_packet(optneg(0, protocol::no_connect | protocol::no_helo | protocol::no_mail | protocol::no_rcpt |
                                        protocol::no_data | protocol::no_headers | protocol::no_eoh));
  ASSERT_TRUE(step);
  EXPECT_EQ(commands_of(step->send), "DDDDDDB");
  step = c.on_packet(packet('s'));
  ASSERT_TRUE(step);
  EXPECT_EQ(commands_of(step->send), "DE");
}

TEST(MilterConversation, EarlyVerdictsAndErrors) {
  {
    Conversation c(envelope(), kMessage);
    c.start();
    c.on_packet(optneg(0, 0));
    c.on_packet(packet('c'));  // CONNECT
    c.on_packet(packet('c'));  // HELO
    auto step = c.on_packet(packet('y', std::string("451 4.7.1 later\0", 16)));  // MAIL
    ASSERT_TRUE(step && step->done);
    EXPECT_EQ(c.outcome().verdict, Outcome::Verdict::reply_code);
    EXPECT_EQ(c.outcome().stage, "mail");
    EXPECT_EQ(c.outcome().reply.code, 451u);
  }
  {
    Conversation c(envelope(), kMessage);
    c.start();
    EXPECT_FALSE(c.on_packet(optneg(action::change_body, 0)).has_value());  // not offered
  }
  {
    Conversation c(envelope(), kMessage);
    c.start();
    EXPECT_FALSE(c.on_packet(optneg(0, protocol::header_leading_space)).has_value());
  }
  {
    Conversation c(envelope(), kMessage);
    c.start();
    c.on_packet(optneg(action::add_headers, 0));
    EXPECT_FALSE(c.on_packet(packet('h', std::string("X\0y\0", 4))).has_value());  // before EOM
  }
  {
    Conversation c(envelope(), kMessage);
    c.start();
    c.on_packet(optneg(0, protocol::no_connect | protocol::no_helo | protocol::no_mail | protocol::no_rcpt |
                              protocol::no_data | protocol::no_headers | protocol::no_eoh | protocol::no_body));
    EXPECT_FALSE(c.on_packet(packet('h', std::string("X\0y\0", 4))).has_value());  // not negotiated
  }
  {
    Conversation c(envelope(), kMessage);
    c.start();
    c.on_packet(optneg(action::quarantine, protocol::no_connect | protocol::no_helo | protocol::no_mail |
                                               protocol::no_rcpt | protocol::no_data | protocol::no_headers |
                                               protocol::no_eoh | protocol::no_body));
    EXPECT_TRUE(c.on_packet(packet('q', std::string("virus\0", 6))));
    auto step = c.on_packet(packet('c'));
    ASSERT_TRUE(step && step->done);
    EXPECT_EQ(c.outcome().quarantine, "virus");
  }
}

}  // namespace
}  // namespace postamt::proto::milter
