// Messages Postamt signs verify in Postamt (RSA-2048 and Ed25519, relaxed/relaxed), the
// header list and over-signing, the empty body and the header-only message; the key store.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "dkim_test_support.hpp"
#include "mailauth/dkim_key_store.hpp"
#include "mailauth/dkim_signer.hpp"
#include "proto/mailauth/dkim_signature.hpp"
#include "proto/mailauth/message_head.hpp"

namespace postamt::mailauth {
namespace {

using testing::ScriptedLookup;
using testing::statuses;
using testing::verify_message;

constexpr const char* kMessage =
    "From: Alice <alice@example.com>\r\n"
    "To: bob@example.net\r\n"
    "Subject: Lunch?\r\n"
    "Date: Sat, 05 Dec 2026 07:00:00 +0000\r\n"
    "Message-ID: <1@example.com>\r\n"
    "X-Unsigned: yes\r\n"
    "\r\n"
    "Shall we?\r\n";

struct Keys {
  DkimSigner signer;
  ScriptedLookup lookup;
};

Keys make_keys() {
  Keys keys;
  for (auto [type, selector] : {std::pair{DkimKeyType::rsa, "r1"}, std::pair{DkimKeyType::ed25519, "e1"}}) {
    auto key = DkimPrivateKey::generate(type);
    EXPECT_TRUE(key);
    keys.lookup.add_txt(std::string(selector) + "._domainkey.example.com", key->key_record());
    keys.signer.add_key("example.com", selector, std::move(*key));
  }
  return keys;
}

TEST(DkimSign, SignedMessagesVerify) {
  Keys keys = make_keys();
  EXPECT_TRUE(keys.signer.signs_for("example.com"));
  EXPECT_FALSE(keys.signer.signs_for("example.org"));
  auto fields = keys.signer.sign(kMessage, "example.com", 1764918000);
  ASSERT_TRUE(fields) << fields.error().message;
  const std::string signed_message = *fields + kMessage;
  const auto results = verify_message(signed_message, keys.lookup, 5);
  EXPECT_EQ(statuses(results), (std::vector<std::string>{"pass", "pass"}));
  EXPECT_EQ(results[0].algorithm, "rsa-sha256");
  EXPECT_EQ(results[1].algorithm, "ed25519-sha256");

  const auto head = split_message_head(signed_message);
  auto parsed = parse_dkim_signature(head.fields[0].value);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->signed_headers,
            (std::vector<std::string>{"From", "From", "To", "Subject", "Subject", "Date", "Message-ID"}));
  EXPECT_EQ(parsed->header_canon, DkimCanon::relaxed);
  EXPECT_EQ(parsed->body_canon, DkimCanon::relaxed);
  EXPECT_EQ(parsed->timestamp, 1764918000u);
  EXPECT_FALSE(parsed->body_length);

