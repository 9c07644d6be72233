#include "proto/imap/command_reader.hpp"
#include "proto/imap/literal_marker.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace postamt::proto::imap {
namespace {

// Renders every event: "C:<line>|{literal}|<line>", "+<n>", "E<kind>[!]".
// A continuation is answered at once by `answer` (true: continue, false: reject).
std::vector<std::string> drain(CommandReader& reader, bool answer = true) {
  std::vector<std::string> out;
  while (auto event = reader.next_event()) {
    if (auto* command = std::get_if<Command>(&*event)) {
      std::string text = "C:";
      for (std::size_t i = 0; i < command->lines.size(); ++i) {
        text += command->lines[i];
        if (i < command->literals.size()) {
          const Literal& l = command->literals[i];
          const std::string payload = l.spilled ? "spilled " + std::to_string(l.size) : l.data;
          text += std::string(l.binary ? "~" : "") + "{" + payload + (l.synchronizing ? "" : "+") + "}";
        }
      }
      out.push_back(text);
    } else if (auto* need = std::get_if<NeedContinuation>(&*event)) {
      out.push_back("+" + std::to_string(need->size) + ":" + need->tag);
      if (answer) {
        reader.continue_literal();
      } else {
        reader.reject_literal();
      }
    } else if (auto* bytes = std::get_if<LiteralBytes>(&*event)) {
      out.push_back("B:" + bytes->data);
    } else {
      const auto& error = std::get<ReaderError>(*event);
      out.push_back("E" + std::to_string(static_cast<int>(error.kind)) + (error.fatal ? "!" : "") +
                    ":" + error.tag);
    }
  }
  return out;
}

std::vector<std::string> whole(std::string_view input, ReaderLimits limits = {}, bool answer = true) {
  CommandReader reader(limits);
  reader.receive(input);
  return drain(reader, answer);
}

std::vector<std::string> bytewise(std::string_view input, ReaderLimits limits = {}, bool answer = true) {
  CommandReader reader(limits);
  std::vector<std::string> out;
  for (char c : input) {
    reader.receive(std::string_view(&c, 1));
    for (auto& e : drain(reader, answer)) out.push_back(e);
  }
  return out;
}

using V = std::vector<std::string>;

TEST(ImapCommandReader, PlainLinesWholeAndBytewise) {
  const std::string input = "a1 NOOP\r\na2 LOGIN joe pw\r\nx";
  const V expected{"C:a1 NOOP", "C:a2 LOGIN joe pw"};
  EXPECT_EQ(whole(input), expected);
  EXPECT_EQ(bytewise(input), expected);
}

TEST(ImapCommandReader, SynchronisingLiteralWaitsForContinuation) {
  CommandReader reader;
  reader.receive("a LOGIN {3}\r\n");
  auto event = reader.next_event();
  ASSERT_TRUE(event);
  auto* need = std::get_if<NeedContinuation>(&*event);
  ASSERT_TRUE(need);
  EXPECT_EQ(need->size, 3u);
  EXPECT_EQ(need->tag, "a");
  EXPECT_TRUE(reader.awaiting_continuation());
  reader.receive("joe {2}\r\n");
  EXPECT_FALSE(reader.next_event());  // nothing is read before the driver decides
  reader.continue_literal();
  EXPECT_EQ(drain(reader), (V{"+2:a"}));
  reader.receive("pw\r\n");
  EXPECT_EQ(drain(reader), (V{"C:a LOGIN {joe} {pw}"}));
}

TEST(ImapCommandReader, LiteralsWholeAndBytewise) {
  using namespace std::string_literals;
  const std::string data =
      "a LOGIN {3}\r\njoe {2}\r\npw\r\n"
      "b APPEND x {5+}\r\nab\r\nc\r\n"
      "c X ~{3}\r\n\0\1\2 y\r\n"
      "d X {0}\r\n\r\n"s;
  const V expected{"+3:a", "+2:a", "C:a LOGIN {joe} {pw}", "C:b APPEND x {ab\r\nc+}", "+3:c",
                   std::string("C:c X ~{\0\1\2} y", 14), "+0:d", "C:d X {}"};
  EXPECT_EQ(whole(data), expected);
  EXPECT_EQ(bytewise(data), expected);
}

TEST(ImapCommandReader, CompleteInputArrivesAsOneLiteralPayloadMarker) {
  // A literal's octets are never split into lines, even when they hold CRLF or "{5}\r\n".
  EXPECT_EQ(whole("a X {7+}\r\n{5}\r\n\r\n\r\n"), (V{"C:a X {{5}\r\n\r\n+}"}));
}

TEST(ImapCommandReader, RejectedLiteralDropsCommand) {
  EXPECT_EQ(whole("a APPEND x {10}\r\nb NOOP\r\n", {}, false), (V{"+10:a", "C:b NOOP"}));
  EXPECT_EQ(bytewise("a APPEND x {10}\r\nb NOOP\r\n", {}, false), (V{"+10:a", "C:b NOOP"}));
}

TEST(ImapCommandReader, TooBigReportedBeforeReadingTheLiteral) {
  ReaderLimits limits;
  limits.max_literal_size = 100;
  CommandReader reader(limits);
  reader.receive("a APPEND INBOX {101}\r\n");
  auto event = reader.next_event();
  ASSERT_TRUE(event);
  auto* error = std::get_if<ReaderError>(&*event);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, ReaderErrorKind::literal_too_big);
  EXPECT_FALSE(error->fatal);
  EXPECT_EQ(error->tag, "a");
  EXPECT_EQ(error->literal_size, 101u);
  EXPECT_TRUE(error->reason().starts_with("[TOOBIG]"));
  // The client got no "+", sends no literal: the reader is at a command boundary.
  reader.receive("b NOOP\r\n");
  EXPECT_EQ(drain(reader), (V{"C:b NOOP"}));
}

