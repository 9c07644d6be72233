#include "server/data_dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "base/unique_fd.hpp"
#include "base/log.hpp"

namespace postamt::server {
namespace {

std::unexpected<DataDirLockError> failure(std::string message) {
  return std::unexpected(DataDirLockError{false, std::move(message)});
}

std::string errno_text() { return std::strerror(errno); }

// The holder's pid as the file holds it: digits only, else "unknown" (an older holder
// that could not write it, or a file being rewritten this instant).
std::string read_pid(int fd) {
  char buffer[32] = {};
  const ssize_t n = ::pread(fd, buffer, sizeof buffer - 1, 0);
  std::string pid;
  for (ssize_t i = 0; i < n && buffer[i] >= '0' && buffer[i] <= '9'; ++i) pid.push_back(buffer[i]);
  return pid.empty() ? "unknown" : pid;
}

using Fd = UniqueFd;

}  // namespace

std::string data_dir_in_use_message(const std::filesystem::path& data_dir, const std::string& pid) {
  return "data directory " + data_dir.string() + " is in use by pid " + pid;
}

std::string data_dir_holder(const std::filesystem::path& data_dir) {
  Fd fd(::open((data_dir / DataDirLock::kFileName).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) return "";
  // A shared lock conflicts with the holder's exclusive one; got, it goes with the close.
  if (::flock(fd.get(), LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK)
    return data_dir_in_use_message(data_dir, read_pid(fd.get()));
  return "";
}

std::expected<DataDirLock, DataDirLockError> DataDirLock::acquire(const std::filesystem::path& data_dir) {
  std::error_code ec;
  if (!std::filesystem::exists(data_dir, ec)) {
    if (data_dir.has_parent_path()) std::filesystem::create_directories(data_dir.parent_path(), ec);
    if (::mkdir(data_dir.c_str(), 0700) != 0 && errno != EEXIST)
      return failure("cannot create the data directory " + data_dir.string() + ": " + errno_text());
  }
  Fd dir(::open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return failure("cannot open the data directory " + data_dir.string() + ": " + errno_text());
  const std::filesystem::path path = data_dir / kFileName;

  // O_NOFOLLOW: a link planted in the data directory is refused, never followed.
  bool writable = true;
  int opened = ::openat(dir.get(), kFileName, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (opened < 0 && errno == EACCES) {
    // Someone else's file (root's, from a start before the privilege drop existed): a
    // read-only descriptor locks as well; the pid then cannot be recorded.
    writable = false;
    opened = ::openat(dir.get(), kFileName, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  }
  Fd fd(opened);
  if (fd.get() < 0) return failure("cannot open the lock file " + path.string() + ": " + errno_text());
  struct stat file {};
  if (::fstat(fd.get(), &file) != 0) return failure("cannot stat " + path.string() + ": " + errno_text());
  if (!S_ISREG(file.st_mode)) return failure("the lock file " + path.string() + " is not a regular file");

  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK)
      return std::unexpected(DataDirLockError{true, data_dir_in_use_message(data_dir, read_pid(fd.get()))});
    return failure("cannot lock " + path.string() + ": " + errno_text());
  }

  if (writable) {
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
      log::warn("datadir.lock_pid_unwritten", {{"path", path.string()}, {"error", errno_text()}});
  }
  // Root hands a lock file it owns to the data directory's owner, so the service user can
  // lock it at a start without root. Only a plain file with one name: never a hard link
  // to something else.
  struct stat owner {};
  if (::geteuid() == 0 && file.st_uid == 0 && file.st_nlink == 1 && ::fstat(dir.get(), &owner) == 0 &&
      owner.st_uid != 0) {
    if (::fchown(fd.get(), owner.st_uid, owner.st_gid) != 0)
      log::warn("datadir.lock_chown_failed", {{"path", path.string()}, {"error", errno_text()}});
  }
  return DataDirLock(fd.release(), path, file.st_dev, file.st_ino);
}

DataDirLock::DataDirLock(DataDirLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      device_(other.device_),
      inode_(other.inode_) {}

DataDirLock& DataDirLock::operator=(DataDirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    device_ = other.device_;
    inode_ = other.inode_;
  }
  return *this;
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

std::string DataDirLock::check_held() const {
  struct stat now {};
  if (::lstat(path_.c_str(), &now) != 0) {
    return errno == ENOENT ? "the lock file " + path_.string() + " was removed"
                           : "cannot stat the lock file " + path_.string() + ": " + errno_text();
  }
  if (now.st_dev != device_ || now.st_ino != inode_) return "the lock file " + path_.string() + " was replaced";
  return "";
}

}  // namespace postamt::server
