// Authentication-Results (RFC 8601): the writer's escaping and folding, the reader, and the
// removal of fields claiming our authserv-id. The examples follow RFC 8601 Appendix B's
// shapes (written here, not copied).
#include <gtest/gtest.h>

#include "proto/mailauth/auth_results.hpp"

namespace postamt::mailauth {
namespace {

AuthenticationResults parse_ok(std::string_view value) {
  auto parsed = parse_authentication_results(value);
  EXPECT_TRUE(parsed) << value << ": " << (parsed ? "" : parsed.error().message);
  return parsed ? *parsed : AuthenticationResults{};
}

// No line ending except CRLF followed by a TAB (folding), no line over 998 octets.
void expect_one_safe_field(std::string_view field) {
  ASSERT_TRUE(field.ends_with("\r\n"));
  const std::string_view body = field.substr(0, field.size() - 2);
  std::size_t line = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\r') {
      ASSERT_TRUE(i + 2 < body.size() && body[i + 1] == '\n' && body[i + 2] == '\t') << field;
      line = 0;
      ++i;
      continue;
    }
    ASSERT_NE(body[i], '\n') << field;
    ASSERT_NE(body[i], '\0') << field;
    ASSERT_LT(++line, 998u);
  }
}

TEST(AuthResults, EmptyIsNone) {
  AuthenticationResults ar{"mx.example.org", std::nullopt, {}};
  EXPECT_EQ(format_authentication_results_value(ar), " mx.example.org; none");
  EXPECT_EQ(format_authentication_results_field(ar), "Authentication-Results: mx.example.org; none\r\n");
  const auto parsed = parse_ok(" mx.example.org; none");
  EXPECT_EQ(parsed.authserv_id, "mx.example.org");
  EXPECT_TRUE(parsed.results.empty());
}

TEST(AuthResults, WritesTheUsualVerdicts) {
  AuthenticationResults ar{"mx.example.org", std::nullopt, {}};
  ar.results.push_back(AuthMethodResult{"spf", "pass", "", "", {}}.with("smtp", "mailfrom", "sender@example.net"));
  ar.results.push_back(AuthMethodResult{"dkim", "pass", "", "2048-bit key", {}}
                           .with("header", "d", "example.net")
                           .with("header", "s", "sel1")
                           .with("header", "b", "dCdcPHSq"));
  ar.results.push_back(AuthMethodResult{"dmarc", "pass", "", "", {}}.with("header", "from", "example.net"));
  const std::string value = format_authentication_results_value(ar);
  EXPECT_EQ(value,
            " mx.example.org; spf=pass\r\n"
            "\tsmtp.mailfrom=sender@example.net; dkim=pass (2048-bit key)\r\n"
            "\theader.d=example.net header.s=sel1 header.b=dCdcPHSq; dmarc=pass\r\n"
            "\theader.from=example.net");
  EXPECT_EQ(parse_ok(value), ar);
  expect_one_safe_field(format_authentication_results_field(ar));
}

TEST(AuthResults, InjectionAttemptsStayInsideTheirValue) {
  const std::vector<std::string> hostile = {
      "evil.example; dkim=pass header.d=bank.example",
      "x (comment) dmarc=pass",
      "\"quoted\\\" dkim=pass",
      "a\r\nAuthentication-Results: mx.example.org; dmarc=pass",
      "a\nX-Injected: yes",
      "(((",
      ")))",
      "\\",
      std::string("nul\0byte", 8),
      "\xff\xfe invalid utf-8",
      "ünïcödé.example",
      "",
      std::string(2000, 'A'),
  };
  for (const std::string& h : hostile) {
    AuthenticationResults ar{"mx.example.org", std::nullopt, {}};
    AuthMethodResult spf{"spf", "fail", h, h, {}};
    spf.with("smtp", "mailfrom", h).with("smtp", "helo", h);
    AuthMethodResult dkim{"dkim", "fail", "", "", {}};
    dkim.with("header", "d", h).with("header", "s", h).with("header", "i", h);
    ar.results = {spf, dkim};
    const std::string field = format_authentication_results_field(ar);
    SCOPED_TRACE(field);
    expect_one_safe_field(field);
    const std::string value = format_authentication_results_value(ar);
    const auto parsed = parse_ok(value);
    ASSERT_EQ(parsed.results.size(), 2u);
    EXPECT_EQ(parsed.authserv_id, "mx.example.org");
    EXPECT_EQ(parsed.results[0].method, "spf");
    EXPECT_EQ(parsed.results[0].result, "fail");
    ASSERT_EQ(parsed.results[0].properties.size(), 2u);
    ASSERT_EQ(parsed.results[1].properties.size(), 3u);
    EXPECT_EQ(parsed.results[1].method, "dkim");
    // What was clean comes back unchanged.
    if (h.find_first_of(std::string("\r\n\0\xff", 4)) == std::string::npos && h.size() <= kMaxAuthResultValue) {
      EXPECT_EQ(parsed.results[0].properties[0].value, h);
      EXPECT_EQ(parsed.results[0].reason, h);
      EXPECT_EQ(parsed.results[0].comment, h);
    }
    EXPECT_LE(parsed.results[1].properties[0].value.size(), kMaxAuthResultValue);
    // Writing what was read gives the same text.
    EXPECT_EQ(format_authentication_results_value(parsed), value);
  }
}