TEST(ImapCommandReader, NonSynchronisingTooBigIsFatal) {
  ReaderLimits limits;
  limits.max_literal_size = 100;
  CommandReader reader(limits);
  reader.receive("a APPEND INBOX {101+}\r\nxxxx\r\nb NOOP\r\n");
  EXPECT_EQ(drain(reader), (V{"E1!:a"}));
  EXPECT_TRUE(reader.closed());
  reader.receive("c NOOP\r\n");
  EXPECT_FALSE(reader.next_event());
  EXPECT_EQ(reader.buffered_input(), 0u);
}

TEST(ImapCommandReader, LiteralMinusLimitsNonSynchronising) {
  ReaderLimits limits;
  limits.literal_minus = true;
  EXPECT_EQ(whole("a X {4096+}\r\n" + std::string(4096, 'x') + "\r\n", limits).size(), 1u);
  EXPECT_EQ(whole("a X {4097+}\r\n", limits), (V{"E1!:a"}));
  EXPECT_EQ(whole("a X {4097}\r\n", limits, false), (V{"+4097:a"}));  // sync: any size
}

TEST(ImapCommandReader, HugeAnnouncedSize) {
  EXPECT_EQ(whole("a APPEND x {99999999999999999999}\r\nb NOOP\r\n"), (V{"E1:a", "C:b NOOP"}));
  EXPECT_EQ(whole("a APPEND x {99999999999999999999+}\r\nb NOOP\r\n"), (V{"E1!:a"}));
}

TEST(ImapCommandReader, OverLongLineIsDroppedAndReported) {
  ReaderLimits limits;
  limits.max_line_length = 64;
  const std::string input = "a1 NOOP\r\na2 X " + std::string(200, 'y') + "\r\na3 NOOP\r\n";
  // The tag of the dropped line is kept for the tagged BAD (RFC 9051 §7.1.3).
  const V expected{"C:a1 NOOP", "E0:a2", "C:a3 NOOP"};
  EXPECT_EQ(whole(input, limits), expected);
  EXPECT_EQ(bytewise(input, limits), expected);
  CommandReader reader(limits);
  for (int i = 0; i < 1000; ++i) {
    reader.receive(std::string(100, 'z'));
    EXPECT_FALSE(reader.next_event());
    EXPECT_LE(reader.buffered_input(), 164u);
  }
}

