// DKIM verification against messages signed by others: the RFC 8463 example with its
// published keys, and the dkimpy vectors of tests/data/dkim (make_vectors.py), each with
// the verdict expected.txt gives it (for untampered messages: dkimpy's own verdict).
#include <gtest/gtest.h>

#include "dkim_test_support.hpp"

namespace postamt::mailauth {
namespace {

using testing::read_test_file;
using testing::ScriptedLookup;
using testing::statuses;
using testing::verify_message;

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::istringstream in(text);
  std::string part;
  while (std::getline(in, part, separator)) parts.push_back(part);
  return parts;
}

ScriptedLookup vector_zone() {
  ScriptedLookup lookup;
  for (const auto& line : split(read_test_file("dkim/zone.txt"), '\n')) {
    if (line.empty() || line.front() == '#') continue;
    const auto tab = line.find('\t');
    lookup.add_txt(line.substr(0, tab), line.substr(tab + 1));
  }
  return lookup;
}

// RFC 8463 Appendix A: the example message and its two keys.
TEST(DkimVerify, Rfc8463Example) {
  const std::string message = read_test_file("dkim/rfc-8463.eml");
  ASSERT_FALSE(message.empty());
  ScriptedLookup lookup;
  lookup.add_txt("brisbane._domainkey.football.example.com",
                 "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  lookup.add_txt("test._domainkey.football.example.com",
                 "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQ"
                 "iY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G"
                 "+2kryOTIKT+l/K4w3QIDAQAB");
  for (std::size_t chunk : {1u, 7u, 4096u}) {
    const auto results = verify_message(message, lookup, chunk);
    ASSERT_EQ(results.size(), 2u);
    EXPECT_EQ(statuses(results), (std::vector<std::string>{"pass", "pass"})) << results[0].reason << results[1].reason;
    EXPECT_EQ(results[0].algorithm, "ed25519-sha256");
    EXPECT_EQ(results[0].domain, "football.example.com");
    EXPECT_EQ(results[0].selector, "brisbane");
    EXPECT_EQ(results[0].header_b, "/gCrinpcQOoI");
    EXPECT_EQ(results[1].algorithm, "rsa-sha256");
  }
  // The same message with its body changed fails both.
  std::string tampered = message;
  tampered.replace(tampered.find("We lost"), 7, "We  won");
  EXPECT_EQ(statuses(verify_message(tampered, lookup)), (std::vector<std::string>{"fail", "fail"}));
}

TEST(DkimVerify, DkimpyVectors) {
  ScriptedLookup lookup = vector_zone();
  std::size_t checked = 0;
  for (const auto& line : split(read_test_file("dkim/expected.txt"), '\n')) {
    if (line.empty() || line.front() == '#') continue;
    const auto fields = split(line, '\t');
    ASSERT_GE(fields.size(), 2u) << line;
    const std::string message = read_test_file("dkim/vectors/" + fields[0]);
    ASSERT_FALSE(message.empty()) << fields[0];
    const std::string notes = fields.size() > 2 ? fields[2] : "";
    for (std::size_t chunk : {3u, 65536u}) {
      const auto results = verify_message(message, lookup, chunk);
      const auto got = statuses(results);
      EXPECT_EQ(got, split(fields[1], ',')) << fields[0] << ": " << (results.empty() ? "" : results[0].reason);
      if (notes.find("testing") != std::string::npos) {
        ASSERT_EQ(results.size(), 1u);
        EXPECT_TRUE(results[0].testing) << fields[0];
      }
      if (notes.find("l=") != std::string::npos) {
        ASSERT_EQ(results.size(), 1u);
        EXPECT_TRUE(results[0].body_length.has_value()) << fields[0];
        EXPECT_EQ(results[0].body_partly_unsigned, notes.find("partly-unsigned") != std::string::npos) << fields[0];
      }
    }
    ++checked;
  }
  EXPECT_GE(checked, 50u);
}

TEST(DkimVerify, RefusesBodyLengthWhenAsked) {
  ScriptedLookup lookup = vector_zone();
  DkimVerifierOptions options;
  options.accept_body_length = false;
  const auto results = verify_message(read_test_file("dkim/vectors/rsa_length_relaxed.eml"), lookup, 4096, options);
  EXPECT_EQ(statuses(results), std::vector<std::string>{"policy"});
}

TEST(DkimVerify, DnsFailuresAndBadRecords) {
  const std::string message = read_test_file("dkim/vectors/rsa_relaxed_relaxed.eml");
  ScriptedLookup lookup;
  lookup.answers["rsa._domainkey.example.org"] = DnsAnswer::timed_out();
  EXPECT_EQ(statuses(verify_message(message, lookup)), std::vector<std::string>{"temperror"});
  lookup.answers["rsa._domainkey.example.org"] = DnsAnswer{true, Rcode::server_failure, {}, false, 0};
  EXPECT_EQ(statuses(verify_message(message, lookup)), std::vector<std::string>{"temperror"});
  lookup.answers["rsa._domainkey.example.org"] = DnsAnswer::with({"v=DKIM1; p=YWJj", "v=DKIM1; p=ZGVm"});
  EXPECT_EQ(statuses(verify_message(message, lookup)), std::vector<std::string>{"permerror"});
  lookup.answers["rsa._domainkey.example.org"] = DnsAnswer::with({"v=DKIM1; k=ed25519; p=YWJj"});
  EXPECT_EQ(statuses(verify_message(message, lookup)), std::vector<std::string>{"permerror"});
  lookup.answers["rsa._domainkey.example.org"] = DnsAnswer::with({"garbage"});
  EXPECT_EQ(statuses(verify_message(message, lookup)), std::vector<std::string>{"permerror"});
}

// x=: a signature past its expiry is a permerror however its crypto would end (checked
// first); without a clock (now = 0) the edited header simply fails to verify.
TEST(DkimVerify, ExpiredSignature) {
  ScriptedLookup lookup = vector_zone();
  std::string message = read_test_file("dkim/vectors/rsa_relaxed_relaxed.eml");
  const auto t = message.find(" t=");
  ASSERT_NE(t, std::string::npos);
  const std::uint64_t signed_at = std::stoull(message.substr(t + 3));
  message.insert(t, " x=" + std::to_string(signed_at + 60) + ";");
  DkimVerifierOptions options;
  options.now = signed_at + 120;
  const auto expired = verify_message(message, lookup, 4096, options);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].status, DkimStatus::permerror);
  EXPECT_EQ(expired[0].reason, "signature expired");
  options.now = signed_at + 30;
  EXPECT_EQ(statuses(verify_message(message, lookup, 4096, options)), std::vector<std::string>{"fail"});
}

