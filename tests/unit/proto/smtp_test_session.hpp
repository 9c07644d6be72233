#pragma once
// Test driver for the SMTP server engine: feeds a client transcript (whole, byte by byte
// or in pieces), answers policy events from a scripted Policy, and records the output,
// a text rendering of every event and each message delivered. Tests compare the record
// across feeding styles to prove the engine is split-independent.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "proto/smtp/server_engine.hpp"

namespace postamt::proto::smtp::testing {

struct Policy {
  // Each returns nullopt to accept, or the refusal.
  std::function<std::optional<Reply>(const MailFrom&)> mail;
  std::function<std::optional<Reply>(const RcptTo&)> rcpt;
  std::function<std::optional<Reply>(const DataBegin&)> data;
  std::function<std::optional<Reply>(const std::string& message)> message;
  // AUTH: every mechanism gets one challenge "" then succeeds as "user" unless the
  // response is "YmFk" ("bad"), which fails with 535 5.7.8.
  bool complete_tls = true;  // call tls_started() right after StartTls
};

struct Transcript {
  std::string output;
  std::vector<std::string> events;
  std::vector<std::string> messages;  // content of each MessageEnd, in order
  bool closed = false;
  bool operator==(const Transcript&) const = default;
};

inline std::string render_notify(const DsnNotify& notify) {
  std::string out;
  if (notify.never) out += "NEVER,";
  if (notify.success) out += "SUCCESS,";
  if (notify.failure) out += "FAILURE,";
  if (notify.delay) out += "DELAY,";
  if (!out.empty()) out.pop_back();
  return out;
}

inline std::string render_reason(DataError reason) {
  switch (reason) {
    case DataError::too_big: return "too_big";
    case DataError::bare_line_ending: return "bare_line_ending";
    case DataError::nul: return "nul";
    case DataError::line_too_long: return "line_too_long";
  }
  return "?";
}

class Session {
 public:
  explicit Session(ServerOptions options, Policy policy = {})
      : engine_(std::move(options)), policy_(std::move(policy)) {
    engine_.start();
    pump();
  }

  void feed(std::string_view bytes) {
    if (engine_.wants_close()) return;
    engine_.receive(bytes);
    pump();
  }

  ServerEngine& engine() { return engine_; }
  Transcript& transcript() { return transcript_; }

 private:
  void pump() {
    while (auto event = engine_.next_event()) {
      if (closed_seen_) ADD_FAILURE() << "event after wants_close()";
      handle(*event);
    }
    transcript_.output += engine_.pending_output();
    engine_.consume_output(engine_.pending_output().size());
    if (engine_.wants_close()) {
      transcript_.closed = true;
      closed_seen_ = true;
    }
  }

  void record(std::string text) { transcript_.events.push_back(std::move(text)); }

  void handle(Event& event) {
    std::visit(
        [this](auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, Ehlo>) {
            record((e.extended ? "EHLO " : "HELO ") + e.domain);
          } else if constexpr (std::is_same_v<T, MailFrom>) {
            std::string text = "MAIL <" + e.reverse_path + ">";
            if (e.size) text += " size=" + std::to_string(*e.size);
            if (e.body == BodyType::seven_bit) text += " body=7BIT";
            if (e.body == BodyType::eight_bit_mime) text += " body=8BITMIME";
            if (e.smtputf8) text += " smtputf8";
            if (e.ret == DsnRet::full) text += " ret=FULL";
            if (e.ret == DsnRet::headers) text += " ret=HDRS";
            if (e.envid) text += " envid=" + *e.envid;
            if (e.auth) text += " auth=" + *e.auth;
            record(text);
            answer(policy_.mail ? policy_.mail(e) : std::nullopt, [&] { engine_.accept_mail(); });
          } else if constexpr (std::is_same_v<T, RcptTo>) {
            std::string text = "RCPT <" + e.forward_path + ">";
            if (e.notify.specified()) text += " notify=" + render_notify(e.notify);
            if (e.orcpt) text += " orcpt=" + e.orcpt->address_type + ";" + e.orcpt->address;
            record(text);
            answer(policy_.rcpt ? policy_.rcpt(e) : std::nullopt, [&] { engine_.accept_rcpt(); });
          } else if constexpr (std::is_same_v<T, DataBegin>) {
            record(e.chunking ? "BDAT" : "DATA");
            message_.clear();
            answer(policy_.data ? policy_.data(e) : std::nullopt, [&] { engine_.accept_data(); });
          } else if constexpr (std::is_same_v<T, MessageChunk>) {
            if (e.bytes.empty()) ADD_FAILURE() << "empty MessageChunk";
            message_ += e.bytes;
          } else if constexpr (std::is_same_v<T, MessageEnd>) {
            record("END " + std::to_string(e.size));
            EXPECT_EQ(e.size, message_.size());
            transcript_.messages.push_back(message_);
            auto refusal = policy_.message ? policy_.message(message_) : std::nullopt;
            message_.clear();
            answer(refusal, [&] { engine_.message_stored("Q" + std::to_string(++queued_)); });
          } else if constexpr (std::is_same_v<T, MessageAborted>) {
            record("ABORTED " + render_reason(e.reason));
            message_.clear();
          } else if constexpr (std::is_same_v<T, StartTls>) {
            record("STARTTLS");
            if (policy_.complete_tls) engine_.tls_started();
          } else if constexpr (std::is_same_v<T, AuthBegin>) {
            record("AUTH " + e.mechanism + (e.initial_response ? " " + *e.initial_response : ""));
            if (e.initial_response) {
              auth_response(*e.initial_response);
            } else {
              engine_.auth_challenge("");
            }
          } else if constexpr (std::is_same_v<T, AuthResponse>) {
            record("AUTH-RESPONSE " + e.response);
            auth_response(e.response);
          } else if constexpr (std::is_same_v<T, AuthCancelled>) {
            record("AUTH-CANCELLED");
          } else if constexpr (std::is_same_v<T, Rset>) {
            record("RSET");
          } else if constexpr (std::is_same_v<T, Quit>) {
            record("QUIT");
          }
        },
        event);
  }

