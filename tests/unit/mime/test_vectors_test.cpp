// The public test vectors (tests/data/mime, see SOURCES.md): every one analyzes into
// consistent metadata, and for several the ENVELOPE / BODYSTRUCTURE text is checked
// against values worked out by hand from the RFCs (comments say how).
#include <gmime/gmime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "mime/analyze_message.hpp"
#include "mime/decode_part_content.hpp"
#include "mime_test_support.hpp"

namespace postamt::mime {
namespace {

using test::body_of;
using test::load_vector;
using test::message_header_of;
using test::message_text_of;
using test::mime_header_of;
using test::part;

std::size_t lines_of(std::string_view s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

TEST(MimeVectors, EveryVectorAnalyzesConsistently) {
  for (const std::string& name : test::vector_names()) {
    SCOPED_TRACE(name);
    const std::string raw = load_vector(name);
    ASSERT_FALSE(raw.empty());
    const MessageMetadata metadata = analyze_message(raw);
    EXPECT_EQ(metadata.size, raw.size());
    test::expect_offsets_valid(metadata);
    EXPECT_TRUE(metadata.envelope.starts_with("(") && metadata.envelope.ends_with(")"));
    EXPECT_TRUE(metadata.bodystructure.starts_with("(") && metadata.bodystructure.ends_with(")"));
    EXPECT_TRUE(metadata.body.starts_with("(") && metadata.body.ends_with(")"));
    EXPECT_LE(metadata.body.size(), metadata.bodystructure.size());
    // Every part decodes or reports an unknown encoding; none fails on offsets.
    for (const PartInfo& p : metadata.parts) {
      const auto decoded = decode_part_content(raw, p);
      if (!decoded) {
        EXPECT_EQ(decoded.error(), kUnknownTransferEncoding) << p.section;
        continue;
      }
      const auto size = binary_size(raw, p);
      ASSERT_TRUE(size.has_value()) << p.section;
      EXPECT_EQ(*size, decoded->size()) << p.section;
    }
    // The stored form reads back unchanged.
    const auto back = MessageMetadata::deserialize(metadata.serialize());
    ASSERT_TRUE(back.has_value()) << back.error();
    EXPECT_EQ(*back, metadata);
  }
}

// GMime's own parser, asked to keep its input (persist stream), reports every leaf's
// content as a substream of the message. Our scanner was written independently of it,
// so agreement on every leaf range of every vector is a strong check of the offsets.
void collect_gmime_leaves(GMimeObject* object, std::vector<std::pair<gint64, gint64>>& out) {
  if (GMIME_IS_MULTIPART(object)) {
    GMimeMultipart* multipart = GMIME_MULTIPART(object);
    for (int i = 0; i < g_mime_multipart_get_count(multipart); ++i) {
      collect_gmime_leaves(g_mime_multipart_get_part(multipart, i), out);
    }
  } else if (GMIME_IS_MESSAGE_PART(object)) {
    GMimeMessage* message = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
    if (message != nullptr) {
      collect_gmime_leaves(g_mime_message_get_mime_part(message), out);
    } else {
      out.emplace_back(-1, -1);  // GMime builds no message for an empty message/rfc822 body
    }
  } else if (GMIME_IS_PART(object)) {
    GMimeDataWrapper* content = g_mime_part_get_content(GMIME_PART(object));
    GMimeStream* stream = content ? g_mime_data_wrapper_get_stream(content) : nullptr;
    if (stream != nullptr) out.emplace_back(stream->bound_start, stream->bound_end);
  }
}

TEST(MimeVectors, LeafRangesAgreeWithGMimeParser) {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
  for (const std::string& name : test::vector_names()) {
    SCOPED_TRACE(name);
    std::string raw = load_vector(name);
    GMimeStream* stream = g_mime_stream_mem_new_with_buffer(raw.data(), raw.size());
    GMimeParser* parser = g_mime_parser_new_with_stream(stream);
    g_mime_parser_set_persist_stream(parser, TRUE);
    GMimeMessage* message = g_mime_parser_construct_message(parser, nullptr);
    ASSERT_NE(message, nullptr);
    std::vector<std::pair<gint64, gint64>> expected;
    collect_gmime_leaves(g_mime_message_get_mime_part(message), expected);
    g_object_unref(message);
    g_object_unref(parser);
    g_object_unref(stream);

    const MessageMetadata metadata = analyze_message(raw);
    std::vector<std::pair<gint64, gint64>> actual;
    for (const PartInfo& p : metadata.parts) {
      if (p.section.empty() || p.type == "multipart" || p.is_message) continue;
      if (p.header_begin == p.header_end && p.header_end == p.body_end) {
        actual.emplace_back(-1, -1);  // an empty encapsulated message's body
      } else {
        actual.emplace_back(static_cast<gint64>(p.header_end), static_cast<gint64>(p.body_end));
      }
    }
    EXPECT_EQ(actual, expected);
  }
}

// Crispin's MIME torture test. The part sizes and line counts below are the ones in
// Crispin's own listing of the message (e.g. "12.2 BINARY/UNKNOWN ... (18530 bytes)",
// "6 MESSAGE/RFC822 (Star Trek Party) (4565 lines)"): octets as transmitted, lines as
// LFs, which is also the counting this module documents.
TEST(MimeVectors, TortureTestStructure) {
  const std::string raw = load_vector("torture-test.eml");
  const MessageMetadata metadata = analyze_message(raw);

  // RFC 9051 §7.5.2: raw values, trailing white space of "Subject: ... " and
  // "Message-Id: <...> " trimmed, Sender and Reply-To copied from From.
  EXPECT_EQ(metadata.envelope,
            R"x(("Mon, 6 Feb 1993 02:53:47 -0800 (PST)" "Multi-media mail demonstration" )x"
            R"x((("Mark Crispin" NIL "mrc" "CAC.Washington.EDU")) )x"
            R"x((("Mark Crispin" NIL "mrc" "CAC.Washington.EDU")) )x"
            R"x((("Mark Crispin" NIL "mrc" "CAC.Washington.EDU")) )x"
            R"x(((NIL NIL "MRC" "CAC.Washington.EDU")) NIL NIL NIL )x"
            R"x("<CMM.0.88.687168092.mrc@akbar.cac.washington.edu>"))x");

  // Part 1: "Content-Type: TEXT/PLAIN" without charset gets the RFC 2046 §4.1.2 default.
  EXPECT_TRUE(metadata.bodystructure.starts_with(
      R"x((("TEXT" "PLAIN" ("charset" "us-ascii") NIL "Explanation" "7bit" 190 3 NIL NIL NIL NIL))x"
      R"x(("MESSAGE" "RFC822" NIL NIL "Rich Text demo" "7bit" 4906 )x"))
      << metadata.bodystructure.substr(0, 300);
  // Part 2's encapsulated message: a multipart/alternative whose first part has no
  // header at all (text/plain by RFC 2045 §5.2), then a multipart/mixed with one part.
  EXPECT_NE(
      metadata.bodystructure.find(
          R"x((("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 767 16 NIL NIL NIL NIL))x"
          R"x((("text" "richtext" ("charset" "us-ascii") NIL NIL "quoted-printable" 887 13 NIL NIL NIL NIL))x"
          R"x( "mixed" ("boundary" "Alternative_Boundary_8dJn:mu0M2Yt5KaFZ8AdJn:mu0M2Yt1KaFdA") NIL NIL NIL))x"
          R"x(("application" "andrew-inset" NIL NIL NIL "7bit" 917 NIL NIL NIL NIL))x"
          R"x( "alternative" ("boundary" "Interpart_Boundary_AdJn:mu0M2YtJKaFh9AdJn:mu0M2YtJKaFk="))x"
          R"x( NIL NIL NIL) 106 NIL NIL NIL NIL))x"),
      std::string::npos);
  EXPECT_TRUE(
      metadata.bodystructure.ends_with(R"x( "MIXED" ("boundary" "owatagusiam") NIL NIL NIL))x"));
  EXPECT_TRUE(metadata.body.ends_with(R"x( "MIXED"))x"));

