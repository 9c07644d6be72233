#pragma once
// HealthProbe: what /healthz answers. Not ok (HTTP 503, the reasons one a line) when the
// data directory's lock is lost (its file deleted or replaced), the index or the blob
// directory cannot be written, free disk is below limits.min_free_disk_mb, or a sample of
// the `debug check-store` invariants fails (a row whose blob file is missing or has
// another size, a reference count that disagrees with the rows). Each call costs a
// statvfs, one small write transaction, a file created and removed, and a few indexed
// reads and stats.
#include <string>

namespace postamt::storage {
class MailStore;
class FsBlobStore;
class DiskSpace;
}  // namespace postamt::storage

namespace postamt::server {

class DataDirLock;

class HealthProbe {
 public:
  HealthProbe(const DataDirLock& lock, storage::MailStore& store, storage::FsBlobStore& blobs,
              storage::DiskSpace& disk)
      : lock_(lock), store_(store), blobs_(blobs), disk_(disk) {}

  // "" when healthy, else the reasons, one per line.
  std::string problems();

 private:
  std::string sample_problems();

  const DataDirLock& lock_;
  storage::MailStore& store_;
  storage::FsBlobStore& blobs_;
  storage::DiskSpace& disk_;
};

}  // namespace postamt::server
