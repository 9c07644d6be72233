#include "auth/authenticator.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "auth/password_hash.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"

namespace postamt::auth {
namespace {

using Result = AuthOutcome::Result;

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("postamt-authn-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    store_ = storage::open_sqlite_store(dir_);
    ASSERT_TRUE(store_->add_domain("example.test"));
    ASSERT_TRUE(store_->add_account("alice@example.test", hash_password("right")));
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::MailStore> store_;
  static ThrottlePolicy three_failures() {
    ThrottlePolicy policy;
    policy.max_failures_per_source = 3;
    return policy;
  }
  AuthThrottle throttle_{three_failures()};
  CredentialCache cache_{std::chrono::minutes(5), 100};
};

TEST_F(AuthenticatorTest, AcceptsTheRightPasswordCaseInsensitiveDomain) {
  Authenticator authenticator(*store_, throttle_, cache_);
  auto outcome = authenticator.authenticate("192.0.2.1", "", "alice@EXAMPLE.test", "right");
  EXPECT_EQ(outcome.result, Result::ok);
  EXPECT_EQ(outcome.account.address, "alice@example.test");
}

TEST_F(AuthenticatorTest, RefusesWrongPasswordUnknownUserAndForeignAuthzid) {
  Authenticator authenticator(*store_, throttle_, cache_);
  EXPECT_EQ(authenticator.authenticate("192.0.2.1", "", "alice@example.test", "wrong").result,
            Result::bad_credentials);
  EXPECT_EQ(authenticator.authenticate("192.0.2.2", "", "nobody@example.test", "right").result,
            Result::bad_credentials);
  EXPECT_EQ(authenticator.authenticate("192.0.2.3", "bob@example.test", "alice@example.test", "right").result,
            Result::bad_credentials);
  EXPECT_EQ(authenticator.authenticate("192.0.2.4", "alice@example.test", "alice@example.test", "right").result,
            Result::ok);
  EXPECT_EQ(authenticator.authenticate("192.0.2.5", "", "not an address", "right").result,
            Result::bad_credentials);
}

TEST_F(AuthenticatorTest, LocksOutAnAddressAfterRepeatedFailures) {
  Authenticator authenticator(*store_, throttle_, cache_);
  for (int i = 0; i < 3; ++i) {
    const std::string guess = "guess" + std::to_string(i);  // a repeated guess counts once
    EXPECT_EQ(authenticator.authenticate("198.51.100.7", "", "alice@example.test", guess).result,
              Result::bad_credentials);
  }
  // Even the right password is not looked at while the address is locked out.
  EXPECT_EQ(authenticator.authenticate("198.51.100.7", "", "alice@example.test", "right").result,
            Result::locked_out);
  // Others are not affected.
  EXPECT_EQ(authenticator.authenticate("198.51.100.8", "", "alice@example.test", "right").result,
            Result::ok);
}

TEST_F(AuthenticatorTest, TheCacheFollowsPasswordChangesAndRemovalsInTheStore) {
  Authenticator authenticator(*store_, throttle_, cache_);
  ASSERT_EQ(authenticator.authenticate("192.0.2.1", "", "alice@example.test", "right").result, Result::ok);
  EXPECT_EQ(cache_.size(), 1u);
  EXPECT_EQ(authenticator.authenticate("192.0.2.1", "", "alice@example.test", "right").result, Result::ok);
  // Another process (the CLI) changes the password: the old one fails at once.
  ASSERT_TRUE(store_->set_password_hash("alice@example.test", hash_password("new")));
  EXPECT_EQ(authenticator.authenticate("192.0.2.1", "", "alice@example.test", "right").result,
            Result::bad_credentials);
  EXPECT_EQ(authenticator.authenticate("192.0.2.1", "", "alice@example.test", "new").result, Result::ok);
  // And removes the account.
  ASSERT_TRUE(store_->delete_account("alice@example.test"));
  EXPECT_EQ(authenticator.authenticate("192.0.2.1", "", "alice@example.test", "new").result,
            Result::bad_credentials);
}

}  // namespace
}  // namespace postamt::auth
