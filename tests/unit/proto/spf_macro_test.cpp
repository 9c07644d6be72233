#include "proto/mailauth/spf_macro.hpp"

#include <gtest/gtest.h>

namespace postamt::mailauth {
namespace {

// RFC 7208 §7.4's examples: sender strong-bad@email.example.com, IP 192.0.2.3 / 2001:db8::cb01.
SpfMacroContext rfc_context(const char* ip = "192.0.2.3") {
  SpfMacroContext c;
  c.sender = "strong-bad@email.example.com";
  c.local_part = "strong-bad";
  c.sender_domain = "email.example.com";
  c.domain = "email.example.com";
  c.ip = *IpAddress::parse(ip);
  c.helo = "mx.example.org";
  c.validated_name = "mx.example.org";
  c.receiver = "receiver.example.net";
  c.timestamp = 1234567890;
  return c;
}

std::string expand(const char* text, const SpfMacroContext& context = rfc_context(),
                   MacroUse use = MacroUse::domain_spec) {
  auto out = expand_macros(text, context, use);
  EXPECT_TRUE(out) << text << ": " << out.error();
  return out ? *out : std::string();
}

TEST(SpfMacro, TheRfcExamples) {  // §7.4
  EXPECT_EQ(expand("%{s}"), "strong-bad@email.example.com");
  EXPECT_EQ(expand("%{o}"), "email.example.com");
  EXPECT_EQ(expand("%{d}"), "email.example.com");
  EXPECT_EQ(expand("%{d4}"), "email.example.com");
  EXPECT_EQ(expand("%{d3}"), "email.example.com");
  EXPECT_EQ(expand("%{d2}"), "example.com");
  EXPECT_EQ(expand("%{d1}"), "com");
  EXPECT_EQ(expand("%{dr}"), "com.example.email");
  EXPECT_EQ(expand("%{d2r}"), "example.email");
  EXPECT_EQ(expand("%{l}"), "strong-bad");
  EXPECT_EQ(expand("%{l-}"), "strong.bad");
  EXPECT_EQ(expand("%{lr}"), "strong-bad");
  EXPECT_EQ(expand("%{lr-}"), "bad.strong");
  EXPECT_EQ(expand("%{l1r-}"), "strong");
  EXPECT_EQ(expand("%{ir}.%{v}._spf.%{d2}"), "3.2.0.192.in-addr._spf.example.com");
  EXPECT_EQ(expand("%{lr-}.lp._spf.%{d2}"), "bad.strong.lp._spf.example.com");
  EXPECT_EQ(expand("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}"), "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
  EXPECT_EQ(expand("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}"), "3.2.0.192.in-addr.strong.lp._spf.example.com");
  EXPECT_EQ(expand("%{d2}.trusted-domains.example.net"), "example.com.trusted-domains.example.net");
  EXPECT_EQ(expand("%{ir}.%{v}._spf.%{d2}", rfc_context("2001:db8::cb01")),
            "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf.example.com");
}

TEST(SpfMacro, EscapesAndUrlEncodingForUpperCaseLetters) {  // §7.3
  EXPECT_EQ(expand("a%%b%_c%-d"), "a%b c%20d");
  SpfMacroContext c = rfc_context();
  c.local_part = "~jack&jill=up-a_b3.c";
  EXPECT_EQ(expand("%{L}", c), "~jack%26jill%3Dup-a_b3.c");
  EXPECT_EQ(expand("%{l}", c), "~jack&jill=up-a_b3.c");
}

TEST(SpfMacro, ExplanationOnlyLetters) {  // §7.2: c, r, t only in exp text
  EXPECT_FALSE(expand_macros("%{c}", rfc_context(), MacroUse::domain_spec));
  EXPECT_FALSE(expand_macros("%{r}.example.com", rfc_context(), MacroUse::domain_spec));
  EXPECT_EQ(expand("%{c} via %{r} at %{t}", rfc_context(), MacroUse::explanation),
            "192.0.2.3 via receiver.example.net at 1234567890");
  EXPECT_EQ(expand("%{c}", rfc_context("2001:db8::cb01"), MacroUse::explanation), "2001:db8::cb01");
  EXPECT_EQ(expand("%{p} %{h} %{v}", rfc_context("2001:db8::cb01"), MacroUse::explanation),
            "mx.example.org mx.example.org ip6");
}

TEST(SpfMacro, MultipleDelimitersAndDigitsBeyondTheParts) {
  SpfMacroContext c = rfc_context();
  c.local_part = "foo-bar+zip+quux";
  EXPECT_EQ(expand("%{l2r+-}", c), "bar.foo");
  EXPECT_EQ(expand("%{d99}"), "email.example.com");
  EXPECT_EQ(expand("%{d123456789012345678901234567890}"), "email.example.com");
}

TEST(SpfMacro, SyntaxErrors) {
  for (const char* bad : {"%", "%{", "%{d", "%{x}", "%{d0}", "%{d2rr}", "%{d2 }", "%a", "%(d)", "a b", "\x7f"})
    EXPECT_FALSE(check_macro_string(bad, MacroUse::domain_spec)) << bad;
  EXPECT_TRUE(check_macro_string("a b %{c}", MacroUse::explanation));
  EXPECT_FALSE(check_macro_string("caf\xc3\xa9", MacroUse::explanation));  // ASCII only (§6.2 exp text)
}

TEST(SpfMacro, DomainSpecsEndInAMacroOrATopLabel) {  // §4.6.1 domain-end
  for (const char* good : {"example.com", "example.com.", "%{d}", "foo.%{d}", "%{d}.com", "a.xn--zckzah", "x.1-2"})
    EXPECT_TRUE(check_domain_spec(good)) << good;
  for (const char* bad : {"", "com", "example.123", "example.-com", "example.com-", "example.com/24", "%{d}.", "-all"})
    EXPECT_FALSE(check_domain_spec(bad)) << bad;
}

TEST(SpfMacro, LongExpansionsLoseLabelsFromTheLeft) {  // §7.3
  SpfMacroContext c = rfc_context();
  c.sender_domain = "somewhat.long.exp.example.com";
  auto name = expand_domain_spec("foobar.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.example.com", c);
  ASSERT_TRUE(name);
  EXPECT_LE(name->size(), 253u);
  EXPECT_TRUE(name->starts_with("somewhat.long.exp.example.com.somewhat."));
  EXPECT_EQ(*expand_domain_spec("example.com.", c), "example.com");
  EXPECT_TRUE(uses_p_macro("%{p}.example.com"));
  EXPECT_TRUE(uses_p_macro("%{P2r}.example.com"));
  EXPECT_FALSE(uses_p_macro("%%{p}.example.com"));
}

}  // namespace
}  // namespace postamt::mailauth
