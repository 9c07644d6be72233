#pragma once
// AppendSpool: a big APPEND literal on its way in, written to an unnamed temporary file
// instead of held in memory (issue 13 §2). The file lives in data_dir/tmp, mode 0600,
// and is unlinked as soon as it is created, so a crash leaves nothing behind. Once the
// command is complete the content is mapped read-only for the store (file pages the
// kernel can drop, not heap).
#include <cstdint>
#include <expected>
#include <filesystem>
#include <string>
#include <string_view>

namespace postamt::imap {

class MappedContent {
 public:
  MappedContent() = default;
  MappedContent(void* address, std::size_t size) : address_(address), size_(size) {}
  MappedContent(MappedContent&& other) noexcept;
  MappedContent& operator=(MappedContent&& other) noexcept;
  ~MappedContent();

  std::string_view view() const { return {static_cast<const char*>(address_), size_}; }

 private:
  void* address_ = nullptr;
  std::size_t size_ = 0;
};

class AppendSpool {
 public:
  static std::expected<AppendSpool, std::string> create(const std::filesystem::path& directory);
  AppendSpool(AppendSpool&& other) noexcept;
  AppendSpool& operator=(AppendSpool&&) = delete;
  AppendSpool(const AppendSpool&) = delete;
  ~AppendSpool();

  // Appends the bytes; after a failed write (a full disk) the rest is dropped and
  // failed() tells the command to answer NO.
  void write(std::string_view bytes);
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  std::uint64_t size() const { return size_; }
  // The whole content, read-only.
  std::expected<MappedContent, std::string> map() const;

 private:
  explicit AppendSpool(int fd) : fd_(fd) {}

  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::string error_;
};

}  // namespace postamt::imap
