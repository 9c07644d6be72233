#pragma once
#include <expected>
#include <string>

namespace postamt::storage {

struct StorageError {
  enum class Code {
    not_found,       // the named domain/account/mailbox/message does not exist
    already_exists,  // unique name taken
    invalid,         // the caller passed a value the store refuses (bad name, bad address)
    conflict,        // the change conflicts with existing data (e.g. domain still has accounts)
    quota_exceeded,  // the account's quota would be exceeded (IMAP [OVERQUOTA], SMTP 552 5.2.2)
    busy,            // database locked or similar; retrying later may help
    io,              // disk or database failure
  };
  Code code = Code::io;
  std::string message;

  // Temporary errors map to 4xx / IMAP NO [UNAVAILABLE]; the rest are permanent.
  bool temporary() const { return code == Code::busy || code == Code::io; }
};

template <class T>
using StoreResult = std::expected<T, StorageError>;

inline std::unexpected<StorageError> storage_error(StorageError::Code code, std::string message) {
  return std::unexpected(StorageError{code, std::move(message)});
}

}  // namespace postamt::storage