  void auth_response(const std::string& response) {
    if (response == "YmFk") {
      engine_.auth_failed(make_reply(535, "5.7.8", "Authentication credentials invalid"));
    } else {
      engine_.auth_succeeded("user");
    }
  }

  template <class Accept>
  void answer(const std::optional<Reply>& refusal, Accept accept) {
    if (refusal) {
      engine_.reject(*refusal);
    } else {
      accept();
    }
  }

  ServerEngine engine_;
  Policy policy_;
  Transcript transcript_;
  std::string message_;
  unsigned queued_ = 0;
  bool closed_seen_ = false;
};

enum class Feed { whole, byte_by_byte, pieces_of_7 };

inline Transcript run(const ServerOptions& options, std::string_view input, Feed feed,
                      const Policy& policy = {}) {
  Session session(options, policy);
  switch (feed) {
    case Feed::whole:
      session.feed(input);
      break;
    case Feed::byte_by_byte:
      for (std::size_t i = 0; i < input.size(); ++i) session.feed(input.substr(i, 1));
      break;
    case Feed::pieces_of_7:
      for (std::size_t i = 0; i < input.size(); i += 7) session.feed(input.substr(i, 7));
      break;
  }
  return session.transcript();
}

// Runs the transcript fed whole, byte by byte and in 7-octet pieces; all three must give
// the same output and events. Returns the record of the whole feed.
inline Transcript run_all(const ServerOptions& options, std::string_view input,
                          const Policy& policy = {}) {
  Transcript whole = run(options, input, Feed::whole, policy);
  Transcript bytes = run(options, input, Feed::byte_by_byte, policy);
  Transcript pieces = run(options, input, Feed::pieces_of_7, policy);
  EXPECT_EQ(bytes.output, whole.output) << "byte-by-byte output differs";
  EXPECT_EQ(bytes.events, whole.events) << "byte-by-byte events differ";
  EXPECT_EQ(bytes.messages, whole.messages) << "byte-by-byte messages differ";
  EXPECT_EQ(bytes.closed, whole.closed);
  EXPECT_EQ(pieces.output, whole.output) << "piecewise output differs";
  EXPECT_EQ(pieces.events, whole.events) << "piecewise events differ";
  EXPECT_EQ(pieces.messages, whole.messages) << "piecewise messages differ";
  EXPECT_EQ(pieces.closed, whole.closed);
  return whole;
}

// One entry per reply: its code, plus the enhanced status code when the last line has
// one ("250 2.1.0"); multi-line replies count once.
inline std::vector<std::string> replies(std::string_view output) {
  std::vector<std::string> out;
  while (!output.empty()) {
    const std::size_t end = output.find("\r\n");
    if (end == std::string_view::npos) {
      out.push_back("<unterminated:" + std::string(output) + ">");
      break;
    }
    const std::string_view line = output.substr(0, end);
    output.remove_prefix(end + 2);
    if (line.size() < 4) {
      out.push_back("<short:" + std::string(line) + ">");
      continue;
    }
    if (line[3] == '-') continue;  // not the last line of its reply
    std::string entry(line.substr(0, 3));
    const std::string_view text = line.substr(4);
    const std::size_t space = text.find(' ');
    const std::string_view first = text.substr(0, space);
    const bool enhanced = first.size() >= 5 && first[1] == '.' &&
                          (first[0] == '2' || first[0] == '4' || first[0] == '5');
    if (enhanced) entry += " " + std::string(first);
    out.push_back(entry);
  }
  return out;
}

inline ServerOptions default_options() {
  ServerOptions options;
  options.hostname = "mx.example.test";
  options.max_message_size = 10000;
  options.max_recipients = 3;
  options.max_text_line = 100;
  return options;
}

using Replies = std::vector<std::string>;
using Events = std::vector<std::string>;

}  // namespace postamt::proto::smtp::testing
