#pragma once
// What IMAP tells when the user teaches spam or ham (issue 15 §5): a COPY or MOVE into the
// account's Junk mailbox (SPECIAL-USE \Junk, RFC 6154 §2, or a mailbox named "Junk") is a
// lesson in spam; one out of Junk into any mailbox but Trash a lesson in ham. APPEND
// teaches nothing (a client filing a draft or a copy is no judgement). The session calls
// the trainer after the copy committed; the trainer must return at once (it queues the work
// and may drop it when its queue is full), so the reply never waits for learning.
#include <optional>
#include <string>
#include <vector>

#include "storage/api/types.hpp"

namespace postamt::imap {

enum class JunkLesson { spam, ham };

// Which lesson a copy from `source` to `destination` teaches, if any.
std::optional<JunkLesson> junk_lesson(const storage::MailboxRecord& source, const storage::MailboxRecord& destination);

class JunkTrainer {
 public:
  virtual ~JunkTrainer() = default;
  // `account` the mailbox owner as stored; `blob_ids` the taught messages' blobs.
  virtual void train(std::string account, std::vector<std::string> blob_ids, JunkLesson lesson) = 0;
};

}  // namespace postamt::imap