TEST(AuthResults, NonKeywordNamesAreLeftOut) {
  AuthenticationResults ar{"mx.example.org", std::nullopt, {}};
  ar.results.push_back(AuthMethodResult{"dkim=pass; spf", "pass", "", "", {}});
  ar.results.push_back(AuthMethodResult{"spf", "pass x", "", "", {}});
  ar.results.push_back(AuthMethodResult{"iprev", "pass", "", "", {}}.with("policy", "iprev=1 x", "v").with("policy", "iprev", "192.0.2.200"));
  EXPECT_EQ(format_authentication_results_value(ar), " mx.example.org; iprev=pass policy.iprev=192.0.2.200");
  ar.results.erase(ar.results.begin() + 2);
  EXPECT_EQ(format_authentication_results_value(ar), " mx.example.org; none");
}

TEST(AuthResults, QuotedAuthservIdAndValues) {
  AuthenticationResults ar{"odd id", 1u, {}};
  ar.results.push_back(AuthMethodResult{"dkim", "pass", "good signature", "", {}}.with("header", "b", "a+b/c=="));
  const std::string value = format_authentication_results_value(ar);
  EXPECT_EQ(value, " \"odd id\" 1; dkim=pass reason=\"good signature\"\r\n\theader.b=\"a+b/c==\"");
  EXPECT_EQ(parse_ok(value), ar);
}

TEST(AuthResults, ReadsRfc8601AppendixShapes) {
  // No authentication done.
  auto none = parse_ok(" example.org 1; none");
  EXPECT_EQ(none.version, 1u);
  EXPECT_TRUE(none.results.empty());
  // One SPF result.
  auto spf = parse_ok(" example.com; spf=pass smtp.mailfrom=example.net");
  ASSERT_EQ(spf.results.size(), 1u);
  EXPECT_EQ(spf.results[0].properties[0], (AuthResultProperty{"smtp", "mailfrom", "example.net"}));
  // SMTP AUTH and SPF, with a comment.
  auto two = parse_ok(" example.com;\r\n\tauth=pass (cram-md5) smtp.auth=sender@example.net;\r\n\tspf=pass smtp.mailfrom=example.net");
  ASSERT_EQ(two.results.size(), 2u);
  EXPECT_EQ(two.results[0].comment, "cram-md5");
  EXPECT_EQ(two.results[0].properties[0].value, "sender@example.net");
  // Two DKIM signatures, header.i with an empty local part.
  auto dkim = parse_ok(" example.com;\r\n    dkim=pass (good signature) header.i=@mail-router.example.net;\r\n"
                       "    dkim=fail (bad signature) header.i=@newyork.example.com");
  ASSERT_EQ(dkim.results.size(), 2u);
  EXPECT_EQ(dkim.results[1].result, "fail");
  EXPECT_EQ(dkim.results[1].properties[0].value, "@newyork.example.com");
  // Comments everywhere CFWS may go, a method version, a policy property.
  auto odd = parse_ok(" foo.example.net (foobar) 1 (baz);\r\n    dkim (Because I like it) / 1 (One yay) = (wait for it) fail\r\n"
                      "      policy (A dot can go here) . (like that) expired\r\n"
                      "      (this surprised me) = (as I wasn't expecting it) 1362471462");
  EXPECT_EQ(odd.authserv_id, "foo.example.net");
  EXPECT_EQ(odd.version, 1u);
  ASSERT_EQ(odd.results.size(), 1u);
  EXPECT_EQ(odd.results[0].method, "dkim");
  EXPECT_EQ(odd.results[0].result, "fail");
  ASSERT_EQ(odd.results[0].properties.size(), 1u);
  EXPECT_EQ(odd.results[0].properties[0], (AuthResultProperty{"policy", "expired", "1362471462"}));
  // A quoted local part, a reason as a token.
  auto quoted = parse_ok(" mx.example; spf=fail reason=nope smtp.mailfrom=\"a b\"@example.net");
  EXPECT_EQ(quoted.results[0].reason, "nope");
  EXPECT_EQ(quoted.results[0].properties[0].value, "a b@example.net");
}

