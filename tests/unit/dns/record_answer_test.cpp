// read_record_message on hand-built DNS messages (RFC 1035 §4.1): the AD bit, RCODEs,
// CNAME chains, TTLs (RFC 2308 negative caching), TXT strings, the caps, malformed input.
#include "dns/record_answer.hpp"

#include <gmock/gmock.h>

#include <cstdint>
#include <string>
#include <vector>

namespace postamt::dns {
namespace {

using ::testing::ElementsAre;
using Bytes = std::vector<unsigned char>;

class Message {
 public:
  explicit Message(std::uint8_t flags2 = 0x80, std::uint8_t flags3 = 0x80) {
    bytes_ = {0x12, 0x34, flags2, flags3, 0, 1, 0, 0, 0, 0, 0, 0};
  }
  Message& question(const std::string& name, std::uint16_t type) {
    put_name(name);
    put16(type);
    put16(1);
    return *this;
  }
  Message& record(const std::string& owner, std::uint16_t type, std::uint32_t ttl, const Bytes& rdata,
                  bool authority = false) {
    bump(authority ? 8 : 6);
    put_name(owner);
    put16(type);
    put16(1);
    put32(ttl);
    put16(static_cast<std::uint16_t>(rdata.size()));
    bytes_.insert(bytes_.end(), rdata.begin(), rdata.end());
    return *this;
  }
  const Bytes& bytes() const { return bytes_; }
  Bytes& raw() { return bytes_; }

  static Bytes name(const std::string& text) {
    Bytes out;
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t dot = text.find('.', start);
      if (dot == std::string::npos) dot = text.size();
      out.push_back(static_cast<unsigned char>(dot - start));
      out.insert(out.end(), text.begin() + static_cast<long>(start), text.begin() + static_cast<long>(dot));
      start = dot + 1;
    }
    out.push_back(0);
    return out;
  }

