#include "smtp/forward_sealing.hpp"

#include <ctime>

#include "base/log.hpp"
#include "mailauth/arc_sealer_keys.hpp"
#include "mailauth/inbound_check.hpp"
#include "smtp/submission_signing.hpp"

namespace postamt::smtp {

asio::awaitable<storage::StoreResult<void>> seal_forwarded(MessageSpool::Finished& finished, std::size_t trace_size,
                                                           const std::string& forwarding_domain,
                                                           const mailauth::InboundResult& checked,
                                                           const std::filesystem::path& data_dir,
                                                           storage::BlobStore& blobs, net::BlockingPool& pool) {
  const auto make_set = [&](std::string_view message) -> std::string {
    // The key is read here, on the storage pool: forwarding is rare next to delivery, and
    // a key rotated with `postamt dkim` is used at once.
    const mailauth::DkimKeyStore store(data_dir);
    auto sealer = mailauth::load_arc_sealer(store, forwarding_domain);
    if (!sealer) {
      log::warn("arc.seal_failed", {{"domain", forwarding_domain}, {"error", sealer.error().message}});
      return {};
    }
    if (!*sealer) return {};  // the domain has no key: forwarded unsealed
    mailauth::ArcSealInput input;
    input.message = message;
    input.auth_results_payload = checked.auth_results_payload;
    input.chain = &checked.arc;
    input.now = static_cast<std::uint64_t>(std::time(nullptr));
    auto set = (*sealer)->seal(input);
    if (!set) {
      log::warn("arc.seal_failed", {{"domain", forwarding_domain}, {"error", set.error().message}});
      return {};
    }
    if (!*set) return {};
    return (*set)->header_text();
  };
  co_return co_await insert_after_trace(finished, trace_size, make_set, blobs, pool);
}

}  // namespace postamt::smtp
