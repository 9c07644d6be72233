// search_matches / search_needs for every SEARCH key (RFC 9051 §6.4.4, RFC 3501 RECENT /
// NEW / OLD, RFC 7162 MODSEQ, RFC 5032 OLDER / YOUNGER, RFC 5182 "$").
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "imap/message/search_matcher.hpp"
#include "imap_message_test_support.hpp"
#include "sample_messages.hpp"

namespace postamt::imap {
namespace {

using namespace test;
using K = SearchKey::Kind;
using proto::imap::DayNumber;

DayNumber day(int y, unsigned m, unsigned d) {
  using namespace std::chrono;
  return static_cast<DayNumber>(
      sys_days{year_month_day{year{y}, month{m}, std::chrono::day{d}}}.time_since_epoch().count());
}

class SearchTest : public ::testing::Test {
 protected:
  bool matches(const SearchKey& k, const StoredMessage& message, bool recent = false) const {
    SearchSubject subject;
    subject.sequence_number = 3;
    subject.summary = &message.summary;
    subject.metadata = &message.metadata;
    subject.content = message.raw;
    subject.recent = recent;
    return search_matches(k, subject, scope_);
  }
  bool matches(const SearchKey& k) const { return matches(k, sample_); }

  StoredMessage sample_{kSampleMessage};
  StoredMessage plain_{kPlainMessage};
  SearchScope scope_{.max_sequence_number = 10, .max_uid = 50, .now = 1700000100,
                     .saved_uids = nullptr};
};

TEST_F(SearchTest, All) { EXPECT_TRUE(matches(key(K::all))); }

TEST_F(SearchTest, SystemFlags) {
  sample_.summary.flags = {"\\Answered", "\\Seen"};
  EXPECT_TRUE(matches(key(K::answered)));
  EXPECT_TRUE(matches(key(K::seen)));
  EXPECT_FALSE(matches(key(K::deleted)));
  EXPECT_FALSE(matches(key(K::draft)));
  EXPECT_FALSE(matches(key(K::flagged)));
  EXPECT_FALSE(matches(key(K::unanswered)));
  EXPECT_FALSE(matches(key(K::unseen)));
  EXPECT_TRUE(matches(key(K::undeleted)));
  EXPECT_TRUE(matches(key(K::undraft)));
  EXPECT_TRUE(matches(key(K::unflagged)));
  sample_.summary.flags = {"\\Deleted", "\\Draft", "\\Flagged"};
  EXPECT_TRUE(matches(key(K::deleted)));
  EXPECT_TRUE(matches(key(K::draft)));
  EXPECT_TRUE(matches(key(K::flagged)));
  EXPECT_FALSE(matches(key(K::undeleted)));
  EXPECT_FALSE(matches(key(K::undraft)));
  EXPECT_FALSE(matches(key(K::unflagged)));
}

TEST_F(SearchTest, Keywords) {
  sample_.summary.flags = {"$Forwarded", "Work"};
  EXPECT_TRUE(matches(text_key(K::keyword, "$Forwarded")));
  EXPECT_TRUE(matches(text_key(K::keyword, "$forwarded")));
  EXPECT_TRUE(matches(text_key(K::keyword, "WORK")));
  EXPECT_FALSE(matches(text_key(K::keyword, "Home")));
  EXPECT_FALSE(matches(text_key(K::unkeyword, "work")));
  EXPECT_TRUE(matches(text_key(K::unkeyword, "Home")));
}

TEST_F(SearchTest, RecentNewOld) {
  EXPECT_TRUE(matches(key(K::recent), sample_, true));
  EXPECT_FALSE(matches(key(K::recent), sample_, false));
  EXPECT_TRUE(matches(key(K::new_), sample_, true));
  EXPECT_FALSE(matches(key(K::new_), sample_, false));
  EXPECT_FALSE(matches(key(K::old), sample_, true));
  EXPECT_TRUE(matches(key(K::old), sample_, false));
  sample_.summary.flags = {"\\Seen"};
  EXPECT_FALSE(matches(key(K::new_), sample_, true));  // NEW = RECENT UNSEEN
}

// --- strings in header fields

TEST_F(SearchTest, FromDecodesCharsetWordsAndFoldsCase) {
  // From: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.com>
  EXPECT_TRUE(matches(text_key(K::from, "Jörg Müller")));
  EXPECT_TRUE(matches(text_key(K::from, "MÜLLER")));
  EXPECT_TRUE(matches(text_key(K::from, "jÖrg")));
  EXPECT_TRUE(matches(text_key(K::from, "joerg@EXAMPLE.com")));
  EXPECT_FALSE(matches(text_key(K::from, "Muller")));
  EXPECT_FALSE(matches(text_key(K::from, "=F6")));  // the encoded form is not searched
  EXPECT_FALSE(matches(text_key(K::from, "alice")));
}

TEST_F(SearchTest, ToCcSubject) {
  EXPECT_TRUE(matches(text_key(K::to, "alice")));
  EXPECT_TRUE(matches(text_key(K::to, "BOB@example.NET")));
  EXPECT_FALSE(matches(text_key(K::to, "carol")));
  EXPECT_TRUE(matches(text_key(K::cc, "Carol")));
  EXPECT_FALSE(matches(text_key(K::cc, "alice")));
  // Subject: =?ISO-8859-1?Q?=C4PFEL_und_Birnen?= is "ÄPFEL und Birnen".
  EXPECT_TRUE(matches(text_key(K::subject, "äpfel")));
  EXPECT_TRUE(matches(text_key(K::subject, "ÄPFEL UND")));
  EXPECT_TRUE(matches(text_key(K::subject, "birnen")));
  EXPECT_FALSE(matches(text_key(K::subject, "apfel")));
  EXPECT_FALSE(matches(text_key(K::subject, "inner")));  // the attached message's subject
  // The empty string is a substring of everything.
  EXPECT_TRUE(matches(text_key(K::subject, "")));
}

TEST_F(SearchTest, BccIsReadFromTheStoredHeader) {
  // Bcc: =?UTF-8?Q?D=C3=B6rte?= <doerte@example.com>
  EXPECT_TRUE(matches(text_key(K::bcc, "DÖRTE")));
  EXPECT_TRUE(matches(text_key(K::bcc, "doerte@example.com")));
  EXPECT_FALSE(matches(text_key(K::bcc, "alice")));
  EXPECT_FALSE(matches(text_key(K::bcc, "someone"), plain_));
}

TEST_F(SearchTest, HeaderField) {
  EXPECT_TRUE(matches(text_key(K::header, "Message-ID", "a1@EXAMPLE")));
  EXPECT_TRUE(matches(text_key(K::header, "message-id", "<a1@")));
  EXPECT_FALSE(matches(text_key(K::header, "Message-ID", "a2@")));
  // Folded fields are unfolded first.
  EXPECT_TRUE(matches(text_key(K::header, "X-FOLDED", "first part second")));
  // Encoded words are decoded.
  EXPECT_TRUE(matches(text_key(K::header, "Subject", "äpfel und")));
  EXPECT_TRUE(matches(text_key(K::header, "Bcc", "dörte")));
  // Only header fields, and only the top-level header.
  EXPECT_FALSE(matches(text_key(K::header, "Content-Transfer-Encoding", "base64")));
  EXPECT_FALSE(matches(text_key(K::header, "Subject", "inner")));
  EXPECT_FALSE(matches(text_key(K::header, "Subject", "not there")));
}

TEST_F(SearchTest, HeaderWithEmptyValueMeansTheFieldExists) {
  EXPECT_TRUE(matches(text_key(K::header, "X-Folded", "")));
  EXPECT_TRUE(matches(text_key(K::header, "bcc", "")));
  EXPECT_FALSE(matches(text_key(K::header, "Bcc", ""), plain_));
  EXPECT_FALSE(matches(text_key(K::header, "X-Folded", ""), plain_));
  EXPECT_FALSE(matches(text_key(K::header, "X-Fold", "")));
  EXPECT_FALSE(matches(text_key(K::header, "Content-Type", ""), plain_));
}

TEST_F(SearchTest, Iso2022JpSubjectAndBody) {
  const StoredMessage japanese(load_vector("mimekit-japanese-iso2022jp.eml"));
  EXPECT_TRUE(matches(text_key(K::subject, "日本語"), japanese));
  EXPECT_TRUE(matches(text_key(K::subject, "TESTING japanese"), japanese));
  EXPECT_TRUE(matches(text_key(K::body, "日本語が"), japanese));
  EXPECT_TRUE(matches(text_key(K::body, "テスト"), japanese));
  EXPECT_FALSE(matches(text_key(K::body, "$B"), japanese));  // the encoded octets are not text
}

// --- body and text

TEST_F(SearchTest, BodySearchesDecodedTextParts) {
  // Part 1, ISO-8859-1 quoted-printable: "Grüße aus Köln: äpfel sind grün."
  EXPECT_TRUE(matches(text_key(K::body, "ÄPFEL")));
  EXPECT_TRUE(matches(text_key(K::body, "grüße aus köln")));
  EXPECT_TRUE(matches(text_key(K::body, "GRÜN.")));  // across the soft line break
  // Full case folding: ß folds to ss.
  EXPECT_TRUE(matches(text_key(K::body, "GRÜSSE")));
  // Part 3, UTF-8 base64 HTML.
  EXPECT_TRUE(matches(text_key(K::body, "hallo welt")));
  EXPECT_TRUE(matches(text_key(K::body, "STRASSE")));
  // The attached message's text part.
  EXPECT_TRUE(matches(text_key(K::body, "inner body")));
  // Not: header fields, non-text parts, encoded forms.
  EXPECT_FALSE(matches(text_key(K::body, "Birnen")));
  EXPECT_FALSE(matches(text_key(K::body, "Message-ID")));
  EXPECT_FALSE(matches(text_key(K::body, "AAECAwQF")));
  EXPECT_FALSE(matches(text_key(K::body, "=E4pfel")));
  EXPECT_FALSE(matches(text_key(K::body, "PHA+SGFs")));
  // A text part with an unknown transfer encoding is searched as stored.
  EXPECT_TRUE(matches(text_key(K::body, "BEGIN 644")));
}

TEST_F(SearchTest, BodyOfUtf16AndEucJpParts) {
  const StoredMessage message(load_vector("stalwart-thirdparty-005-utf16-eucjp.eml"));
  EXPECT_TRUE(matches(text_key(K::body, "TEST MESSAGE"), message));
  EXPECT_TRUE(matches(text_key(K::body, "世界人権宣言"), message));
  EXPECT_TRUE(matches(text_key(K::body, "invalid"), message));
}

TEST_F(SearchTest, TextSearchesHeaderAndBody) {
  EXPECT_TRUE(matches(text_key(K::text, "Birnen")));
  EXPECT_TRUE(matches(text_key(K::text, "a1@example.com")));
  EXPECT_TRUE(matches(text_key(K::text, "müller")));
  EXPECT_TRUE(matches(text_key(K::text, "MIME-Version")));
  EXPECT_TRUE(matches(text_key(K::text, "ÄPFEL SIND")));
  EXPECT_TRUE(matches(text_key(K::text, "hallo welt")));
  EXPECT_FALSE(matches(text_key(K::text, "nowhere to be found")));
  EXPECT_TRUE(matches(text_key(K::text, "just one"), plain_));
  EXPECT_TRUE(matches(text_key(K::text, "someone@"), plain_));
}

// --- dates

TEST_F(SearchTest, InternalDateAtDayBoundaries) {
  const DayNumber d = day(2023, 11, 14);
  // The last second of 14 Nov and the first of 15 Nov, UTC.
  sample_.summary.internal_date = std::int64_t{d} * 86400 + 86399;
  EXPECT_TRUE(matches(day_key(K::on, d)));
  EXPECT_FALSE(matches(day_key(K::on, d + 1)));
  EXPECT_TRUE(matches(day_key(K::before, d + 1)));
  EXPECT_FALSE(matches(day_key(K::before, d)));
  EXPECT_TRUE(matches(day_key(K::since, d)));
  EXPECT_FALSE(matches(day_key(K::since, d + 1)));
  sample_.summary.internal_date = std::int64_t{d + 1} * 86400;
  EXPECT_TRUE(matches(day_key(K::on, d + 1)));
  EXPECT_FALSE(matches(day_key(K::on, d)));
  EXPECT_FALSE(matches(day_key(K::before, d + 1)));
  EXPECT_TRUE(matches(day_key(K::since, d + 1)));
}

TEST_F(SearchTest, InternalDateBeforeTheEpoch) {
  sample_.summary.internal_date = -1;  // 31 Dec 1969 23:59:59
  EXPECT_TRUE(matches(day_key(K::on, day(1969, 12, 31))));
  EXPECT_TRUE(matches(day_key(K::before, 0)));
}

TEST_F(SearchTest, SentDateIsTheDateAsWritten) {
  // Date: Mon, 31 Dec 2023 23:30:00 -0500, which is 1 Jan 2024 04:30 in UTC.
  const DayNumber d = day(2023, 12, 31);
  EXPECT_TRUE(matches(day_key(K::sent_on, d)));
  EXPECT_FALSE(matches(day_key(K::sent_on, d + 1)));
  EXPECT_TRUE(matches(day_key(K::sent_before, d + 1)));
  EXPECT_FALSE(matches(day_key(K::sent_before, d)));
  EXPECT_TRUE(matches(day_key(K::sent_since, d)));
  EXPECT_FALSE(matches(day_key(K::sent_since, d + 1)));
}

TEST_F(SearchTest, SentDateAheadOfUtc) {
  const StoredMessage message(crlf("Date: Tue, 1 Jan 2024 00:30:00 +0200\nSubject: x\n\nbody\n"));
  EXPECT_TRUE(matches(day_key(K::sent_on, day(2024, 1, 1)), message));
  EXPECT_FALSE(matches(day_key(K::sent_on, day(2023, 12, 31)), message));
  const StoredMessage obsolete(crlf("Date: 31 Dec 99 23:00 EST\n\nbody\n"));
  EXPECT_TRUE(matches(day_key(K::sent_on, day(1999, 12, 31)), obsolete));
}

TEST_F(SearchTest, MissingOrBrokenDateMatchesNoSentKey) {
  const StoredMessage broken(crlf("Date: sometime last week\n\nbody\n"));
  for (const StoredMessage* message : {static_cast<const StoredMessage*>(&plain_), &broken}) {
    for (const K kind : {K::sent_before, K::sent_on, K::sent_since}) {
      EXPECT_FALSE(matches(day_key(kind, day(2000, 1, 1)), *message));
      EXPECT_FALSE(matches(day_key(kind, 0), *message));
      EXPECT_FALSE(matches(day_key(kind, 100000), *message));
      EXPECT_TRUE(matches(not_key(day_key(kind, 0)), *message));
    }
  }
}

TEST_F(SearchTest, SentDateFallsBackToMetadataWithoutContent) {
  SearchSubject subject;
  subject.summary = &sample_.summary;
  subject.metadata = &sample_.metadata;
  // No content: the metadata's Date: as a UTC instant (1 Jan 2024 04:30 UTC).
  EXPECT_TRUE(search_matches(day_key(K::sent_on, day(2024, 1, 1)), subject, scope_));
}

TEST_F(SearchTest, OlderAndYounger) {
  // now is internal date + 100 s.
  EXPECT_TRUE(matches(number_key(K::older, 99)));
  EXPECT_FALSE(matches(number_key(K::older, 100)));
  EXPECT_TRUE(matches(number_key(K::younger, 100)));
  EXPECT_FALSE(matches(number_key(K::younger, 99)));
  EXPECT_TRUE(matches(number_key(K::younger, UINT64_MAX)));
  EXPECT_FALSE(matches(number_key(K::older, UINT64_MAX)));
}

// --- sizes, sets, MODSEQ

TEST_F(SearchTest, Sizes) {
  const std::uint64_t size = kSampleMessage.size();
  EXPECT_TRUE(matches(number_key(K::larger, size - 1)));
  EXPECT_FALSE(matches(number_key(K::larger, size)));
  EXPECT_TRUE(matches(number_key(K::smaller, size + 1)));
  EXPECT_FALSE(matches(number_key(K::smaller, size)));
}

TEST_F(SearchTest, SequenceNumbers) {
  // The message is number 3 of 10.
  EXPECT_TRUE(matches(set_key(K::sequence_set, "3")));
  EXPECT_TRUE(matches(set_key(K::sequence_set, "1:4")));
  EXPECT_TRUE(matches(set_key(K::sequence_set, "5:2")));
  EXPECT_TRUE(matches(set_key(K::sequence_set, "1,3,5")));
  EXPECT_FALSE(matches(set_key(K::sequence_set, "4:*")));
  EXPECT_TRUE(matches(set_key(K::sequence_set, "*:3")));
  scope_.max_sequence_number = 3;
  EXPECT_TRUE(matches(set_key(K::sequence_set, "*")));
}

TEST_F(SearchTest, Uids) {
  // UID 42, largest UID 50.
  EXPECT_TRUE(matches(set_key(K::uid, "42")));
  EXPECT_TRUE(matches(set_key(K::uid, "40:*")));
  EXPECT_FALSE(matches(set_key(K::uid, "43:*")));
  EXPECT_FALSE(matches(set_key(K::uid, "*")));
  scope_.max_uid = 42;
  EXPECT_TRUE(matches(set_key(K::uid, "*")));
}

TEST_F(SearchTest, SavedResult) {
  // No saved result: "$" matches nothing.
  EXPECT_FALSE(matches(set_key(K::uid, "$")));
  EXPECT_FALSE(matches(set_key(K::sequence_set, "$")));
  const std::vector<std::uint32_t> saved = {3, 17, 42, 49};
  scope_.saved_uids = &saved;
  EXPECT_TRUE(matches(set_key(K::uid, "$")));
  EXPECT_TRUE(matches(set_key(K::sequence_set, "$")));
  const std::vector<std::uint32_t> others = {3, 17, 49};
  scope_.saved_uids = &others;
  EXPECT_FALSE(matches(set_key(K::uid, "$")));
  const std::vector<std::uint32_t> none;
  scope_.saved_uids = &none;
  EXPECT_FALSE(matches(set_key(K::uid, "$")));
}

TEST_F(SearchTest, Modseq) {
  // MODSEQ 7.
  EXPECT_TRUE(matches(number_key(K::modseq, 7)));
  EXPECT_TRUE(matches(number_key(K::modseq, 1)));
  EXPECT_FALSE(matches(number_key(K::modseq, 8)));
}

// --- structure

TEST_F(SearchTest, NotOrAndNesting) {
  sample_.summary.flags = {"\\Seen"};
  const SearchKey seen = key(K::seen);
  const SearchKey flagged = key(K::flagged);
  const SearchKey subject = text_key(K::subject, "äpfel");
  EXPECT_FALSE(matches(not_key(seen)));
  EXPECT_TRUE(matches(not_key(not_key(seen))));
  EXPECT_TRUE(matches(or_key(flagged, seen)));
  EXPECT_TRUE(matches(or_key(seen, flagged)));
  EXPECT_FALSE(matches(or_key(flagged, not_key(seen))));
  EXPECT_TRUE(matches(and_key({seen, subject})));
  EXPECT_FALSE(matches(and_key({seen, subject, flagged})));
  EXPECT_TRUE(matches(and_key({})));
  // SEEN (OR FLAGGED (NOT SUBJECT kirschen (OR BODY köln UID 1)))
  EXPECT_TRUE(matches(and_key(
      {seen, or_key(flagged, and_key({not_key(text_key(K::subject, "kirschen")),
                                      or_key(text_key(K::body, "KÖLN"), set_key(K::uid, "1"))}))})));
  // SEEN (OR FLAGGED (SUBJECT birnen NOT (OR BODY köln UID 1)))
  EXPECT_FALSE(matches(and_key(
      {seen, or_key(flagged, and_key({text_key(K::subject, "birnen"),
                                      not_key(or_key(text_key(K::body, "KÖLN"),
                                                     set_key(K::uid, "1")))}))})));
}

TEST_F(SearchTest, DeepNestingStaysBounded) {
  // Beyond the depth limit the message does not match, whatever the NOTs say.
  for (const int depth : {5000, 5001}) {
    SearchKey k = key(K::all);
    for (int i = 0; i < depth; ++i) k = not_key(std::move(k));
    EXPECT_FALSE(matches(k));
  }
  SearchKey k = text_key(K::subject, "x");
  for (int i = 0; i < 5000; ++i) k = not_key(std::move(k));
  const SearchNeeds needs = search_needs(k);
  EXPECT_FALSE(needs.metadata);
}

TEST(SearchNeeds, PerKey) {
  auto needs_of = [](const SearchKey& k) {
    const SearchNeeds needs = search_needs(k);
    return std::pair(needs.metadata, needs.content);
  };
  using P = std::pair<bool, bool>;
  for (const K kind : {K::all, K::answered, K::seen, K::recent, K::new_, K::old, K::keyword,
                       K::before, K::on, K::since, K::older, K::younger, K::larger, K::smaller,
                       K::sequence_set, K::uid, K::modseq}) {
    EXPECT_EQ(needs_of(key(kind)), P(false, false)) << static_cast<int>(kind);
  }
  for (const K kind : {K::from, K::to, K::cc, K::subject}) {
    EXPECT_EQ(needs_of(text_key(kind, "x")), P(true, false)) << static_cast<int>(kind);
  }
  for (const K kind : {K::bcc, K::header, K::sent_before, K::sent_on, K::sent_since}) {
    EXPECT_EQ(needs_of(text_key(kind, "x")), P(false, true)) << static_cast<int>(kind);
  }
  EXPECT_EQ(needs_of(text_key(K::body, "x")), P(true, true));
  EXPECT_EQ(needs_of(text_key(K::text, "x")), P(true, true));
  // Nested keys count.
  EXPECT_EQ(needs_of(and_key({key(K::seen), not_key(or_key(key(K::flagged),
                                                           text_key(K::from, "x")))})),
            P(true, false));
  EXPECT_EQ(needs_of(or_key(text_key(K::subject, "x"), day_key(K::sent_on, 1))), P(true, true));
  // Only BODY and TEXT need more than the header.
  EXPECT_TRUE(search_needs(text_key(K::body, "x")).body);
  EXPECT_TRUE(search_needs(not_key(text_key(K::text, "x"))).body);
  EXPECT_FALSE(search_needs(text_key(K::header, "x")).body);
  EXPECT_FALSE(search_needs(or_key(text_key(K::bcc, "x"), day_key(K::sent_on, 1))).body);
}

}  // namespace
}  // namespace postamt::imap
