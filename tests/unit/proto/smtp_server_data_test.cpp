// SMTP server engine: message content by DATA (dot-unstuffing, the only terminator,
// smuggling, NUL, size and line limits) and by BDAT (RFC 3030 chunking).
#include <gtest/gtest.h>

#include <string>

#include "proto/smtp/server_engine.hpp"
#include "smtp_test_session.hpp"

namespace postamt::proto::smtp::testing {
namespace {

constexpr std::string_view kEnvelope =
    "EHLO c\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n";
const Replies kEnvelopeReplies = {"220", "250", "250 2.1.0", "250 2.1.5"};

std::string with_envelope(std::string_view rest) { return std::string(kEnvelope) + std::string(rest); }

// n octets of 50-octet CRLF lines (n a multiple of 50).
std::string lines(std::size_t n) {
  std::string out;
  while (out.size() < n) out += std::string(48, 'x') + "\r\n";
  return out;
}

Replies envelope_then(std::initializer_list<std::string> more) {
  Replies out = kEnvelopeReplies;
  out.insert(out.end(), more);
  return out;
}

TEST(SmtpServerData, DotUnstuffing) {
  const auto t = run_all(default_options(),
                         with_envelope("DATA\r\n..one\r\n.two\r\n...\r\n. \r\nx.\r\n.\r\n"));
  ASSERT_EQ(t.messages.size(), 1u);
  EXPECT_EQ(t.messages[0], ".one\r\ntwo\r\n..\r\n \r\nx.\r\n");
}

TEST(SmtpServerData, DotLineRightAfter354EndsAnEmptyMessage) {
  const auto t = run_all(default_options(), with_envelope("DATA\r\n.\r\n"));
  EXPECT_EQ(t.messages, (std::vector<std::string>{""}));
  EXPECT_EQ(replies(t.output), envelope_then({"354", "250 2.0.0"}));
}

TEST(SmtpServerData, CommandsPipelinedAfterTheDataAreHandled) {
  const auto t = run_all(default_options(), with_envelope("DATA\r\nbody\r\n.\r\nNOOP\r\nQUIT\r\n"));
  EXPECT_EQ(replies(t.output), envelope_then({"354", "250 2.0.0", "250 2.0.0", "221 2.0.0"}));
  EXPECT_TRUE(t.closed);
}

// The SMTP smuggling family: each of these must be content, never an end of data, so
// the "second message" behind it never becomes a transaction of its own.
class Smuggling : public ::testing::TestWithParam<std::string> {};

TEST_P(Smuggling, HiddenEndNeverEndsTheData) {
  const std::string hidden =
      "Hello" + GetParam() +
      "MAIL FROM:<evil@x.example>\r\nRCPT TO:<victim@y.example>\r\nDATA\r\nsmuggled\r\n";
  const auto t = run_all(default_options(), with_envelope("DATA\r\n" + hidden + ".\r\nQUIT\r\n"));
  EXPECT_EQ(t.events, (Events{"EHLO c", "MAIL <a@x.example>", "RCPT <b@y.example>", "DATA",
                              "ABORTED bare_line_ending", "QUIT"}));
  EXPECT_EQ(replies(t.output), envelope_then({"354", "550 5.6.0", "221 2.0.0"}));
  EXPECT_TRUE(t.messages.empty());
}

TEST_P(Smuggling, NormalisingKeepsItAsContent) {
  auto options = default_options();
  options.normalize_bare_line_endings = true;
  const std::string hidden =
      "Hello" + GetParam() +
      "MAIL FROM:<evil@x.example>\r\nRCPT TO:<victim@y.example>\r\nDATA\r\nsmuggled\r\n";
  const auto t = run_all(options, with_envelope("DATA\r\n" + hidden + ".\r\nQUIT\r\n"));
  ASSERT_EQ(t.messages.size(), 1u);
  EXPECT_NE(t.messages[0].find("MAIL FROM:<evil@x.example>\r\n"), std::string::npos);
  EXPECT_EQ(t.events.size(), 6u);  // EHLO MAIL RCPT DATA END QUIT: no second transaction
  EXPECT_EQ(replies(t.output), envelope_then({"354", "250 2.0.0", "221 2.0.0"}));
  // Normalised content has CRLF line ends only.
  const std::string& m = t.messages[0];
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\r') {
      EXPECT_TRUE(i + 1 < m.size() && m[i + 1] == '\n');
    }
    if (m[i] == '\n') {
      EXPECT_TRUE(i > 0 && m[i - 1] == '\r');
    }
  }
}

