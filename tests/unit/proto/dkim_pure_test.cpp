// The pure DKIM parts: head splitter, tag list, DKIM-Signature and key record parsers,
// canonicalisation (RFC 6376 §3.4, with the §3.4.5 examples), the signature builder.
#include <gtest/gtest.h>

#include "proto/mailauth/dkim_canon.hpp"
#include "proto/mailauth/dkim_key_record.hpp"
#include "proto/mailauth/dkim_signature.hpp"
#include "proto/mailauth/dkim_signature_builder.hpp"
#include "proto/mailauth/message_head.hpp"
#include "proto/mailauth/tag_list.hpp"

namespace postamt::mailauth {
namespace {

TEST(MessageHead, SplitsFieldsAndBody) {
  const std::string message = "From: a@b\r\nSubject: hi\r\n  there\r\nX:y\r\n\r\nbody\r\n";
  const auto head = split_message_head(message);
  ASSERT_TRUE(head.complete);
  ASSERT_EQ(head.fields.size(), 3u);
  EXPECT_EQ(head.fields[0].name, "From");
  EXPECT_EQ(head.fields[0].value, " a@b");
  EXPECT_EQ(head.fields[1].raw, "Subject: hi\r\n  there");
  EXPECT_EQ(head.fields[2].value, "y");
  EXPECT_EQ(message.substr(head.body_offset), "body\r\n");
}

TEST(MessageHead, HeaderOnlyAndBareLf) {
  const auto only = split_message_head("From: a@b\r\nTo: c@d\r\n");
  EXPECT_FALSE(only.complete);
  EXPECT_EQ(only.fields.size(), 2u);
  EXPECT_EQ(only.body_offset, 20u);
  const auto lf = split_message_head("From: a@b\nTo: c\n d\n\nx");
  EXPECT_TRUE(lf.complete);
  ASSERT_EQ(lf.fields.size(), 2u);
  EXPECT_EQ(lf.fields[1].raw, "To: c\n d");
  EXPECT_EQ(find_body_offset("From: a@b\nTo: c\n d\n\nx"), 20u);
  EXPECT_EQ(find_body_offset("From: a@b\r\n"), std::string_view::npos);
}

TEST(MessageHead, Bounded) {
  std::string many;
  for (int i = 0; i < 20; ++i) many += "X: y\r\n";
  const auto head = split_message_head(many + "\r\n", MessageHeadLimits{10, 1 << 20});
  EXPECT_TRUE(head.over_limits);
  EXPECT_EQ(head.fields.size(), 10u);
}

TEST(TagList, ParsesAndRejects) {
  auto tags = parse_tag_list(" v=1; a = rsa-sha256 ;\r\n\tb=ab cd;");
  ASSERT_TRUE(tags);
  ASSERT_EQ(tags->size(), 3u);
  EXPECT_EQ((*tags)[1].name, "a");
  EXPECT_EQ((*tags)[1].value, "rsa-sha256");
  EXPECT_EQ((*tags)[2].value, "ab cd");
  EXPECT_FALSE(parse_tag_list("a=1; a=2"));
  EXPECT_FALSE(parse_tag_list("a=1;;b=2"));
  EXPECT_FALSE(parse_tag_list("1a=1"));
  EXPECT_FALSE(parse_tag_list("a"));
  EXPECT_FALSE(parse_tag_list("a=\x01"));
  EXPECT_TRUE(parse_tag_list(""));
}

constexpr const char* kSignature =
    "v=1; a=rsa-sha256; d=example.net; s=brisbane;\r\n c=relaxed/simple; q=dns/txt; i=foo@eng.example.net;"
    " t=1117574938; x=1118006938; l=200;\r\n h=from:to:subject:date;\r\n bh=MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=;"
    "\r\n b=dzdVyOfAKCdLXdJOc9G2q8LoXSlEniSbav+yuU4zGeeruD00lszZVoG4ZHRNiYzR";

TEST(DkimSignature, ParsesAllTags) {
  auto sig = parse_dkim_signature(kSignature);
  ASSERT_TRUE(sig) << sig.error().message;
  EXPECT_EQ(sig->algorithm, DkimAlgorithm::rsa_sha256);
  EXPECT_EQ(sig->domain, "example.net");
  EXPECT_EQ(sig->selector, "brisbane");
  EXPECT_EQ(sig->header_canon, DkimCanon::relaxed);
  EXPECT_EQ(sig->body_canon, DkimCanon::simple);
  EXPECT_EQ(sig->identity, "foo@eng.example.net");
  EXPECT_EQ(sig->body_length, 200u);
  EXPECT_EQ(sig->timestamp, 1117574938u);
  EXPECT_EQ(sig->expiration, 1118006938u);
  EXPECT_EQ(sig->signed_headers, (std::vector<std::string>{"from", "to", "subject", "date"}));
  EXPECT_EQ(sig->body_hash, "12345678901234567890123456789012");
}

TEST(DkimSignature, Strict) {
  const std::string base = "v=1; a=rsa-sha256; d=example.net; s=sel; bh=YWJj; b=YWJj; ";
  EXPECT_TRUE(parse_dkim_signature(base + "h=From:To"));
  EXPECT_FALSE(parse_dkim_signature(base + "h=To"));  // From unsigned
  EXPECT_FALSE(parse_dkim_signature("v=2; a=rsa-sha256; d=example.net; s=sel; bh=YWJj; b=YWJj; h=from"));
  EXPECT_FALSE(parse_dkim_signature("v=1; a=rsa-md5; d=example.net; s=sel; bh=YWJj; b=YWJj; h=from"));
  EXPECT_FALSE(parse_dkim_signature(base + "h=from; i=a@example.org"));
  EXPECT_FALSE(parse_dkim_signature(base + "h=from; i=a@badexample.net"));
  EXPECT_TRUE(parse_dkim_signature(base + "h=from; i=a@sub.example.net"));
  EXPECT_FALSE(parse_dkim_signature(base + "h=from; t=10; x=10"));
  EXPECT_FALSE(parse_dkim_signature(base + "h=from; l=x"));
  EXPECT_FALSE(parse_dkim_signature(base + "h=from; c=fancy"));
  EXPECT_FALSE(parse_dkim_signature(base + "h=from; q=http"));
  EXPECT_FALSE(parse_dkim_signature("v=1; a=rsa-sha256; s=sel; bh=YWJj; b=YWJj; h=from"));  // no d=
  auto sha1 = parse_dkim_signature("v=1; a=rsa-sha1; d=example.net; s=sel; bh=YWJj; b=YWJj; h=from");
  ASSERT_TRUE(sha1);
  EXPECT_EQ(sha1->algorithm, DkimAlgorithm::rsa_sha1);
  auto one = parse_dkim_signature(base + "h=from; c=relaxed");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->body_canon, DkimCanon::simple);
}

TEST(DkimSignature, WithoutBValue) {
  EXPECT_EQ(without_b_value("DKIM-Signature: v=1; bh=abc; b=xy\r\n z; d=e"), "DKIM-Signature: v=1; bh=abc; b=; d=e");
  EXPECT_EQ(without_b_value("DKIM-Signature: b = xyz"), "DKIM-Signature: b =");
}

TEST(DkimKeyRecord, Parses) {
  auto key = parse_dkim_key_record("v=DKIM1; k=ed25519; h=sha256; t=y:s; p=YWJj");
  ASSERT_TRUE(key);
  EXPECT_EQ(key->key_type, DkimKeyType::ed25519);
  EXPECT_TRUE(key->testing);
  EXPECT_TRUE(key->strict_identity);
  EXPECT_TRUE(key->allows_sha256());
  EXPECT_EQ(key->public_key, "abc");
  auto revoked = parse_dkim_key_record("v=DKIM1; p=");
  ASSERT_TRUE(revoked);
  EXPECT_TRUE(revoked->revoked());
  EXPECT_FALSE(parse_dkim_key_record("k=rsa; v=DKIM1; p=YWJj"));
  EXPECT_FALSE(parse_dkim_key_record("v=DKIM2; p=YWJj"));
  EXPECT_FALSE(parse_dkim_key_record("v=DKIM1; k=dsa; p=YWJj"));
  EXPECT_FALSE(parse_dkim_key_record("v=DKIM1"));
  EXPECT_FALSE(parse_dkim_key_record("v=DKIM1; p=!!"));
  auto sha1_only = parse_dkim_key_record("h=sha1; s=other; p=YWJj");
  ASSERT_TRUE(sha1_only);
  EXPECT_FALSE(sha1_only->allows_sha256());
  EXPECT_FALSE(sha1_only->email_service);
}

std::string canon_header(DkimCanon canon, std::string_view raw) {
  StringSink sink;
  canonicalize_header(canon, raw, sink);
  return sink.text;
}

std::string canon_body(DkimCanon canon, std::string_view body, std::size_t chunk = 1,
                       std::optional<std::uint64_t> limit = std::nullopt) {
  StringSink sink;
  BodyCanonicalizer canonicalizer(canon, sink, limit);
  for (std::size_t i = 0; i < body.size(); i += chunk) canonicalizer.feed(body.substr(i, chunk));
  canonicalizer.finish();
  return sink.text;
}

// RFC 6376 §3.4.5.
TEST(DkimCanon, Rfc6376Examples) {
  EXPECT_EQ(canon_header(DkimCanon::relaxed, "A: X"), "a:X\r\n");
  EXPECT_EQ(canon_header(DkimCanon::relaxed, "B : Y\t\r\n\tZ  "), "b:Y Z\r\n");
  EXPECT_EQ(canon_header(DkimCanon::simple, "B : Y\t\r\n\tZ  "), "B : Y\t\r\n\tZ  \r\n");
  const std::string body = " C \r\nD \t E\r\n\r\n\r\n";
  for (std::size_t chunk : {1u, 2u, 5u, 100u}) {
    EXPECT_EQ(canon_body(DkimCanon::relaxed, body, chunk), " C\r\nD E\r\n");
    EXPECT_EQ(canon_body(DkimCanon::simple, body, chunk), " C \r\nD \t E\r\n");
  }
}

TEST(DkimCanon, EmptyBodiesAndEdges) {
  EXPECT_EQ(canon_body(DkimCanon::simple, ""), "\r\n");
  EXPECT_EQ(canon_body(DkimCanon::relaxed, ""), "");
  EXPECT_EQ(canon_body(DkimCanon::simple, "\r\n\r\n"), "\r\n");
  EXPECT_EQ(canon_body(DkimCanon::relaxed, " \r\n\t\r\n"), "");
  EXPECT_EQ(canon_body(DkimCanon::relaxed, "a"), "a\r\n");
  EXPECT_EQ(canon_body(DkimCanon::simple, "a\nb\n"), "a\r\nb\r\n");
  EXPECT_EQ(canon_body(DkimCanon::simple, "a\r"), "a\r\r\n");
  EXPECT_EQ(canon_body(DkimCanon::relaxed, "a\r\n\r\nb  \r\n"), "a\r\n\r\nb\r\n");
}

TEST(DkimCanon, RunsAndSplits) {
  for (std::size_t chunk : {1u, 2u, 3u, 100u}) {
    EXPECT_EQ(canon_body(DkimCanon::relaxed, "a b\tc  d e \r\n", chunk), "a b c d e\r\n");
    EXPECT_EQ(canon_body(DkimCanon::simple, "a b\tc  d e \r\n", chunk), "a b\tc  d e \r\n");
  }
  // Long runs go to the sink directly; l= still cuts them exactly.
  const std::string line(3000, 'x');
  const std::string body = line + "\r\n" + line + "\r\n";
  EXPECT_EQ(canon_body(DkimCanon::simple, body, 700), body);
  EXPECT_EQ(canon_body(DkimCanon::relaxed, body, 4096, 3001), line + "\r");
}

TEST(DkimCanon, LengthCap) {
  StringSink sink;
  BodyCanonicalizer canonicalizer(DkimCanon::simple, sink, 3);
  canonicalizer.feed("hello\r\nworld\r\n");
  canonicalizer.finish();
  EXPECT_EQ(sink.text, "hel");
  EXPECT_EQ(canonicalizer.canonical_length(), 14u);
}

TEST(DkimCanon, SelectsFromTheBottomAndOversigns) {
  const auto head = split_message_head("From: 1\r\nTo: x\r\nFrom: 2\r\n\r\n");
  const auto chosen = select_signed_fields(head.fields, {"from", "to", "from", "from", "subject"});
  ASSERT_EQ(chosen.size(), 3u);
  EXPECT_EQ(chosen[0]->value, " 2");
  EXPECT_EQ(chosen[1]->value, " x");
  EXPECT_EQ(chosen[2]->value, " 1");
}

TEST(DkimSignatureBuilder, FoldsAndRoundTrips) {
  DkimSignatureFields fields;
  fields.algorithm = DkimAlgorithm::ed25519_sha256;
  fields.domain = "example.com";
  fields.selector = "pa2026a";
  fields.signed_headers = {"From", "To", "Subject", "Date", "Message-ID", "From", "Subject"};
  fields.body_hash_base64 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
  fields.timestamp = 1700000000;
  const std::string signature(88, 'A');
  const std::string field = build_dkim_signature_field(fields, signature);
  std::size_t line_start = 0;
  while (line_start < field.size()) {
    std::size_t end = field.find("\r\n", line_start);
    if (end == std::string::npos) end = field.size();
    EXPECT_LE(end - line_start, 78u);
    line_start = end + 2;
  }
  const std::string message = field + "\r\n\r\n";
  const auto head = split_message_head(message);
  ASSERT_EQ(head.fields.size(), 1u);
  auto parsed = parse_dkim_signature(head.fields[0].value);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->b_text, signature);
  EXPECT_EQ(parsed->signed_headers, fields.signed_headers);
  EXPECT_EQ(parsed->timestamp, 1700000000u);
  // The field hashed at signing (b= empty) and at verifying (b= emptied) agree.
  EXPECT_EQ(canon_header(DkimCanon::relaxed, without_b_value(field)),
            canon_header(DkimCanon::relaxed, build_dkim_signature_field(fields)));
}

}  // namespace
}  // namespace postamt::mailauth

#include "proto/mailauth/zone_lines.hpp"

namespace postamt::mailauth {
namespace {

TEST(ZoneLines, SplitsLongTxtValues) {
  EXPECT_EQ(zone_txt_line("example.com", 3600, "v=spf1 mx -all"), "example.com. 3600 IN TXT \"v=spf1 mx -all\"");
  const std::string long_value(600, 'a');
  const std::string line = zone_txt_line("s._domainkey.example.com.", 300, long_value);
  EXPECT_EQ(line, "s._domainkey.example.com. 300 IN TXT \"" + std::string(255, 'a') + "\" \"" + std::string(255, 'a') +
                      "\" \"" + std::string(90, 'a') + "\"");
  EXPECT_EQ(zone_txt_line("x.example", 1, "a\"b\\"), "x.example. 1 IN TXT \"a\\\"b\\\\\"");
  EXPECT_EQ(zone_mx_line("example.com", 3600, 10, "mail.example.com"), "example.com. 3600 IN MX 10 mail.example.com.");
}

}  // namespace
}  // namespace postamt::mailauth
