#include "server/sd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <utility>

#include "base/log.hpp"

namespace postamt::server {
namespace {

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

std::string ready_message(long pid) {
  return "READY=1\nMAINPID=" + std::to_string(pid) + "\nSTATUS=Accepting connections\n";
}

// MONOTONIC_USEC lets systemd tell this reload from an older one (systemd.service(5),
// Type=notify-reload); CLOCK_MONOTONIC is the clock it compares with.
std::string reloading_message(unsigned long long monotonic_usec) {
  return "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec) + "\nSTATUS=Reloading\n";
}

std::string stopping_message() { return "STOPPING=1\nSTATUS=Draining connections\n"; }

ServiceNotifier ServiceNotifier::from_environment() {
  const char* value = std::getenv("NOTIFY_SOCKET");
  std::string address = value ? value : "";
  ::unsetenv("NOTIFY_SOCKET");
  ServiceNotifier notifier(std::move(address));
  if (notifier.enabled()) {
    if (auto connected = notifier.connect(); !connected) {
      // Retried at the first message; said once there if it fails again.
      log::debug("sd_notify.connect_failed", {{"socket", notifier.address_}, {"error", connected.error().message}});
    }
  }
  return notifier;
}

ServiceNotifier::ServiceNotifier(std::string address) : address_(std::move(address)) {}

ServiceNotifier::~ServiceNotifier() {
  if (fd_ >= 0) ::close(fd_);
}

ServiceNotifier::ServiceNotifier(ServiceNotifier&& other) noexcept
    : address_(std::move(other.address_)), fd_(std::exchange(other.fd_, -1)), failure_logged_(other.failure_logged_) {
  other.address_.clear();
}

Result<void> ServiceNotifier::connect() {
  sockaddr_un peer{};
  peer.sun_family = AF_UNIX;
  // A path, or '@' + a name in the abstract namespace (whose first byte is NUL and whose
  // length is exactly the name's: no terminator).
  if (address_.size() < 2 || (address_[0] != '/' && address_[0] != '@')) {
    return permanent_error("NOTIFY_SOCKET='" + address_ + "' is neither a path nor @name");
  }
  if (address_.size() >= sizeof peer.sun_path) return permanent_error("NOTIFY_SOCKET is too long");
  std::memcpy(peer.sun_path, address_.data(), address_.size());
  if (address_[0] == '@') peer.sun_path[0] = '\0';
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size());

  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return permanent_error(errno_text("socket"));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&peer), length) != 0) {
    auto error = permanent_error(errno_text("connect"));
    ::close(fd);
    return error;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  return {};
}

Result<void> ServiceNotifier::send(std::string_view message) {
  if (!enabled()) return {};
  // One reconnect: the receiving socket may have been made anew since the last message.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (fd_ < 0 || attempt > 0) {
      if (auto connected = connect(); !connected) return connected;
    }
    const ssize_t sent = ::send(fd_, message.data(), message.size(), MSG_NOSIGNAL);
    if (sent == static_cast<ssize_t>(message.size())) return {};
    if (sent >= 0) return permanent_error("short datagram");
    if (attempt == 1) return permanent_error(errno_text("send"));
  }
  return permanent_error("unreachable");
}

void ServiceNotifier::notify(std::string_view message) {
  if (!enabled()) return;
  auto sent = send(message);
  if (sent || failure_logged_) return;
  failure_logged_ = true;
  log::warn("sd_notify.failed", {{"socket", address_}, {"error", sent.error().message}});
}

void ServiceNotifier::ready() { notify(ready_message(static_cast<long>(::getpid()))); }

void ServiceNotifier::reloading() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  notify(reloading_message(static_cast<unsigned long long>(now.tv_sec) * 1000000ULL +
                           static_cast<unsigned long long>(now.tv_nsec) / 1000ULL));
}

void ServiceNotifier::stopping() { notify(stopping_message()); }

}  // namespace postamt::server