INSTANTIATE_TEST_SUITE_P(SmtpServerData, Smuggling,
                         ::testing::Values(std::string("\n.\n"), std::string("\r.\r"),
                                           std::string("\n.\r\n"), std::string("\r\n.\n"),
                                           std::string("\r.\r\n"), std::string("\r\n.\r"),
                                           std::string("\r\n.\r\r\n"), std::string("\n\r\n.\n"),
                                           std::string("\r\n\n.\r\n")));

TEST(SmtpServerData, BareLfOrCrAnywhereFailsTheMessage) {
  for (const std::string body : {"a\nb\r\n", "a\rb\r\n", "\n\r\n", "end\r\r\n", ".\nx\r\n"}) {
    const auto t = run_all(default_options(), with_envelope("DATA\r\n" + body + ".\r\nNOOP\r\n"));
    EXPECT_EQ(replies(t.output), envelope_then({"354", "550 5.6.0", "250 2.0.0"})) << body;
    EXPECT_TRUE(t.messages.empty());
  }
}

TEST(SmtpServerData, NulFailsTheMessage) {
  const auto t = run_all(default_options(),
                         with_envelope("DATA\r\n" + std::string("a\0b\r\n", 5) +
                                       ".\r\nRCPT TO:<b@y.example>\r\n"));
  EXPECT_EQ(t.events.back(), "ABORTED nul");
  EXPECT_NE(t.output.find("550 5.6.0 Error: NUL octet in message data"), std::string::npos);
  // The transaction is over: RCPT needs a new MAIL.
  EXPECT_EQ(replies(t.output), envelope_then({"354", "550 5.6.0", "503 5.5.1"}));
}

TEST(SmtpServerData, TooBigIsRepliedOnlyAtTheRealEnd) {
  Session session(default_options());  // max_message_size = 10000
  session.feed(with_envelope("DATA\r\n"));
  const std::string line(78, 'x');
  for (int i = 0; i < 200; ++i) session.feed(line + "\r\n");  // 16000 octets
  EXPECT_EQ(session.transcript().events.back(), "ABORTED too_big");
  EXPECT_EQ(replies(session.transcript().output), envelope_then({"354"}));  // no reply yet
  session.feed(".\r\nNOOP\r\n");
  EXPECT_EQ(replies(session.transcript().output), envelope_then({"354", "552 5.3.4", "250 2.0.0"}));
  EXPECT_TRUE(session.transcript().messages.empty());
}

TEST(SmtpServerData, MessageOfExactlyTheMaximumSizeIsAccepted) {
  auto options = default_options();
  options.max_message_size = 12;
  const auto ok = run_all(options, with_envelope("DATA\r\n0123456789\r\n.\r\n"));
  EXPECT_EQ(replies(ok.output), envelope_then({"354", "250 2.0.0"}));
  const auto over = run_all(options, with_envelope("DATA\r\n01234567890\r\n.\r\n"));
  EXPECT_EQ(replies(over.output), envelope_then({"354", "552 5.3.4"}));
}