TEST(AuthResults, RejectsBrokenValues) {
  for (std::string_view bad : {"", " ;", " mx.example", " mx.example; spf", " mx.example; spf=", " mx.example; =pass",
                               " mx.example; spf=pass smtp", " mx.example; spf=pass smtp.mailfrom",
                               " mx.example; spf=pass (unterminated", " mx.example; spf=pass foo=bar",
                               " mx.example spf=pass", " \"unterminated; spf=pass"}) {
    EXPECT_FALSE(parse_authentication_results(bad)) << bad;
  }
}

TEST(AuthResults, AuthservIdOf) {
  EXPECT_EQ(authserv_id_of(" mx.example.org; spf=pass"), "mx.example.org");
  EXPECT_EQ(authserv_id_of(" (comment (nested)) \r\n\t\"mx.example.org\" ; none"), "mx.example.org");
  EXPECT_EQ(authserv_id_of("mx.example.org"), "mx.example.org");
  EXPECT_FALSE(authserv_id_of(" ; spf=pass"));
  EXPECT_FALSE(authserv_id_of(" (unterminated mx.example.org; spf=pass"));
  EXPECT_FALSE(authserv_id_of(""));
}

TEST(AuthResults, ClaimsOurAuthservId) {
  EXPECT_TRUE(claims_authserv_id(" mx.example.org; dmarc=pass", "mx.example.org"));
  EXPECT_TRUE(claims_authserv_id(" MX.Example.ORG.; dmarc=pass", "mx.example.org"));
  EXPECT_TRUE(claims_authserv_id(" (hi) \"mx.example.org\"; dmarc=pass", "mx.example.org"));
  EXPECT_TRUE(claims_authserv_id(" mx.example.org ; garbage that does not parse (", "mx.example.org"));
  EXPECT_TRUE(claims_authserv_id(" ; dmarc=pass", "mx.example.org"));  // no readable id
  EXPECT_FALSE(claims_authserv_id(" mx.google.example; dmarc=pass", "mx.example.org"));
  EXPECT_FALSE(claims_authserv_id(" mx.example.org.evil; dmarc=pass", "mx.example.org"));
}

TEST(AuthResults, StripsOursKeepsForeign) {
  const std::string block =
      "Received: from a\r\n"
      "Authentication-Results: mx.example.org;\r\n\tdmarc=pass header.from=bank.example\r\n"
      "Authentication-Results: upstream.example; spf=pass smtp.mailfrom=x.example\r\n"
      "authentication-results : \"MX.example.org\"; dkim=pass\r\n"
      "Subject: hi\r\n"
      "\r\n"
      "Authentication-Results: mx.example.org; in the body\r\n";
  const auto ranges = forged_authentication_results(block, "mx.example.org");
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(strip_forged_authentication_results(block, "mx.example.org"),
            "Received: from a\r\n"
            "Authentication-Results: upstream.example; spf=pass smtp.mailfrom=x.example\r\n"
            "Subject: hi\r\n"
            "\r\n"
            "Authentication-Results: mx.example.org; in the body\r\n");
}

TEST(AuthResults, Keyword) {
  EXPECT_TRUE(is_auth_results_keyword("dkim"));
  EXPECT_TRUE(is_auth_results_keyword("x-dkim-2"));
  EXPECT_FALSE(is_auth_results_keyword("-dkim"));
  EXPECT_FALSE(is_auth_results_keyword("dkim-"));
  EXPECT_FALSE(is_auth_results_keyword("dk im"));
  EXPECT_FALSE(is_auth_results_keyword(""));
}

}  // namespace
}  // namespace postamt::mailauth