TEST(DkimVerify, OneBodyHashPerCanonicalisation) {
  // Two signatures with relaxed bodies share one body hash.
  const std::string message = read_test_file("dkim/vectors/two_signatures.eml");
  DkimVerifier first;
  first.feed(message);
  DkimVerifier verifier = std::move(first);  // movable: a session may keep it in a member
  EXPECT_TRUE(verifier.header_complete());
  EXPECT_EQ(verifier.signature_count(), 2u);
  EXPECT_EQ(verifier.body_hash_count(), 1u);
  // Keys can be asked for before the body ends.
  EXPECT_EQ(verifier.questions().size(), 2u);
}

TEST(DkimVerify, MessageWithoutSignatures) {
  ScriptedLookup lookup;
  EXPECT_TRUE(verify_message("From: a@b.example\r\n\r\nhi\r\n", lookup).empty());
  EXPECT_TRUE(lookup.asked.empty());
}

}  // namespace
}  // namespace postamt::mailauth

#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

namespace postamt::mailauth {
namespace {

// A zone whose every answer takes `delay`: the driver must ask all keys at once.
class SlowLookup final : public RecordLookup {
 public:
  SlowLookup(ScriptedLookup& zone, std::chrono::milliseconds delay) : zone_(zone), delay_(delay) {}
  asio::awaitable<DnsAnswer> lookup(DnsQuestion question) override {
    max_in_flight = std::max(max_in_flight, ++in_flight);
    asio::steady_timer timer(co_await asio::this_coro::executor, delay_);
    co_await timer.async_wait(asio::use_awaitable);
    --in_flight;
    ++answered;
    co_return co_await zone_.lookup(std::move(question));
  }
  int answered = 0;
  int in_flight = 0;
  int max_in_flight = 0;

 private:
  ScriptedLookup& zone_;
  std::chrono::milliseconds delay_;
};

TEST(DkimVerify, KeysAreLookedUpConcurrently) {
  ScriptedLookup zone = vector_zone();
  SlowLookup slow(zone, std::chrono::milliseconds(50));
  DkimVerifier verifier;
  verifier.feed(read_test_file("dkim/vectors/two_signatures.eml"));
  verifier.finish();
  asio::io_context io;
  auto future = asio::co_spawn(io, verify_dkim(verifier, slow), asio::use_future);
  io.run();
  EXPECT_EQ(statuses(future.get()), (std::vector<std::string>{"pass", "pass"}));
  EXPECT_EQ(slow.answered, 2);
  EXPECT_EQ(slow.max_in_flight, 2) << "the two key lookups were not in flight together";
}

}  // namespace
}  // namespace postamt::mailauth
