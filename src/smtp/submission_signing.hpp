#pragma once
// DKIM signing of a message submitted by a local account (issue 14 §1), once, after it
// is accepted and before it is stored or queued, so every retry sends the same bytes.
// The DKIM-Signature fields go between our trace fields and the message's own header
// (RFC 6376 §5.6 asks only that a new signature come before older ones).
//
// Memory: a message held in memory (under smtp.spool_memory_limit) gets the fields
// inserted in place: at most one more copy of it, briefly, when the string must grow.
// A message spooled to disk is read through the spool file's mapping (the body hash
// streams over it) and copied into a new spool file behind the fields: disk, not heap.
#include <asio/awaitable.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "smtp/message_spool.hpp"
#include "storage/api/storage_error.hpp"

namespace postamt::mailauth {
class DkimSigningService;
}

namespace postamt::smtp {

// Signs `finished` (trace fields of `trace_size` octets, then the message) with the keys
// of `author_domain`. Nothing changes when the domain has no key or signing fails (then
// logged). An error: the spool copy failed (the message is refused as for any spool failure).
asio::awaitable<storage::StoreResult<void>> sign_submission(MessageSpool::Finished& finished, std::size_t trace_size,
                                                            std::string_view author_domain,
                                                            const mailauth::DkimSigningService& dkim,
                                                            storage::BlobStore& blobs, net::BlockingPool& pool);

// The general form: `make_fields(message)` (the message after the trace fields) runs on the
// storage pool and returns header fields to put right after the trace ("" changes nothing).
// A spooled message is read through its mapping and copied once into a new spool file.
asio::awaitable<storage::StoreResult<void>> insert_after_trace(
    MessageSpool::Finished& finished, std::size_t trace_size,
    std::function<std::string(std::string_view message)> make_fields, storage::BlobStore& blobs,
    net::BlockingPool& pool);

}  // namespace postamt::smtp
