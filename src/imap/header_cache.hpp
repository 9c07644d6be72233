#pragma once
// HeaderCache: the top-level header of recently read messages, by blob id, in memory.
//
// Clients read the headers of a whole mailbox again and again (SEARCH HEADER, FETCH of
// BODY.PEEK[HEADER.FIELDS (...)] on every open), and reading them from the blob files costs
// a file open and read per message. Blobs are content-addressed and never change, so an
// entry never goes stale; the cache only has to stay within its byte budget, and drops the
// entries used least recently to do so. Safe to use from any thread.
#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace postamt::imap {

class HeaderCache {
 public:
  // `max_bytes` bounds the headers and keys held (0: the cache holds nothing).
  explicit HeaderCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  HeaderCache(const HeaderCache&) = delete;
  HeaderCache& operator=(const HeaderCache&) = delete;

  std::optional<std::string> find(std::string_view blob_id);
  // A header larger than a sixteenth of the budget is not kept: one message must not push
  // out the headers of a whole mailbox.
  void insert(std::string_view blob_id, std::string_view header);

  std::size_t bytes() const;
  std::size_t entries() const;

 private:
  struct Entry {
    std::string blob_id;
    std::string header;
  };
  using List = std::list<Entry>;  // most recently used first

  static std::size_t cost(const Entry& entry) { return entry.blob_id.size() + entry.header.size() + 64; }

  const std::size_t max_bytes_;
  mutable std::mutex mutex_;
  List entries_;
  std::unordered_map<std::string_view, List::iterator> by_blob_;  // views into entries_
  std::size_t bytes_ = 0;
};

}  // namespace postamt::imap