 private:
  void put_name(const std::string& text) {
    Bytes encoded = name(text);
    bytes_.insert(bytes_.end(), encoded.begin(), encoded.end());
  }
  void put16(std::uint16_t v) {
    bytes_.push_back(static_cast<unsigned char>(v >> 8));
    bytes_.push_back(static_cast<unsigned char>(v));
  }
  void put32(std::uint32_t v) {
    put16(static_cast<std::uint16_t>(v >> 16));
    put16(static_cast<std::uint16_t>(v));
  }
  void bump(std::size_t at) {
    unsigned count = (bytes_[at] << 8 | bytes_[at + 1]) + 1;
    bytes_[at] = static_cast<unsigned char>(count >> 8);
    bytes_[at + 1] = static_cast<unsigned char>(count);
  }
  Bytes bytes_;
};

Bytes txt(std::initializer_list<std::string> strings) {
  Bytes out;
  for (const std::string& s : strings) {
    out.push_back(static_cast<unsigned char>(s.size()));
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

Bytes soa(std::uint32_t minimum) {
  Bytes out = Message::name("ns.example.org");
  Bytes mailbox = Message::name("hostmaster.example.org");
  out.insert(out.end(), mailbox.begin(), mailbox.end());
  for (std::uint32_t v : {1u, 3600u, 600u, 86400u, minimum})
    for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<unsigned char>(v >> shift));
  return out;
}

TEST(RecordAnswer, TxtStringsJoinedPerRecordAndTheSmallestTtl) {
  Message m;
  m.question("example.org", 16)
      .record("example.org", 16, 300, txt({"v=spf1 ", "-all"}))
      .record("example.org", 16, 120, txt({"other"}))
      .record("elsewhere.org", 16, 5, txt({"not ours"}));
  RecordAnswer answer = read_record_message(m.bytes(), RecordKind::txt, "example.org");
  EXPECT_EQ(answer.status, LookupStatus::answered);
  EXPECT_THAT(answer.records, ElementsAre("v=spf1 -all", "other"));
  EXPECT_EQ(answer.ttl, 120u);
  EXPECT_FALSE(answer.authentic);
}

TEST(RecordAnswer, AdBitAndRcode) {
  Message signed_answer(0x81, 0xA0);  // RA + AD
  signed_answer.question("example.org", 1).record("example.org", 1, 60, {192, 0, 2, 1});
  RecordAnswer answer = read_record_message(signed_answer.bytes(), RecordKind::a, "example.org");
  EXPECT_TRUE(answer.authentic);
  EXPECT_THAT(answer.records, ElementsAre("192.0.2.1"));

  Message nx(0x81, 0x83);  // NXDOMAIN
  nx.question("gone.example.org", 16).record("example.org", 6, 900, soa(30), true);
  RecordAnswer negative = read_record_message(nx.bytes(), RecordKind::txt, "gone.example.org");
  EXPECT_EQ(negative.rcode, 3);
  EXPECT_TRUE(negative.records.empty());
  EXPECT_EQ(negative.ttl, 30u);  // min(SOA TTL, MINIMUM)

  Message nodata;
  nodata.question("example.org", 16);
  EXPECT_EQ(read_record_message(nodata.bytes(), RecordKind::txt, "example.org").ttl, kDefaultNegativeTtl);
}

TEST(RecordAnswer, CnameChainAndNamesWithCompression) {
  Message m;
  m.question("www.example.org", 15)
      .record("www.example.org", 5, 100, Message::name("Mail.Example.org"))
      .record("mail.example.org", 15, 200, Bytes{0, 10, 0xC0, 12});  // exchange: pointer to the question
  RecordAnswer answer = read_record_message(m.bytes(), RecordKind::mx, "www.example.org");
  EXPECT_THAT(answer.records, ElementsAre("www.example.org"));
  EXPECT_EQ(answer.ttl, 100u);
}

TEST(RecordAnswer, MalformedMessagesAreSaidToBe) {
  Message loop;
  loop.question("example.org", 12);
  loop.record("example.org", 12, 60, Bytes{0xC0, 0});  // pointer into the header: garbage
  Bytes pointer_loop = loop.bytes();
  pointer_loop[pointer_loop.size() - 2] = 0xC0;
  pointer_loop[pointer_loop.size() - 1] = static_cast<unsigned char>(pointer_loop.size() - 2);  // to itself
  EXPECT_EQ(read_record_message(pointer_loop, RecordKind::ptr, "example.org").status, LookupStatus::malformed);

  Message short_a;
  short_a.question("example.org", 1).record("example.org", 1, 60, {192, 0, 2});
  EXPECT_EQ(read_record_message(short_a.bytes(), RecordKind::a, "example.org").status, LookupStatus::malformed);

  Message overlong_string;
  overlong_string.question("example.org", 16).record("example.org", 16, 60, Bytes{9, 'a', 'b'});
  EXPECT_EQ(read_record_message(overlong_string.bytes(), RecordKind::txt, "example.org").status,
            LookupStatus::malformed);

  Message cut = Message();
  cut.question("example.org", 16).record("example.org", 16, 60, txt({"v=spf1 -all"}));
  Bytes truncated = cut.bytes();
  truncated.resize(truncated.size() - 3);
  EXPECT_EQ(read_record_message(truncated, RecordKind::txt, "example.org").status, LookupStatus::malformed);
  EXPECT_EQ(read_record_message(Bytes{1, 2, 3}, RecordKind::txt, "example.org").status, LookupStatus::malformed);
}

TEST(RecordAnswer, CapsOnRecordsAndOctets) {
  Message many;
  many.question("example.org", 1);
  for (std::size_t i = 0; i <= kMaxAnswerRecords; ++i)
    many.record("example.org", 1, 60, {198, 51, 100, static_cast<unsigned char>(i)});
  EXPECT_EQ(read_record_message(many.bytes(), RecordKind::a, "example.org").status, LookupStatus::too_large);

  Message big;
  big.question("example.org", 16);
  std::string chunk(255, 'x');
  for (int i = 0; i < 8; ++i) big.record("example.org", 16, 60, txt({chunk, chunk, chunk, chunk, chunk, chunk, chunk, chunk, chunk}));
  EXPECT_EQ(read_record_message(big.bytes(), RecordKind::txt, "example.org").status, LookupStatus::too_large);
}

}  // namespace
}  // namespace postamt::dns
