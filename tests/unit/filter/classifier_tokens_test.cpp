// The built-in classifier's tokens (filter/classifier_tokens.hpp).
#include "filter/classifier_tokens.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace postamt::filter {
namespace {

bool has(const std::vector<std::string>& tokens, const std::string& token) {
  return std::ranges::find(tokens, token) != tokens.end();
}

TEST(ClassifierTokens, HeaderFieldsAndPlainBody) {
  const std::string message =
      "From: \"Cheap Pills\" <Offers@Pharma.Example>\r\n"
      "To: Alice Smith <alice@example.com>\r\n"
      "Subject: Buy CHEAP pills now!!!\r\n"
      "Received: from ignored.example by x\r\n"
      "Content-Type: text/plain; charset=us-ascii\r\n"
      "\r\n"
      "Hello, order today at pharma-shop.example ... a an it's ok.\r\n";
  const std::vector<std::string> tokens = classifier_token_texts(message);
  EXPECT_TRUE(has(tokens, "subject:buy"));
  EXPECT_TRUE(has(tokens, "subject:cheap"));
  EXPECT_TRUE(has(tokens, "subject:pills"));
  EXPECT_TRUE(has(tokens, "subject:now"));
  EXPECT_TRUE(has(tokens, "from:cheap"));
  EXPECT_TRUE(has(tokens, "from:addr:offers@pharma.example"));
  EXPECT_TRUE(has(tokens, "from:domain:pharma.example"));
  EXPECT_TRUE(has(tokens, "to:alice"));
  EXPECT_TRUE(has(tokens, "to:addr:alice@example.com"));
  EXPECT_TRUE(has(tokens, "hello"));
  EXPECT_TRUE(has(tokens, "order"));
  EXPECT_TRUE(has(tokens, "pharma-shop.example"));
  EXPECT_TRUE(has(tokens, "it's"));
  EXPECT_FALSE(has(tokens, "an")) << "shorter than 3";
  EXPECT_FALSE(has(tokens, "ignored.example")) << "other fields are not read";
  EXPECT_FALSE(has(tokens, "received:ignored.example"));
}

TEST(ClassifierTokens, DecodesQuotedPrintableAndBase64TextParts) {
  const std::string message =
      "Subject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n"  // "Grüße"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/alternative; boundary=b\r\n"
      "\r\n"
      "--b\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n"
      "\r\n"
      "Gr=C3=BC=C3=9Fe aus M=C3=BCnchen, softwrapped=\r\n"
      "word\r\n"
      "--b\r\n"
      "Content-Type: text/html\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "\r\n"
      "PHA+VmlhZ3JhIGJhcmdhaW48L3A+\r\n"  // "<p>Viagra bargain</p>"
      "--b\r\n"
      "Content-Type: application/octet-stream\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "\r\n"
      "c2VjcmV0cGF5bG9hZA==\r\n"  // "secretpayload": not text
      "--b--\r\n";
  const std::vector<std::string> tokens = classifier_token_texts(message);
  EXPECT_TRUE(has(tokens, "subject:grüße"));
  EXPECT_TRUE(has(tokens, "grüße"));
  EXPECT_TRUE(has(tokens, "münchen"));
  EXPECT_TRUE(has(tokens, "softwrappedword"));
  EXPECT_TRUE(has(tokens, "viagra"));
  EXPECT_TRUE(has(tokens, "bargain"));
  EXPECT_FALSE(has(tokens, "secretpayload"));
  EXPECT_FALSE(has(tokens, "c2vjcmv0cgf5bg9hza"));
}

TEST(ClassifierTokens, DistinctAndBounded) {
  std::string message = "Subject: same same same\r\n\r\n";
  for (int i = 0; i < 3000; ++i) message += "word" + std::to_string(i) + " ";
  message += "\r\n";
  const std::vector<std::string> texts = classifier_token_texts(message, 100);
  EXPECT_EQ(texts.size(), 100u);
  EXPECT_EQ(std::ranges::count(texts, "subject:same"), 1);
  const std::vector<std::uint64_t> hashes = classifier_tokens(message);
  EXPECT_EQ(hashes.size(), kMaxClassifierTokens);
  std::vector<std::uint64_t> sorted = hashes;
  std::ranges::sort(sorted);
  EXPECT_EQ(std::ranges::adjacent_find(sorted), sorted.end());
}

TEST(ClassifierTokens, OverlongWordsAreSkipped) {
  const std::string message = "Subject: x\r\n\r\n" + std::string(41, 'a') + " " + std::string(40, 'b') + "\r\n";
  const std::vector<std::string> tokens = classifier_token_texts(message);
  EXPECT_FALSE(has(tokens, std::string(41, 'a')));
  EXPECT_TRUE(has(tokens, std::string(40, 'b')));
}

// Found by fuzz_classifier_tokens: "Offers@." lost its full stop only after the check for a
// domain, giving "from:addr:offers@" and an empty "from:domain:".
TEST(ClassifierTokens, AddressWithoutDomainAfterTrimmingIsWords) {
  const std::string message =
      "From: \"Cheap Pills\" <Offers@.>, b@x.example.\r\n"
      "To: list@:;\r\n"
      "\r\n"
      "body\r\n";
  const std::vector<std::string> tokens = classifier_token_texts(message);
  for (const auto& token : tokens) {
    EXPECT_FALSE(token.ends_with("@")) << token;
    EXPECT_FALSE(token.ends_with(":domain:")) << token;
  }
  EXPECT_TRUE(has(tokens, "from:offers"));
  EXPECT_TRUE(has(tokens, "from:addr:b@x.example")) << "the sentence's full stop is dropped";
  EXPECT_TRUE(has(tokens, "from:domain:x.example"));
  EXPECT_TRUE(has(tokens, "to:list"));
}

TEST(ClassifierTokens, HashIsFnv1a64) {
  // Published FNV-1a 64 test values: "" and "a".
  EXPECT_EQ(token_hash(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(token_hash("a"), 0xaf63dc4c8601ec8cULL);
}

}  // namespace
}  // namespace postamt::filter