  // An unsigned field may change; a signed one, the body, or an added From may not.
  std::string changed = signed_message;
  changed.replace(changed.find("X-Unsigned: yes"), 15, "X-Unsigned: no!");
  EXPECT_EQ(statuses(verify_message(changed, keys.lookup)), (std::vector<std::string>{"pass", "pass"}));
  changed = signed_message;
  changed.replace(changed.find("Lunch?"), 6, "Lunch!");
  EXPECT_EQ(statuses(verify_message(changed, keys.lookup)), (std::vector<std::string>{"fail", "fail"}));
  changed = signed_message;
  changed.replace(changed.find("Shall"), 5, "Shan't");
  EXPECT_EQ(statuses(verify_message(changed, keys.lookup)), (std::vector<std::string>{"fail", "fail"}));
  changed = signed_message;
  changed.insert(changed.find("To: bob"), "From: mallory@example.org\r\n");
  EXPECT_EQ(statuses(verify_message(changed, keys.lookup)), (std::vector<std::string>{"fail", "fail"}));
  changed = signed_message;
  changed.insert(changed.find("To: bob"), "Subject: Free money\r\n");
  EXPECT_EQ(statuses(verify_message(changed, keys.lookup)), (std::vector<std::string>{"fail", "fail"}));
}

TEST(DkimSign, EmptyBodyAndHeaderOnly) {
  Keys keys = make_keys();
  for (std::string message : {std::string("From: a@example.com\r\nSubject: x\r\n\r\n"),
                              std::string("From: a@example.com\r\nSubject: x\r\n")}) {
    auto fields = keys.signer.sign(message, "example.com", 1764918000);
    ASSERT_TRUE(fields);
    EXPECT_EQ(statuses(verify_message(*fields + message, keys.lookup)), (std::vector<std::string>{"pass", "pass"}));
  }
}

TEST(DkimSign, NoKeyNoSignature) {
  Keys keys = make_keys();
  auto fields = keys.signer.sign(kMessage, "example.org", 1);
  ASSERT_TRUE(fields);
  EXPECT_TRUE(fields->empty());
}

TEST(DkimKeys, WeakRsaPublicKeyIsPermerror) {
  // A 512-bit key record: RFC 8301 §3.2.
  const std::string message = testing::read_test_file("dkim/vectors/weak_rsa512.eml");
  ScriptedLookup lookup;
  for (const auto& line : {testing::read_test_file("dkim/zone.txt")}) {
    const auto at = line.find("weak._domainkey.example.org\t");
    ASSERT_NE(at, std::string::npos);
    const auto value_start = line.find('\t', at) + 1;
    lookup.add_txt("weak._domainkey.example.org", line.substr(value_start, line.find('\n', value_start) - value_start));
  }
  const auto results = verify_message(message, lookup);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, DkimStatus::permerror);
  EXPECT_NE(results[0].reason.find("1024"), std::string::npos);
}

class DkimKeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("dkim-store-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

mode_t mode_of(const std::filesystem::path& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

TEST_F(DkimKeyStoreTest, AddRotateRetire) {
  DkimKeyStore store(dir_);
  const std::uint64_t day1 = 1764892800;  // 2025-12-05 UTC
  auto added = store.add("example.com", std::nullopt, {DkimKeyType::rsa, DkimKeyType::ed25519}, day1);
  ASSERT_TRUE(added) << added.error().message;
  ASSERT_EQ(added->size(), 2u);
  EXPECT_EQ((*added)[0].selector, "pa20251205r");
  EXPECT_EQ((*added)[1].selector, "pa20251205e");
  EXPECT_EQ(mode_of(store.key_path((*added)[0])), 0600u);
  EXPECT_EQ(mode_of(store.root() / "example.com" / "keys"), 0600u);
  EXPECT_EQ(mode_of(store.root() / "example.com"), 0700u);
  EXPECT_FALSE(store.add("example.com", "pa20251205r", {DkimKeyType::rsa}, day1));

  auto rotated = store.rotate("example.com", day1);
  ASSERT_TRUE(rotated);
  ASSERT_EQ(rotated->size(), 2u);
  EXPECT_EQ((*rotated)[0].selector, "pa20251205br");
  auto listed = store.list();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 4u);
  std::size_t active = 0;
  for (const auto& entry : *listed) active += entry.state == DkimKeyState::active ? 1 : 0;
  EXPECT_EQ(active, 2u);

  auto signer = store.load_signer();
  ASSERT_TRUE(signer);
  EXPECT_EQ(signer->key_count(), 2u);

  ASSERT_TRUE(store.retire("example.com", "pa20251205r"));
  EXPECT_FALSE(std::filesystem::exists(store.root() / "example.com" / "pa20251205r.pem"));
  EXPECT_EQ(store.list()->size(), 3u);
  EXPECT_FALSE(store.retire("example.com", "nope"));

  auto single = store.add("example.org", "mail", {DkimKeyType::ed25519}, day1);
  ASSERT_TRUE(single);
  EXPECT_EQ((*single)[0].selector, "mail");
  EXPECT_FALSE(store.add("../etc", std::nullopt, {DkimKeyType::rsa}, day1));
  EXPECT_FALSE(store.add("example.org", "bad/name", {DkimKeyType::rsa}, day1));
}

}  // namespace
}  // namespace postamt::mailauth
