// Fuzzes the SMTP client's side of the wire: server bytes in arbitrary pieces go
//   1. into ReplyParser alone: every reply it returns has a valid code, a status whose
//      class matches it, no CR/LF/NUL in its text, and no more lines than allowed; the
//      buffer stays within one line plus one piece; an error is sticky;
//   2. into a whole ClientEngine session whose driver answers every event (messages,
//      TLS, content) by bits of the input: no crash, UB or leak; no event after
//      wants_close(); every recipient gets at most one RecipientResult per message.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proto/smtp/client_engine.hpp"
#include "proto/smtp/reply_parser.hpp"

#include "fuzz_bits.hpp"

namespace {

using namespace postamt::proto::smtp;

using postamt::fuzz::Bits;
using postamt::fuzz::fail;

void check_reply(const Reply& reply) {
  if (reply.code < 200 || reply.code > 559) fail();
  if (!reply.status.empty() && static_cast<unsigned>(reply.status[0] - '0') != reply.code / 100) fail();
  std::size_t lines = 1;
  std::size_t line_length = 0;
  for (char c : reply.text) {
    if (c == '\r' || c == '\0') fail();
    if (c == '\n') {
      ++lines;
      line_length = 0;
    } else if (++line_length > kMaxReplyLineLength) {
      fail();
    }
  }
  if (lines > kMaxReplyLines) fail();
}

void fuzz_parser(std::string_view input, Bits& bits) {
  ReplyParser parser;
  bool failed = false;
  while (!input.empty()) {
    const std::size_t piece = std::min<std::size_t>(input.size(), 1 + bits.take(300));
    parser.feed(input.substr(0, piece));
    input.remove_prefix(piece);
    while (auto reply = parser.next_reply()) {
      if (!*reply) {
        failed = true;
        break;
      }
      if (failed) fail();  // the error must be sticky
      check_reply(**reply);
    }
    if (parser.buffered() > kMaxReplyLineLength + 2 + piece) fail();
  }
}

OutboundMessage fuzz_message(Bits& bits) {
  OutboundMessage message;
  message.sender = bits.take(4) == 0 ? "" : "a@example.org";
  const unsigned count = bits.take(4);
  for (unsigned i = 0; i < count; ++i) {
    OutboundRecipient recipient{"r" + std::to_string(i) + "@example.net", {}, {}};
    recipient.notify.failure = bits.take(2);
    if (bits.take(2)) recipient.orcpt = Orcpt{"rfc822", "x+y=@z"};
    message.recipients.push_back(std::move(recipient));
  }
  if (bits.take(2)) message.size = bits.take(2000);
  message.body = bits.take(2) ? BodyType::eight_bit_mime : BodyType::unspecified;
  message.smtputf8 = bits.take(2);
  message.ret = bits.take(2) ? DsnRet::full : DsnRet::unspecified;
  if (bits.take(2)) message.envid = "env id";
  return message;
}

void fuzz_engine(std::string_view input, Bits& bits, unsigned flags) {
  ClientOptions options;
  options.hostname = "client.fuzz.test";
  options.tls = static_cast<TlsPolicy>(flags % 3);
  options.tls_active = flags & 4;
  if (flags & 8) options.credentials = ClientCredentials{"user", "pass"};
  options.auth_without_tls = flags & 16;
  options.use_pipelining = flags & 32;
  ClientEngine engine(options);
  std::vector<unsigned> results;  // RecipientResults per recipient of the current message
  std::size_t messages = 0;
  bool closed = false;

  auto drain = [&] {
    while (true) {
      const bool closing = engine.wants_close();
      auto event = engine.next_event();
      if (!event) break;
      if (closing || closed) fail();
      std::visit(
          [&](auto& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, ClientReady>) {
              // Replies are read eagerly: a later one (421) may already have ended it.
              if (engine.awaiting() != ClientEngine::Awaiting::ready &&
                  engine.awaiting() != ClientEngine::Awaiting::closed) {
                fail();
              }
              if (messages++ < 4 && bits.take(4) != 0) {
                OutboundMessage message = fuzz_message(bits);
                results.assign(message.recipients.size(), 0);
                engine.send_message(std::move(message));
              } else {
                engine.quit();
              }
            } else if constexpr (std::is_same_v<T, NeedTls>) {
              if (bits.take(8) != 0) engine.tls_started();
            } else if constexpr (std::is_same_v<T, NeedMessageData>) {
              engine.message_data(".line\r\n\r\n.");
              engine.message_end();
            } else if constexpr (std::is_same_v<T, RecipientResult>) {
              if (e.index >= results.size() || results[e.index]++ != 0) fail();
              check_reply(e.reply);
            } else if constexpr (std::is_same_v<T, MessageResult>) {
              check_reply(e.reply);
            } else if constexpr (std::is_same_v<T, ConnectionFailed> ||
                                 std::is_same_v<T, Finished>) {
              if (engine.awaiting() != ClientEngine::Awaiting::closed) fail();
            }
          },
          *event);
    }
    engine.consume_output(engine.pending_output().size());
    if (engine.wants_close()) closed = true;
  };

  while (!input.empty() && !closed) {
    const std::size_t piece = std::min<std::size_t>(input.size(), 1 + bits.take(200));
    engine.receive(input.substr(0, piece));
    input.remove_prefix(piece);
    drain();
  }
  if (!closed) {
    engine.connection_closed();
    drain();
    if (!engine.wants_close()) fail();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  Bits bits(data, size);
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  fuzz_parser(input, bits);
  fuzz_engine(input, bits, data[0]);
  return 0;
}
