// sd_notify(3) without libsystemd: the datagrams a real unix socket receives.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

#include "server/sd_notify.hpp"

namespace postamt::server {
namespace {

// A datagram socket bound where systemd's would be: a path, or a name in the abstract
// namespace when the address starts with '@'.
class Receiver {
 public:
  explicit Receiver(std::string address) : address_(std::move(address)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un self{};
    self.sun_family = AF_UNIX;
    std::memcpy(self.sun_path, address_.data(), address_.size());
    if (address_[0] == '@') self.sun_path[0] = '\0';
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size());
    bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<const sockaddr*>(&self), length) == 0;
    timeval timeout{2, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~Receiver() {
    if (fd_ >= 0) ::close(fd_);
    if (address_[0] == '/') ::unlink(address_.c_str());
  }
  bool bound() const { return bound_; }
  std::optional<std::string> next() {
    char buffer[4096];
    const ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
    if (got < 0) return std::nullopt;
    return std::string(buffer, static_cast<std::size_t>(got));
  }
  bool nothing_waiting() {
    char buffer[16];
    return ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT) < 0;
  }

 private:
  std::string address_;
  int fd_ = -1;
  bool bound_ = false;
};

std::string socket_path(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::string(name) + "-" + std::to_string(::getpid()))).string();
}

TEST(SdNotifyMessages, ReadyCarriesThePid) {
  EXPECT_EQ(ready_message(4242), "READY=1\nMAINPID=4242\nSTATUS=Accepting connections\n");
}

TEST(SdNotifyMessages, ReloadingCarriesTheMonotonicClock) {
  EXPECT_EQ(reloading_message(123456789), "RELOADING=1\nMONOTONIC_USEC=123456789\nSTATUS=Reloading\n");
  EXPECT_EQ(stopping_message().rfind("STOPPING=1\n", 0), 0u);
}

TEST(ServiceNotifier, SendsEachNotificationAsOneDatagramToAPath) {
  const auto path = socket_path("postamt-notify");
  Receiver receiver(path);
  ASSERT_TRUE(receiver.bound());
  ServiceNotifier notifier(path);
  ASSERT_TRUE(notifier.enabled());

  notifier.ready();
  auto ready = receiver.next();
  ASSERT_TRUE(ready);
  EXPECT_EQ(*ready, ready_message(::getpid()));

  timespec before{};
  ::clock_gettime(CLOCK_MONOTONIC, &before);
  notifier.reloading();
  auto reloading = receiver.next();
  ASSERT_TRUE(reloading);
  ASSERT_EQ(reloading->rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << *reloading;
  const auto usec = std::stoull(reloading->substr(std::strlen("RELOADING=1\nMONOTONIC_USEC=")));
  EXPECT_GE(usec, static_cast<unsigned long long>(before.tv_sec) * 1000000ULL);

  notifier.stopping();
  EXPECT_EQ(receiver.next(), stopping_message());
  EXPECT_TRUE(receiver.nothing_waiting());
}

TEST(ServiceNotifier, ReachesTheAbstractNamespace) {
  const std::string address = "@postamt-notify-test-" + std::to_string(::getpid());
  Receiver receiver(address);
  ASSERT_TRUE(receiver.bound());
  ServiceNotifier notifier(address);
  ASSERT_TRUE(notifier.send("READY=1\n"));
  EXPECT_EQ(receiver.next(), "READY=1\n");
}

TEST(ServiceNotifier, ReconnectsWhenTheReceiverWasMadeAnew) {
  const auto path = socket_path("postamt-notify-again");
  auto first = std::make_optional<Receiver>(path);
  ASSERT_TRUE(first->bound());
  ServiceNotifier notifier(path);
  ASSERT_TRUE(notifier.send("READY=1\n"));
  EXPECT_EQ(first->next(), "READY=1\n");
  first.reset();  // closed and unlinked; a new socket at the same path
  Receiver second(path);
  ASSERT_TRUE(second.bound());
  ASSERT_TRUE(notifier.send("STOPPING=1\n"));
  EXPECT_EQ(second.next(), "STOPPING=1\n");
}

TEST(ServiceNotifier, WithoutTheVariableDoesNothing) {
  ::unsetenv("NOTIFY_SOCKET");
  auto notifier = ServiceNotifier::from_environment();
  EXPECT_FALSE(notifier.enabled());
  notifier.ready();  // no socket, no error
  EXPECT_TRUE(notifier.send("READY=1\n"));
}

TEST(ServiceNotifier, TakesTheVariableOutOfTheEnvironment) {
  const auto path = socket_path("postamt-notify-env");
  Receiver receiver(path);
  ASSERT_TRUE(receiver.bound());
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  auto notifier = ServiceNotifier::from_environment();
  EXPECT_EQ(std::getenv("NOTIFY_SOCKET"), nullptr) << "a child would speak for the service";
  notifier.stopping();
  EXPECT_EQ(receiver.next(), stopping_message());
}

TEST(ServiceNotifier, AnUnreachableSocketIsAnErrorNotACrash) {
  ServiceNotifier missing(socket_path("postamt-notify-nobody-listens"));
  auto sent = missing.send("READY=1\n");
  ASSERT_FALSE(sent);
  EXPECT_NE(sent.error().message.find("connect"), std::string::npos) << sent.error().message;
  missing.ready();  // logged once, never thrown
  missing.ready();
  ServiceNotifier malformed("relative/path");
  EXPECT_FALSE(malformed.send("READY=1\n"));
}

}  // namespace
}  // namespace postamt::server
