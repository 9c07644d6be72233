#pragma once
// DiskSpace: the free space of the file system holding the data directory, against the
// configured floor (limits.min_free_disk_mb). Below it, SMTP answers 452 4.3.1 and APPEND
// NO [OVERQUOTA] instead of filling the disk. The figure comes from one statvfs(2) at most
// every second (refresh() by the server's timer, or lazily by below_floor()), never one
// per command; it is the gauge postamt_data_free_bytes.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>

namespace postamt::storage {

class DiskSpace {
 public:
  // The monitor of the data directory the sessions consult. Until configure() it is
  // never below its floor.
  static DiskSpace& data();

  // Before any session runs. A floor of 0 turns the check off (the gauge still works).
  void configure(std::filesystem::path path, std::uint64_t floor_bytes);
  // statvfs now; "" when it worked, else why not (the old figure stays).
  std::string refresh();
  // True when the last figure (at most about a second old) is under the floor.
  bool below_floor();
  std::uint64_t free_bytes() const { return free_.load(std::memory_order_relaxed); }
  std::uint64_t floor_bytes() const { return floor_.load(std::memory_order_relaxed); }

 private:
  std::filesystem::path path_;
  std::atomic<bool> configured_{false};
  std::atomic<std::uint64_t> floor_{0};
  std::atomic<std::uint64_t> free_{0};
  std::atomic<std::int64_t> refreshed_at_ns_{0};  // steady clock
};

}  // namespace postamt::storage
