#pragma once
// MessageSpool: the message of one SMTP transaction while it arrives (DATA or BDAT).
// Small messages stay in memory. Once more than `memory_limit` octets are waiting they go
// to a BlobWriter (a mode-0600 temporary file beside the blobs, SHA-256 computed on the
// way), in writes of up to that size on the storage pool; at the end that file becomes
// the blob by a rename. A session therefore holds at most about `memory_limit` of
// message, however large it is and however slowly it comes.
//
// The stored bytes are the trace fields (Return-Path, Received) followed by the message
// as received: the trace is known when the data begins (RFC 5321 §4.4 stamps the time
// the transaction is received; Postfix writes its Received line at DATA too), so it
// starts the stream and the blob hashes exactly what put() of the whole would hash.
#include <asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/api/blob_store.hpp"

namespace postamt::net {
class BlockingPool;
}

namespace postamt::smtp {

// The start of the message body kept in memory for the checks made at its end (hops,
// the From header, Message-ID): as much header as Postfix reads (header_size_limit).
inline constexpr std::size_t kSpoolHeadLimit = 100 * 1024;

class MessageSpool {
 public:
  MessageSpool(storage::BlobStore& blobs, net::BlockingPool& pool, std::size_t memory_limit)
      : blobs_(blobs), pool_(pool), memory_limit_(memory_limit) {}
  ~MessageSpool();
  MessageSpool(const MessageSpool&) = delete;
  MessageSpool& operator=(const MessageSpool&) = delete;

  // A new message whose stored form starts with `trace` (dropping any previous one).
  void start(std::string trace);
  // Message octets as the engine decoded them. After a storage failure they are dropped
  // and error() says why (the message is then refused at its end, 452 4.3.1).
  asio::awaitable<void> append(std::string_view bytes);

  // Everything is in: the content, either in memory or as a writer holding it all.
  struct Finished {
    std::string content;
    std::unique_ptr<storage::BlobWriter> spooled;
  };
  // What the checks at the end of the data change in the stored form: fields put right
  // after our trace fields (Authentication-Results, RFC 8601 §5: above every field the
  // message came with; X-Spam-Status), and splices of the message's own header: fields
  // dropped (one that forges our verdict), inserted or replaced (a milter's changes), as
  // [begin, end) offsets into the message (after the trace fields; inside the head) and
  // the text put there. A message already on disk is copied once, in the storage pool,
  // through a file mapping: memory stays bounded.
  struct HeadEdit {
    struct Splice {
      std::size_t begin = 0;
      std::size_t end = 0;  // == begin for an insertion
      std::string text;
    };
    std::string prepend;
    std::vector<Splice> splices;  // see normalise()
    void drop(std::size_t begin, std::size_t end) { splices.push_back({begin, end, {}}); }
    void insert(std::size_t at, std::string text) { splices.push_back({at, at, std::move(text)}); }
    // Sorted by position (insertions before a drop at the same place, otherwise in the
    // order they were made); a splice overlapping one before it is ignored when applied.
    void normalise();
    bool empty() const { return prepend.empty() && splices.empty(); }
  };
  asio::awaitable<storage::StoreResult<Finished>> finish(HeadEdit edit);
  // Once the data has ended: the message as received (no trace fields), its first `limit`
  // octets, for the filters that read it whole (rspamd, milters).
  struct Copy {
    std::string bytes;
    bool truncated = false;
  };
  asio::awaitable<storage::StoreResult<Copy>> copy_message(std::size_t limit);
  // Drops the message and any temporary file (on the pool: unlinking may block).
  asio::awaitable<void> discard();

  // The first octets of the message (up to kSpoolHeadLimit), until finish() or discard().
  std::string_view head() const;
  std::uint64_t body_size() const { return body_size_; }  // octets appended
  std::size_t trace_size() const { return trace_size_; }  // octets of trace before the message
  bool on_disk() const { return writer_ != nullptr; }
  const std::optional<storage::StorageError>& error() const { return error_; }

 private:
  asio::awaitable<void> spill();

  storage::BlobStore& blobs_;
  net::BlockingPool& pool_;
  const std::size_t memory_limit_;
  // Room for one more network read beyond the limit before a spill.
  static constexpr std::size_t kSpillSlack = 64 * 1024;

  std::string buffer_;  // not yet written: the whole message while it is small
  std::size_t trace_size_ = 0;
  std::unique_ptr<storage::BlobWriter> writer_;
  std::string head_;  // a copy of the head, once the buffer no longer holds it
  std::uint64_t body_size_ = 0;
  std::optional<storage::StorageError> error_;
};

}  // namespace postamt::smtp
