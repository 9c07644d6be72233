#pragma once
// MaildropLocks: the process-wide set of accounts that have a POP3 session in the
// TRANSACTION state (RFC 1939 §8: the server locks the maildrop; a second session is
// refused with [IN-USE], RFC 2449 §8.1.1). Thread-safe; sessions on any I/O thread share it.
#include <mutex>
#include <set>

#include "storage/api/types.hpp"

namespace postamt::pop3 {

class MaildropLocks {
 public:
  // True when the account was free and is now held by the caller.
  bool try_lock(storage::Id account_id);
  void unlock(storage::Id account_id);

 private:
  std::mutex mutex_;
  std::set<storage::Id> held_;
};

}  // namespace postamt::pop3