TEST(SmtpServerData, OverLongTextLine) {
  // max_text_line = 100 octets including CRLF; a stuffing dot does not count.
  const std::string fits(98, 'a');
  const auto ok = run_all(default_options(),
                          with_envelope("DATA\r\n" + fits + "\r\n." + fits + "\r\n.\r\n"));
  EXPECT_EQ(replies(ok.output), envelope_then({"354", "250 2.0.0"}));
  const auto t = run_all(default_options(),
                         with_envelope("DATA\r\n" + fits + "b\r\n.\r\nNOOP\r\n"));
  EXPECT_EQ(replies(t.output), envelope_then({"354", "550 5.6.0", "250 2.0.0"}));
  EXPECT_EQ(t.events.back(), "ABORTED line_too_long");
  EXPECT_NE(t.output.find("550 5.6.0 Error: message line longer than 100 octets"), std::string::npos);
}

TEST(SmtpServerData, EndlessLineInDataIsNotBuffered) {
  Session session(default_options());
  session.feed(with_envelope("DATA\r\n"));
  const std::string piece(4096, 'q');
  for (int i = 0; i < 256; ++i) {  // 1 MiB without a line end
    session.feed(piece);
    ASSERT_EQ(session.engine().buffered_input(), 0u);
  }
  session.feed("\r\n.\r\n");
  EXPECT_EQ(replies(session.transcript().output), envelope_then({"354", "550 5.6.0"}));
}

TEST(SmtpServerData, ContentLeavesInChunksNoLargerThanOneRead) {
  auto options = default_options();
  options.max_message_size = 4u << 20;
  ServerEngine engine(options);
  engine.start();
  engine.receive(with_envelope("DATA\r\n"));
  std::string message;
  auto drain = [&](std::size_t largest_read) {
    while (auto event = engine.next_event()) {
      if (std::holds_alternative<MailFrom>(*event)) engine.accept_mail();
      if (std::holds_alternative<RcptTo>(*event)) engine.accept_rcpt();
      if (std::holds_alternative<DataBegin>(*event)) engine.accept_data();
      if (auto* chunk = std::get_if<MessageChunk>(&*event)) {
        EXPECT_LE(chunk->bytes.size(), largest_read);
        message += chunk->bytes;
      }
      if (std::holds_alternative<MessageEnd>(*event)) engine.message_stored("Q");
    }
  };
  drain(0);
  std::string read;
  for (int i = 0; i < 200; ++i) read += "line of text number " + std::to_string(i) + "\r\n";
  std::size_t total = 0;
  for (int i = 0; i < 300; ++i) {
    engine.receive(read);
    total += read.size();
    drain(read.size());
    EXPECT_EQ(engine.buffered_input(), 0u);
  }
  engine.receive(".\r\n");
  drain(3);
  EXPECT_EQ(message.size(), total);
  EXPECT_NE(engine.pending_output().find("250 2.0.0 Ok: queued as Q"), std::string_view::npos);
}

// --- BDAT (RFC 3030) ---

TEST(SmtpServerBdat, SingleLastChunk) {
  const auto t = run_all(default_options(), with_envelope("BDAT 12 LAST\r\nHello\r\nWorld"));
  EXPECT_EQ(t.events, (Events{"EHLO c", "MAIL <a@x.example>", "RCPT <b@y.example>", "BDAT", "END 12"}));
  EXPECT_EQ(t.messages, (std::vector<std::string>{"Hello\r\nWorld"}));
  EXPECT_EQ(replies(t.output), envelope_then({"250 2.0.0"}));
  EXPECT_NE(t.output.find("250 2.0.0 Ok: queued as Q1\r\n"), std::string::npos);
}

