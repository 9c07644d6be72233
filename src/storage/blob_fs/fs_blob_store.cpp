#include "storage/blob_fs/fs_blob_store.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "base/unique_fd.hpp"
#include "storage/api/name_rules.hpp"

namespace postamt::storage {
namespace {

using Code = StorageError::Code;

constexpr std::string_view kTmpDir = "tmp";
constexpr std::size_t kIoChunk = 1 << 20;  // bounds a single read/write call

std::string errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

std::unexpected<StorageError> io_error(std::string_view what, const std::filesystem::path& path,
                                       int error) {
  return storage_error(Code::io,
                       std::string(what) + " " + path.string() + ": " + errno_text(error));
}

std::unexpected<StorageError> invalid_id(std::string_view blob_id) {
  std::string shown(blob_id.substr(0, 80));
  std::ranges::replace_if(
      shown, [](char c) { return static_cast<unsigned char>(c) < 0x20; }, '?');
  return storage_error(Code::invalid,
                       "The blob id '" + shown + "' is not a lower-case hex SHA-256.");
}

using Fd = UniqueFd;

StoreResult<void> fsync_directory(const std::filesystem::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return io_error("cannot open directory", dir, errno);
  if (::fsync(fd.get()) != 0) return io_error("cannot fsync directory", dir, errno);
  return {};
}

StoreResult<void> write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), std::min(bytes.size(), kIoChunk));
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot write", path, errno);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

// Ranges up to this long are read without asking the file's size first.
constexpr std::uint64_t kSmallRange = 256 * 1024;

// Reads up to `length` octets from `offset`; fewer at the end of the file.
StoreResult<std::string> read_at(int fd, std::uint64_t offset, std::uint64_t length,
                                 const std::filesystem::path& path) {
  std::string out(static_cast<std::size_t>(length), '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    const std::size_t want = std::min(out.size() - done, kIoChunk);
    const ssize_t n = ::pread(fd, out.data() + done, want, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot read", path, errno);
    }
    if (n == 0) break;  // the file is shorter than its size said a moment ago
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  return out;
}

std::string hex_digest(const unsigned char* digest, unsigned int size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * size);
  for (unsigned int i = 0; i < size; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0x0f]);
  }
  return hex;
}

StoreResult<std::string> sha256_hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != 32)
    return storage_error(Code::io, "SHA-256 computation failed (OpenSSL EVP_Digest)");
  return hex_digest(digest.data(), size);
}

