#include "imap/header_cache.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace postamt::imap {
namespace {

std::string id(int n) { return std::string(63, 'a') + static_cast<char>('0' + n % 10) + std::to_string(n); }

TEST(HeaderCache, FindsWhatWasInserted) {
  HeaderCache cache(1 << 20);
  EXPECT_FALSE(cache.find(id(1)));
  cache.insert(id(1), "Subject: one\r\n\r\n");
  auto found = cache.find(id(1));
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, "Subject: one\r\n\r\n");
  EXPECT_FALSE(cache.find(id(2)));
  EXPECT_EQ(cache.entries(), 1u);
}

TEST(HeaderCache, StaysWithinItsBudgetDroppingTheLeastRecentlyUsed) {
  const std::string header(900, 'h');
  HeaderCache cache(16 * 1100);  // room for about 16 entries of ~1 KiB
  for (int i = 0; i < 10; ++i) cache.insert(id(i), header);
  ASSERT_TRUE(cache.find(id(0)));  // 0 is now the most recently used
  for (int i = 10; i < 40; ++i) cache.insert(id(i), header);
  EXPECT_LE(cache.bytes(), 16u * 1100);
  EXPECT_GE(cache.entries(), 10u);
  EXPECT_FALSE(cache.find(id(1))) << "an old entry was dropped";
  EXPECT_TRUE(cache.find(id(39))) << "the newest stays";
}

TEST(HeaderCache, KeepsNoHeaderTooLargeForItsShare) {
  HeaderCache cache(16 * 1024);
  cache.insert(id(1), std::string(2048, 'x'));
  EXPECT_FALSE(cache.find(id(1)));
  EXPECT_EQ(cache.bytes(), 0u);
  HeaderCache none(0);
  none.insert(id(2), "A: b\r\n\r\n");
  EXPECT_FALSE(none.find(id(2)));
}

TEST(HeaderCache, ASecondInsertOfTheSameBlobKeepsOneEntry) {
  HeaderCache cache(1 << 20);
  cache.insert(id(1), "A: b\r\n\r\n");
  cache.insert(id(1), "A: b\r\n\r\n");
  EXPECT_EQ(cache.entries(), 1u);
}

TEST(HeaderCache, ManyThreadsAtOnce) {
  HeaderCache cache(64 * 1024);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 2000; ++i) {
        const int n = (i * 7 + t) % 300;
        if (auto found = cache.find(id(n))) {
          EXPECT_EQ(*found, "Subject: " + std::to_string(n) + "\r\n\r\n");
        } else {
          cache.insert(id(n), "Subject: " + std::to_string(n) + "\r\n\r\n");
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(cache.bytes(), 64u * 1024);
}

}  // namespace
}  // namespace postamt::imap
