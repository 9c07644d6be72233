// render_fetch for every FETCH attribute (RFC 9051 §6.4.5 / §7.5.2, BINARY RFC 3516,
// MODSEQ RFC 7162), on hand-made messages and public test vectors.
#include <gtest/gtest.h>

#include "imap/message/fetch_renderer.hpp"
#include "imap/message/response_string.hpp"
#include "imap_message_test_support.hpp"
#include "sample_messages.hpp"

namespace postamt::imap {
namespace {

using namespace test;
using Kind = FetchAttribute::Kind;
using Text = Section::Text;

// --- summary items

TEST(FetchRenderer, WholeResponseFrame) {
  const StoredMessage message(kPlainMessage);
  EXPECT_EQ(fetch(message, {attribute(Kind::uid)}), "* 3 FETCH (UID 42)\r\n");
}

TEST(FetchRenderer, FlagsAsStored) {
  StoredMessage message(kPlainMessage);
  message.summary.flags = {"$Forwarded", "\\Answered", "\\Seen"};
  EXPECT_EQ(fetch_items(message, {attribute(Kind::flags)}), "FLAGS ($Forwarded \\Answered \\Seen)");
  message.summary.flags.clear();
  EXPECT_EQ(fetch_items(message, {attribute(Kind::flags)}), "FLAGS ()");
}

TEST(FetchRenderer, RecentOnlyForImap4rev1Sessions) {
  StoredMessage message(kPlainMessage);
  message.summary.flags = {"\\Seen"};
  EXPECT_EQ(fetch_items(message, {attribute(Kind::flags)}, {}, true), "FLAGS (\\Seen \\Recent)");
  FetchOptions rev2;
  rev2.imap4rev2 = true;
  EXPECT_EQ(fetch_items(message, {attribute(Kind::flags)}, rev2, true), "FLAGS (\\Seen)");
  // Not recent: no \Recent, and a stored one is never passed on (it is a session flag).
  message.summary.flags = {"\\Recent", "\\Seen"};
  EXPECT_EQ(fetch_items(message, {attribute(Kind::flags)}), "FLAGS (\\Seen)");
  message.summary.flags.clear();
  EXPECT_EQ(fetch_items(message, {attribute(Kind::flags)}, {}, true), "FLAGS (\\Recent)");
}

TEST(FetchRenderer, InternalDateInUtc) {
  const StoredMessage message(kPlainMessage);
  EXPECT_EQ(fetch_items(message, {attribute(Kind::internal_date)}),
            "INTERNALDATE \"14-Nov-2023 22:13:20 +0000\"");
}

TEST(FetchRenderer, FormatInternalDate) {
  EXPECT_EQ(format_internal_date(0), "01-Jan-1970 00:00:00 +0000");
  EXPECT_EQ(format_internal_date(-1), "31-Dec-1969 23:59:59 +0000");
  EXPECT_EQ(format_internal_date(951782400), "29-Feb-2000 00:00:00 +0000");
  EXPECT_EQ(format_internal_date(1704067199), "31-Dec-2023 23:59:59 +0000");
  EXPECT_EQ(format_internal_date(1704067200), "01-Jan-2024 00:00:00 +0000");
  // date-year is 4DIGIT: times outside 0000..9999 are clamped.
  EXPECT_EQ(format_internal_date(INT64_MAX), "31-Dec-9999 23:59:59 +0000");
  EXPECT_EQ(format_internal_date(INT64_MIN), "01-Jan-0000 00:00:00 +0000");
}

TEST(FetchRenderer, SizeUidModseq) {
  const StoredMessage message(kPlainMessage);
  EXPECT_EQ(fetch_items(message, {attribute(Kind::rfc822_size), attribute(Kind::uid),
                                  attribute(Kind::modseq)}),
            "RFC822.SIZE " + std::to_string(kPlainMessage.size()) + " UID 42 MODSEQ (7)");
}

TEST(FetchRenderer, ImplicitUidAndModseqComeFirstAndOnce) {
  const StoredMessage message(kPlainMessage);
  FetchOptions options;
  options.include_uid = true;
  EXPECT_EQ(fetch_items(message, {attribute(Kind::flags)}, options), "UID 42 FLAGS ()");
  options.include_modseq = true;
  EXPECT_EQ(fetch_items(message, {attribute(Kind::flags)}, options),
            "UID 42 MODSEQ (7) FLAGS ()");
  // Asked for explicitly: where asked, not twice.
  EXPECT_EQ(fetch_items(message, {attribute(Kind::flags), attribute(Kind::modseq),
                                  attribute(Kind::uid)},
                        options),
            "FLAGS () MODSEQ (7) UID 42");
}

TEST(FetchRenderer, CachedStructuresVerbatim) {
  const StoredMessage message(kSampleMessage);
  EXPECT_EQ(fetch_items(message, {attribute(Kind::envelope)}),
            "ENVELOPE " + message.metadata.envelope);
  EXPECT_EQ(fetch_items(message, {attribute(Kind::body)}), "BODY " + message.metadata.body);
  EXPECT_EQ(fetch_items(message, {attribute(Kind::body_structure)}),
            "BODYSTRUCTURE " + message.metadata.bodystructure);
  EXPECT_EQ(fetch_items(message, {attribute(Kind::envelope), attribute(Kind::flags)}),
            "ENVELOPE " + message.metadata.envelope + " FLAGS ()");
}

// --- BODY[section]

TEST(FetchRenderer, WholeMessage) {
  const StoredMessage message(kSampleMessage);
  EXPECT_EQ(fetch_items(message, {body_section(section())}), "BODY[] " + literal(kSampleMessage));
  // .PEEK never appears in the answer.
  EXPECT_EQ(fetch_items(message, {body_section(section(), std::nullopt, true)}),
            "BODY[] " + literal(kSampleMessage));
}

TEST(FetchRenderer, PartialNamesItsOrigin) {
  const StoredMessage message(kSampleMessage);
  // Short and 7-bit without CR/LF: a quoted string.
  EXPECT_EQ(fetch_items(message, {body_section(section(), partial(0, 10))}),
            "BODY[]<0> \"Date: Mon,\"");
  EXPECT_EQ(fetch_items(message, {body_section(section(), partial(6, 3))}), "BODY[]<6> \"Mon\"");
  // Runs over the end: what there is.
  const auto size = static_cast<std::uint32_t>(kSampleMessage.size());
  EXPECT_EQ(fetch_items(message, {body_section(section(), partial(size - 6, 100))}),
            "BODY[]<" + std::to_string(size - 6) + "> " + literal("b1--\r\n"));
  // Starts beyond the end: the empty string.
  EXPECT_EQ(fetch_items(message, {body_section(section(), partial(size, 5))}),
            "BODY[]<" + std::to_string(size) + "> \"\"");
  EXPECT_EQ(fetch_items(message, {body_section(section(), partial(4000000000u, 5))}),
            "BODY[]<4000000000> \"\"");
  // Partial of a section.
  EXPECT_EQ(fetch_items(message, {body_section(section({1}), partial(3, 7))}),
            "BODY[1]<3> \"FC=DFe \"");
}

TEST(FetchRenderer, HeaderAndText) {
  const StoredMessage message(kSampleMessage);
  EXPECT_EQ(fetch_items(message, {body_section(section({}, Text::header))}),
            "BODY[HEADER] " + literal(kSampleHeader));
  EXPECT_EQ(fetch_items(message, {body_section(section({}, Text::text))}),
            "BODY[TEXT] " + literal(kSampleText));
  // MIME needs a part number (RFC 9051 §6.4.5): the whole message has none.
  EXPECT_EQ(fetch_items(message, {body_section(section({}, Text::mime))}), "BODY[MIME] \"\"");
}

TEST(FetchRenderer, HeaderFieldsKeepOrderFoldingAndOctets) {
  const StoredMessage message(kSampleMessage);
  // Asked in another order and case: answered in the message's order, as stored.
  EXPECT_EQ(fetch_items(message, {body_section(section({}, Text::header_fields,
                                                       {"X-FOLDED", "SUBJECT", "NOT-THERE"}))}),
            "BODY[HEADER.FIELDS (X-FOLDED SUBJECT NOT-THERE)] " +
                literal(crlf("Subject: =?ISO-8859-1?Q?=C4PFEL_und_Birnen?=\n"
                             "X-Folded: first part\n"
                             " second part\n"
                             "\n")));
  EXPECT_EQ(fetch_items(message, {body_section(section({}, Text::header_fields, {"NOT-THERE"}))}),
            "BODY[HEADER.FIELDS (NOT-THERE)] " + literal("\r\n"));
}

TEST(FetchRenderer, HeaderFieldsNot) {
  const StoredMessage message(kSampleMessage);
  EXPECT_EQ(fetch_items(message, {body_section(section({}, Text::header_fields_not,
                                                       {"DATE", "FROM", "TO", "CC", "BCC",
                                                        "SUBJECT", "X-FOLDED"}))}),
            "BODY[HEADER.FIELDS.NOT (DATE FROM TO CC BCC SUBJECT X-FOLDED)] " +
                literal(crlf("Message-ID: <a1@example.com>\n"
                             "MIME-Version: 1.0\n"
                             "Content-Type: multipart/mixed; boundary=\"b1\"\n"
                             "\n")));
}

TEST(FetchRenderer, FieldNamesThatAreNoAtomsAreQuoted) {
  const StoredMessage message(kPlainMessage);
  EXPECT_EQ(fetch_items(message, {body_section(section({}, Text::header_fields, {"A]B", "C"}))}),
            "BODY[HEADER.FIELDS (\"A]B\" C)] " + literal("\r\n"));
}

TEST(FetchRenderer, PartsOfAMultipart) {
  const StoredMessage message(kSampleMessage);
  EXPECT_EQ(fetch_items(message, {body_section(section({1}))}),
            "BODY[1] " + literal(kSamplePart1Body));
  EXPECT_EQ(fetch_items(message, {body_section(section({1}, Text::mime))}),
            "BODY[1.MIME] " + literal(kSamplePart1Header));
  EXPECT_EQ(fetch_items(message, {body_section(section({2}))}), "BODY[2] \"AAECAwQF\"");
  // A part that is no message/rfc822 has no HEADER or TEXT; a part beyond the last does
  // not exist: both are answered with the empty string (NIL is not allowed for BODY[]).
  EXPECT_EQ(fetch_items(message, {body_section(section({1}, Text::header))}),
            "BODY[1.HEADER] \"\"");
  EXPECT_EQ(fetch_items(message, {body_section(section({1}, Text::text))}), "BODY[1.TEXT] \"\"");
  EXPECT_EQ(fetch_items(message, {body_section(section({6}))}), "BODY[6] \"\"");
  EXPECT_EQ(fetch_items(message, {body_section(section({1, 1}))}), "BODY[1.1] \"\"");
  EXPECT_EQ(fetch_items(message, {body_section(section({0}))}), "BODY[0] \"\"");
}

TEST(FetchRenderer, EncapsulatedMessage) {
  const StoredMessage message(kSampleMessage);
  EXPECT_EQ(fetch_items(message, {body_section(section({4}))}),
            "BODY[4] " + literal(kSamplePart4Inner));
  EXPECT_EQ(fetch_items(message, {body_section(section({4}, Text::header))}),
            "BODY[4.HEADER] " + literal(crlf("Subject: inner\nFrom: inner@example.com\n\n")));
  EXPECT_EQ(fetch_items(message, {body_section(section({4}, Text::text))}),
            "BODY[4.TEXT] \"Inner body text.\"");
  EXPECT_EQ(fetch_items(message, {body_section(section({4}, Text::mime))}),
            "BODY[4.MIME] " + literal(crlf("Content-Type: message/rfc822\n\n")));
  EXPECT_EQ(fetch_items(message, {body_section(section({4}, Text::header_fields, {"FROM"}))}),
            "BODY[4.HEADER.FIELDS (FROM)] " + literal(crlf("From: inner@example.com\n\n")));
  // The encapsulated message is not multipart: its part 1 is its body.
  EXPECT_EQ(fetch_items(message, {body_section(section({4, 1}))}),
            "BODY[4.1] \"Inner body text.\"");
}

TEST(FetchRenderer, SinglePartMessageHasPartOne) {
  const StoredMessage message(kPlainMessage);
  EXPECT_EQ(fetch_items(message, {body_section(section({1}))}),
            "BODY[1] " + literal("Just one line.\r\n"));
  EXPECT_EQ(fetch_items(message, {body_section(section({}, Text::text))}),
            "BODY[TEXT] " + literal("Just one line.\r\n"));
  EXPECT_EQ(fetch_items(message, {body_section(section({2}))}), "BODY[2] \"\"");
}

// The section numbering example of RFC 3501 §6.4.5, as MimeKit's test message has it
// (bare LF line ends).
TEST(FetchRenderer, Rfc2060PartSpecifiers) {
  const StoredMessage message(load_vector("mimekit-rfc2060-part-specifiers.eml"));
  for (const auto& [part, name] :
       std::vector<std::pair<std::vector<std::uint32_t>, std::string>>{
           {{1}, "1"}, {{2}, "2"}, {{3, 1}, "3.1"}, {{3, 2}, "3.2"}, {{4, 1}, "4.1"},
           {{4, 2, 1}, "4.2.1"}, {{4, 2, 2, 1}, "4.2.2.1"}, {{4, 2, 2, 2}, "4.2.2.2"}}) {
    const std::string text = "This part specifier should be: " + name + "\n";
    EXPECT_EQ(fetch_items(message, {body_section(section(part))}),
              "BODY[" + name + "] " + literal(text));
  }
  EXPECT_EQ(fetch_items(message, {body_section(section({3}, Text::header_fields, {"SUBJECT"}))}),
            "BODY[3.HEADER.FIELDS (SUBJECT)] " +
                literal("Subject: This part specifier should be: 3\n\n"));
  EXPECT_EQ(fetch_items(message, {body_section(section({4, 2}, Text::header_fields, {"SUBJECT"}))}),
            "BODY[4.2.HEADER.FIELDS (SUBJECT)] " +
                literal("Subject: This part specifier should be: 4.2\n\n"));
  const std::string inner_text = fetch_items(message, {body_section(section({4, 2}, Text::text))});
  EXPECT_TRUE(inner_text.starts_with("BODY[4.2.TEXT] {")) << inner_text;
  EXPECT_NE(inner_text.find("--4.2.x\nContent-Type: TEXT/PLAIN\n\nThis part specifier should be: 4.2.1"),
            std::string::npos);
  EXPECT_EQ(fetch_items(message, {body_section(section({4, 2, 2, 2}, Text::mime))}),
            "BODY[4.2.2.2.MIME] " + literal("Content-Type: TEXT/RICHTEXT\n\n"));
  EXPECT_EQ(fetch_items(message, {body_section(section({4, 2, 3}))}), "BODY[4.2.3] \"\"");
  EXPECT_EQ(fetch_items(message, {body_section(section({4, 1}, Text::header))}),
            "BODY[4.1.HEADER] \"\"");
}

TEST(FetchRenderer, Rfc822Items) {
  const StoredMessage message(kSampleMessage);
  EXPECT_EQ(fetch_items(message, {attribute(Kind::rfc822)}), "RFC822 " + literal(kSampleMessage));
  EXPECT_EQ(fetch_items(message, {attribute(Kind::rfc822_header)}),
            "RFC822.HEADER " + literal(kSampleHeader));
  EXPECT_EQ(fetch_items(message, {attribute(Kind::rfc822_text)}),
            "RFC822.TEXT " + literal(kSampleText));
}

// --- BINARY (RFC 3516)

TEST(FetchRenderer, BinaryOfQuotedPrintablePart) {
  const StoredMessage message(kSampleMessage);
  // 8-bit octets: a literal.
  EXPECT_EQ(fetch_items(message, {binary({1})}), "BINARY[1] " + literal(kSamplePart1Decoded));
  EXPECT_EQ(fetch_items(message, {binary_size({1})}),
            "BINARY.SIZE[1] " + std::to_string(kSamplePart1Decoded.size()));
  EXPECT_EQ(fetch_items(message, {binary({1}, partial(6, 3))}), "BINARY[1]<6> \"aus\"");
}

TEST(FetchRenderer, BinaryOfBase64PartWithNulIsLiteral8) {
  const StoredMessage message(kSampleMessage);
  const std::string octets("\x00\x01\x02\x03\x04\x05", 6);
  EXPECT_EQ(fetch_items(message, {binary({2})}), "BINARY[2] ~{6}\r\n" + octets);
  EXPECT_EQ(fetch_items(message, {binary_size({2})}), "BINARY.SIZE[2] 6");
  EXPECT_EQ(fetch_items(message, {binary({2}, partial(0, 2))}),
            "BINARY[2]<0> ~{2}\r\n" + octets.substr(0, 2));
  // Without NUL a partial needs no literal8.
  EXPECT_EQ(fetch_items(message, {binary({2}, partial(2, 10))}), "BINARY[2]<2> \"\x02\x03\x04\x05\"");
  EXPECT_EQ(fetch_items(message, {binary({2}, partial(6, 10))}), "BINARY[2]<6> \"\"");
}

TEST(FetchRenderer, BinaryOfBase64Utf8Text) {
  const StoredMessage message(kSampleMessage);
  EXPECT_EQ(fetch_items(message, {binary({3})}),
            "BINARY[3] " + literal("<p>Hallo Welt &amp; mehr: Stra\xC3\x9F" "e</p>"));
}

TEST(FetchRenderer, BinaryOfWholeMessageAndComposites) {
  const StoredMessage message(kSampleMessage);
  EXPECT_EQ(fetch_items(message, {binary({})}), "BINARY[] " + literal(kSampleMessage));
  EXPECT_EQ(fetch_items(message, {binary_size({})}),
            "BINARY.SIZE[] " + std::to_string(kSampleMessage.size()));
  // message/rfc822: the encapsulated message as stored (composite types carry no encoding).
  EXPECT_EQ(fetch_items(message, {binary({4})}), "BINARY[4] " + literal(kSamplePart4Inner));
  EXPECT_EQ(fetch_items(message, {binary_size({4})}),
            "BINARY.SIZE[4] " + std::to_string(kSamplePart4Inner.size()));
  // A leaf inside it.
  EXPECT_EQ(fetch_items(message, {binary({4, 1})}), "BINARY[4.1] \"Inner body text.\"");
  // No such part.
  EXPECT_EQ(fetch_items(message, {binary({7})}), "BINARY[7] \"\"");
  EXPECT_EQ(fetch_items(message, {binary_size({7})}), "BINARY.SIZE[7] 0");
}

TEST(FetchRenderer, BinaryOfMultipartPart) {
  const StoredMessage message(load_vector("mimekit-rfc2060-part-specifiers.eml"));
  const std::string body = fetch_items(message, {body_section(section({4}))});
  ASSERT_TRUE(body.starts_with("BODY[4] "));
  EXPECT_EQ(fetch_items(message, {binary({4})}), "BINARY[4] " + body.substr(8));
}

TEST(FetchRenderer, BinaryOfUnknownEncodingFailsWithoutOutput) {
  const StoredMessage message(kSampleMessage);
  FetchSource source;
  source.sequence_number = 3;
  source.summary = &message.summary;
  source.metadata = &message.metadata;
  source.content = message.raw;
  std::string out = "earlier responses\r\n";
  for (const FetchAttribute& failing : {binary({5}), binary_size({5})}) {
    const std::vector<FetchAttribute> attributes = {attribute(Kind::flags), failing};
    const auto rendered = render_fetch(source, attributes, {}, out);
    ASSERT_FALSE(rendered.has_value());
    EXPECT_EQ(rendered.error().kind, FetchError::Kind::unknown_cte);
    EXPECT_EQ(out, "earlier responses\r\n");
  }
  // BODY[5] is still served as stored.
  EXPECT_EQ(fetch_items(message, {body_section(section({5}))}), "BODY[5] \"begin 644 x\"");
}

TEST(FetchRenderer, BinaryOfUtf16PartsWithNul) {
  const StoredMessage message(load_vector("stalwart-thirdparty-005-utf16-eucjp.eml"));
  const std::string utf16le("T\0e\0s\0t\0 \0m\0e\0s\0s\0a\0g\0e\0\n\0", 26);
  EXPECT_EQ(fetch_items(message, {binary({1})}), "BINARY[1] ~{26}\r\n" + utf16le);
  EXPECT_EQ(fetch_items(message, {binary({3})}), "BINARY[3] ~{26}\r\n" + utf16le);
  EXPECT_EQ(fetch_items(message, {binary_size({2})}), "BINARY.SIZE[2] 26");
}

TEST(FetchRenderer, SeveralItemsInOrder) {
  StoredMessage message(kPlainMessage);
  message.summary.flags = {"\\Seen"};
  EXPECT_EQ(fetch_items(message, {attribute(Kind::uid), attribute(Kind::flags),
                                  body_section(section({}, Text::header_fields, {"SUBJECT"}), std::nullopt, true),
                                  attribute(Kind::rfc822_size)}),
            "UID 42 FLAGS (\\Seen) BODY[HEADER.FIELDS (SUBJECT)] " +
                literal("Subject: plain\r\n\r\n") + " RFC822.SIZE " +
                std::to_string(kPlainMessage.size()));
}

// --- FetchResponseWriter: the same answer item by item, big slices left to the caller

TEST(FetchResponseWriter, ItemByItemIsRenderFetchAndBigSlicesAreDeferred) {
  const StoredMessage message(kSampleMessage);
  FetchSource source;
  source.sequence_number = 3;
  source.summary = &message.summary;
  source.metadata = &message.metadata;
  source.content = message.raw;
  const std::vector<FetchAttribute> attributes = {
      attribute(Kind::flags), body_section(section(), partial(6, 3)), body_section(section()),
      attribute(Kind::rfc822), body_section(section({}, Text::header_fields, {"SUBJECT"}))};
  FetchOptions options;
  options.include_uid = true;
  std::string whole;
  ASSERT_TRUE(render_fetch(source, attributes, options, whole));

  // Nothing deferred: byte for byte render_fetch, whatever was taken out between items.
  std::string streamed;
  std::string sent;
  FetchResponseWriter plain(source, options, streamed);
  plain.begin(attributes);
  for (const FetchAttribute& a : attributes) {
    auto deferred = plain.item(a, 0);
    ASSERT_TRUE(deferred);
    EXPECT_TRUE(deferred->empty());
    sent += streamed;
    streamed.clear();  // as the session does when it writes
  }
  plain.end();
  EXPECT_EQ(sent + streamed, whole);

  // Slices of the message over 100 octets are deferred: the literal prefix is written, the
  // octets come back as a view into the content, and the caller's copy completes the answer.
  std::string out;
  FetchResponseWriter writer(source, options, out);
  writer.begin(attributes);
  std::size_t deferred_count = 0;
  for (const FetchAttribute& a : attributes) {
    auto deferred = writer.item(a, 100);
    ASSERT_TRUE(deferred);
    if (!deferred->empty()) {
      ++deferred_count;
      EXPECT_TRUE(out.ends_with("{" + std::to_string(deferred->size()) + "}\r\n"));
      EXPECT_GE(deferred->data(), message.raw.data());
      EXPECT_LE(deferred->data() + deferred->size(), message.raw.data() + message.raw.size());
      append_literal_octets(out, *deferred);
    }
  }
  writer.end();
  EXPECT_EQ(deferred_count, 2u);  // BODY[] and RFC822; not the short partial, not the built fields
  EXPECT_EQ(out, whole);
}

TEST(FetchResponseWriter, FailingItemWritesNothing) {
  const StoredMessage message(kSampleMessage);
  FetchSource source;
  source.sequence_number = 3;
  source.summary = &message.summary;
  source.metadata = &message.metadata;
  source.content = message.raw;
  std::string out;
  FetchResponseWriter writer(source, {}, out);
  const std::vector<FetchAttribute> attributes = {attribute(Kind::flags), binary({5})};
  writer.begin(attributes);
  ASSERT_TRUE(writer.item(attributes[0], 0));
  const std::string before = out;
  auto failed = writer.item(attributes[1], 0);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().kind, FetchError::Kind::unknown_cte);
  EXPECT_EQ(out, before);
  writer.end();
  EXPECT_EQ(out, before + ")\r\n");
}

// --- what a FETCH needs and does

TEST(FetchNeeds, SummaryItemsNeedNothingMore) {
  const std::vector<FetchAttribute> attributes = {
      attribute(Kind::flags), attribute(Kind::uid), attribute(Kind::internal_date),
      attribute(Kind::rfc822_size), attribute(Kind::modseq)};
  const FetchNeeds needs = fetch_needs(attributes);
  EXPECT_FALSE(needs.metadata);
  EXPECT_FALSE(needs.content);
}

TEST(FetchNeeds, PerAttribute) {
  auto needs_of = [](FetchAttribute a) {
    const std::vector<FetchAttribute> attributes = {std::move(a)};
    const FetchNeeds needs = fetch_needs(attributes);
    return std::pair(needs.metadata, needs.content);
  };
  using P = std::pair<bool, bool>;
  EXPECT_EQ(needs_of(attribute(Kind::envelope)), P(true, false));
  EXPECT_EQ(needs_of(attribute(Kind::body)), P(true, false));
  EXPECT_EQ(needs_of(attribute(Kind::body_structure)), P(true, false));
  EXPECT_EQ(needs_of(body_section(section())), P(false, true));
  EXPECT_EQ(needs_of(body_section(section({}, Text::header))), P(true, true));
  EXPECT_EQ(needs_of(body_section(section({2}))), P(true, true));
  EXPECT_EQ(needs_of(attribute(Kind::rfc822)), P(false, true));
  EXPECT_EQ(needs_of(attribute(Kind::rfc822_header)), P(true, true));
  EXPECT_EQ(needs_of(attribute(Kind::rfc822_text)), P(true, true));
  EXPECT_EQ(needs_of(binary({})), P(false, true));
  EXPECT_EQ(needs_of(binary({1})), P(true, true));
  EXPECT_EQ(needs_of(binary_size({1})), P(true, true));
}

TEST(FetchNeeds, WhatSetsSeen) {
  auto sets_seen = [](FetchAttribute a) {
    const std::vector<FetchAttribute> attributes = {attribute(Kind::flags), std::move(a)};
    return fetch_sets_seen(attributes);
  };
  EXPECT_TRUE(sets_seen(body_section(section())));
  EXPECT_FALSE(sets_seen(body_section(section(), std::nullopt, true)));
  EXPECT_TRUE(sets_seen(binary({1})));
  EXPECT_FALSE(sets_seen(binary({1}, std::nullopt, true)));
  EXPECT_FALSE(sets_seen(binary_size({1})));
  EXPECT_TRUE(sets_seen(attribute(Kind::rfc822)));
  EXPECT_TRUE(sets_seen(attribute(Kind::rfc822_text)));
  EXPECT_FALSE(sets_seen(attribute(Kind::rfc822_header)));
  EXPECT_FALSE(sets_seen(attribute(Kind::envelope)));
  EXPECT_FALSE(sets_seen(attribute(Kind::body_structure)));
}

}  // namespace
}  // namespace postamt::imap
