#include "smtp/filter_edits.hpp"

#include <gtest/gtest.h>

namespace postamt::smtp {
namespace {

// The edit applied to `message` the way MessageSpool::finish does (no trace fields).
std::string applied(std::string_view message, MessageSpool::HeadEdit edit) {
  edit.normalise();
  std::string out = edit.prepend;
  std::size_t at = 0;
  for (const auto& splice : edit.splices) {
    if (splice.begin < at) continue;
    out.append(message.substr(at, splice.begin - at));
    out += splice.text;
    at = std::max(splice.begin, splice.end);
  }
  out.append(message.substr(at));
  return out;
}

constexpr std::string_view kMessage =
    "From: a@example.org\r\n"
    "Subject: hello\r\n"
    "X-Spam-Status: No, score=-100\r\n"
    "Subject: second\r\n"
    "\r\n"
    "body\r\n";

using Kind = filter::HeaderChange::Kind;

TEST(FilterEdits, AddGoesToTheEndOfTheHeaderAndInsertZeroToTheTop) {
  MessageSpool::HeadEdit edit;
  add_header_changes(kMessage, {{Kind::add, "X-Added", "1", 0}, {Kind::insert, "X-Top", "2", 0}}, false, edit);
  EXPECT_EQ(applied(kMessage, edit),
            "X-Top: 2\r\nFrom: a@example.org\r\nSubject: hello\r\nX-Spam-Status: No, score=-100\r\n"
            "Subject: second\r\nX-Added: 1\r\n\r\nbody\r\n");
}

TEST(FilterEdits, InsertByIndexGoesBeforeThatField) {
  MessageSpool::HeadEdit edit;
  add_header_changes(kMessage, {{Kind::insert, "X-In", "v", 1}}, false, edit);
  EXPECT_TRUE(applied(kMessage, edit).starts_with("From: a@example.org\r\nX-In: v\r\nSubject: hello\r\n"));
}

TEST(FilterEdits, ChangeReplacesTheNthOccurrenceAndEmptyDeletes) {
  MessageSpool::HeadEdit edit;
  add_header_changes(kMessage, {{Kind::change, "subject", "changed", 2}, {Kind::change, "From", "", 1}}, false, edit);
  EXPECT_EQ(applied(kMessage, edit),
            "Subject: hello\r\nX-Spam-Status: No, score=-100\r\nsubject: changed\r\n\r\nbody\r\n");
}

TEST(FilterEdits, ChangeOfAMissingFieldAddsIt) {
  MessageSpool::HeadEdit edit;
  add_header_changes(kMessage, {{Kind::change, "X-New", "n", 1}}, false, edit);
  EXPECT_NE(applied(kMessage, edit).find("Subject: second\r\nX-New: n\r\n\r\n"), std::string::npos);
}

TEST(FilterEdits, IncomingVerdictFieldsAreDroppedFromOutsideMail) {
  MessageSpool::HeadEdit edit;
  add_header_changes(kMessage, {{Kind::insert, "X-Spam-Status", "Yes, score=9.00", 0}}, true, edit);
  EXPECT_EQ(applied(kMessage, edit),
            "X-Spam-Status: Yes, score=9.00\r\nFrom: a@example.org\r\nSubject: hello\r\nSubject: second\r\n"
            "\r\nbody\r\n");
}

TEST(FilterEdits, ValuesCannotSmuggleFields) {
  EXPECT_EQ(header_field_line("X-A", "one\r\nBcc: evil@example.org"), "X-A: one Bcc: evil@example.org\r\n");
  // A filter's own folding is kept.
  EXPECT_EQ(header_field_line("X-A", "one\r\n\ttwo"), "X-A: one\r\n\ttwo\r\n");
}

TEST(FilterEdits, LongValuesAreFoldedAtCommas) {
  std::string tests = "Yes, score=9.00, tests=";
  for (int i = 0; i < 12; ++i) tests += "rspamd:SYMBOL_NUMBER_" + std::to_string(i) + ",";
  tests.pop_back();
  const std::string line = header_field_line("X-Spam-Status", tests);
  std::size_t start = 0;
  while (start < line.size()) {
    const std::size_t end = line.find("\r\n", start);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - start, 78u) << line;
    start = end + 2;
  }
  // Unfolded, the value is what was given.
  std::string unfolded = line.substr(std::string("X-Spam-Status: ").size());
  std::string joined;
  for (std::size_t i = 0; i < unfolded.size(); ++i) {
    if (unfolded.compare(i, 3, "\r\n\t") == 0) {
      i += 2;
      continue;
    }
    joined += unfolded[i];
  }
  EXPECT_EQ(joined, tests + "\r\n");
}

}  // namespace
}  // namespace postamt::smtp
