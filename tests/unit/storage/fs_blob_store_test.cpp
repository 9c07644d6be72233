#include "storage/blob_fs/fs_blob_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "temp_dir.hpp"

namespace postamt::storage::test {
namespace {

using Code = StorageError::Code;

// FIPS 180-2 test vectors.
constexpr std::string_view kAbcSha256 =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

class FsBlobStoreTest : public ::testing::Test {
 protected:
  TempDir dir_;
  FsBlobStore store_{dir_.path() / "blobs"};
  const std::filesystem::path root_ = dir_.path() / "blobs";
};

TEST_F(FsBlobStoreTest, PutNamesTheBlobByItsSha256) {
  auto ref = store_.put("abc");
  ASSERT_TRUE(ref) << ref.error().message;
  EXPECT_EQ(ref->id, kAbcSha256);
  EXPECT_EQ(ref->size, 3u);
  EXPECT_TRUE(std::filesystem::is_regular_file(root_ / "ba" / kAbcSha256));
  EXPECT_TRUE(store_.exists(kAbcSha256));

  auto empty = store_.put("");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->id, kEmptySha256);
  EXPECT_EQ(empty->size, 0u);
  EXPECT_EQ(*store_.read(kEmptySha256), "");
}

TEST_F(FsBlobStoreTest, PutIsIdempotentAndLeavesNoTemporaryFiles) {
  auto first = store_.put("hello");
  auto second = store_.put("hello");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->id, second->id);
  auto ids = store_.list();
  ASSERT_TRUE(ids);
  EXPECT_EQ(ids->size(), 1u);
  EXPECT_TRUE(std::filesystem::is_empty(root_ / "tmp"));
}

TEST_F(FsBlobStoreTest, UnsyncedPutIsReadableAtOnceAndSyncMakesItDurable) {
  const std::string bytes = "Subject: group commit\r\n\r\nbody\r\n";
  auto unsynced = store_.put_unsynced(bytes);
  ASSERT_TRUE(unsynced);
  EXPECT_TRUE(store_.exists(unsynced->id));
  EXPECT_EQ(*store_.read(unsynced->id), bytes);
  ASSERT_TRUE(store_.sync());
  // The same bytes again, durably: the existing file is made durable, not rewritten.
  auto durable = store_.put(bytes);
  ASSERT_TRUE(durable);
  EXPECT_EQ(durable->id, unsynced->id);
  EXPECT_EQ(*store_.list(), std::vector<std::string>{unsynced->id});
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path() / "blobs" / "tmp"));
}

// SMTP DATA streamed to disk: the bytes arrive in pieces, the blob gets the same name
// and content as put() of the whole, with one file written, none left behind.
TEST_F(FsBlobStoreTest, StreamedWriteMatchesPutAndIsRenamedIntoPlace) {
  std::string whole;
  for (int i = 0; i < 5000; ++i) whole += "line " + std::to_string(i) + "\r\n";
  auto writer = store_.begin_write();
  ASSERT_TRUE(writer) << writer.error().message;
  for (std::size_t at = 0; at < whole.size(); at += 4093) {
    ASSERT_TRUE((*writer)->append(std::string_view(whole).substr(at, 4093)));
  }
  EXPECT_EQ((*writer)->size(), whole.size());
  // Spooled in root/tmp, readable only by the owner.
  auto spooled = std::filesystem::directory_iterator(root_ / "tmp");
  ASSERT_NE(spooled, std::filesystem::directory_iterator());
  EXPECT_EQ(std::filesystem::status(spooled->path()).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto view = (*writer)->view();
  ASSERT_TRUE(view);
  EXPECT_EQ(*view, whole);
  auto ref = (*writer)->commit(true);
  ASSERT_TRUE(ref) << ref.error().message;
  auto put = store_.put(whole);
  ASSERT_TRUE(put);
  EXPECT_EQ(ref->id, put->id);
  EXPECT_EQ(ref->size, whole.size());
  EXPECT_EQ(*store_.read(ref->id), whole);
  EXPECT_EQ(*view, whole);  // still readable until the writer goes
  writer->reset();
  EXPECT_TRUE(std::filesystem::is_empty(root_ / "tmp"));
  EXPECT_EQ(*store_.list(), std::vector<std::string>{ref->id});
}

TEST_F(FsBlobStoreTest, StreamedWriteOfAnExistingBlobOrAbandonedLeavesNoFile) {
  ASSERT_TRUE(store_.put("abc"));
  {
    auto writer = store_.begin_write();
    ASSERT_TRUE(writer);
    ASSERT_TRUE((*writer)->append("ab"));
    ASSERT_TRUE((*writer)->append("c"));
    auto ref = (*writer)->commit(false);
    ASSERT_TRUE(ref);
    EXPECT_EQ(ref->id, kAbcSha256);
  }
  {
    auto writer = store_.begin_write();
    ASSERT_TRUE(writer);
    ASSERT_TRUE((*writer)->append("never committed"));
  }
  EXPECT_TRUE(std::filesystem::is_empty(root_ / "tmp"));
  EXPECT_EQ(*store_.list(), std::vector<std::string>{std::string(kAbcSha256)});
}

TEST_F(FsBlobStoreTest, ReadReturnsTheExactBytes) {
  const std::string bytes("line 1\r\nbinary \0\x01\xff\r\n", 21);
  auto ref = store_.put(bytes);
  ASSERT_TRUE(ref);
  auto read = store_.read(ref->id);
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, bytes);
}

