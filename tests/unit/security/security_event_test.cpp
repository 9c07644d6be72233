// security/security_event: the stored fields are always one JSON object that parses,
// whatever octets clients put into them.
#include "security/security_event.hpp"

#include <gtest/gtest.h>

namespace postamt::security {
namespace {

std::string json_of(std::vector<std::pair<std::string, std::string>> fields) {
  SecurityEvent event;
  event.fields = std::move(fields);
  return fields_json(event);
}

TEST(SecurityEventFields, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(json_of({}), "{}");
  EXPECT_EQ(json_of({{"why", "a \"b\" \\ c"}, {"n", "1"}}), R"({"why":"a \"b\" \\ c","n":"1"})");
  EXPECT_EQ(json_of({{"x", std::string("\r\n\x01\x7f", 4)}}), R"({"x":"\u000d\u000a\u0001\u007f"})");
}

// Octets that are not UTF-8 (a Latin-1 user name, a recipient cut at 320 octets inside a
// character) used to go into the JSON as they were; nlohmann, which `postamt security
// events` reads the row with, refuses such text, so the event showed no fields at all.
TEST(SecurityEventFields, OctetsThatAreNotUtf8BecomeReplacementCharacters) {
  EXPECT_EQ(json_of({{"user", "J\xfcrgen"}}), R"({"user":"J\ufffdrgen"})");
  const std::string cut = std::string(319, 'a') + "\xc3";  // "…é" cut after 320 octets
  EXPECT_EQ(json_of({{"recipient", cut}}), "{\"recipient\":\"" + std::string(319, 'a') + "\\ufffd\"}");
  // Overlong forms, surrogates and code points above U+10FFFF are not UTF-8 either.
  EXPECT_EQ(json_of({{"k", "\xc0\xaf"}}), R"({"k":"\ufffd\ufffd"})");
  EXPECT_EQ(json_of({{"k", "\xed\xa0\x80"}}), R"({"k":"\ufffd\ufffd\ufffd"})");
  EXPECT_EQ(json_of({{"k", "\xf4\x90\x80\x80"}}), R"({"k":"\ufffd\ufffd\ufffd\ufffd"})");
  // Well-formed UTF-8 stays as it is.
  EXPECT_EQ(json_of({{"J\xc3\xbcrgen", "\xe2\x82\xac \xf0\x9f\x93\xa8"}}),
            "{\"J\xc3\xbcrgen\":\"\xe2\x82\xac \xf0\x9f\x93\xa8\"}");
}

}  // namespace
}  // namespace postamt::security