bool is_hex_prefix(std::string_view name) {
  return name.size() == 2 && std::ranges::all_of(name, [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

FsBlobStore::FsBlobStore(std::filesystem::path root) : root_(std::move(root)) {
  std::error_code ec;
  std::filesystem::create_directories(root_ / kTmpDir, ec);
  if (ec)
    throw std::runtime_error("cannot create the blob directory " + (root_ / kTmpDir).string() +
                             ": " + ec.message());
}

std::filesystem::path FsBlobStore::path_of(std::string_view blob_id) const {
  return root_ / blob_id.substr(0, 2) / blob_id;
}

StoreResult<BlobRef> FsBlobStore::put(std::string_view bytes) { return write(bytes, true); }

StoreResult<BlobRef> FsBlobStore::put_unsynced(std::string_view bytes) { return write(bytes, false); }

StoreResult<void> FsBlobStore::sync() {
  Fd fd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return io_error("cannot open directory", root_, errno);
  if (::syncfs(fd.get()) != 0) return io_error("cannot syncfs", root_, errno);
  return {};
}

// Content addressing: a file under this name holds these bytes (it only appears there
// by an atomic rename of a complete file), so there is nothing to write. It may come
// from a put_unsynced() whose batch has not synced yet: a durable put makes sure.
// Nothing when there is no such file yet.
std::optional<StoreResult<BlobRef>> FsBlobStore::already_stored(const BlobRef& ref, bool durable) {
  const std::filesystem::path target = path_of(ref.id);
  struct stat st {};
  if (::stat(target.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::nullopt;
    return io_error("cannot stat", target, errno);
  }
  if (!durable) return ref;
  Fd existing(::open(target.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (existing.get() < 0) return io_error("cannot open", target, errno);
  if (::fsync(existing.get()) != 0) return io_error("cannot fsync", target, errno);
  if (auto synced = fsync_directory(target.parent_path()); !synced) return std::unexpected(std::move(synced.error()));
  return ref;
}

StoreResult<BlobRef> FsBlobStore::write(std::string_view bytes, bool durable) {
  auto id = sha256_hex(bytes);
  if (!id) return std::unexpected(std::move(id.error()));
  BlobRef ref{*id, bytes.size()};
  // Held before the file is looked for: the reclaimer cannot remove it from here on (or
  // is removing it now, and the hold waits until it is gone, see blob_pins.hpp).
  pins_.hold(ref.id);
  auto written = write_held(ref, bytes, durable);
  if (!written) pins_.release(ref.id, BlobPins::After::check);
  return written;
}

StoreResult<BlobRef> FsBlobStore::write_held(const BlobRef& ref, std::string_view bytes, bool durable) {
  if (auto stored = already_stored(ref, durable)) return std::move(*stored);

  std::string tmp_name = (root_ / kTmpDir / "put-XXXXXX").string();
  Fd fd(::mkostemp(tmp_name.data(), O_CLOEXEC));
  const std::filesystem::path tmp = tmp_name;
  if (fd.get() < 0) return io_error("cannot create temporary file in", root_ / kTmpDir, errno);
  const auto discard = [&] { ::unlink(tmp.c_str()); };

  if (auto written = write_all(fd.get(), bytes, tmp); !written) {
    discard();
    return std::unexpected(std::move(written.error()));
  }
  if (durable && ::fsync(fd.get()) != 0) {
    const int error = errno;
    discard();
    return io_error("cannot fsync", tmp, error);
  }
  if (fd.close_checked() != 0) {
    const int error = errno;
    discard();
    return io_error("cannot close", tmp, error);
  }
  return install(tmp, ref, durable);
}

// Moves a complete, closed temporary file (fsynced when `durable`) to the blob's name.
StoreResult<BlobRef> FsBlobStore::install(const std::filesystem::path& tmp, const BlobRef& ref,
                                          bool durable) {
  const auto discard = [&] { ::unlink(tmp.c_str()); };
  const std::filesystem::path target = path_of(ref.id);
  const std::filesystem::path dir = target.parent_path();
  bool created_dir = false;
  if (::mkdir(dir.c_str(), 0750) == 0) {
    created_dir = true;
  } else if (errno != EEXIST) {
    const int error = errno;
    discard();
    return io_error("cannot create directory", dir, error);
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int error = errno;
    discard();
    return io_error("cannot rename into", target, error);
  }
  if (!durable) return ref;  // sync() makes data, name and directory durable at once
  // The rename is durable once the directory holding the new name is synced; a new
  // sub-directory also needs its own entry in root synced.
  if (auto synced = fsync_directory(dir); !synced)
    return std::unexpected(std::move(synced.error()));
  if (created_dir) {
    if (auto synced = fsync_directory(root_); !synced)
      return std::unexpected(std::move(synced.error()));
  }
  return ref;
}

std::optional<std::uint64_t> FsBlobStore::file_size(std::string_view blob_id) const {
  if (!is_valid_blob_id(blob_id)) return std::nullopt;
  struct stat st {};
  if (::stat(path_of(blob_id).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return static_cast<std::uint64_t>(st.st_size);
}

std::string FsBlobStore::probe_writable() const {
  std::string name = (root_ / kTmpDir / "probe-XXXXXX").string();
  const int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) return "cannot create a file in " + (root_ / kTmpDir).string() + ": " + errno_text(errno);
  const bool written = ::write(fd, "x", 1) == 1;
  const int error = errno;
  ::close(fd);
  ::unlink(name.c_str());
  if (!written) return "cannot write in " + (root_ / kTmpDir).string() + ": " + errno_text(error);
  return "";
}

// --- streamed blobs

// The temporary file lives in root/tmp (mode 0600 from mkostemp) beside the blobs, so
// commit() is a rename on the same file system: the bytes are written once.
class FsBlobStore::Writer final : public BlobWriter {
 public:
  Writer(FsBlobStore& store, std::filesystem::path tmp, int fd, EVP_MD_CTX* hash)
      : store_(store), tmp_(std::move(tmp)), fd_(fd), hash_(hash) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer() override {
    if (mapping_ != nullptr) ::munmap(mapping_, mapped_size_);
    if (!committed_) ::unlink(tmp_.c_str());
    EVP_MD_CTX_free(hash_);
  }

  StoreResult<void> append(std::string_view bytes) override {
    if (committed_ || mapping_ != nullptr)
      return storage_error(Code::invalid, "append() after view() or commit()");
    if (EVP_DigestUpdate(hash_, bytes.data(), bytes.size()) != 1)
      return storage_error(Code::io, "SHA-256 computation failed (OpenSSL EVP_DigestUpdate)");
    if (auto written = write_all(fd_.get(), bytes, tmp_); !written) return written;
    size_ += bytes.size();
    return {};
  }

  std::uint64_t size() const override { return size_; }

  StoreResult<std::string_view> view() override {
    if (size_ == 0) return std::string_view();
    if (mapping_ == nullptr) {
      void* mapped = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_.get(), 0);
      if (mapped == MAP_FAILED) return io_error("cannot map", tmp_, errno);
      mapping_ = mapped;
      mapped_size_ = size_;
    }
    return std::string_view(static_cast<const char*>(mapping_), mapped_size_);
  }

  StoreResult<BlobRef> commit(bool durable) override {
    if (committed_) return storage_error(Code::invalid, "the blob was committed already");
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int digest_size = 0;
    if (EVP_DigestFinal_ex(hash_, digest.data(), &digest_size) != 1 || digest_size != 32)
      return storage_error(Code::io, "SHA-256 computation failed (OpenSSL EVP_DigestFinal_ex)");
    const BlobRef ref{hex_digest(digest.data(), digest_size), size_};
    committed_ = true;  // from here the file is renamed or removed, never left behind
    // Held like a put(): the delivery releases it after its commit or refusal.
    store_.pins_.hold(ref.id);
    auto installed = install_held(ref, durable);
    if (!installed) store_.pins_.release(ref.id, BlobPins::After::check);
    return installed;
  }

 private:
  StoreResult<BlobRef> install_held(const BlobRef& ref, bool durable) {
    if (auto stored = store_.already_stored(ref, durable)) {
      ::unlink(tmp_.c_str());
      return std::move(*stored);
    }
    if (durable && ::fsync(fd_.get()) != 0) {
      const int error = errno;
      ::unlink(tmp_.c_str());
      return io_error("cannot fsync", tmp_, error);
    }
    // The mapping (if any) stays valid after the descriptor is closed.
    if (fd_.close_checked() != 0) {
      const int error = errno;
      ::unlink(tmp_.c_str());
      return io_error("cannot close", tmp_, error);
    }
    return store_.install(tmp_, ref, durable);
  }

  FsBlobStore& store_;
  std::filesystem::path tmp_;
  Fd fd_;
  EVP_MD_CTX* hash_;
  std::uint64_t size_ = 0;
  void* mapping_ = nullptr;
  std::size_t mapped_size_ = 0;
  bool committed_ = false;
};

StoreResult<std::unique_ptr<BlobWriter>> FsBlobStore::begin_write() {
  EVP_MD_CTX* hash = EVP_MD_CTX_new();
  if (hash == nullptr || EVP_DigestInit_ex(hash, EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(hash);
    return storage_error(Code::io, "SHA-256 computation failed (OpenSSL EVP_DigestInit_ex)");
  }
  std::string tmp_name = (root_ / kTmpDir / "spool-XXXXXX").string();
  const int fd = ::mkostemp(tmp_name.data(), O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    EVP_MD_CTX_free(hash);
    return io_error("cannot create temporary file in", root_ / kTmpDir, error);
  }
  return std::make_unique<Writer>(*this, std::filesystem::path(tmp_name), fd, hash);
}

std::size_t FsBlobStore::remove_temporary_files() {
  std::size_t removed = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(root_ / kTmpDir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (::unlink(it->path().c_str()) == 0) ++removed;  // a link is removed, never followed
  }
  return removed;
}

StoreResult<std::string> FsBlobStore::read(std::string_view blob_id) {
  return read_range(blob_id, 0, std::numeric_limits<std::uint64_t>::max());
}

StoreResult<std::string> FsBlobStore::read_range(std::string_view blob_id, std::uint64_t offset,
                                                 std::uint64_t length) {
  if (!is_valid_blob_id(blob_id)) return invalid_id(blob_id);
  const std::filesystem::path path = path_of(blob_id);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));  // a planted link is refused
  if (fd.get() < 0) {
    if (errno == ENOENT)
      return storage_error(Code::not_found,
                           "The blob " + std::string(blob_id) + " does not exist.");
    return io_error("cannot open", path, errno);
  }
  // A short range (a header, a part) is read as it is: the read stops at the end of the
  // file, and one system call less per message counts when a FETCH or SEARCH reads the
  // headers of a whole mailbox. Longer ones are sized by the file first.
  if (length <= kSmallRange) return read_at(fd.get(), offset, length, path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return io_error("cannot stat", path, errno);
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (offset >= size) return std::string();
  return read_at(fd.get(), offset, std::min(length, size - offset), path);
}

bool FsBlobStore::exists(std::string_view blob_id) {
  if (!is_valid_blob_id(blob_id)) return false;
  struct stat st {};
  return ::stat(path_of(blob_id).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

StoreResult<void> FsBlobStore::remove(std::string_view blob_id) {
  if (!is_valid_blob_id(blob_id)) return invalid_id(blob_id);
  const std::filesystem::path path = path_of(blob_id);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT)
      return storage_error(Code::not_found,
                           "The blob " + std::string(blob_id) + " does not exist.");
    return io_error("cannot remove", path, errno);
  }
  return fsync_directory(path.parent_path());
}

StoreResult<std::vector<std::string>> FsBlobStore::list() {
  std::vector<std::string> ids;
  std::error_code ec;
  for (std::filesystem::directory_iterator dir(root_, ec), end; !ec && dir != end;
       dir.increment(ec)) {
    const std::string prefix = dir->path().filename().string();
    if (!is_hex_prefix(prefix) || !dir->is_directory(ec)) continue;
    std::error_code sub_ec;
    for (std::filesystem::directory_iterator file(dir->path(), sub_ec), sub_end;
         !sub_ec && file != sub_end; file.increment(sub_ec)) {
      std::string name = file->path().filename().string();
      if (is_valid_blob_id(name) && name.starts_with(prefix)) ids.push_back(std::move(name));
    }
    if (sub_ec)
      return storage_error(Code::io,
                           "cannot list " + dir->path().string() + ": " + sub_ec.message());
  }
  if (ec) return storage_error(Code::io, "cannot list " + root_.string() + ": " + ec.message());
  std::ranges::sort(ids);
  return ids;
}

}  // namespace postamt::storage
