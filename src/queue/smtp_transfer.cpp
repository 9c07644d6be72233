#include "queue/smtp_transfer.hpp"

#include <optional>

#include "proto/smtp/client_engine.hpp"
#include "queue/deadline.hpp"
#include "queue/outbound_envelope.hpp"
#include "queue/seven_bit_conversion.hpp"

namespace postamt::queue {
namespace {

using proto::smtp::ClientEngine;
using proto::smtp::Extension;
using proto::smtp::Reply;

constexpr std::size_t kReadBufferSize = 16 * 1024;
constexpr std::size_t kMaxDiagnosticOctets = 512;

// The message being carried, between ClientReady and its MessageResult.
struct InFlight {
  storage::QueueMessage message;
  std::string content;
  std::vector<std::optional<Reply>> rcpt_replies;
};

class Transfer {
 public:
  Transfer(net::Stream& stream, const TransferSettings& settings, std::vector<storage::QueueMessage> messages,
           const ContentLoader& load_content)
      : stream_(stream),
        settings_(settings),
        messages_(std::move(messages)),
        load_content_(load_content),
        engine_(settings.client),
        deadline_(stream.executor(), [&stream] { stream.cancel(); }) {}

  asio::awaitable<TransferResult> run() {
    std::string buffer(kReadBufferSize, '\0');
    while (!ended_) {
      while (auto event = engine_.next_event()) {
        co_await handle(*event);
      }
      if (!co_await flush()) break;
      if (engine_.wants_close() || ended_) break;
      deadline_.arm(settings_.reply_timeout);
      auto n = co_await stream_.read_some(buffer);
      deadline_.disarm();
      if (!n) {
        if (deadline_.expired()) {
          end_with_failure("no reply from " + settings_.server_name + " within " +
                           std::to_string(settings_.reply_timeout.count()) + " s");
          break;
        }
        if (n.error() == asio::error::eof) {
          engine_.connection_closed();
          continue;
        }
        end_with_failure("connection to " + settings_.server_name + " lost: " + n.error().message());
        break;
      }
      engine_.receive(std::string_view(buffer.data(), *n));
    }
    // A message whose result never came is unfinished, like those never started.
    if (in_flight_) result_.unfinished.push_back(std::move(in_flight_->message));
    for (std::size_t i = next_; i < messages_.size(); ++i) result_.unfinished.push_back(std::move(messages_[i]));
    result_.tls_used = stream_.tls_active();
    stream_.close();
    co_return std::move(result_);
  }

 private:
  asio::awaitable<void> handle(proto::smtp::ClientEvent& event) {
    if (std::holds_alternative<proto::smtp::ClientReady>(event)) {
      co_await start_next_message();
    } else if (std::holds_alternative<proto::smtp::NeedTls>(event)) {
      deadline_.arm(settings_.reply_timeout);
      auto handshake = co_await stream_.client_handshake(settings_.server_name);
      deadline_.disarm();
      if (!handshake) {
        // The session cannot go on in the clear after a 220 to STARTTLS (RFC 3207 §4.1).
        result_.tls_handshake_failed = true;
        end_with_failure("TLS handshake with " + settings_.server_name + " failed: " + handshake.error().message() +
                         settings_.tls_failure_note);
        engine_.quit();
        co_return;
      }
      engine_.tls_started();
    } else if (std::holds_alternative<proto::smtp::NeedMessageData>(event)) {
      if (in_flight_) {
        engine_.message_data(in_flight_->content);
        std::string().swap(in_flight_->content);  // the engine holds its own copy now
      }
      engine_.message_end();
    } else if (auto* rcpt = std::get_if<proto::smtp::RecipientResult>(&event)) {
      if (in_flight_ && rcpt->index < in_flight_->rcpt_replies.size()) {
        in_flight_->rcpt_replies[rcpt->index] = std::move(rcpt->reply);
      }
    } else if (auto* done = std::get_if<proto::smtp::MessageResult>(&event)) {
      finish_message(done->reply);
    } else if (auto* failed = std::get_if<proto::smtp::ConnectionFailed>(&event)) {
      end_with_failure(failed->reply ? settings_.server_name + " said: " + reply_line(*failed->reply)
                                     : failed->reason);
    } else {
      ended_ = true;  // Finished
    }
  }

