#pragma once
// A scripted driver for ClientEngine tests: it answers events the way a delivery driver
// would (sends the queued messages, then QUIT; completes TLS; supplies content) and
// records every event as a short string, so a test reads like the SMTP conversation.
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "proto/smtp/client_engine.hpp"

namespace postamt::proto::smtp::testing {

struct ScriptedMessage {
  OutboundMessage envelope;
  std::string content;
};

inline OutboundMessage simple_envelope(std::vector<std::string> recipients,
                                       std::string sender = "alice@example.org") {
  OutboundMessage message;
  message.sender = std::move(sender);
  for (auto& address : recipients) message.recipients.push_back({std::move(address), {}, {}});
  return message;
}

inline ClientOptions client_options() {
  ClientOptions options;
  options.hostname = "client.example.org";
  options.tls = TlsPolicy::none;
  return options;
}

inline std::string describe_reply(const Reply& reply) {
  std::string out = std::to_string(reply.code);
  if (!reply.status.empty()) out += " " + reply.status;
  return out;
}

class ScriptedClient {
 public:
  // piece: feed server bytes in pieces of this size (0: whole).
  ScriptedClient(ClientOptions options, std::vector<ScriptedMessage> messages,
                 std::size_t piece = 0)
      : engine_(std::move(options)), messages_(messages.begin(), messages.end()), piece_(piece) {}

  // Feeds what the server says, lets the driver answer, and returns what the client
  // sent in response.
  std::string exchange(std::string_view server) {
    if (piece_ == 0) {
      engine_.receive(server);
      drain();
    } else {
      while (!server.empty()) {
        const std::size_t n = std::min(piece_, server.size());
        engine_.receive(server.substr(0, n));
        server.remove_prefix(n);
        drain();
      }
    }
    drain();
    return take_output();
  }

  void close() {
    engine_.connection_closed();
    drain();
  }

  const std::vector<std::string>& events() const { return events_; }
  ClientEngine& engine() { return engine_; }
  bool tls_handshake_ok = true;
  bool quit_when_idle = true;

 private:
  void drain() {
    while (auto event = engine_.next_event()) {
      std::visit([this](auto& e) { handle(e); }, *event);
    }
    output_ += engine_.pending_output();
    engine_.consume_output(engine_.pending_output().size());
  }

  std::string take_output() { return std::exchange(output_, {}); }

  void handle(const ClientReady&) {
    events_.push_back("ready");
    if (!messages_.empty()) {
      current_ = std::move(messages_.front());
      messages_.pop_front();
      engine_.send_message(current_.envelope);
    } else if (quit_when_idle) {
      engine_.quit();
    }
  }
  void handle(const NeedTls&) {
    events_.push_back("tls");
    if (tls_handshake_ok) engine_.tls_started();
  }
  void handle(const NeedMessageData&) {
    events_.push_back("data");
    // In two pieces, split mid-line, to exercise the stuffer's state.
    const std::string_view content = current_.content;
    const std::size_t half = content.size() / 2;
    engine_.message_data(content.substr(0, half));
    engine_.message_data(content.substr(half));
    engine_.message_end();
  }
  void handle(const RecipientResult& e) {
    events_.push_back("rcpt " + std::to_string(e.index) + ": " + describe_reply(e.reply));
  }
  void handle(const MessageResult& e) { events_.push_back("message: " + describe_reply(e.reply)); }
  void handle(const Finished&) { events_.push_back("finished"); }
  void handle(const ConnectionFailed& e) {
    events_.push_back(std::string(e.temporary ? "failed temporary: " : "failed permanent: ") +
                      e.reason);
  }

  ClientEngine engine_;
  std::deque<ScriptedMessage> messages_;
  ScriptedMessage current_;
  std::size_t piece_;
  std::string output_;
  std::vector<std::string> events_;
};

using Events = std::vector<std::string>;

}  // namespace postamt::proto::smtp::testing
