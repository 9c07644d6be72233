// ArcSealer and ArcVerifier together with fresh keys: Ed25519 and RSA seals verify, a
// chain grows set by set with cv=pass, the seal refuses to extend an ended chain, and
// changes after a seal make the chain fail.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>

#include "mailauth/arc_sealer.hpp"
#include "mailauth/arc_sealer_keys.hpp"
#include "mailauth/arc_verifier.hpp"
#include "mailauth/dkim_crypto.hpp"

namespace postamt::mailauth {
namespace {

const std::string kMessage =
    "Authentication-Results: mx.forward.test; spf=pass smtp.mailfrom=a@origin.test\r\n"
    "From: Alice <a@origin.test>\r\nTo: b@forward.test\r\nSubject: hi\r\n"
    "Date: Sat, 05 Dec 2026 07:00:00 +0000\r\nMessage-ID: <1@origin.test>\r\n\r\nHello.\r\n";

struct Sealer {
  std::string record;
  ArcSealer sealer;
};

Sealer make_sealer(DkimKeyType type, const std::string& domain) {
  auto key = DkimPrivateKey::generate(type);
  EXPECT_TRUE(key);
  std::string record = key->key_record();
  return Sealer{std::move(record), ArcSealer(domain, "s1", std::move(*key))};
}

void verify_answer(ArcVerifier& verifier, const DnsQuestion& question, const std::map<std::string, std::string>& zone) {
  const auto found = zone.find(question.name);
  verifier.answer(question, found == zone.end() ? DnsAnswer::nx_domain() : DnsAnswer::with({found->second}));
}

ArcVerdict verify(const std::string& message, const std::map<std::string, std::string>& zone, std::size_t chunk = 64) {
  ArcVerifier verifier;
  for (std::size_t i = 0; i < message.size(); i += chunk) verifier.feed(std::string_view(message).substr(i, chunk));
  verifier.finish();
  for (const auto& question : verifier.questions()) {
    const auto found = zone.find(question.name);
    verifier.answer(question, found == zone.end() ? DnsAnswer::nx_domain() : DnsAnswer::with({found->second}));
  }
  return verifier.verdict();
}

// Verifies first, then seals (the order the integration must keep).
std::string forward(const ArcSealer& sealer, const std::string& message,
                    const std::map<std::string, std::string>& zone) {
  const ArcVerdict verdict = verify(message, zone);
  auto sealed = sealer.seal(ArcSealInput{message, "mx.forward.test; arc=" + std::string(arc_status_name(verdict.status)),
                                             &verdict, 1796457600, {}});
  EXPECT_TRUE(sealed && sealed->has_value());
  return (*sealed)->header_text() + message;
}

TEST(ArcSeal, Ed25519AndRsaSealsBuildAChainThatVerifies) {
  const Sealer ed = make_sealer(DkimKeyType::ed25519, "forward.test");
  const Sealer rsa = make_sealer(DkimKeyType::rsa, "list.test");
  const std::map<std::string, std::string> zone{{"s1._domainkey.forward.test", ed.record},
                                                {"s1._domainkey.list.test", rsa.record}};
  EXPECT_EQ(verify(kMessage, zone).status, ArcChainStatus::none);
  const std::string one = forward(ed.sealer, kMessage, zone);
  EXPECT_NE(one.find("a=ed25519-sha256"), std::string::npos);
  EXPECT_NE(one.find("h=from:to:subject:date:message-id;"), std::string::npos);
  const ArcVerdict first = verify(one, zone);
  EXPECT_EQ(first.status, ArcChainStatus::pass) << first.reason;

  const std::string two = forward(rsa.sealer, one, zone);
  EXPECT_NE(two.find("cv=pass; d=list.test; i=2"), std::string::npos);
  const ArcVerdict second = verify(two, zone, 1);
  EXPECT_EQ(second.status, ArcChainStatus::pass) << second.reason;
  EXPECT_EQ(second.instance_count, 2u);
  EXPECT_EQ(second.oldest_pass, 0u);
  EXPECT_EQ(second.sealer_domains, (std::vector<std::string>{"forward.test", "list.test"}));
}

TEST(ArcSeal, AChangedMessageFailsAndIsSealedOnceWithCvFail) {
  const Sealer rsa = make_sealer(DkimKeyType::rsa, "forward.test");
  const std::map<std::string, std::string> zone{{"s1._domainkey.forward.test", rsa.record}};
  std::string changed = forward(rsa.sealer, kMessage, zone);
  changed.replace(changed.find("Hello."), 6, "Hullo.");
  const ArcVerdict verdict = verify(changed, zone);
  EXPECT_EQ(verdict.status, ArcChainStatus::fail);
  EXPECT_NE(verdict.reason.find("body hash"), std::string::npos) << verdict.reason;
  EXPECT_FALSE(verdict.temporary);

  auto sealed = rsa.sealer.seal(ArcSealInput{changed, "mx.forward.test; arc=fail", &verdict, 1796457601, {}});
  ASSERT_TRUE(sealed && sealed->has_value());
  EXPECT_EQ((*sealed)->chain_status, ArcChainStatus::fail);
  const std::string ended = (*sealed)->header_text() + changed;
  const ArcVerdict after = verify(ended, zone);
  EXPECT_EQ(after.status, ArcChainStatus::fail);
  auto again = rsa.sealer.seal(ArcSealInput{ended, "mx.forward.test; arc=fail", &after, 1796457602, {}});
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->has_value());  // RFC 8617 §5.1.2: no set after cv=fail
}

TEST(ArcSeal, AVerdictThatDoesNotFitTheMessageIsRefused) {
  const Sealer rsa = make_sealer(DkimKeyType::rsa, "forward.test");
  ArcVerdict claimed_pass;
  claimed_pass.status = ArcChainStatus::pass;
  EXPECT_FALSE(rsa.sealer.seal(ArcSealInput{kMessage, "mx; arc=pass", &claimed_pass, 1, {}}));
  EXPECT_FALSE(rsa.sealer.seal(ArcSealInput{kMessage, "mx; arc=none", nullptr, 1, {}}));
  const ArcVerdict none;
  EXPECT_FALSE(rsa.sealer.seal(ArcSealInput{kMessage, "mx; none", &none, 1, {"From", "ARC-Seal"}}));
  // The payload cannot start a field of its own.
  EXPECT_FALSE(rsa.sealer.seal(ArcSealInput{kMessage, "mx; spf=pass\r\nARC-Seal: forged", &none, 1, {}}));
  EXPECT_FALSE(rsa.sealer.seal(ArcSealInput{kMessage, "mx; spf=pass\nX: y", &none, 1, {}}));
  EXPECT_FALSE(rsa.sealer.seal(ArcSealInput{kMessage, " \r\n ", &none, 1, {}}));
  EXPECT_TRUE(rsa.sealer.seal(ArcSealInput{kMessage, "mx; spf=pass;\r\n  dkim=none", &none, 1, {}}));
}

}  // namespace
}  // namespace postamt::mailauth

