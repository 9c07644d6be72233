#include "base/atomic_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace postamt {
namespace {

TEST(AtomicFile, WritesReplacesAndSetsMode) {
  auto dir = std::filesystem::temp_directory_path() / ("postamt-atomic-" + std::to_string(::getpid()));
  auto path = dir / "sub" / "file.json";
  ASSERT_TRUE(write_file_atomically(path, "first", 0600));
  ASSERT_TRUE(write_file_atomically(path, "second", 0600));
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_EQ(content.str(), "second");
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  // No temporary files left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir / "sub"), {}), 1);
  std::filesystem::remove_all(dir);
}

TEST(AtomicFile, ReportsUnwritableDirectory) {
  auto result = write_file_atomically("/proc/postamt-cannot-write/x", "data");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("/proc/postamt-cannot-write"), std::string::npos);
}

}  // namespace
}  // namespace postamt
