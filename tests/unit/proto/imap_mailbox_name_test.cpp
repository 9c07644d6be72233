#include <gtest/gtest.h>

#include <string>

#include "proto/imap/mailbox_name.hpp"

namespace postamt::proto::imap {
namespace {

struct Pair {
  const char* utf7;
  const char* utf8;
};

constexpr Pair kPairs[] = {
    {"", ""},
    {"INBOX", "INBOX"},
    {"~peter/mail/&U,BTFw-/&ZeVnLIqe-",
     "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"},
    {"Entw&APw-rfe",
     "Entw\xc3\xbc"
     "rfe"},
    {"&AOQ-", "\xc3\xa4"},
    {"Tom &- Jerry", "Tom & Jerry"},
    {"&-&-", "&&"},
    {"&2D3eAA-", "\xf0\x9f\x98\x80"},                       // U+1F600: a surrogate pair
    {"&AOTYPd4AAPw-", "\xc3\xa4\xf0\x9f\x98\x80\xc3\xbc"},  // one run, several characters
    {"&AAE-", "\x01"},                                      // controls are encoded
    {"&AH8-", "\x7f"},
    {"a&IKw-b&AOQ-c",
     "a\xe2\x82\xac"
     "b\xc3\xa4"
     "c"},
    {"&AOQ-&-", "\xc3\xa4&"},  // a run, then "&-"
    {"&-&AOQ-", "&\xc3\xa4"},
    {" ~!\"#$%'()*+,-./:;<=>?@[\\]^_`{|}", " ~!\"#$%'()*+,-./:;<=>?@[\\]^_`{|}"},
};

TEST(ImapMailboxName, DecodeAndEncodeRoundTrip) {
  for (const Pair& pair : kPairs) {
    EXPECT_EQ(decode_modified_utf7(pair.utf7), std::string(pair.utf8)) << pair.utf7;
    EXPECT_EQ(encode_modified_utf7(pair.utf8), std::string(pair.utf7)) << pair.utf7;
  }
}

TEST(ImapMailboxName, DecodeRejectsMalformed) {
  for (const char* bad : {
           "&",            // not closed
           "a&AOQ",        // not closed
           "&AOQ-&AOQ-",   // two runs where one would do
           "&AOQ",         // not closed
           "&A-",          // 6 bits: no whole unit
           "&AO-",         // 12 bits
           "&AOQA-",       // 24 bits: 8 leftover bits
           "&AOR-",        // leftover bits not zero
           "&AOQ=-",       // padding
           "&AO/-",        // "/" is "," in modified BASE64
           "&AO Q-",       // space inside
           "&AEE-",        // "A" encoded: printable ASCII must stand for itself
           "&ACY-",        // "&" encoded
           "&ACA-",        // space encoded
           "&2D0-",        // lone high surrogate
           "&3gA-",        // lone low surrogate
           "&2D3YPQ-",     // high surrogate followed by another high surrogate
           "&2D0AQQ-",     // high surrogate followed by a non-surrogate
           "&AAA-",        // U+0000
           "caf\xc3\xa9",  // raw 8-bit
           "tab\there",    // control
           "del\x7f",
       }) {
    EXPECT_FALSE(decode_modified_utf7(bad)) << bad;
  }
  EXPECT_EQ(decode_modified_utf7("&AOQ").error(), "Unterminated & in mailbox name");
  EXPECT_EQ(decode_modified_utf7("&AEE-").error(), "Printable ASCII encoded in mailbox name");
  EXPECT_EQ(decode_modified_utf7("&2D0-").error(), "Unpaired surrogate in mailbox name");
}

TEST(ImapMailboxName, EncodeRejectsInvalidUtf8) {
  for (const char* bad : {
           "\x80",                  // continuation without lead
           "\xc3",                  // truncated
           "\xc0\xaf",              // overlong "/"
           "\xe0\x80\xaf",          // overlong
           "\xed\xa0\x80",          // UTF-8 encoded surrogate
           "\xf4\x90\x80\x80",      // above U+10FFFF
           "\xf8\x88\x80\x80\x80",  // 5-byte form
           "a\xe2\x82",             // truncated at the end
       }) {
    EXPECT_FALSE(encode_modified_utf7(bad)) << bad;
    EXPECT_FALSE(is_valid_utf8(bad)) << bad;
  }
  EXPECT_FALSE(encode_modified_utf7(std::string("a\0b", 3)));
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8(""));
}

TEST(ImapMailboxName, NeedsEncoding) {
  EXPECT_FALSE(needs_modified_utf7("INBOX/Sent Items"));
  EXPECT_FALSE(needs_modified_utf7(""));
  EXPECT_TRUE(needs_modified_utf7("Tom & Jerry"));
  EXPECT_TRUE(
      needs_modified_utf7("Entw\xc3\xbc"
                          "rfe"));
  EXPECT_TRUE(needs_modified_utf7("tab\there"));
  for (const Pair& pair : kPairs) {
    EXPECT_EQ(needs_modified_utf7(pair.utf8), std::string(pair.utf7) != pair.utf8) << pair.utf7;
  }
}

TEST(ImapMailboxName, EveryCodePointRoundTrips) {
  // A sample across the planes, each alone and between ASCII.
  for (char32_t c = 1; c <= 0x10ffff; c += (c < 0x800 ? 1 : 97)) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    std::string utf8;
    if (c < 0x80) {
      utf8 += static_cast<char>(c);
    } else if (c < 0x800) {
      utf8 += static_cast<char>(0xc0 | (c >> 6));
      utf8 += static_cast<char>(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
      utf8 += static_cast<char>(0xe0 | (c >> 12));
      utf8 += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
      utf8 += static_cast<char>(0x80 | (c & 0x3f));
    } else {
      utf8 += static_cast<char>(0xf0 | (c >> 18));
      utf8 += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
      utf8 += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
      utf8 += static_cast<char>(0x80 | (c & 0x3f));
    }
    const std::string name = "a" + utf8 + utf8 + "/b";
    auto encoded = encode_modified_utf7(name);
    ASSERT_TRUE(encoded) << static_cast<unsigned>(c);
    auto decoded = decode_modified_utf7(*encoded);
    ASSERT_TRUE(decoded) << *encoded;
    EXPECT_EQ(*decoded, name);
  }
}

}  // namespace
}  // namespace postamt::proto::imap
