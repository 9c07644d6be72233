// Fuzzes the POP3 server engine as a whole session: arbitrary bytes arrive in arbitrary
// pieces, and every policy event is answered (login ok or refused, challenge, message
// bytes, TLS, update) by bits taken from the input. Checks what the driver relies on:
//   * no crash, UB or leak (ASan/UBSan), whatever the peer sends;
//   * no event once wants_close() is true; answers only to the event awaited;
//   * every response line is "+OK", "-ERR", "+ " or a multi-line body line, ends in CRLF
//     and the status lines stay within 512 octets (RFC 2449 §4);
//   * buffered input stays within the SASL line limit plus one piece, once the driver
//     has written what the engine held back for (output_backlogged());
//   * no command is taken while max_output_backlog octets wait: the output never exceeds
//     the backlog limit by more than one answer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proto/pop3/server_engine.hpp"

#include "fuzz_bits.hpp"

namespace {

using namespace postamt::proto::pop3;

using postamt::fuzz::Bits;
using postamt::fuzz::fail;

// The message bodies the fuzzer's maildrop holds: dots, bare LF, no final CRLF.
constexpr std::string_view kMessages[] = {
    "Subject: a\r\n\r\n.\r\n..x\r\nend\r\n",
    "H: 1\r\n.H: 2\r\n\r\nline\nbare\r\n.",
    "",
};

void check_output(std::string_view out) {
  while (!out.empty()) {
    const std::size_t end = out.find("\r\n");
    if (end == std::string_view::npos) fail();
    const std::string_view line = out.substr(0, end);
    if ((line.starts_with("+OK") || line.starts_with("-ERR")) && end + 2 > 512) fail();
    for (char c : line) {
      if (c == '\0' && !line.starts_with("+")) fail();
    }
    out.remove_prefix(end + 2);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  ServerOptions options;
  const unsigned flags = data[0];
  options.starttls_available = flags & 1;
  options.tls_active = flags & 2;
  options.auth_allowed = flags & 4;
  options.max_errors = (flags & 8) ? 1 : 10;
  options.max_sasl_line = 64 + data[1] * 8u;
  Bits bits(data, size);
  if (flags & 16) options.max_output_backlog = 1 + bits.take(600);

  ServerEngine engine(options);
  engine.start();
  std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  bool closed = false;

  // The largest answer the engine builds itself here: LIST/UIDL of three messages, CAPA.
  constexpr std::size_t kLargestAnswer = 1024;
  auto drain = [&] {
    while (true) {
      const bool closing = engine.wants_close();
      auto event = engine.next_event();
      if (engine.pending_output().size() > options.max_output_backlog + kLargestAnswer &&
          engine.awaiting() == ServerEngine::Awaiting::nothing) {
        fail();
      }
      if (!event && engine.output_backlogged()) {
        // What the driver does: write, then take the next commands.
        check_output(engine.pending_output());
        engine.consume_output(engine.pending_output().size());
        if (engine.output_backlogged()) fail();
        continue;
      }
      if (!event) break;
      if (closing || closed) fail();
      std::visit(
          [&](auto& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, Login> || std::is_same_v<T, AuthBegin> ||
                          std::is_same_v<T, AuthResponse>) {
              if (engine.awaiting() != ServerEngine::Awaiting::login) fail();
              if (!options.auth_allowed && !engine.tls_active()) fail();
              switch (bits.take(4)) {
                case 0: engine.auth_challenge("VXNlcm5hbWU6"); break;
                case 1: engine.login_failed("[AUTH] no"); break;
                case 2: engine.login_failed("[IN-USE] busy"); break;
                default: {
                  std::vector<MaildropEntry> drop;
                  const unsigned n = bits.take(4);
                  for (unsigned i = 0; i < n; ++i) {
                    drop.push_back({kMessages[i % 3].size(), "u" + std::to_string(i)});
                  }
                  engine.login_succeeded(std::move(drop));
                  if (engine.state() != ServerEngine::State::transaction) fail();
                }
              }
            } else if constexpr (std::is_same_v<T, Retrieve>) {
              if (engine.awaiting() != ServerEngine::Awaiting::retrieve) fail();
              if (e.index >= engine.maildrop().size() || engine.marked_deleted(e.index)) fail();
              if (bits.take(8) == 0) {
                engine.retrieve_failed("[SYS/TEMP] read failed");
              } else {
                const std::string_view content = kMessages[e.index % 3];
                engine.begin_message();
                const std::size_t piece = 1 + bits.take(7);
                for (std::size_t i = 0; i < content.size() && !engine.message_complete(); i += piece) {
                  engine.message_data(content.substr(i, piece));
                }
                engine.end_message();
                // Stored bytes pass unchanged (a bare LF stays one: the store holds CRLF
                // only, and LIST's size must stay exact), so the terminator follows an LF.
                if (!engine.pending_output().ends_with("\n.\r\n")) fail();
              }
            } else if constexpr (std::is_same_v<T, StartTls>) {
              if (engine.awaiting() != ServerEngine::Awaiting::tls) fail();
              if (bits.take(16) == 0) {
                engine.shutdown("handshake failed");
              } else {
                engine.tls_started(bits.take(2) == 0);
                if (engine.buffered_input() != 0) fail();
              }
            } else if constexpr (std::is_same_v<T, Update>) {
              if (engine.awaiting() != ServerEngine::Awaiting::update) fail();
              for (auto index : e.deleted) {
                if (index >= engine.maildrop().size()) fail();
              }
              if (bits.take(4) == 0) {
                engine.update_failed("[SYS/TEMP] not removed");
              } else {
                engine.update_done();
              }
            }
          },
          *event);
    }
    const std::string_view out = engine.pending_output();
    check_output(out);
    engine.consume_output(out.size());
    if (engine.wants_close()) closed = true;
  };

  drain();
  while (!rest.empty() && !closed) {
    const unsigned control = static_cast<unsigned char>(rest.front());
    rest.remove_prefix(1);
    const std::size_t piece = std::min<std::size_t>(rest.size(), 1 + control % 200);
    engine.receive(rest.substr(0, piece));
    rest.remove_prefix(piece);
    drain();
    if (engine.buffered_input() > options.max_sasl_line + piece) fail();
    if (control == 0xff) engine.shutdown("Idle for too long, closing");
  }
  return 0;
}