TEST_F(FsBlobStoreTest, LargeBlobRoundTrip) {
  std::string bytes(3 * 1024 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 31 + 7);
  auto ref = store_.put(bytes);
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->size, bytes.size());
  auto read = store_.read(ref->id);
  ASSERT_TRUE(read);
  EXPECT_TRUE(*read == bytes);
  auto tail = store_.read_range(ref->id, bytes.size() - 10, 100);
  ASSERT_TRUE(tail);
  EXPECT_EQ(*tail, bytes.substr(bytes.size() - 10));
}

TEST_F(FsBlobStoreTest, ReadRange) {
  auto ref = store_.put("0123456789");
  ASSERT_TRUE(ref);
  EXPECT_EQ(*store_.read_range(ref->id, 0, 4), "0123");
  EXPECT_EQ(*store_.read_range(ref->id, 3, 4), "3456");
  EXPECT_EQ(*store_.read_range(ref->id, 8, 100), "89") << "beyond the end: what exists";
  EXPECT_EQ(*store_.read_range(ref->id, 10, 5), "");
  EXPECT_EQ(*store_.read_range(ref->id, 1'000'000, 5), "");
  EXPECT_EQ(*store_.read_range(ref->id, 2, 0), "");
  EXPECT_EQ(*store_.read_range(ref->id, 0, UINT64_MAX), "0123456789");
  EXPECT_EQ(*store_.read_range(ref->id, UINT64_MAX, UINT64_MAX), "");
}

TEST_F(FsBlobStoreTest, MissingBlobIsNotFound) {
  const std::string id(64, 'a');
  EXPECT_FALSE(store_.exists(id));
  EXPECT_EQ(store_.read(id).error().code, Code::not_found);
  EXPECT_EQ(store_.read_range(id, 0, 1).error().code, Code::not_found);
  EXPECT_EQ(store_.remove(id).error().code, Code::not_found);
}

TEST_F(FsBlobStoreTest, InvalidIdsNeverReachTheFileSystem) {
  // A file that a path-traversing id would reach if ids were used as paths.
  std::ofstream(dir_.path() / "secret") << "secret";
  for (const std::string& id :
       {std::string(), std::string("../secret"), std::string(63, 'a'), std::string(65, 'a'),
        std::string(64, 'A'), std::string(62, 'a') + "/x", std::string("..") + std::string(62, 'a'),
        std::string(63, 'a') + '\0', std::string(64, 'g')}) {
    EXPECT_FALSE(store_.exists(id)) << id;
    EXPECT_EQ(store_.read(id).error().code, Code::invalid) << id;
    EXPECT_EQ(store_.read_range(id, 0, 10).error().code, Code::invalid) << id;
    EXPECT_EQ(store_.remove(id).error().code, Code::invalid) << id;
  }
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "secret"));
}

TEST_F(FsBlobStoreTest, RemoveDeletesTheFile) {
  auto ref = store_.put("bye");
  ASSERT_TRUE(ref);
  ASSERT_TRUE(store_.remove(ref->id));
  EXPECT_FALSE(store_.exists(ref->id));
  EXPECT_EQ(store_.read(ref->id).error().code, Code::not_found);
  EXPECT_EQ(store_.remove(ref->id).error().code, Code::not_found);
  auto again = store_.put("bye");  // can be stored again
  ASSERT_TRUE(again);
  EXPECT_EQ(*store_.read(again->id), "bye");
}

TEST_F(FsBlobStoreTest, ListReturnsSortedIdsAndIgnoresStrangers) {
  std::vector<std::string> expected;
  for (const std::string_view content : {"one", "two", "three", "four"}) {
    auto ref = store_.put(content);
    ASSERT_TRUE(ref);
    expected.push_back(ref->id);
  }
  std::ranges::sort(expected);
  std::filesystem::create_directories(root_ / "zz");
  std::ofstream(root_ / "zz" / std::string(64, 'a')) << "wrong directory name";
  std::filesystem::create_directories(root_ / "ab");
  std::ofstream(root_ / "ab" / "not-a-blob") << "x";
  std::ofstream(root_ / "ab" / std::string(64, 'c')) << "prefix does not match";
  std::ofstream(root_ / "tmp" / "put-leftover") << "x";
  std::ofstream(root_ / "stray-file") << "x";
  auto ids = store_.list();
  ASSERT_TRUE(ids) << ids.error().message;
  EXPECT_EQ(*ids, expected);
}

TEST_F(FsBlobStoreTest, ConstructorCreatesTheRoot) {
  const auto nested = dir_.path() / "a" / "b" / "c";
  FsBlobStore store(nested);
  EXPECT_TRUE(std::filesystem::is_directory(nested / "tmp"));
  EXPECT_EQ(store.root(), nested);
  auto ids = store.list();
  ASSERT_TRUE(ids);
  EXPECT_TRUE(ids->empty());
}

TEST_F(FsBlobStoreTest, ConstructorFailureIsAStartUpError) {
  std::ofstream(dir_.path() / "file") << "x";
  EXPECT_THROW(FsBlobStore(dir_.path() / "file" / "blobs"), std::runtime_error);
}

TEST_F(FsBlobStoreTest, PutFailureIsAnIoError) {
  TempDir other;
  FsBlobStore store(other.path() / "blobs");
  std::filesystem::remove_all(other.path() / "blobs" / "tmp");
  auto ref = store.put("cannot land");
  ASSERT_FALSE(ref);
  EXPECT_EQ(ref.error().code, Code::io);
  EXPECT_NE(ref.error().message.find("No such file or directory"), std::string::npos)
      << ref.error().message;
}

}  // namespace
}  // namespace postamt::storage::test