  struct Expected {
    const char* section;
    const char* type;  // lower case
    std::size_t octets;
    std::size_t lines;
  };
  const Expected listing[] = {
      {"1", "text/plain", 190, 3},
      {"2", "message/rfc822", 4906, 106},
      {"2.1", "text/plain", 767, 16},
      {"2.2", "multipart/mixed", 1089, 19},
      {"2.2.1", "text/richtext", 887, 13},
      {"2.3", "application/andrew-inset", 917, 27},
      {"3", "message/rfc822", 562270, 7605},
      {"3.1", "audio/basic", 561308, 7586},
      {"4", "audio/basic", 36234, 465},
      {"5", "image/pbm", 1814, 23},
      {"6", "message/rfc822", 182880, 4565},
      {"6.1.1", "text/plain", 731, 16},
      {"6.1.2", "audio/x-sun", 31472, 426},
      {"6.2.1", "image/gif", 26000, 352},
      {"6.2.2", "image/gif", 18666, 253},
      {"6.2.3", "application/x-be2", 46125, 2436},
      {"6.2.4", "application/atomicmail", 9203, 357},
      {"6.3", "audio/x-sun", 47822, 647},
      {"7", "message/rfc822", 86113, 483},
      {"7.1", "text/plain", 21, 0},
      {"7.2", "image/pgm", 84174, 433},
      {"7.3", "text/plain", 267, 8},
      {"8", "message/rfc822", 74470, 431},
      {"8.1", "text/plain", 1246, 26},
      {"8.2", "image/pbm", 71686, 369},
      {"9", "message/rfc822", 398008, 6438},
      {"9.1", "application/postscript", 397154, 6421},
      {"10", "image/gif", 78302, 1015},
      {"11", "message/rfc822", 103685, 1382},
      {"11.1", "audio/basic", 62094, 807},
      {"11.2", "audio/basic", 40634, 549},
      {"12", "message/rfc822", 314835, 3282},
      {"12.1", "application/postscript", 53346, 861},
      // "Content-Type: BINARY;name=..." has no subtype: invalid, so text/plain (RFC 2045 §5.2).
      {"12.2", "text/plain", 18530, 299},
      {"12.3", "message/rfc822", 241934, 2094},
      {"12.3.1", "text/plain", 319, 7},
      {"12.3.2", "multipart/parallel", 160263, 838},
      {"12.3.2.1", "image/gif", 3276, 16},
      {"12.3.2.2", "audio/basic", 156706, 807},
      {"12.3.3", "application/atomicmail", 4924, 195},
      {"12.3.4", "message/rfc822", 75920, 1031},
      {"12.3.4.1", "audio/x-sun", 75682, 1023},
  };
  for (const Expected& e : listing) {
    SCOPED_TRACE(e.section);
    const PartInfo& p = part(metadata, e.section);
    EXPECT_EQ(p.type + "/" + p.subtype, e.type);
    EXPECT_EQ(p.body_end - p.header_end, e.octets);
    EXPECT_EQ(lines_of(body_of(raw, p)), e.lines);
  }
  EXPECT_EQ(metadata.parts.size(), 45u);  // "" + 44 sections