TEST(SmtpServerBdat, SeveralChunksWithCrlfAcrossTheBoundary) {
  Session session(default_options());
  session.feed(with_envelope("BDAT 6\r\nHello\rBDAT 8\r\n\nWorld\r\nBDAT 0 LAST\r\nQUIT\r\n"));
  EXPECT_TRUE(session.engine().envelope().recipients.empty());  // reset after the message
  const auto& t = session.transcript();
  EXPECT_EQ(t.messages, (std::vector<std::string>{"Hello\r\nWorld\r\n"}));
  EXPECT_EQ(replies(t.output), envelope_then({"250 2.0.0", "250 2.0.0", "250 2.0.0", "221 2.0.0"}));
  EXPECT_NE(t.output.find("250 2.0.0 6 octets received\r\n250 2.0.0 8 octets received\r\n"),
            std::string::npos);
  const auto all = run_all(default_options(),
                           with_envelope("BDAT 6\r\nHello\rBDAT 8\r\n\nWorld\r\nBDAT 0 LAST\r\n"));
  EXPECT_EQ(all.messages, t.messages);
}

TEST(SmtpServerBdat, ContentIsNotDotUnstuffed) {
  const auto t = run_all(default_options(), with_envelope("BDAT 11 LAST\r\n..a\r\n.\r\nb\r\n"));
  EXPECT_EQ(t.messages, (std::vector<std::string>{"..a\r\n.\r\nb\r\n"}));
}

TEST(SmtpServerBdat, DataCannotFollowBdat) {
  const auto t = run_all(default_options(), with_envelope("BDAT 3\r\nabcDATA\r\nBDAT 2 LAST\r\nde"));
  EXPECT_EQ(replies(t.output), envelope_then({"250 2.0.0", "503 5.5.1", "250 2.0.0"}));
  EXPECT_EQ(t.messages, (std::vector<std::string>{"abcde"}));
  EXPECT_NE(t.output.find("503 5.5.1 Error: BDAT transaction in progress"), std::string::npos);
}

TEST(SmtpServerBdat, RefusedChunksAreStillConsumed) {
  // Before MAIL, and after HELO (CHUNKING not negotiated): the chunk's octets are read
  // and dropped, never taken as commands.
  const auto t = run_all(default_options(), "EHLO c\r\nBDAT 6\r\nQUIT\r\nNOOP\r\n");
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "503 5.5.1", "250 2.0.0"}));
  EXPECT_FALSE(t.closed);
  const auto helo = run_all(default_options(), "HELO c\r\nBDAT 6 LAST\r\nQUIT\r\nNOOP\r\n");
  EXPECT_EQ(replies(helo.output), (Replies{"220", "250", "503 5.5.1", "250 2.0.0"}));
  EXPECT_NE(helo.output.find("503 5.5.1 Error: send EHLO first"), std::string::npos);
}

TEST(SmtpServerBdat, PolicyRefusalConsumesTheChunk) {
  Policy policy;
  policy.data = [](const DataBegin& begin) -> std::optional<Reply> {
    EXPECT_TRUE(begin.chunking);
    return make_reply(550, "5.7.1", "Not from you");
  };
  const auto t = run_all(default_options(),
                         with_envelope("BDAT 6\r\nQUIT\r\nBDAT 6 LAST\r\nQUIT\r\nNOOP\r\n"), policy);
  // The second BDAT was pipelined behind the failed one: read, dropped, 503 (RFC 3030 §2).
  EXPECT_EQ(replies(t.output), envelope_then({"550 5.7.1", "503 5.5.1", "250 2.0.0"}));
  EXPECT_FALSE(t.closed);
}

TEST(SmtpServerBdat, NoValidRecipients) {
  Policy policy;
  policy.rcpt = [](const RcptTo&) { return make_reply(550, "5.1.1", "No such user"); };
  const auto t = run_all(default_options(), with_envelope("BDAT 4 LAST\r\nQUITNOOP\r\n"), policy);
  EXPECT_EQ(replies(t.output), (Replies{"220", "250", "250 2.1.0", "550 5.1.1", "554 5.5.1",
                                        "250 2.0.0"}));
}

