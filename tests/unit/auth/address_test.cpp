#include "auth/address.hpp"

#include <gtest/gtest.h>

namespace postamt::auth {
namespace {

TEST(NormalizeDomain, LowerCasesAndStripsOneTrailingDot) {
  EXPECT_EQ(normalize_domain("Example.COM"), "example.com");
  EXPECT_EQ(normalize_domain("example.com."), "example.com");
  EXPECT_EQ(normalize_domain("localhost"), "localhost");
  EXPECT_EQ(normalize_domain("a-b.c0.example"), "a-b.c0.example");
  EXPECT_EQ(normalize_domain("xn--bcher-kva.EXAMPLE"), "xn--bcher-kva.example");
  EXPECT_EQ(normalize_domain("B\xc3\xbc"
                             "cher.Example"),
            "b\xc3\xbc"
            "cher.example")
      << "UTF-8 labels are kept; only ASCII is lower-cased";
}

TEST(NormalizeDomain, RefusesBadNames) {
  for (const std::string& bad :
       {std::string(), std::string("."), std::string("example.com.."), std::string(".example.com"),
        std::string("a..b"), std::string("-a.example"), std::string("a-.example"),
        std::string("a_b.example"), std::string("a b.example"), std::string("a\tb.example"),
        std::string("[127.0.0.1]"), std::string("a@b"), std::string("exa\xffmple.com"),
        std::string("\xc3.com"), std::string(64, 'a') + ".example", std::string(254, 'a')}) {
    auto result = normalize_domain(bad);
    EXPECT_FALSE(result) << "accepted: " << bad;
    if (!result) {
      EXPECT_FALSE(result.error().empty());
      EXPECT_EQ(result.error().back(), '.') << "one sentence: " << result.error();
    }
  }
}

TEST(NormalizeDomain, LengthLimits) {
  const std::string label63(63, 'a');
  EXPECT_TRUE(normalize_domain(label63 + ".example"));
  // 4 labels of 63 plus 3 dots = 255 octets: too long; 253 is the limit.
  const std::string long_name = label63 + "." + label63 + "." + label63 + "." + label63;
  EXPECT_FALSE(normalize_domain(long_name));
  const std::string at_limit = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
  ASSERT_EQ(at_limit.size(), 253u);
  EXPECT_TRUE(normalize_domain(at_limit));
  EXPECT_TRUE(normalize_domain(at_limit + ".")) << "the trailing dot does not count";
}

TEST(NormalizeAddress, LowerCasesTheDomainOnly) {
  EXPECT_EQ(normalize_address("Alice@Example.COM"), "Alice@example.com");
  EXPECT_EQ(normalize_address("first.last+tag@example.com."), "first.last+tag@example.com");
  EXPECT_EQ(normalize_address("j\xc3\xb6rg@example.com"), "j\xc3\xb6rg@example.com");
  EXPECT_EQ(normalize_address("!#$%&'*/=?^_`{|}~-@example.com"), "!#$%&'*/=?^_`{|}~-@example.com");
}

TEST(NormalizeAddress, RefusesBadAddresses) {
  for (const std::string& bad :
       {std::string(), std::string("alice"), std::string("@example.com"), std::string("alice@"),
        std::string("a@b@example.com"), std::string(" alice@example.com"),
        std::string("alice @example.com"), std::string("<alice@example.com>"),
        std::string("al<ice@example.com"), std::string("alice\r\n@example.com"),
        std::string("al\x7f"
                    "ice@example.com"),
        std::string("al\0ice@example.com", 18), std::string("al\xc3@example.com"),
        std::string("alice@exa mple.com"), std::string(65, 'x') + "@example.com",
        std::string("alice@-example.com")}) {
    auto result = normalize_address(bad);
    EXPECT_FALSE(result) << "accepted: " << bad;
    if (!result) {
      EXPECT_EQ(result.error().back(), '.') << result.error();
    }
  }
}

TEST(NormalizeAddress, LengthLimits) {
  EXPECT_TRUE(normalize_address(std::string(64, 'x') + "@example.com"));
  // 64 + 1 + 189 = 254 octets is the longest path (RFC 5321 §4.5.3.1.3).
  const std::string domain189 =
      std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(61, 'c');
  ASSERT_EQ(domain189.size(), 189u);
  EXPECT_TRUE(normalize_address(std::string(64, 'x') + "@" + domain189));
  EXPECT_FALSE(normalize_address(std::string(64, 'x') + "@" + domain189 + "d"));
}

TEST(NormalizeAliasSource, AddressOrCatchAll) {
  EXPECT_EQ(normalize_alias_source("Postmaster@EXAMPLE.com"), "Postmaster@example.com");
  EXPECT_EQ(normalize_alias_source("@Example.COM."), "@example.com");
  EXPECT_FALSE(normalize_alias_source("@"));
  EXPECT_FALSE(normalize_alias_source("@@example.com"));
  EXPECT_FALSE(normalize_alias_source("example.com"));
  EXPECT_FALSE(normalize_alias_source(""));
}

}  // namespace
}  // namespace postamt::auth
