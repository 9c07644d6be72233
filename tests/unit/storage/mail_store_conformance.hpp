#pragma once
// The MailStore conformance suite: every backend must pass the same tests. A backend joins
// by instantiating the suite with a factory that opens a store on a directory, e.g.
//   INSTANTIATE_TEST_SUITE_P(Sqlite, MailStoreConformance,
//                            ::testing::Values(MailStoreBackend{"sqlite", open_sqlite_store}));
// Opening the same directory again must reach the same data (reopen tests).
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "storage/api/mail_store.hpp"
#include "temp_dir.hpp"

namespace postamt::storage {

// Readable failure messages for error codes (found by argument-dependent lookup).
inline void PrintTo(StorageError::Code code, std::ostream* out) {
  constexpr const char* kNames[] = {"not_found",      "already_exists", "invalid", "conflict",
                                    "quota_exceeded", "busy",           "io"};
  *out << kNames[static_cast<int>(code)];
}

}  // namespace postamt::storage

namespace postamt::storage::test {

struct MailStoreBackend {
  std::string name;
  std::function<std::unique_ptr<MailStore>(const std::filesystem::path&)> open;
};

inline void PrintTo(const MailStoreBackend& backend, std::ostream* out) { *out << backend.name; }

// A syntactically valid blob id; the index does not care whether a file exists.
inline std::string blob(char hex) { return std::string(64, hex); }

template <class T>
StorageError::Code code_of(const StoreResult<T>& result) {
  EXPECT_FALSE(result.has_value()) << "expected an error";
  return result ? StorageError::Code::io : result.error().code;
}

inline NewMessage message_for(Id mailbox_id, std::string blob_id, std::uint64_t size = 100,
                              std::vector<std::string> flags = {}) {
  NewMessage message;
  message.mailbox_id = mailbox_id;
  message.blob_id = std::move(blob_id);
  message.size = size;
  message.flags = std::move(flags);
  message.internal_date = 1'700'000'000;
  message.mime_metadata = std::string("meta\0data", 9);
  return message;
}

inline std::vector<std::string> unreferenced(MailStore& store) {
  auto ids = store.unreferenced_blobs();
  EXPECT_TRUE(ids) << ids.error().message;
  return ids ? *ids : std::vector<std::string>{};
}

inline std::string backend_name(const ::testing::TestParamInfo<MailStoreBackend>& info) {
  return info.param.name;
}

class MailStoreConformance : public ::testing::TestWithParam<MailStoreBackend> {
 protected:
  void SetUp() override { store_ = GetParam().open(dir_.path()); }
  void TearDown() override { store_.reset(); }

  MailStore& store() { return *store_; }
  // Closes the store and opens the same directory again.
  void reopen() {
    store_.reset();
    store_ = GetParam().open(dir_.path());
  }
  const std::filesystem::path& dir() const { return dir_.path(); }

  // A domain and an account; returns the account.
  AccountRecord make_account(std::string address = "alice@example.com") {
    const std::string domain = address.substr(address.find('@') + 1);
    if (!store().find_domain(domain)) {
      EXPECT_TRUE(store().add_domain(domain));
    }
    auto account = store().add_account(address, "{ARGON2ID}$argon2id$x");
    EXPECT_TRUE(account) << account.error().message;
    return account ? *account : AccountRecord{};
  }

  MailboxRecord mailbox(Id account_id, std::string_view name) {
    auto found = store().find_mailbox(account_id, name);
    EXPECT_TRUE(found) << found.error().message;
    return found ? *found : MailboxRecord{};
  }

  std::vector<MessageRecord> append(std::vector<NewMessage> messages) {
    auto rows = store().append_messages(messages);
    EXPECT_TRUE(rows) << rows.error().message;
    return rows ? *rows : std::vector<MessageRecord>{};
  }

  std::vector<MessageRecord> messages(Id mailbox_id) {
    auto rows = store().list_messages(mailbox_id);
    EXPECT_TRUE(rows) << rows.error().message;
    return rows ? *rows : std::vector<MessageRecord>{};
  }

  QueueMessage queue_message(std::string blob_id, std::vector<std::string> recipients) {
    QueueMessage message;
    message.sender = "alice@example.com";
    message.blob_id = std::move(blob_id);
    message.size = 321;
    message.envid = "env-1";
    message.ret = "HDRS";
    for (auto& address : recipients) {
      QueueRecipient recipient;
      recipient.address = std::move(address);
      recipient.notify = "FAILURE";
      message.recipients.push_back(std::move(recipient));
    }
    return message;
  }

 private:
  TempDir dir_;  // declared first: outlives the store
  std::unique_ptr<MailStore> store_;
};

}  // namespace postamt::storage::test
