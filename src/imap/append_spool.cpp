#include "imap/append_spool.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace postamt::imap {

MappedContent::MappedContent(MappedContent&& other) noexcept
    : address_(std::exchange(other.address_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedContent& MappedContent::operator=(MappedContent&& other) noexcept {
  if (this != &other) {
    if (address_) ::munmap(address_, size_);
    address_ = std::exchange(other.address_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedContent::~MappedContent() {
  if (address_) ::munmap(address_, size_);
}

std::expected<AppendSpool, std::string> AppendSpool::create(const std::filesystem::path& directory) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) return std::unexpected("cannot create " + directory.string() + ": " + ec.message());
  ::chmod(directory.c_str(), 0700);  // best effort: holds mail in transit
  std::string name = (directory / "append-XXXXXX").string();
  // mkostemp creates the file 0600.
  const int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) return std::unexpected("cannot create a file in " + directory.string() + ": " + std::strerror(errno));
  ::unlink(name.c_str());  // nameless from now on: nothing to clean up after a crash
  return AppendSpool(fd);
}

AppendSpool::AppendSpool(AppendSpool&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), size_(other.size_), error_(std::move(other.error_)) {}

AppendSpool::~AppendSpool() {
  if (fd_ >= 0) ::close(fd_);
}

void AppendSpool::write(std::string_view bytes) {
  while (!bytes.empty() && !failed()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      error_ = std::strerror(errno);
      return;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
    size_ += static_cast<std::uint64_t>(n);
  }
}

std::expected<MappedContent, std::string> AppendSpool::map() const {
  if (failed()) return std::unexpected(error_);
  if (size_ == 0) return MappedContent{};
  void* address = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
  if (address == MAP_FAILED) return std::unexpected(std::string("cannot map: ") + std::strerror(errno));
  ::madvise(address, size_, MADV_SEQUENTIAL);
  return MappedContent(address, size_);
}

}  // namespace postamt::imap
