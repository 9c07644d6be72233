// [filter], [filter.rspamd] and [[filter.milter]]: defaults, the values read, and the
// milter address mistakes named (a port of 1 to 65535, an absolute unix socket path).
#include <gtest/gtest.h>

#include "server/config/config_loader.hpp"

namespace postamt::config {
namespace {

constexpr std::string_view kListener = "\n[[listener]]\nprotocol = \"smtp\"\naddress = \"127.0.0.1:0\"\n";

Config parse_ok(std::string text) {
  auto result = parse_config(text + std::string(kListener), "/etc/postamt/postamt.toml");
  EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().to_string());
  return result ? *result : Config{};
}

std::string parse_error(std::string text) {
  auto result = parse_config(text + std::string(kListener), "/etc/postamt/postamt.toml");
  EXPECT_FALSE(result.has_value()) << text;
  return result ? "" : result.error().to_string();
}

std::string milter(std::string_view address) {
  return "[[filter.milter]]\nname = \"m\"\naddress = \"" + std::string(address) + "\"\n";
}

TEST(FilterKeys, Defaults) {
  const Config c = parse_ok("");
  EXPECT_TRUE(c.filter.milters.empty());
  EXPECT_TRUE(c.filter.rspamd.url.empty());
  EXPECT_EQ(c.filter.rspamd.timeout, std::chrono::seconds(10));
  EXPECT_FALSE(c.filter.rspamd.fail_closed);
  EXPECT_TRUE(c.filter.classifier);
  EXPECT_EQ(c.filter.max_message_size, 10u * 1024 * 1024);
}

TEST(FilterKeys, MilterAddressesOfEveryForm) {
  const Config c = parse_ok(
      "[[filter.milter]]\naddress = \"inet:127.0.0.1:8891\"\n"
      "[[filter.milter]]\nname = \"dkim\"\naddress = \"inet6:[::1]:65535\"\ntimeout_seconds = 5\nfail_closed = true\n"
      "[[filter.milter]]\naddress = \"unix:/run/milter/clamav.sock\"\n"
      "[[filter.milter]]\naddress = \"inet:milter.example.org:1\"\n");
  ASSERT_EQ(c.filter.milters.size(), 4u);
  EXPECT_EQ(c.filter.milters[0].name, "milter1") << "a name by position when none is given";
  EXPECT_EQ(c.filter.milters[0].timeout, std::chrono::seconds(30));
  EXPECT_EQ(c.filter.milters[1].name, "dkim");
  EXPECT_EQ(c.filter.milters[1].address, "inet6:[::1]:65535");
  EXPECT_EQ(c.filter.milters[1].timeout, std::chrono::seconds(5));
  EXPECT_TRUE(c.filter.milters[1].fail_closed);
  EXPECT_EQ(c.filter.milters[2].address, "unix:/run/milter/clamav.sock");
  EXPECT_EQ(c.filter.milters[3].address, "inet:milter.example.org:1");
}

TEST(FilterKeys, MilterPortOutOfRangeIsNamed) {
  for (const char* address : {"inet:127.0.0.1:0", "inet:127.0.0.1:65536", "inet:127.0.0.1:99999",
                              "inet6:[::1]:0000", "inet:127.0.0.1:18446744073709551617"}) {
    const std::string error = parse_error(milter(address));
    EXPECT_NE(error.find("filter.milter[0].address"), std::string::npos) << error;
    EXPECT_NE(error.find("port must be 1 to 65535"), std::string::npos) << address << ": " << error;
  }
}

TEST(FilterKeys, MilterUnixSocketPathMustBeAbsolute) {
  for (const char* address : {"unix:run/milter.sock", "unix:./milter.sock", "unix:"}) {
    const std::string error = parse_error(milter(address));
    EXPECT_NE(error.find("filter.milter[0].address"), std::string::npos) << error;
    EXPECT_NE(error.find("unix socket path must be absolute"), std::string::npos) << address << ": " << error;
  }
  // sockaddr_un holds 107 octets and the NUL: a longer path could never be connected to.
  EXPECT_NE(parse_error(milter("unix:/" + std::string(107, 'a'))).find("at most 107 octets"), std::string::npos);
  parse_ok(milter("unix:/" + std::string(106, 'a')));
}

TEST(FilterKeys, OtherMilterMistakesAreNamed) {
  EXPECT_NE(parse_error(milter("inet:127.0.0.1")).find("needs a host and a port"), std::string::npos);
  EXPECT_NE(parse_error(milter("inet:127.0.0.1:smtp")).find("needs a host and a port"), std::string::npos);
  EXPECT_NE(parse_error(milter("inet6:[::1]")).find("needs a host and a port"), std::string::npos);
  EXPECT_NE(parse_error(milter("inet::8891")).find("needs a host and a port"), std::string::npos);
  EXPECT_NE(parse_error(milter("inet:bad_host!:8891")).find("host must be a DNS name or an IP address"),
            std::string::npos);
  EXPECT_NE(parse_error(milter("tcp:127.0.0.1:8891")).find("\"unix:/path\""), std::string::npos);
  EXPECT_NE(parse_error("[[filter.milter]]\nname = \"m\"\naddress = 8891\n").find("got an integer"), std::string::npos);
  EXPECT_NE(parse_error("[[filter.milter]]\nname = \"m\"\n").find("needs an address"), std::string::npos);
}

}  // namespace
}  // namespace postamt::config
