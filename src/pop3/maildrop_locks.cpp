#include "pop3/maildrop_locks.hpp"

namespace postamt::pop3 {

bool MaildropLocks::try_lock(storage::Id account_id) {
  std::lock_guard lock(mutex_);
  return held_.insert(account_id).second;
}

void MaildropLocks::unlock(storage::Id account_id) {
  std::lock_guard lock(mutex_);
  held_.erase(account_id);
}

}  // namespace postamt::pop3
