// The ValiMail ARC test suite (tests/data/arc/, converted from YAML to JSON by
// convert_to_json.py): every validation case must give its expected cv, every signing
// case the expected ARC-Seal, ARC-Message-Signature and ARC-Authentication-Results.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <map>
#include <string>

#include "mailauth/arc_lookup.hpp"
#include "mailauth/arc_sealer.hpp"
#include "mailauth/arc_verifier.hpp"
#include "mailauth/dkim_crypto.hpp"
#include "proto/mailauth/arc_set_builder.hpp"
#include "proto/mailauth/message_head.hpp"
#include "proto/mailauth/tag_list.hpp"
#include "dkim_test_support.hpp"

namespace postamt::mailauth {
namespace {

using nlohmann::json;
using testing::read_test_file;
using testing::ScriptedLookup;

json load_suite(const std::string& name) { return json::parse(read_test_file("arc/" + name + ".json")); }

std::map<std::string, std::string> txt_records(const json& document) {
  std::map<std::string, std::string> records;
  if (document.contains("txt-records")) {
    for (const auto& [name, value] : document["txt-records"].items()) records[name] = value.get<std::string>();
  }
  return records;
}

// Feeds the message in `chunk`-octet pieces and answers the questions from `records`.
ArcVerdict verify(const std::string& message, const std::map<std::string, std::string>& records,
                  std::size_t chunk = 1 << 20) {
  ArcVerifier verifier;
  for (std::size_t i = 0; i < message.size(); i += chunk) verifier.feed(std::string_view(message).substr(i, chunk));
  verifier.finish();
  for (const DnsQuestion& question : verifier.questions()) {
    const auto found = records.find(question.name);
    verifier.answer(question, found == records.end() ? DnsAnswer::nx_domain() : DnsAnswer::with({found->second}));
  }
  return verifier.verdict();
}

// What relaxed header canonicalisation keeps of a value: WSP runs as one space, trimmed.
std::string relaxed(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string value_of(std::string_view field) { return relaxed(field.substr(field.find(':') + 1)); }

// The suite folds its expected values for display, inside b= too, where our fields (like
// the reference signer's real output, whose seal signatures cover an unfolded AMS b=)
// have none: values are compared without white space; the seal's signature, which covers
// the relaxed AAR and AMS, checks the rest.
std::string without_spaces(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c != ' ') out += c;
  }
  return out;
}

TEST(ArcSuite, EveryValidationCaseGivesItsCv) {
  const json suite = load_suite("arc-draft-validation-tests");
  std::size_t cases = 0;
  for (const json& document : suite) {
    const auto records = txt_records(document);
    for (const auto& [name, test] : document["tests"].items()) {
      std::string expected = relaxed(test["cv"].get<std::string>());
      // Three cases (an AS with cv=fail) leave cv blank; RFC 8617 §5.2 step 3 says fail.
      if (expected.empty()) expected = "Fail";
      const std::string message = test["message"].get<std::string>();
      for (std::size_t chunk : {std::size_t{1} << 20, std::size_t{7}}) {
        const ArcVerdict verdict = verify(message, records, chunk);
        std::string got(arc_status_name(verdict.status));
        got[0] = static_cast<char>(got[0] - 'a' + 'A');
        EXPECT_EQ(got, expected) << name << " (" << test["description"].get<std::string>() << "), chunks of " << chunk
                                 << ": " << verdict.reason;
      }
      ++cases;
    }
  }
  EXPECT_EQ(cases, 171u);
}

TEST(ArcSuite, EverySigningCaseGivesTheExpectedSet) {
  const json suite = load_suite("arc-draft-sign-tests");
  std::size_t cases = 0;
  for (const json& document : suite) {
    const auto records = txt_records(document);
    auto key = DkimPrivateKey::from_pem(document["privatekey"].get<std::string>());
    ASSERT_TRUE(key) << key.error().message;
    const ArcSealer sealer(document["domain"].get<std::string>(), document["sel"].get<std::string>(), std::move(*key));
    for (const auto& [name, test] : document["tests"].items()) {
      const std::string message = test["message"].get<std::string>();
      const ArcVerdict verdict = verify(message, records);
      const SplitHead head = split_message_head(message);
      const std::string payload = merged_auth_results(head.fields, test["srv-id"].get<std::string>());
      std::vector<std::string> signed_headers;
      const std::string sig_headers = test["sig-headers"].get<std::string>();
      for (auto part : split_trimmed(sig_headers, ':')) signed_headers.emplace_back(part);
      const ArcSealInput input{message, payload, &verdict, test["t"].get<std::uint64_t>(), signed_headers};
      auto sealed = sealer.seal(input);
      ASSERT_TRUE(sealed) << name << ": " << sealed.error().message;
      if (relaxed(test["AS"].get<std::string>()).empty()) {
        EXPECT_FALSE(sealed->has_value()) << name << ": sealed a chain that ended";
      } else {
        ASSERT_TRUE(sealed->has_value()) << name;
        const ArcSealedSet& set = **sealed;
        EXPECT_EQ(value_of(set.auth_results), relaxed(test["AAR"].get<std::string>())) << name;
        EXPECT_EQ(without_spaces(value_of(set.message_signature)), without_spaces(relaxed(test["AMS"].get<std::string>())))
            << name;
        EXPECT_EQ(without_spaces(value_of(set.seal)), without_spaces(relaxed(test["AS"].get<std::string>()))) << name;
        EXPECT_EQ(set.chain_status, verdict.instance_count == 0 ? ArcChainStatus::none : verdict.status) << name;
        // What we sealed verifies, with the cv we wrote (pass or none on a good chain).
        const ArcVerdict after = verify(set.header_text() + message, records);
        if (set.chain_status == ArcChainStatus::fail) {
          EXPECT_EQ(after.status, ArcChainStatus::fail) << name;
        } else {
          EXPECT_EQ(after.status, ArcChainStatus::pass) << name << ": " << after.reason;
          EXPECT_EQ(after.instance_count, set.instance);
        }
      }
      ++cases;
    }
  }
  EXPECT_EQ(cases, 17u);
}

TEST(ArcSuite, TheDriverAsksEveryKeyOnceAndGivesTheSealerDomains) {
  const json suite = load_suite("arc-draft-validation-tests");
  const json& document = suite[0];
  const json& test = document["tests"]["cv_pass_i3_1"];
  ScriptedLookup lookup;
  for (const auto& [name, value] : txt_records(document)) lookup.add_txt(name, value);
  ArcVerifier verifier;
  verifier.feed(test["message"].get<std::string>());
  verifier.finish();
  asio::io_context io;
  auto future = asio::co_spawn(io, verify_arc(verifier, lookup), asio::use_future);
  io.run();
  const ArcVerdict verdict = future.get();
  EXPECT_EQ(verdict.status, ArcChainStatus::pass) << verdict.reason;
  EXPECT_EQ(verdict.instance_count, 3u);
  EXPECT_EQ(verdict.sealer_domains, (std::vector<std::string>{"example.org", "example.org", "example.org"}));
  EXPECT_EQ(lookup.asked.size(), 1u);  // every set uses dummy._domainkey.example.org
}

TEST(ArcSuite, AKeyLookupThatFailsTemporarilyIsATemporaryFail) {
  const json suite = load_suite("arc-draft-validation-tests");
  const std::string message = suite[0]["tests"]["cv_pass_i1_1"]["message"].get<std::string>();
  ArcVerifier verifier;
  verifier.feed(message);
  verifier.finish();
  ASSERT_EQ(verifier.questions().size(), 1u);
  verifier.answer(verifier.questions().front(), DnsAnswer::timed_out());
  const ArcVerdict verdict = verifier.verdict();
  EXPECT_EQ(verdict.status, ArcChainStatus::fail);
  EXPECT_TRUE(verdict.temporary);
}

}  // namespace
}  // namespace postamt::mailauth
