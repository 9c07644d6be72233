// Fuzzes message content decoding (DATA dot-stuffing and BDAT chunks), directly and
// through the engine. Checks:
//   * the output is always CRLF-clean (no bare CR or LF, normalising or not), NUL-free,
//     within the size and line limits;
//   * DATA ends exactly at the first <CRLF>.<CRLF> (the CRLF of the DATA command
//     counting), never at a smuggling variant: compared with a naive search;
//   * in strict mode, an accepted message equals a naive line-by-line unstuffing;
//   * decoding the same bytes split at arbitrary points gives identical results, and
//     the engine gives identical events and replies fed whole or split.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "proto/smtp/data_decoder.hpp"
#include "proto/smtp/server_engine.hpp"
#include "fuzz_bits.hpp"

namespace {

using namespace postamt::proto::smtp;

using postamt::fuzz::fail;

struct Decoded {
  std::string bytes;
  std::size_t consumed = 0;
  bool ended = false;
  std::optional<DataError> error;
};

// Cut points from a small PRNG seeded by the input, so every split is reproducible.
std::vector<std::size_t> pieces(std::size_t total, std::uint32_t seed) {
  std::vector<std::size_t> out;
  std::uint32_t state = seed * 2654435761u + 1;
  std::size_t done = 0;
  while (done < total) {
    state = state * 1664525u + 1013904223u;
    const std::size_t n = std::min<std::size_t>(total - done, 1 + (state >> 24) % 17);
    out.push_back(n);
    done += n;
  }
  return out;
}

Decoded decode(Framing framing, const DataLimits& limits, std::string_view input,
               const std::vector<std::size_t>& cuts) {
  DataDecoder decoder(framing, limits);
  Decoded result;
  std::size_t offset = 0;
  for (std::size_t n : cuts) {
    if (decoder.ended()) break;
    auto out = decoder.decode(input.substr(offset, n));
    if (out.consumed > n) fail();
    if (out.consumed < n && !out.ended) fail();  // only the end leaves input behind
    result.bytes += out.bytes;
    result.consumed += out.consumed;
    offset += n;
  }
  if (framing == Framing::chunked) result.bytes += decoder.finish();
  result.ended = decoder.ended();
  result.error = decoder.error();
  if (decoder.size() != result.bytes.size() && !result.error) fail();
  return result;
}

void check_clean(const std::string& bytes, const DataLimits& limits) {
  if (bytes.size() > limits.max_size) fail();
  std::size_t line = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c == '\0' || c == '\n') fail();
    if (c == '\r') {
      if (i + 1 >= bytes.size() || bytes[i + 1] != '\n') fail();
      ++i;
      line = 0;
      continue;
    }
    if (++line + 2 > limits.max_line) fail();
  }
}

// The reference DATA model: the end is the first "\r\n.\r\n" in "\r\n" + input; the
// content before it, split on CRLF, loses one leading dot per line.
struct Reference {
  bool ended = false;
  std::size_t consumed = 0;
  std::string unstuffed;  // meaningful when the content has no bare CR/LF
};

Reference reference(std::string_view input) {
  const std::string framed = "\r\n" + std::string(input);
  const std::size_t end = framed.find("\r\n.\r\n");
  Reference ref;
  std::string_view content;
  if (end == std::string::npos) {
    ref.consumed = input.size();
    return ref;
  }
  ref.ended = true;
  ref.consumed = end + 3;  // through the terminator, minus the two prefixed octets
  content = std::string_view(framed).substr(2, end);  // includes the final CRLF if any
  while (!content.empty()) {
    const std::size_t crlf = content.find("\r\n");
    std::string_view line = content.substr(0, crlf);
    if (!line.empty() && line.front() == '.') line.remove_prefix(1);
    ref.unstuffed += line;
    if (crlf == std::string_view::npos) break;
    ref.unstuffed += "\r\n";
    content.remove_prefix(crlf + 2);
  }
  return ref;
}

struct SessionRecord {
  std::string output;
  std::string message;
  std::vector<int> events;  // variant indexes, chunks excluded
  bool operator==(const SessionRecord&) const = default;
};

SessionRecord run_session(const ServerOptions& options, std::string_view input,
                          const std::vector<std::size_t>& cuts) {
  ServerEngine engine(options);
  engine.start();
  SessionRecord record;
  auto drain = [&] {
    while (auto event = engine.next_event()) {
      if (auto* chunk = std::get_if<MessageChunk>(&*event)) {
        record.message += chunk->bytes;
        continue;
      }
      record.events.push_back(static_cast<int>(event->index()));
      if (std::holds_alternative<MailFrom>(*event)) engine.accept_mail();
      if (std::holds_alternative<RcptTo>(*event)) engine.accept_rcpt();
      if (std::holds_alternative<DataBegin>(*event)) engine.accept_data();
      if (std::holds_alternative<MessageEnd>(*event)) engine.message_stored("Q");
      if (std::holds_alternative<MessageAborted>(*event)) record.message.clear();
    }
    record.output += engine.pending_output();
    engine.consume_output(engine.pending_output().size());
  };
  drain();
  std::size_t offset = 0;
  for (std::size_t n : cuts) {
    engine.receive(input.substr(offset, n));
    offset += n;
    drain();
  }
  return record;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const unsigned flags = data[0];
  DataLimits limits;
  limits.normalize = flags & 1;
  limits.max_line = (flags & 2) ? 4 + data[1] % 60 : 1000;
  limits.max_size = (flags & 4) ? data[1] * 4u : 1u << 20;
  const Framing framing = (flags & 8) ? Framing::chunked : Framing::dot_stuffed;
  const std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);

  const Decoded whole = decode(framing, limits, body, {body.size()});
  const Decoded split = decode(framing, limits, body, pieces(body.size(), flags * 257u + data[1]));
  if (whole.consumed != split.consumed || whole.ended != split.ended || whole.error != split.error) {
    fail();
  }
  if (!whole.error && whole.bytes != split.bytes) fail();
  check_clean(whole.bytes, limits);
  check_clean(split.bytes, limits);

  if (framing == Framing::dot_stuffed) {
    const Reference ref = reference(body);
    if (whole.ended != ref.ended || whole.consumed != ref.consumed) fail();
    if (whole.ended && !limits.normalize && !whole.error && whole.bytes != ref.unstuffed) fail();
  } else if (whole.consumed != body.size() || whole.ended) {
    fail();
  }

  // Through the engine: the same session fed whole and in pieces.
  ServerOptions options;
  options.max_message_size = limits.max_size;
  options.max_text_line = limits.max_line;
  options.normalize_bare_line_endings = limits.normalize;
  std::string session = "EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n";
  if (framing == Framing::dot_stuffed) {
    session += "DATA\r\n";
  } else {
    session += "BDAT " + std::to_string(body.size()) + " LAST\r\n";
  }
  session += body;
  session += "\r\n.\r\nNOOP\r\n";
  const SessionRecord a = run_session(options, session, {session.size()});
  const SessionRecord b = run_session(options, session, pieces(session.size(), data[1]));
  if (!(a == b)) fail();
  check_clean(a.message, limits);
  return 0;
}