  // 3 is a message/rfc822 whose message is not multipart: 3.1 is that message's body,
  // and 3.1.MIME is the encapsulated message's header (RFC 9051 §6.4.5).
  const PartInfo& p3 = part(metadata, "3");
  const PartInfo& p31 = part(metadata, "3.1");
  EXPECT_EQ(message_header_of(raw, p3), mime_header_of(raw, p31));
  EXPECT_EQ(message_text_of(raw, p3), body_of(raw, p31));
  EXPECT_TRUE(message_header_of(raw, p3).starts_with("Received: "));
  EXPECT_TRUE(message_header_of(raw, p3).ends_with("Hi Mark\r\n\r\n"));
  // "nsb@thumper.bellcore.com (Nathaniel Borenstein)": the comment is the name (see
  // address_list.cpp), as UW-IMAP and Dovecot present it.
  EXPECT_NE(
      metadata.bodystructure.find(
          R"x("Re: multipart mail" (("Nathaniel Borenstein" NIL "nsb" "thumper.bellcore.com")))x"),
      std::string::npos);

  // The top level: search values.
  EXPECT_EQ(metadata.subject, "Multi-media mail demonstration");
  EXPECT_EQ(metadata.date, 728996027);  // 1993-02-06T10:53:47Z
  EXPECT_EQ(metadata.from, "Mark Crispin <mrc@CAC.Washington.EDU>");
}

// The RFC 2049 Appendix A example, whose structure the RFC itself explains. Every value
// below was counted by hand from the file (bare LF line ends).
TEST(MimeVectors, Rfc2049ExampleFullStructure) {
  const std::string raw = load_vector("stalwart-rfc2049-example.eml");
  const MessageMetadata metadata = analyze_message(raw);
  EXPECT_EQ(metadata.envelope,
            R"x(("Fri, 07 Oct 1994 16:15:05 -0700 (PDT)" "A multipart example" )x"
            R"x((("Nathaniel Borenstein" NIL "nsb" "nsb.fv.com")) )x"
            R"x((("Nathaniel Borenstein" NIL "nsb" "nsb.fv.com")) )x"
            R"x((("Nathaniel Borenstein" NIL "nsb" "nsb.fv.com")) )x"
            R"x((("Ned Freed" NIL "ned" "innosoft.com")) NIL NIL NIL NIL))x");
  // Part 1 has an empty header ("no header fields were given"): text/plain us-ascii.
  // Part 5's message has only comments for From and To: no addresses, so NIL.
  EXPECT_EQ(
      metadata.bodystructure,
      R"x((("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 262 7 NIL NIL NIL NIL))x"
      R"x(("text" "plain" ("charset" "US-ASCII") NIL NIL "7bit" 111 3 NIL NIL NIL NIL))x"
      R"x((("audio" "basic" NIL NIL NIL "base64" 85 NIL NIL NIL NIL))x"
      R"x(("image" "jpeg" NIL NIL NIL "base64" 44 NIL NIL NIL NIL))x"
      R"x( "parallel" ("boundary" "unique-boundary-2") NIL NIL NIL))x"
      R"x(("text" "enriched" ("charset" "us-ascii") NIL NIL "7bit" 140 5 NIL NIL NIL NIL))x"
      R"x(("message" "rfc822" NIL NIL NIL "7bit" 223 )x"
      R"x((NIL "(subject in US-ASCII)" NIL NIL NIL NIL NIL NIL NIL NIL) )x"
      R"x(("Text" "plain" ("charset" "ISO-8859-1") NIL NIL "Quoted-printable" 48 1 NIL NIL NIL NIL))x"
      R"x( 7 NIL NIL NIL NIL))x"
      R"x( "mixed" ("boundary" "unique-boundary-1") NIL NIL NIL))x");
  EXPECT_EQ(
      metadata.body,
      R"x((("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 262 7))x"
      R"x(("text" "plain" ("charset" "US-ASCII") NIL NIL "7bit" 111 3))x"
      R"x((("audio" "basic" NIL NIL NIL "base64" 85)("image" "jpeg" NIL NIL NIL "base64" 44))x"
      R"x( "parallel"))x"
      R"x(("text" "enriched" ("charset" "us-ascii") NIL NIL "7bit" 140 5))x"
      R"x(("message" "rfc822" NIL NIL NIL "7bit" 223 )x"
      R"x((NIL "(subject in US-ASCII)" NIL NIL NIL NIL NIL NIL NIL NIL) )x"
      R"x(("Text" "plain" ("charset" "ISO-8859-1") NIL NIL "Quoted-printable" 48 1) 7))x"
      R"x( "mixed"))x");

  // Part 1: the header is just the blank line after the delimiter.
  const PartInfo& p1 = part(metadata, "1");
  EXPECT_EQ(mime_header_of(raw, p1), "\n");
  EXPECT_TRUE(body_of(raw, p1).starts_with("... Some text appears here ..."));
  EXPECT_TRUE(body_of(raw, p1).ends_with("next part.]\n"));
  // 3 is the multipart/parallel; its body runs through its close delimiter (and its
  // one-line epilogue minus the line break that belongs to the next delimiter).
  const PartInfo& p3 = part(metadata, "3");
  EXPECT_TRUE(body_of(raw, p3).starts_with("--unique-boundary-2\n"));
  EXPECT_TRUE(body_of(raw, p3).ends_with("--unique-boundary-2--\n"));
  EXPECT_EQ(body_of(raw, part(metadata, "3.2")), "... base64-encoded image data goes here ...\n");
  // BODY[5.HEADER] / BODY[5.TEXT] / BODY[5.1]
  const PartInfo& p5 = part(metadata, "5");
  EXPECT_TRUE(message_header_of(raw, p5).starts_with("From: (mailbox in US-ASCII)\n"));
  EXPECT_TRUE(message_header_of(raw, p5).ends_with("Quoted-printable\n\n"));
  EXPECT_EQ(message_text_of(raw, p5), "... Additional text in ISO-8859-1 goes here ...\n");
  EXPECT_EQ(body_of(raw, part(metadata, "5.1")), message_text_of(raw, p5));
  EXPECT_EQ(part(metadata, "5.1").encoding, TransferEncoding::quoted_printable);
  EXPECT_EQ(part(metadata, "5.1").charset, "iso-8859-1");
}

