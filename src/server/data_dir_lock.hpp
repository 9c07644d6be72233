#pragma once
// DataDirLock: one server per data directory. An exclusive flock(2) on
// <data_dir>/postamt.lock, taken before anything reads or writes the store and held for
// the life of the process (the kernel drops it when the process ends, however it ends).
// The file holds the owner's pid as text, for the message a second server prints.
//
// Only the holder may delete blob files (start-up collection, the reclaimer); commands
// that would disturb a running server (a second `serve`, `quickstart` into its directory)
// refuse with the holder's pid. The file is never unlinked: a lock file removed and
// created again would let two processes each hold "the" lock.
#include <sys/types.h>

#include <expected>
#include <filesystem>
#include <string>

namespace postamt::server {

struct DataDirLockError {
  bool in_use = false;  // another process holds the lock (exit status 2)
  std::string message;
};

class DataDirLock {
 public:
  static constexpr const char* kFileName = "postamt.lock";

  // Creates the data directory (mode 0700) when absent, then takes the lock without
  // waiting. When another process holds it: in_use and "data directory <path> is in use
  // by pid N". Run as root, a lock file it creates is handed to the data directory's owner
  // (so the service user can take it at the next start).
  static std::expected<DataDirLock, DataDirLockError> acquire(const std::filesystem::path& data_dir);

  DataDirLock(DataDirLock&& other) noexcept;
  DataDirLock& operator=(DataDirLock&& other) noexcept;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();

  // Still ours: the file at the path is the one locked (same device and inode). A lock
  // file deleted or replaced means a second server could take a lock of its own.
  // Returns "" when held, else the reason.
  std::string check_held() const;
  const std::filesystem::path& path() const { return path_; }

 private:
  DataDirLock(int fd, std::filesystem::path path, dev_t device, ino_t inode)
      : fd_(fd), path_(std::move(path)), device_(device), inode_(inode) {}

  int fd_ = -1;
  std::filesystem::path path_;
  dev_t device_ = 0;
  ino_t inode_ = 0;
};

// Without taking the lock or creating anything: the in-use message when another process
// holds the data directory's lock, "" when nobody does (or there is no lock file yet).
std::string data_dir_holder(const std::filesystem::path& data_dir);

// The message every refusing command prints: "data directory <path> is in use by pid N".
std::string data_dir_in_use_message(const std::filesystem::path& data_dir, const std::string& pid);

}  // namespace postamt::server
