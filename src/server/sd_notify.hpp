#pragma once
// Readiness notification for systemd's Type=notify services, without libsystemd: the
// protocol is one unix datagram of newline-separated KEY=VALUE lines sent to the socket
// named by $NOTIFY_SOCKET (sd_notify(3); a leading '@' means the abstract namespace).
// Without the variable every call does nothing; a failure is logged once and never stops
// the server (it would only make systemd time the start out, which says enough).
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace postamt::server {

// The messages, built apart from the sending so tests can read them.
std::string ready_message(long pid);                          // READY=1, MAINPID=, STATUS=
std::string reloading_message(unsigned long long monotonic_usec);  // RELOADING=1, MONOTONIC_USEC=
std::string stopping_message();                               // STOPPING=1

class ServiceNotifier {
 public:
  // Reads $NOTIFY_SOCKET and removes it from the environment, so no program the server
  // might start speaks for it. Opens the socket at once: the server may give up root
  // before it is ready, and the socket's directory need not be open to the service user.
  static ServiceNotifier from_environment();

  // An empty address is a notifier that does nothing.
  explicit ServiceNotifier(std::string address);
  ~ServiceNotifier();
  ServiceNotifier(ServiceNotifier&& other) noexcept;
  ServiceNotifier& operator=(ServiceNotifier&&) = delete;
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  bool enabled() const { return !address_.empty(); }

  void ready();      // every listener bound, the store open
  void reloading();  // SIGHUP received, the reload begins
  void stopping();   // SIGTERM received, the drain begins

  // Sends one datagram; the error says why it could not go.
  Result<void> send(std::string_view message);

 private:
  Result<void> connect();
  void notify(std::string_view message);

  std::string address_;
  int fd_ = -1;
  bool failure_logged_ = false;
};

}  // namespace postamt::server
