#include "base/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace postamt {
namespace {

std::string errno_text(const std::string& what, const std::filesystem::path& path) {
  return what + " " + path.string() + ": " + std::strerror(errno);
}

}  // namespace

Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view content,
                                   mode_t mode) {
  std::error_code ec;
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::filesystem::create_directories(dir, ec);
  if (ec) return permanent_error("cannot create " + dir.string() + ": " + ec.message());

  std::random_device random;
  const auto temporary = dir / ("." + path.filename().string() + ".tmp" + std::to_string(random()));
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return permanent_error(errno_text("cannot create", temporary));
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto message = errno_text("cannot write", temporary);
      ::close(fd);
      ::unlink(temporary.c_str());
      return permanent_error(message);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
    auto message = errno_text("cannot sync", temporary);
    ::close(fd);
    ::unlink(temporary.c_str());
    return permanent_error(message);
  }
  ::close(fd);
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    auto message = errno_text("cannot rename onto", path);
    ::unlink(temporary.c_str());
    return permanent_error(message);
  }
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return {};
}

}  // namespace postamt
