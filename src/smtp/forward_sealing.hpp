#pragma once
// ARC (RFC 8617) for mail that arrives on port 25 and leaves again through an alias to a
// remote address: the forwarding domain seals it (its DKIM key from data/dkim/), so the
// next receiver can see what Postamt saw — SPF, DKIM and DMARC, which forwarding breaks.
// Sealed once, before the message is stored or queued, like DKIM signing.
#include <asio/awaitable.hpp>

#include <cstddef>
#include <filesystem>
#include <string>

#include "smtp/message_spool.hpp"
#include "storage/api/storage_error.hpp"

namespace postamt::mailauth {
struct InboundResult;
}

namespace postamt::smtp {

// Seals `finished` (trace fields of `trace_size` octets, then the message) for
// `forwarding_domain` with the results of its inbound check. Nothing changes when that
// domain has no key or no set may be added (the chain ended with cv=fail, or holds 50
// sets); a sealing failure is logged and the message goes unsealed. An error: the spool
// copy failed.
asio::awaitable<storage::StoreResult<void>> seal_forwarded(MessageSpool::Finished& finished, std::size_t trace_size,
                                                           const std::string& forwarding_domain,
                                                           const mailauth::InboundResult& checked,
                                                           const std::filesystem::path& data_dir,
                                                           storage::BlobStore& blobs, net::BlockingPool& pool);

}  // namespace postamt::smtp