TEST(ImapCommandReader, OverLongLineWithoutReadableTagAndWithLiterals) {
  ReaderLimits limits;
  limits.max_line_length = 64;
  // No SP in the kept head: no tag to answer.
  const std::string no_tag = std::string(300, 'x') + "\r\nb NOOP\r\n";
  EXPECT_EQ(whole(no_tag, limits), (V{"E0:", "C:b NOOP"}));
  EXPECT_EQ(bytewise(no_tag, limits), (V{"E0:", "C:b NOOP"}));
  // A synchronising literal announced at its end: the client waits for "+", so refusing
  // the line keeps the stream in step.
  const std::string sync = "s1 ID (" + std::string(100, 'y') + " {5}\r\nb NOOP\r\n";
  EXPECT_EQ(whole(sync, limits), (V{"E0:s1", "C:b NOOP"}));
  EXPECT_EQ(bytewise(sync, limits), (V{"E0:s1", "C:b NOOP"}));
  // A non-synchronising one: its octets follow unasked and are read and thrown away with
  // the rest of the command (more lines and literals), then the stream is in step again.
  const std::string nonsync = "n1 ID (" + std::string(100, 'y') + " {5+}\r\nhello {3+}\r\n" +
                              "a\r\n " + std::string(100, 'z') + " {2+}\r\nxy)\r\nb NOOP\r\n";
  EXPECT_EQ(whole(nonsync, limits), (V{"E0:n1", "C:b NOOP"}));
  EXPECT_EQ(bytewise(nonsync, limits), (V{"E0:n1", "C:b NOOP"}));
  // Bigger than a literal may be: out of sync, the connection must end.
  limits.max_literal_size = 1000;
  const std::string huge = "n2 X " + std::string(100, 'y') + " {1001+}\r\n" + std::string(1001, 'q');
  EXPECT_EQ(whole(huge, limits), (V{"E0!:n2"}));
  const std::string huge_later = "n3 X " + std::string(100, 'y') + " {1+}\r\nq {1001+}\r\n";
  EXPECT_EQ(whole(huge_later, limits), (V{"E0:n3", "E0!:"}));
}

TEST(ImapCommandReader, OverLongContinuationLineDropsCommand) {
  ReaderLimits limits;
  limits.max_line_length = 32;
  const std::string input = "a X {2+}\r\nok " + std::string(64, 'y') + "\r\nb NOOP\r\n";
  EXPECT_EQ(whole(input, limits), (V{"E0:a", "C:b NOOP"}));
}

TEST(ImapCommandReader, TooManyLiterals) {
  ReaderLimits limits;
  limits.max_literals = 2;
  EXPECT_EQ(whole("a X {1+}\r\n1 {1+}\r\n2 {1}\r\nb NOOP\r\n", limits), (V{"E2:a", "C:b NOOP"}));
}

TEST(ImapCommandReader, CommandSizeBounded) {
  ReaderLimits limits;
  limits.max_command_size = 50;
  EXPECT_EQ(whole("a X {30+}\r\n" + std::string(30, 'x') + " {30}\r\nb NOOP\r\n", limits),
            (V{"E3:a", "C:b NOOP"}));
}

TEST(ImapCommandReader, UnterminatedLiteralAtEof) {
  CommandReader reader;
  reader.receive("a APPEND x {100+}\r\nshort");
  EXPECT_FALSE(reader.next_event());
  EXPECT_EQ(reader.buffered_input(), 0u);  // payload moved into the command
  EXPECT_FALSE(reader.awaiting_continuation());
}

TEST(ImapCommandReader, NotALiteralMarker) {
  // "{abc}" or "{}" at the end is no literal: the line is a command for the tokenizer.
  EXPECT_EQ(whole("a X {abc}\r\nb X {}\r\nc X {+}\r\n"), (V{"C:a X {abc}", "C:b X {}", "C:c X {+}"}));
}

TEST(ImapCommandReader, NulPassesFramingInLine) {
  const std::string input("a X \0y\r\n", 8);
  EXPECT_EQ(whole(input), (V{std::string("C:a X \0y", 8)}));
}

TEST(ImapLiteralMarker, Forms) {
  auto sync = find_literal_marker("a LOGIN {12}");
  ASSERT_TRUE(sync);
  EXPECT_EQ(sync->size, 12u);
  EXPECT_TRUE(sync->synchronizing);
  EXPECT_FALSE(sync->binary);
  EXPECT_EQ(sync->marker_length, 4u);
  auto plus = find_literal_marker("a X {0+}");
  ASSERT_TRUE(plus);
  EXPECT_EQ(plus->size, 0u);
  EXPECT_FALSE(plus->synchronizing);
  EXPECT_EQ(plus->marker_length, 4u);
  auto binary = find_literal_marker("a X ~{7+}");
  ASSERT_TRUE(binary);
  EXPECT_TRUE(binary->binary);
  EXPECT_EQ(binary->marker_length, 5u);  // "~{7+}"
  auto huge = find_literal_marker("{99999999999999999999999999}");
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->size, UINT64_MAX);
  for (std::string_view text : {"", "}", "{}", "{+}", "a {1-}", "a {1 }", "a 1}", "a {1}x", "{-1}"}) {
    EXPECT_FALSE(find_literal_marker(text)) << text;
  }
}

}  // namespace
}  // namespace postamt::proto::imap