// MimeKit's message built after the example in RFC 3501 §6.4.5 / RFC 9051 §6.4.5: each
// part's text names the section it must have.
TEST(MimeVectors, Rfc3501PartSpecifierExample) {
  const std::string raw = load_vector("mimekit-rfc2060-part-specifiers.eml");
  const MessageMetadata metadata = analyze_message(raw);
  std::vector<std::string> sections;
  for (const PartInfo& p : metadata.parts) sections.push_back(p.section);
  EXPECT_EQ(sections, (std::vector<std::string>{"", "1", "2", "3", "3.1", "3.2", "4", "4.1", "4.2",
                                                "4.2.1", "4.2.2", "4.2.2.1", "4.2.2.2"}));
  for (const char* leaf : {"1", "2", "3.1", "3.2", "4.1", "4.2.1", "4.2.2.1", "4.2.2.2"}) {
    SCOPED_TRACE(leaf);
    EXPECT_NE(body_of(raw, part(metadata, leaf)).find(std::string("should be: ") + leaf),
              std::string_view::npos);
  }
  // The subjects of 3 and 4.2 name the sections whose HEADER they are.
  EXPECT_NE(message_header_of(raw, part(metadata, "3")).find("should be: 3\n"),
            std::string_view::npos);
  EXPECT_NE(message_header_of(raw, part(metadata, "4.2")).find("should be: 4.2\n"),
            std::string_view::npos);
  EXPECT_EQ(part(metadata, "4.2.2").type, "multipart");
  EXPECT_EQ(part(metadata, "4.2.2").subtype, "alternative");
}

