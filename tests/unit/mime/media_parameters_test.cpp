// Content-Type / Content-Disposition parameters (RFC 2045 §5.1, RFC 2231, RFC 9051 §7.5.2).
#include "mime/media_parameters.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace postamt::mime {
namespace {

using Parameters = std::vector<MediaParameter>;

}  // namespace

void PrintTo(const MediaParameter& p, std::ostream* os) { *os << p.name << "=[" << p.value << "]"; }

namespace {

Parameters parse(std::string_view text) {
  FieldCursor cursor(text);
  return parse_media_parameters(cursor);
}

TEST(MimeParameters, TokensAndQuotedStrings) {
  EXPECT_EQ(parse("; charset=UTF-8; Format=\"flowed\"; x=\"a\\\"b\\\\c\""),
            (Parameters{{"charset", "UTF-8"}, {"format", "flowed"}, {"x", "a\"b\\c"}}));
  // Comments are CFWS (RFC 2045 §5.1 via RFC 822): not part of the value.
  EXPECT_EQ(parse(" ; charset = us-ascii (Plain text) ; a=b"),
            (Parameters{{"charset", "us-ascii"}, {"a", "b"}}));
}

TEST(MimeParameters, LenientUnquotedValues) {
  // Not RFC 2045 tokens, but common: '=' and spaces in unquoted values.
  EXPECT_EQ(parse("; boundary=----=_Part_1_2.3; name=My File.pdf"),
            (Parameters{{"boundary", "----=_Part_1_2.3"}, {"name", "My File.pdf"}}));
}

TEST(MimeParameters, BrokenParametersAreSkipped) {
  EXPECT_EQ(parse("; a=1;; =bad; novalue; b=2; \"junk\"; c=3"),
            (Parameters{{"a", "1"}, {"b", "2"}, {"c", "3"}}));
  EXPECT_EQ(parse("garbage before; a=1"), (Parameters{{"a", "1"}}));
  EXPECT_EQ(parse("; a=\"unterminated"), (Parameters{{"a", "unterminated"}}));
  EXPECT_EQ(parse(""), Parameters{});
}

TEST(MimeParameters, FirstOfDuplicateNamesWins) {
  EXPECT_EQ(parse("; boundary=\"abc\"; BOUNDARY=def"), (Parameters{{"boundary", "abc"}}));
}

// RFC 2231 §3: name*0, name*1, ... are joined, in index order, into "name".
TEST(MimeParameters, Rfc2231Continuations) {
  EXPECT_EQ(parse("; name*0=\"foo\"; name*1=\"bar\"; name*2=baz"),
            (Parameters{{"name", "foobarbaz"}}));
  EXPECT_EQ(parse("; name*1=\"bar\"; name*0=\"foo\""), (Parameters{{"name", "foobar"}}));
  // A gap ends the value; without segment 0 there is no value at all.
  EXPECT_EQ(parse("; n*0=a; n*2=c"), (Parameters{{"n", "a"}}));
  EXPECT_EQ(parse("; n*1=b; m=1"), (Parameters{{"m", "1"}}));
}

// RFC 2231 §4 and RFC 9051 §7.5.2: encoded parameters are decoded, converted to UTF-8
// and returned under "name*".
TEST(MimeParameters, Rfc2231CharsetsBecomeUtf8) {
  EXPECT_EQ(parse("; title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A"),
            (Parameters{{"title*", "This is ***fun***"}}));
  EXPECT_EQ(parse("; filename*=iso-8859-1'fr'%E9t%E9.txt"),
            (Parameters{{"filename*", "\xC3\xA9t\xC3\xA9.txt"}}));
  // Mixed encoded and plain segments; the charset applies to the whole value (§4.1).
  EXPECT_EQ(parse("; f*0*=utf-8''%E2%82%AC; f*1=\" and more\"; f*2*=%21"),
            (Parameters{{"f*", "\xE2\x82\xAC and more!"}}));
  // A plain name and an encoded one are different parameters; both are kept.
  EXPECT_EQ(parse("; filename=\"a.pdf\"; filename*=utf-8''%C3%A9.pdf"),
            (Parameters{{"filename", "a.pdf"}, {"filename*", "\xC3\xA9.pdf"}}));
}

TEST(MimeParameters, Rfc2231UnknownCharsetKeepsEncodedForm) {
  EXPECT_EQ(parse("; x*=x-no-such-charset'en'%E9t%E9"),
            (Parameters{{"x*", "x-no-such-charset'en'%E9t%E9"}}));
  // Invalid UTF-8 claimed as UTF-8 is not passed on either.
  EXPECT_EQ(parse("; x*=utf-8''%FF%FE"), (Parameters{{"x*", "utf-8''%FF%FE"}}));
  // No charset part at all: the octets are taken as they are when they are UTF-8.
  EXPECT_EQ(parse("; x*=%41%42"), (Parameters{{"x*", "AB"}}));
}

TEST(MimeParameters, TooManyParametersAreCut) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "; p" + std::to_string(i) + "=v";
  EXPECT_EQ(parse(text).size(), 1000u);
}

}  // namespace
}  // namespace postamt::mime