  // ClientReady: the next message this server can take, or QUIT.
  asio::awaitable<void> start_next_message() {
    if (settings_.record && !result_.outcomes.empty()) {
      std::vector<RecipientOutcome> done = std::move(result_.outcomes);
      result_.outcomes.clear();
      co_await settings_.record(std::move(done));
    }
    for (;;) {
      if (sent_ >= settings_.max_messages) break;
      if (next_ == messages_.size()) {
        if (!settings_.more_messages) break;
        std::vector<storage::QueueMessage> more = co_await settings_.more_messages();
        if (more.empty()) break;
        for (auto& message : more) messages_.push_back(std::move(message));
      }
      storage::QueueMessage& message = messages_[next_++];
      auto content = co_await load_content_(message);
      if (!content) {
        // The blob is missing or unreadable: a local problem, retried later.
        settle_all(message, Verdict::temporary, "local error reading the message: " + content.error().message,
                   "4.3.0", false);
        continue;
      }
      content->erase(0, local_trace_prefix(*content));
      ContentNeeds needs = content_needs(*content);
      if ((needs.utf8_headers || needs_smtputf8_envelope(message)) &&
          !engine_.server_supports(Extension::smtputf8)) {
        settle_all(message, Verdict::permanent,
                   settings_.server_name + " does not support SMTPUTF8, which this message needs (RFC 6531 §3.4)",
                   "5.6.7", false);
        continue;
      }
      if (needs.eight_bit_body && !engine_.server_supports(Extension::eight_bit_mime)) {
        auto converted = convert_to_seven_bit(*content);
        if (!converted) {
          settle_all(message, Verdict::permanent,
                     settings_.server_name + " does not support 8BITMIME and the message cannot be converted: " +
                         converted.error(),
                     "5.6.3", false);
          continue;
        }
        *content = std::move(*converted);
        needs = content_needs(*content);
      }
      proto::smtp::OutboundMessage envelope = outbound_message(message, content->size(), needs);
      in_flight_.emplace();
      in_flight_->rcpt_replies.resize(message.recipients.size());
      in_flight_->message = std::move(message);
      in_flight_->content = std::move(*content);
      ++sent_;
      engine_.send_message(std::move(envelope));
      co_return;
    }
    engine_.quit();
  }

  // MessageResult: a recipient refused at RCPT keeps that refusal; the others get the
  // answer to the end of data (or the refusal of MAIL/DATA, or the SIZE refusal).
  void finish_message(const Reply& final_reply) {
    if (!in_flight_) return;
    const bool dsn = engine_.server_supports(Extension::dsn);
    for (std::size_t i = 0; i < in_flight_->message.recipients.size(); ++i) {
      const auto& rcpt_reply = in_flight_->rcpt_replies[i];
      const Reply& reply = rcpt_reply && !rcpt_reply->positive() ? *rcpt_reply : final_reply;
      RecipientOutcome outcome;
      outcome.message_id = in_flight_->message.id;
      outcome.recipient_id = in_flight_->message.recipients[i].id;
      outcome.verdict = verdict_of_code(static_cast<int>(reply.code));
      outcome.diagnostic = reply_line(reply);
      outcome.status = status_of_reply(static_cast<int>(reply.code), reply.status);
      outcome.remote_host = settings_.server_name;
      outcome.remote_reply = true;
      outcome.relayed_dsn = dsn;
      result_.outcomes.push_back(std::move(outcome));
    }
    in_flight_.reset();
  }

  void settle_all(const storage::QueueMessage& message, Verdict verdict, std::string diagnostic,
                  std::string status, bool remote_reply) {
    for (const storage::QueueRecipient& recipient : message.recipients) {
      RecipientOutcome outcome;
      outcome.message_id = message.id;
      outcome.recipient_id = recipient.id;
      outcome.verdict = verdict;
      outcome.diagnostic = diagnostic;
      outcome.status = status;
      outcome.remote_host = settings_.server_name;
      outcome.remote_reply = remote_reply;
      result_.outcomes.push_back(std::move(outcome));
    }
  }

  void end_with_failure(std::string why) {
    if (result_.failure.empty()) result_.failure = std::move(why);
    ended_ = true;
  }

  asio::awaitable<bool> flush() {
    while (!engine_.pending_output().empty()) {
      const std::string_view output = engine_.pending_output();
      deadline_.arm(settings_.reply_timeout);
      auto written = co_await stream_.write_all(output);
      deadline_.disarm();
      if (!written) {
        end_with_failure("writing to " + settings_.server_name + " failed: " +
                         (deadline_.expired() ? std::string("timed out") : written.error().message()));
        co_return false;
      }
      engine_.consume_output(output.size());
    }
    co_return true;
  }

  net::Stream& stream_;
  const TransferSettings& settings_;
  std::vector<storage::QueueMessage> messages_;
  const ContentLoader& load_content_;
  ClientEngine engine_;
  Deadline deadline_;
  TransferResult result_;
  std::optional<InFlight> in_flight_;
  std::size_t next_ = 0;
  std::size_t sent_ = 0;
  bool ended_ = false;
};

}  // namespace

std::string reply_line(const Reply& reply) {
  std::string line = std::to_string(reply.code);
  if (!reply.status.empty()) line += " " + reply.status;
  if (!reply.text.empty()) line += " ";
  for (const char c : reply.text) {
    if (line.size() >= kMaxDiagnosticOctets) break;
    const auto octet = static_cast<unsigned char>(c);
    line += c == '\n' ? ' ' : (octet < 0x20 || octet >= 0x7f) ? '?' : c;
  }
  return line;
}

asio::awaitable<TransferResult> transfer_messages(net::Stream& stream, const TransferSettings& settings,
                                                  std::vector<storage::QueueMessage> messages,
                                                  const ContentLoader& load_content) {
  Transfer transfer(stream, settings, std::move(messages), load_content);
  co_return co_await transfer.run();
}

}  // namespace postamt::queue
