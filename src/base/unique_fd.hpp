#pragma once
// UniqueFd: a file descriptor closed when it goes out of scope.
#include <unistd.h>

#include <utility>

namespace postamt {

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.release();
    }
    return *this;
  }
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  // Hands the descriptor over; this object no longer closes it.
  int release() { return std::exchange(fd_, -1); }
  // Closes now and reports the result: for written files, where close can fail late
  // (NFS, quota); close() errors on a read-only descriptor carry no information.
  int close_checked() { return ::close(release()); }

 private:
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  int fd_;
};

}  // namespace postamt
