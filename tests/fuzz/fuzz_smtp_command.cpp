// Fuzzes the SMTP server engine as a whole session: arbitrary bytes arrive in arbitrary
// pieces, and every policy event is answered (accept or refuse, challenge, TLS) by bits
// taken from the input. Checks what the driver relies on:
//   * no crash, UB or leak (ASan/UBSan), whatever the peer sends;
//   * no event once wants_close() is true;
//   * output stays proportional to input, and is well-formed replies of <= 512 octets;
//   * buffered input stays within the line limit plus one piece;
//   * ENVID and ORCPT handed out are free of control characters (RFC 3461 §4), ENVID
//     at most 100 octets and printable ASCII;
//   * message content is CRLF-clean, NUL-free, within the size and line limits, and
//     MessageEnd's size is the sum of its chunks.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "proto/smtp/server_engine.hpp"

#include "fuzz_bits.hpp"

namespace {

using namespace postamt::proto::smtp;

using postamt::fuzz::Bits;
using postamt::fuzz::fail;

void check_output(std::string_view out) {
  while (!out.empty()) {
    const std::size_t end = out.find("\r\n");
    if (end == std::string_view::npos || end + 2 > 512 || end < 3) fail();
    const std::string_view line = out.substr(0, end);
    for (int i = 0; i < 3; ++i) {
      if (line[i] < '0' || line[i] > '9') fail();
    }
    if (line.size() > 3 && line[3] != ' ' && line[3] != '-') fail();
    for (char c : line) {
      if (c == '\r' || c == '\n' || c == '\0') fail();
    }
    out.remove_prefix(end + 2);
  }
}

void check_content(std::string_view bytes, const ServerOptions& options, std::size_t& line_length) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c == '\0') fail();
    if (c == '\n') fail();  // every LF is checked as the partner of the CR before it
    if (c == '\r') {
      if (i + 1 >= bytes.size() || bytes[i + 1] != '\n') fail();  // CRLF never split
      ++i;
      line_length = 0;
      continue;
    }
    if (++line_length + 2 > options.max_text_line) fail();
  }
}

bool has_control(std::string_view text) {
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

void check_envid(const std::optional<std::string>& envid) {
  if (!envid) return;
  if (envid->size() > kMaxEnvidLength || has_control(*envid)) fail();
  for (char c : *envid) {
    if (static_cast<unsigned char>(c) >= 0x80) fail();
  }
}

void check_orcpt(const std::optional<Orcpt>& orcpt) {
  if (orcpt && (orcpt->address.empty() || has_control(orcpt->address))) fail();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  ServerOptions options;
  options.hostname = "mx.fuzz.test";
  const unsigned flags = data[0];
  options.starttls_available = flags & 1;
  options.tls_active = flags & 2;
  options.tls_required = flags & 4;
  if (flags & 8) options.auth_mechanisms = {"PLAIN", "LOGIN"};
  options.auth_required = flags & 16;
  options.normalize_bare_line_endings = flags & 32;
  options.max_errors = (flags & 64) ? 0 : 10;
  options.max_message_size = 16 + data[1] * 64u;
  options.max_text_line = 8 + data[1] % 120;
  options.max_recipients = 1 + data[1] % 4;
  options.max_bdat_chunk = 1 + data[2] * 16u;
  // Decisions come from the input too, read from its end backwards-independent position.
  Bits bits(data, size);

  ServerEngine engine(options);
  engine.start();
  std::string_view rest(reinterpret_cast<const char*>(data) + 3, size - 3);
  std::uint64_t fed = 0;
  std::uint64_t written = 0;
  std::uint64_t message_size = 0;
  std::size_t line_length = 0;
  bool in_message = false;
  bool closed = false;

  auto drain = [&] {
    while (true) {
      const bool closing = engine.wants_close();
      auto event = engine.next_event();
      if (!event) break;
      if (closing || closed) fail();  // an event after wants_close()
      std::visit(
          [&](auto& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, MailFrom>) {
              if (engine.awaiting() != ServerEngine::Awaiting::mail) fail();
              check_envid(e.envid);
              if (bits.take(4) == 0) {
                engine.reject(make_reply(550, "5.7.1", "no"));
              } else {
                engine.accept_mail();
              }
            } else if constexpr (std::is_same_v<T, RcptTo>) {
              if (engine.awaiting() != ServerEngine::Awaiting::rcpt) fail();
              check_orcpt(e.orcpt);
              if (bits.take(4) == 0) {
                engine.reject(make_reply(550, "5.1.1", "no such user"));
              } else {
                engine.accept_rcpt();
              }
            } else if constexpr (std::is_same_v<T, DataBegin>) {
              if (engine.awaiting() != ServerEngine::Awaiting::data) fail();
              if (engine.envelope().recipients.empty()) fail();
              if (bits.take(8) == 0) {
                engine.reject(make_reply(554, "5.7.1", "not now"));
              } else {
                engine.accept_data();
                in_message = true;
                message_size = 0;
                line_length = 0;
              }
            } else if constexpr (std::is_same_v<T, MessageChunk>) {
              if (!in_message || e.bytes.empty()) fail();
              message_size += e.bytes.size();
              if (message_size > options.max_message_size) fail();
              check_content(e.bytes, options, line_length);
            } else if constexpr (std::is_same_v<T, MessageEnd>) {
              if (!in_message || e.size != message_size) fail();
              in_message = false;
              if (bits.take(4) == 0) {
                engine.reject(make_reply(451, "4.3.0", "try later"));
              } else {
                engine.message_stored("Q");
              }
            } else if constexpr (std::is_same_v<T, MessageAborted>) {
              if (!in_message) fail();
              if (e.reply.code < 500) fail();
              in_message = false;
            } else if constexpr (std::is_same_v<T, StartTls>) {
              if (bits.take(16) == 0) {
                engine.shutdown(make_reply(421, "4.7.0", "handshake failed"));
              } else {
                engine.tls_started();
                if (engine.buffered_input() != 0) fail();
              }
            } else if constexpr (std::is_same_v<T, AuthBegin> || std::is_same_v<T, AuthResponse>) {
              if (engine.awaiting() != ServerEngine::Awaiting::auth) fail();
              switch (bits.take(3)) {
                case 0: engine.auth_challenge("VXNlcm5hbWU6"); break;
                case 1: engine.auth_succeeded("user"); break;
                default: engine.auth_failed(make_reply(535, "5.7.8", "bad credentials")); break;
              }
            } else if constexpr (std::is_same_v<T, Rset> || std::is_same_v<T, Ehlo> ||
                                 std::is_same_v<T, Quit>) {
              in_message = false;  // a transaction under way (BDAT) is gone
            }
          },
          *event);
    }
    const std::string_view out = engine.pending_output();
    check_output(out);
    written += out.size();
    engine.consume_output(out.size());
    // Proportional output: at most a multi-line EHLO reply per few input octets.
    if (written > 4096 + 64 * fed) fail();
    if (engine.wants_close()) closed = true;
  };

  drain();
  while (!rest.empty() && !closed) {
    const unsigned control = static_cast<unsigned char>(rest.front());
    rest.remove_prefix(1);
    const std::size_t piece = std::min<std::size_t>(rest.size(), 1 + control % 200);
    engine.receive(rest.substr(0, piece));
    fed += piece;
    rest.remove_prefix(piece);
    drain();
    if (engine.buffered_input() > 1638 + piece) fail();
    if (control == 0xff) engine.shutdown(make_reply(421, "4.4.2", "timeout"));
  }
  return 0;
}
