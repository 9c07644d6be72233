#include "smtp/submission_signing.hpp"

#include <algorithm>

#include "mailauth/dkim_signing_service.hpp"
#include "net/blocking_pool.hpp"

namespace postamt::smtp {

asio::awaitable<storage::StoreResult<void>> sign_submission(MessageSpool::Finished& finished, std::size_t trace_size,
                                                            std::string_view author_domain,
                                                            const mailauth::DkimSigningService& dkim,
                                                            storage::BlobStore& blobs, net::BlockingPool& pool) {
  if (author_domain.empty() || dkim.signing_domain(author_domain).empty()) co_return storage::StoreResult<void>{};
  // Signing is CPU work (an RSA-2048 signature, the body hash): off the I/O thread.
  co_return co_await insert_after_trace(
      finished, trace_size, [&](std::string_view message) { return dkim.sign(message, author_domain); }, blobs,
      pool);
}

asio::awaitable<storage::StoreResult<void>> insert_after_trace(
    MessageSpool::Finished& finished, std::size_t trace_size,
    std::function<std::string(std::string_view message)> make_fields, storage::BlobStore& blobs,
    net::BlockingPool& pool) {
  if (!finished.spooled) {
    if (finished.content.size() < trace_size) co_return storage::StoreResult<void>{};
    const std::string fields =
        co_await pool.run([&] { return make_fields(std::string_view(finished.content).substr(trace_size)); });
    if (!fields.empty()) finished.content.insert(trace_size, fields);
    co_return storage::StoreResult<void>{};
  }
  // Spooled: work over the mapping, then write trace + fields + message to a new spool file.
  co_return co_await pool.run([&]() -> storage::StoreResult<void> {
    auto whole = finished.spooled->view();
    if (!whole) return std::unexpected(whole.error());
    if (whole->size() < trace_size) return {};
    const std::string fields = make_fields(whole->substr(trace_size));
    if (fields.empty()) return {};
    auto writer = blobs.begin_write();
    if (!writer) return std::unexpected(writer.error());
    if (auto ok = (*writer)->append(whole->substr(0, trace_size)); !ok) return ok;
    if (auto ok = (*writer)->append(fields); !ok) return ok;
    constexpr std::size_t kCopyChunk = 1024 * 1024;
    for (std::string_view rest = whole->substr(trace_size); !rest.empty();) {
      const std::size_t take = std::min(rest.size(), kCopyChunk);
      if (auto ok = (*writer)->append(rest.substr(0, take)); !ok) return ok;
      rest.remove_prefix(take);
    }
    finished.spooled = std::move(*writer);  // the old spool file goes with the old writer
    return {};
  });
}

}  // namespace postamt::smtp