TEST(SmtpServerBdat, BareLineEndsFailTheMessage) {
  const auto t = run_all(default_options(),
                         with_envelope("BDAT 5\r\na\nb\r\nBDAT 3 LAST\r\nabcNOOP\r\n"));
  EXPECT_EQ(replies(t.output), envelope_then({"550 5.6.0", "503 5.5.1", "250 2.0.0"}));
  EXPECT_EQ(t.events.back(), "ABORTED bare_line_ending");
  auto options = default_options();
  options.normalize_bare_line_endings = true;
  const auto n = run_all(options, with_envelope("BDAT 4\r\na\nb\rBDAT 3 LAST\r\nc\r\r"));
  EXPECT_EQ(n.messages, (std::vector<std::string>{"a\r\nb\r\nc\r\n\r\n"}));
}

TEST(SmtpServerBdat, TrailingCrOfTheLastChunkIsBare) {
  const auto t = run_all(default_options(), with_envelope("BDAT 4 LAST\r\nabc\r"));
  EXPECT_EQ(replies(t.output), envelope_then({"550 5.6.0"}));
}

TEST(SmtpServerBdat, NulAndLongLinesFailTheMessage) {
  const auto nul = run_all(default_options(), with_envelope("BDAT 3 LAST\r\n" + std::string("a\0b", 3)));
  EXPECT_EQ(replies(nul.output), envelope_then({"550 5.6.0"}));
  const auto line = run_all(default_options(),
                            with_envelope("BDAT 101 LAST\r\n" + std::string(99, 'l') + "\r\n"));
  EXPECT_EQ(replies(line.output), envelope_then({"550 5.6.0"}));
}

TEST(SmtpServerBdat, MessageTooBig) {
  // Declared over the limit up front: refused before any octet is taken.
  const auto first = run_all(default_options(),
                             with_envelope("BDAT 10001 LAST\r\n" + std::string(10001, 'x') + "NOOP\r\n"));
  EXPECT_EQ(replies(first.output), envelope_then({"552 5.3.4", "250 2.0.0"}));
  EXPECT_EQ(first.events.back(), "RCPT <b@y.example>");
  // Over the limit with a later chunk: the message under way is aborted.
  const auto later = run_all(default_options(),
                             with_envelope("BDAT 6000\r\n" + lines(6000) + "BDAT 6000 LAST\r\n" +
                                           lines(6000) + "NOOP\r\n"));
  EXPECT_EQ(replies(later.output), envelope_then({"250 2.0.0", "552 5.3.4", "250 2.0.0"}));
  EXPECT_EQ(later.events.back(), "ABORTED too_big");
}

TEST(SmtpServerBdat, ChunkOverTheChunkLimit) {
  auto options = default_options();
  options.max_bdat_chunk = 100;
  const auto t = run_all(options, with_envelope("BDAT 200\r\n" + std::string(200, 'x') + "NOOP\r\n"));
  EXPECT_EQ(replies(t.output), envelope_then({"552 5.3.4", "250 2.0.0"}));
  EXPECT_NE(t.output.find("552 5.3.4 Error: BDAT chunk too large"), std::string::npos);
}

TEST(SmtpServerBdat, BadSyntax) {
  const auto t = run_all(default_options(),
                         with_envelope("BDAT\r\nBDAT x\r\nBDAT 5 FIRST\r\nBDAT -1\r\n"
                                       "BDAT 123456789012345678901\r\nBDAT 0 LAST\r\n"));
  EXPECT_EQ(replies(t.output), envelope_then({"501 5.5.4", "501 5.5.4", "501 5.5.4", "501 5.5.4",
                                              "501 5.5.4", "250 2.0.0"}));
  EXPECT_EQ(t.messages, (std::vector<std::string>{""}));
}

TEST(SmtpServerBdat, RsetAbandonsTheMessage) {
  const auto t = run_all(default_options(), with_envelope("BDAT 3\r\nabcRSET\r\nBDAT 1 LAST\r\nx"));
  EXPECT_EQ(replies(t.output), envelope_then({"250 2.0.0", "250 2.0.0", "503 5.5.1"}));
  EXPECT_TRUE(t.messages.empty());
}

}  // namespace
}  // namespace postamt::proto::smtp::testing