namespace postamt::proto::imap {
namespace {

TEST(ImapCommandReader, BigAppendLiteralIsSpilledInPieces) {
  ReaderLimits limits;
  limits.spill_threshold = 8;
  CommandReader reader(limits);
  reader.receive("a APPEND INBOX {10+}\r\n0123");
  EXPECT_EQ(drain(reader), (V{"B:0123"}));
  reader.receive("456789\r\nb NOOP\r\n");
  EXPECT_EQ(drain(reader), (V{"B:456789", "C:a APPEND INBOX {spilled 10+}", "C:b NOOP"}));
  // Under the threshold, or another command: held as before.
  EXPECT_EQ(whole("a append x {7+}\r\n0123456\r\n", limits), (V{"C:a append x {0123456+}"}));
  EXPECT_EQ(whole("a LOGIN {9+}\r\n012345678 x\r\n", limits), (V{"C:a LOGIN {012345678+} x"}));
  // Case-insensitive, synchronising too, and bytewise arrival.
  const V spilled = bytewise("a Append x {8}\r\nabcdefgh\r\n", limits);
  ASSERT_EQ(spilled.size(), 10u);
  EXPECT_EQ(spilled.front(), "+8:a");
  EXPECT_EQ(spilled.back(), "C:a Append x {spilled 8}");
}

// The fuzz_imap_command finding: an APPEND whose first literal was spilled, then a second,
// synchronising literal that the driver refuses. The whole command is dropped, spilled
// octets included (the driver discards them); nothing of it leaks into the next command.
TEST(ImapCommandReader, RefusedLiteralAfterSpilledOneDropsWholeCommand) {
  ReaderLimits limits;
  limits.spill_threshold = 4;
  CommandReader reader(limits);
  reader.receive("a APPEND INBOX {6+}\r\nmmmmmm x ~{9}\r\n");
  EXPECT_EQ(drain(reader, false), (V{"B:mmmmmm", "+9:a"}));
  EXPECT_FALSE(reader.awaiting_continuation());
  EXPECT_EQ(reader.command_bytes(), 0u);
  EXPECT_TRUE(reader.pending_command().lines.empty());
  reader.receive("b NOOP\r\nc APPEND INBOX {5+}\r\nzzzzz\r\n");
  EXPECT_EQ(drain(reader), (V{"C:b NOOP", "B:zzzzz", "C:c APPEND INBOX {spilled 5+}"}));
  // The same after a ReaderError on a later literal of the spilled command.
  limits.max_literals = 1;
  CommandReader limited(limits);
  limited.receive("a APPEND INBOX {6+}\r\nmmmmmm x {2}\r\nb NOOP\r\n");
  EXPECT_EQ(drain(limited), (V{"B:mmmmmm", "E2:a", "C:b NOOP"}));
}

TEST(ImapCommandReader, LimitsChangeBetweenCommands) {
  ReaderLimits before_login;
  before_login.max_literal_size = 16;
  before_login.max_command_size = 64;
  CommandReader reader(before_login);
  reader.receive("a LOGIN {17}\r\n");
  EXPECT_EQ(drain(reader), (V{"E1:a"}));  // refused without "+"
  reader.receive("b LOGIN {5+}\r\nalice x\r\n");
  EXPECT_EQ(drain(reader), (V{"C:b LOGIN {alice+} x"}));
  ReaderLimits after_login;
  after_login.max_line_length = 8;  // ignored: the line limit stays
  reader.set_limits(after_login);
  EXPECT_EQ(reader.limits().max_line_length, ReaderLimits{}.max_line_length);
  reader.receive("c APPEND x {17+}\r\n" + std::string(17, 'm') + "\r\n");
  EXPECT_EQ(drain(reader).size(), 1u);
  reader.set_limits(before_login);
  reader.receive("d APPEND x {52428800+}\r\nxxxx");
  EXPECT_EQ(drain(reader), (V{"E1!:d"}));  // non-synchronising: fatal, nothing buffered
  EXPECT_TRUE(reader.closed());
}

}  // namespace
}  // namespace postamt::proto::imap