// A Gmail message with RFC 2231 and RFC 2047 in parameters.
TEST(MimeVectors, NodemailerParameters) {
  const std::string raw = load_vector("mailparser-nodemailer.eml");
  const MessageMetadata metadata = analyze_message(raw);
  // filename*0*=utf-8''nyan%20cat%20%E2%9C%94.gif: an encoded RFC 2231 parameter is
  // returned as "filename*" with its value decoded to UTF-8 (RFC 9051 §7.5.2); UTF-8
  // needs a literal. The RFC 2047 word in the quoted name= stays raw (RFC 2047 §5 (3)
  // forbids encoded words inside quoted strings, so it is not decoded).
  EXPECT_NE(metadata.bodystructure.find(
                "(\"attachment\" (\"filename*\" {16}\r\nnyan cat \xE2\x9C\x94.gif))"),
            std::string::npos);
  EXPECT_NE(metadata.bodystructure.find(R"x(("name" "nyan cat =?UTF-8?Q?=E2=9C=94=2Egif?="))x"),
            std::string::npos);
  // The Subject stays encoded in ENVELOPE, and is decoded for SEARCH.
  EXPECT_NE(metadata.envelope.find(
                R"x("Nodemailer is unicode friendly =?UTF-8?Q?=E2=9C=94?= (1476358788189)")x"),
            std::string::npos);
  EXPECT_EQ(metadata.subject, "Nodemailer is unicode friendly \xE2\x9C\x94 (1476358788189)");
  // The boundary contains "?=": it is matched literally.
  EXPECT_EQ(part(metadata, "1.3").subtype, "related");
  EXPECT_EQ(part(metadata, "1.3.3").type, "image");
  EXPECT_EQ(part(metadata, "1.3.3").encoding, TransferEncoding::base64);
  const auto gif = decode_part_content(raw, part(metadata, "1.3.3"));
  ASSERT_TRUE(gif.has_value());
  EXPECT_TRUE(gif->starts_with("GIF89a"));
}

