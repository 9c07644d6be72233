#include "delivery/recipient_resolver.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "storage/sqlite/sqlite_mail_store.hpp"

namespace postamt::delivery {
namespace {

using Kind = Resolution::Kind;

class ResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "postamt-resolver-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    store_ = storage::open_sqlite_store(dir_);
    ASSERT_TRUE(store_->add_domain("example.test"));
    ASSERT_TRUE(store_->add_domain("other.test"));
    alice_ = store_->add_account("alice@example.test", "{ARGON2ID}$x")->id;
    bob_ = store_->add_account("bob@example.test", "{ARGON2ID}$x")->id;
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  Resolution resolve(std::string_view address) {
    RecipientResolver resolver(*store_);
    auto result = resolver.resolve(address);
    EXPECT_TRUE(result) << result.error().message;
    return result ? *result : Resolution{};
  }

  static std::vector<storage::Id> ids(const Resolution& r) {
    std::vector<storage::Id> out;
    for (const auto& local : r.local) out.push_back(local.account_id);
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::MailStore> store_;
  storage::Id alice_ = 0;
  storage::Id bob_ = 0;
};

TEST_F(ResolverTest, AccountsAndUnknownUsers) {
  auto alice = resolve("alice@example.test");
  EXPECT_EQ(alice.kind, Kind::local);
  EXPECT_EQ(ids(alice), std::vector<storage::Id>{alice_});
  EXPECT_EQ(alice.local[0].address, "alice@example.test");
  EXPECT_EQ(resolve("nobody@example.test").kind, Kind::unknown_user);
  auto remote = resolve("someone@remote.test");
  EXPECT_EQ(remote.kind, Kind::not_local);
  EXPECT_EQ(remote.remote, std::vector<std::string>{"someone@remote.test"});
}

TEST_F(ResolverTest, PlusAddressingDeliversToTheBaseAccount) {
  auto tagged = resolve("alice+lists@example.test");
  EXPECT_EQ(tagged.kind, Kind::local);
  EXPECT_EQ(ids(tagged), std::vector<storage::Id>{alice_});
  EXPECT_EQ(resolve("nobody+x@example.test").kind, Kind::unknown_user);
  EXPECT_EQ(resolve("+x@example.test").kind, Kind::unknown_user);
}

TEST_F(ResolverTest, AliasesExpandRecursivelyToLocalAndRemote) {
  ASSERT_TRUE(store_->add_alias("team@example.test", "alice@example.test"));
  ASSERT_TRUE(store_->add_alias("team@example.test", "staff@example.test"));
  ASSERT_TRUE(store_->add_alias("staff@example.test", "bob@example.test"));
  ASSERT_TRUE(store_->add_alias("staff@example.test", "partner@remote.test"));
  ASSERT_TRUE(store_->add_alias("staff@example.test", "alice@example.test"));  // duplicate path
  auto team = resolve("team@example.test");
  EXPECT_EQ(team.kind, Kind::local);
  EXPECT_EQ(ids(team), (std::vector<storage::Id>{alice_, bob_}));  // each account once
  EXPECT_EQ(team.remote, std::vector<std::string>{"partner@remote.test"});
}

TEST_F(ResolverTest, AliasWinsOverAccountAndMayKeepACopy) {
  ASSERT_TRUE(store_->add_alias("alice@example.test", "bob@example.test"));
  EXPECT_EQ(ids(resolve("alice@example.test")), std::vector<storage::Id>{bob_});
  ASSERT_TRUE(store_->add_alias("bob@example.test", "alice@example.test"));
  // bob -> alice -> bob: bob's own account takes the copy when the walk comes back.
  auto both = resolve("bob@example.test");
  EXPECT_EQ(both.kind, Kind::local);
  EXPECT_EQ(ids(both), (std::vector<storage::Id>{bob_}));
}

TEST_F(ResolverTest, CatchAllTakesWhatNothingElseDoes) {
  ASSERT_TRUE(store_->add_alias("@example.test", "bob@example.test"));
  EXPECT_EQ(ids(resolve("whoever@example.test")), std::vector<storage::Id>{bob_});
  EXPECT_EQ(ids(resolve("alice@example.test")), std::vector<storage::Id>{alice_});
  EXPECT_EQ(resolve("whoever@other.test").kind, Kind::unknown_user);
}

TEST_F(ResolverTest, LoopsWithoutAnAccountAreRefused) {
  ASSERT_TRUE(store_->add_alias("ping@example.test", "pong@example.test"));
  ASSERT_TRUE(store_->add_alias("pong@example.test", "ping@example.test"));
  EXPECT_EQ(resolve("ping@example.test").kind, Kind::loop);
}

TEST_F(ResolverTest, DanglingAliasIsAnUnknownUserNotSilentLoss) {
  ASSERT_TRUE(store_->add_alias("gone@example.test", "deleted@example.test"));
  EXPECT_EQ(resolve("gone@example.test").kind, Kind::unknown_user);
}

TEST_F(ResolverTest, DeepChainsStopAtTheDepthLimit) {
  for (int i = 0; i <= kMaxAliasDepth + 1; ++i) {
    ASSERT_TRUE(store_->add_alias("hop" + std::to_string(i) + "@example.test",
                                  "hop" + std::to_string(i + 1) + "@example.test"));
  }
  ASSERT_TRUE(store_->add_alias("hop" + std::to_string(kMaxAliasDepth + 2) + "@example.test",
                                "alice@example.test"));
  EXPECT_EQ(resolve("hop0@example.test").kind, Kind::loop);
  EXPECT_EQ(resolve("hop5@example.test").kind, Kind::local);
}

}  // namespace
}  // namespace postamt::delivery
