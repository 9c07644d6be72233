#include "proto/imap/tokenizer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace postamt::proto::imap {
namespace {

Command line_command(std::string line) {
  Command command;
  command.lines.push_back(std::move(line));
  return command;
}

// Renders values: atoms bare, quoted as "..", literals as {..}, NIL as NIL, lists as (..).
std::string render(const Value& value) {
  switch (value.kind) {
    case Value::Kind::atom: return value.text;
    case Value::Kind::quoted: return "\"" + value.text + "\"";
    case Value::Kind::literal: return (value.binary ? "~{" : "{") + value.text + "}";
    case Value::Kind::nil: return "NIL";
    case Value::Kind::list: {
      std::string out = "(";
      for (std::size_t i = 0; i < value.items.size(); ++i) {
        if (i) out += " ";
        out += render(value.items[i]);
      }
      return out + ")";
    }
  }
  return "?";
}

std::string render(const ParsedCommand& command) {
  std::string out = command.tag + "|" + command.name;
  for (const Value& value : command.arguments) out += "|" + render(value);
  return out;
}

std::string parse(std::string line) {
  auto result = tokenize(line_command(std::move(line)));
  return result ? render(*result) : "ERR:" + result.error();
}

TEST(ImapTokenizer, TagNameAndAtoms) {
  EXPECT_EQ(parse("a1 noop"), "a1|NOOP");
  EXPECT_EQ(parse("A002 uid fetch 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100>)"),
            "A002|UID|fetch|1:*|(FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100>)");
  EXPECT_EQ(parse("t STORE 1 +FLAGS (\\Seen \\Deleted)"), "t|STORE|1|+FLAGS|(\\Seen \\Deleted)");
  EXPECT_EQ(parse("t LIST \"\" %/*"), "t|LIST|\"\"|%/*");
  EXPECT_EQ(parse("t X nil NIL Nil nile"), "t|X|NIL|NIL|NIL|nile");
}

// RFC 9051 §9: "[" is an ATOM-CHAR and "]" an ASTRING-CHAR; only a FETCH section after
// BODY/BINARY spans SP inside "[...]" (issue 17: mailbox names with "[" were split).
TEST(ImapTokenizer, BracketsOutsideSectionsAreOrdinaryCharacters) {
  EXPECT_EQ(parse("t SELECT a[b"), "t|SELECT|a[b");
  EXPECT_EQ(parse("t SELECT x[y z]"), "t|SELECT|x[y|z]");
  EXPECT_EQ(parse("t LIST \"\" a[%"), "t|LIST|\"\"|a[%");
  EXPECT_EQ(parse("t SELECT !#$&'+,-.0123456789:;<=>?@^_`|}~[]"),
            "t|SELECT|!#$&'+,-.0123456789:;<=>?@^_`|}~[]");
  EXPECT_EQ(parse("t FETCH 1 (body[HEADER.FIELDS (A B)] Binary.Peek[1] BINARY.SIZE[2])"),
            "t|FETCH|1|(body[HEADER.FIELDS (A B)] Binary.Peek[1] BINARY.SIZE[2])");
  EXPECT_TRUE(parse("t FETCH 1 BODY[HEADER.FIELDS (A").starts_with("ERR:"));
}

TEST(ImapTokenizer, Tags) {
  EXPECT_TRUE(is_valid_tag("a1"));
  EXPECT_TRUE(is_valid_tag("x]y"));
  EXPECT_FALSE(is_valid_tag(""));
  EXPECT_FALSE(is_valid_tag("a+b"));
  EXPECT_FALSE(is_valid_tag("a*"));
  EXPECT_FALSE(is_valid_tag("a%"));
  EXPECT_FALSE(is_valid_tag("a\\"));
  EXPECT_FALSE(is_valid_tag("\xc3\xa4"));
  EXPECT_EQ(parse("+ NOOP"), "ERR:Invalid tag");
  EXPECT_EQ(parse("a*b NOOP"), "ERR:Invalid tag");
  EXPECT_EQ(parse(""), "ERR:Missing tag");
  EXPECT_EQ(parse(" NOOP"), "ERR:Missing tag");
  EXPECT_EQ(parse("a"), "ERR:Missing command name");
  EXPECT_EQ(parse("a "), "ERR:Missing command name");
  EXPECT_EQ(parse("a N*OP"), "ERR:Invalid command name");
}

TEST(ImapTokenizer, QuotedStrings) {
  EXPECT_EQ(parse(R"(a LOGIN "jo e" "p\"w\\d")"), R"(a|LOGIN|"jo e"|"p"w\d")");
  EXPECT_EQ(parse(R"(a X "")"), R"(a|X|"")");
  EXPECT_EQ(parse("a X \"\xc3\xa4\""), "a|X|\"\xc3\xa4\"");
  EXPECT_EQ(parse(R"(a X "abc)"), "ERR:Unterminated quoted string");
  EXPECT_EQ(parse(R"(a X "abc\)"), "ERR:Unterminated quoted string");
  EXPECT_EQ(parse(R"(a X "a\nb")"), "ERR:Invalid escape in quoted string");
  EXPECT_EQ(parse(std::string("a X \"a\0b\"", 9)), "ERR:NUL in quoted string");
}

TEST(ImapTokenizer, Spacing) {
  EXPECT_EQ(parse("a X  b"), "ERR:Invalid character");
  EXPECT_EQ(parse("a X b "), "ERR:Missing argument");
  EXPECT_EQ(parse("a X (b  c)"), "ERR:Invalid character");
  EXPECT_EQ(parse("a X (b c"), "ERR:Expected SP or ) in list");
  EXPECT_EQ(parse("a X b)"), "ERR:Expected SP between arguments");
  EXPECT_EQ(parse("a X )"), "ERR:Unexpected character");
  EXPECT_EQ(parse("a X {5}"), "ERR:Unexpected character");
  EXPECT_EQ(parse(std::string("a X \0", 5)), "ERR:Invalid character");
}

TEST(ImapTokenizer, NestedLists) {
  EXPECT_EQ(parse("a X () ((a) (b (c)) \"d\" NIL)"), "a|X|()|((a) (b (c)) \"d\" NIL)");
  std::string deep = "a X " + std::string(32, '(') + std::string(32, ')');
  EXPECT_TRUE(tokenize(line_command(deep)).has_value());
  deep = "a X " + std::string(33, '(') + std::string(33, ')');
  EXPECT_EQ(parse(deep), "ERR:Parentheses nested too deep");
  EXPECT_EQ(parse("a X " + std::string(5000, '(')), "ERR:Parentheses nested too deep");
}

TEST(ImapTokenizer, ValueCountBounded) {
  std::string line = "a X";
  for (int i = 0; i < 20; ++i) line += " x";
  TokenizerLimits limits;
  limits.max_values = 10;
  auto result = tokenize(line_command(line), limits);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), "Too many arguments");
}

TEST(ImapTokenizer, Literals) {
  Command command;
  command.lines = {"a LOGIN ", " ", ""};
  command.literals = {Literal{"joe", false, true}, Literal{"p w", false, false}};
  auto result = tokenize(command);
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(render(*result), "a|LOGIN|{joe}|{p w}");

  command.lines = {"a APPEND INBOX (\\Seen) ", ""};
  command.literals = {Literal{std::string("\0\1", 2), true, false}};
  result = tokenize(command);
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(result->arguments.back().kind, Value::Kind::literal);
  EXPECT_TRUE(result->arguments.back().binary);
  EXPECT_EQ(result->arguments.back().text, std::string("\0\1", 2));

  command.literals = {Literal{std::string("\0\1", 2), false, false}};
  EXPECT_EQ(tokenize(command).error(), "NUL in literal");

  command.lines = {"a X (", " b)", ""};
  command.literals = {Literal{"x", false, true}, Literal{"", false, true}};
  EXPECT_EQ(tokenize(command).error(), "Expected SP between arguments");
  command.lines = {"a X (", " b)"};
  command.literals = {Literal{"x", false, true}};
  result = tokenize(command);
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(render(*result), "a|X|({x} b)");

  command.lines = {"a LOGIN", ""};  // literal not separated by SP
  EXPECT_EQ(tokenize(command).error(), "Expected SP between arguments");
  command.lines = {"a X"};  // malformed framing
  EXPECT_EQ(tokenize(command).error(), "Malformed command");
}

TEST(ImapTokenizer, MovesLiteralsOutOfAnRvalue) {
  Command command;
  command.lines = {"a APPEND INBOX ", ""};
  command.literals = {Literal{std::string(1000, 'm'), false, true}};
  auto copied = tokenize(command);
  ASSERT_TRUE(copied);
  EXPECT_EQ(command.literals[0].data.size(), 1000u);
  auto moved = tokenize(std::move(command));
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->arguments.back().text, std::string(1000, 'm'));
  EXPECT_EQ(copied->arguments.back().text, moved->arguments.back().text);
}

TEST(ImapTokenizer, FromTheReader) {
  CommandReader reader;
  reader.receive("a1 APPEND \"Sent\" (\\Seen) {11+}\r\nhello world\r\n");
  auto event = reader.next_event();
  ASSERT_TRUE(event);
  auto result = tokenize(std::get<Command>(*event));
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(render(*result), "a1|APPEND|\"Sent\"|(\\Seen)|{hello world}");
}

}  // namespace
}  // namespace postamt::proto::imap