namespace postamt::mailauth {
namespace {

TEST(ArcSealerKeys, TheForwardingDomainsActiveRsaKeySeals) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("arc-keys-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  DkimKeyStore store(dir);
  EXPECT_FALSE(load_arc_sealer(store, "forward.test").value().has_value());
  auto added = store.add("forward.test", std::nullopt, {DkimKeyType::rsa, DkimKeyType::ed25519}, 1796457600);
  ASSERT_TRUE(added) << added.error().message;
  auto sealer = load_arc_sealer(store, "forward.test");
  ASSERT_TRUE(sealer && sealer->has_value());
  const DkimKeyEntry* rsa = nullptr;
  for (const auto& entry : *added) {
    if (entry.type == DkimKeyType::rsa) rsa = &entry;
  }
  ASSERT_NE(rsa, nullptr);
  EXPECT_EQ((*sealer)->selector(), rsa->selector);
  const std::map<std::string, std::string> zone{
      {rsa->selector + "._domainkey.forward.test", store.load_key(*rsa)->key_record()}};
  const std::string sealed = forward(**sealer, kMessage, zone);
  EXPECT_NE(sealed.find("a=rsa-sha256"), std::string::npos);
  EXPECT_EQ(verify(sealed, zone).status, ArcChainStatus::pass);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace postamt::mailauth

namespace postamt::mailauth {
namespace {

TEST(ArcTrustedSealers, TheNewestTrustedSetSinceWhichNothingChanged) {
  ArcVerdict verdict;
  verdict.status = ArcChainStatus::pass;
  verdict.instance_count = 3;
  verdict.sealer_domains = {"lists.example.org", "forwarder.example", "mx.other.example"};
  EXPECT_EQ(trusted_arc_instance(verdict, {"example.org"}), 1u);  // a subdomain of a listed one
  EXPECT_EQ(trusted_arc_instance(verdict, {"Lists.Example.Org", "forwarder.example"}), 2u);
  EXPECT_EQ(trusted_arc_instance(verdict, {"ample.org", "other.example.com"}), std::nullopt);
  verdict.oldest_pass = 2;  // the message changed after set 1
  EXPECT_EQ(trusted_arc_instance(verdict, {"example.org"}), std::nullopt);
  EXPECT_EQ(trusted_arc_instance(verdict, {"forwarder.example"}), 2u);
  verdict.status = ArcChainStatus::fail;
  EXPECT_EQ(trusted_arc_instance(verdict, {"forwarder.example"}), std::nullopt);
}

TEST(ArcTrustedSealers, TheVerdictCarriesEachSetsAuthenticationResults) {
  const Sealer rsa = make_sealer(DkimKeyType::rsa, "forward.test");
  const std::map<std::string, std::string> zone{{"s1._domainkey.forward.test", rsa.record}};
  const std::string sealed = forward(rsa.sealer, kMessage, zone);
  // A verifier moved half-way (a session keeps one per transaction) goes on where it was.
  ArcVerifier first;
  first.feed(std::string_view(sealed).substr(0, 100));
  ArcVerifier moved(std::move(first));
  moved.feed(std::string_view(sealed).substr(100));
  moved.finish();
  for (const auto& question : moved.questions()) verify_answer(moved, question, zone);
  const ArcVerdict verdict = moved.verdict();
  ASSERT_EQ(verdict.status, ArcChainStatus::pass) << verdict.reason;
  EXPECT_EQ(verdict.auth_results, (std::vector<std::string>{"mx.forward.test; arc=none"}));
  EXPECT_EQ(trusted_arc_instance(verdict, {"forward.test"}), 1u);
}

}  // namespace
}  // namespace postamt::mailauth
