#include "base/base64.hpp"

#include <gtest/gtest.h>

namespace postamt {
namespace {

// RFC 4648 §10 test vectors.
TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},         {"f", "Zg=="},        {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    EXPECT_EQ(base64_decode(encoded), std::string(plain));
  }
}

TEST(Base64, RoundTripsBinary) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  EXPECT_EQ(base64_decode(base64_encode(all)), all);
}

TEST(Base64, RefusesMalformedInput) {
  EXPECT_FALSE(base64_decode("Zg="));      // not a multiple of four
  EXPECT_FALSE(base64_decode("Z==="));     // three padding characters
  EXPECT_FALSE(base64_decode("Zg==Zm8=")); // padding in the middle
  EXPECT_FALSE(base64_decode("Zm 9v"));    // white space
  EXPECT_FALSE(base64_decode("Zm9*"));     // outside the alphabet
  EXPECT_FALSE(base64_decode("Z=g="));     // data after padding
}

}  // namespace
}  // namespace postamt
