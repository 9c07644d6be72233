#include "server/health_probe.hpp"

#include "server/data_dir_lock.hpp"
#include "storage/api/disk_space.hpp"
#include "storage/api/mail_store.hpp"
#include "storage/blob_fs/fs_blob_store.hpp"

namespace postamt::server {
namespace {

constexpr std::size_t kSampleRows = 8;  // per kind (random, newest, queue)

void add(std::string& out, const std::string& problem) {
  if (!problem.empty()) out += problem + "\n";
}

std::string mib(std::uint64_t bytes) { return std::to_string(bytes / (1024 * 1024)) + " MiB"; }

}  // namespace

std::string HealthProbe::problems() {
  std::string out;
  if (auto lost = lock_.check_held(); !lost.empty()) add(out, "data directory lock lost: " + lost);
  if (auto failed = disk_.refresh(); !failed.empty()) add(out, "free disk unknown: " + failed);
  if (disk_.below_floor())
    add(out, "free disk " + mib(disk_.free_bytes()) + " is below the floor of " + mib(disk_.floor_bytes()) +
                 " (limits.min_free_disk_mb): new mail is refused");
  auto written = store_.probe_write();
  if (!written) add(out, "index not writable: " + written.error().message);
  if (auto failed = blobs_.probe_writable(); !failed.empty()) add(out, "blob store not writable: " + failed);
  // A blocked index would only make the sample wait as well; it is reported already.
  if (written) add(out, sample_problems());
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string HealthProbe::sample_problems() {
  auto uses = store_.sample_blob_uses(kSampleRows);
  if (!uses) return "index not readable: " + uses.error().message;
  std::string out;
  for (const auto& use : *uses) {
    if (use.refcount != use.references) {
      add(out, "store check: blob " + use.blob_id + " counts " + std::to_string(use.refcount) +
                   " references, the index holds " + std::to_string(use.references));
    }
    const auto size = blobs_.file_size(use.blob_id);
    if (size && *size == use.size) continue;
    // The row may have gone since the sample (an EXPUNGE, then the reclaimer): only a
    // blob the index still knows is a problem.
    if (auto known = store_.blob_known(use.blob_id); known && !*known) continue;
    add(out, size ? "store check: blob " + use.blob_id + " holds " + std::to_string(*size) +
                        " octets, the index says " + std::to_string(use.size)
                  : "store check: blob " + use.blob_id + " is referenced but its file is missing");
  }
  if (!out.empty()) out.pop_back();
  return out;
}

}  // namespace postamt::server
