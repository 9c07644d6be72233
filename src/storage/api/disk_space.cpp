#include "storage/api/disk_space.hpp"

#include <sys/statvfs.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/metrics.hpp"

namespace postamt::storage {
namespace {

constexpr std::int64_t kMaxAgeNs = 1'000'000'000;  // one statvfs a second at most

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

metrics::Gauge& free_gauge() {
  static metrics::Gauge& gauge = metrics::registry().gauge(
      "postamt_data_free_bytes", "Free space for unprivileged users on the data directory's file system");
  return gauge;
}

}  // namespace

DiskSpace& DiskSpace::data() {
  static DiskSpace instance;
  return instance;
}

void DiskSpace::configure(std::filesystem::path path, std::uint64_t floor_bytes) {
  path_ = std::move(path);
  floor_.store(floor_bytes, std::memory_order_relaxed);
  configured_.store(true, std::memory_order_release);
  metrics::registry()
      .gauge("postamt_data_free_floor_bytes", "Free space below which new mail is refused (limits.min_free_disk_mb)")
      .set(static_cast<std::int64_t>(floor_bytes));
  refresh();
}

std::string DiskSpace::refresh() {
  if (!configured_.load(std::memory_order_acquire)) return "not configured";
  refreshed_at_ns_.store(now_ns(), std::memory_order_relaxed);
  struct statvfs fs {};
  if (::statvfs(path_.c_str(), &fs) != 0) return "cannot statvfs " + path_.string() + ": " + std::strerror(errno);
  // f_bavail: what a non-root writer may still use (the service user, after the drop).
  const std::uint64_t available = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
  free_.store(available, std::memory_order_relaxed);
  free_gauge().set(static_cast<std::int64_t>(available));
  return "";
}

bool DiskSpace::below_floor() {
  if (!configured_.load(std::memory_order_acquire)) return false;
  const std::uint64_t floor = floor_.load(std::memory_order_relaxed);
  if (floor == 0) return false;
  // Lazily when the timer is late: the first caller after a second refreshes, once.
  std::int64_t last = refreshed_at_ns_.load(std::memory_order_relaxed);
  const std::int64_t now = now_ns();
  if (now - last > kMaxAgeNs && refreshed_at_ns_.compare_exchange_strong(last, now)) refresh();
  return free_.load(std::memory_order_relaxed) < floor;
}

}  // namespace postamt::storage