TEST(MimeVectors, JapaneseSubjectDecodedForSearchOnly) {
  const std::string raw = load_vector("mimekit-japanese-iso2022jp.eml");
  const MessageMetadata metadata = analyze_message(raw);
  EXPECT_NE(
      metadata.envelope.find("\"=?ISO-2022-JP?B?GyRCRnxLXDhsJWEhPCVrJUYlOSVIGyhCICh0ZXN0aW5nIEph?= "
                             "=?ISO-2022-JP?B?cGFuZXNlIGVtYWlscyk=?=\""),
      std::string::npos);
  EXPECT_EQ(metadata.subject,
            "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x83\xA1\xE3\x83\xBC\xE3\x83\xAB\xE3\x83\x86"
            "\xE3\x82\xB9\xE3\x83\x88 (testing Japanese emails)");
  EXPECT_EQ(part(metadata, "1").charset, "iso-2022-jp");
}

TEST(MimeVectors, EmptyEncapsulatedMessage) {
  // mailparser's decoderended.eml ends with an empty message/rfc822 part.
  const std::string raw = load_vector("mailparser-decoderended.eml");
  const MessageMetadata metadata = analyze_message(raw);
  const PartInfo& p2 = part(metadata, "2");
  EXPECT_TRUE(p2.is_message);
  EXPECT_EQ(p2.header_end, p2.body_end);
  EXPECT_NE(
      metadata.bodystructure.find(
          R"x(("message" "rfc822" NIL NIL NIL "8bit" 0 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) )x"
          R"x(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL) 0 NIL NIL NIL NIL))x"),
      std::string::npos);
}

TEST(MimeVectors, AnalysisIsThreadSafe) {
  std::vector<std::string> raws;
  std::vector<MessageMetadata> expected;
  for (const std::string& name : test::vector_names()) {
    raws.push_back(load_vector(name));
    expected.push_back(analyze_message(raws.back()));
  }
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        for (std::size_t i = 0; i < raws.size(); ++i) {
          if (!(analyze_message(raws[i]) == expected[i])) ++mismatches[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace postamt::mime
