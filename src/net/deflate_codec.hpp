#pragma once
// DeflateCodec: the two raw DEFLATE streams (RFC 1951, no zlib header) of one compressed
// connection (IMAP COMPRESS=DEFLATE, RFC 4978). Sans-I/O: bytes in, bytes out.
//
// Sending: compress() turns plain bytes into DEFLATE bytes; with Flush::sync it ends on a
// byte boundary (an empty stored block) so the peer can decode everything sent so far
// (RFC 4978 §4).
//
// Receiving is pull-based so that a decompression bomb cannot cost memory: compressed bytes
// are queued with push_compressed(), and pull_decompressed(max) hands out at most `max`
// plain bytes per call, keeping the rest of the input for later calls. The caller reads
// from the network only once has_pending_input() is false, so at most one network read of
// compressed input and one piece of output are held at a time, whatever the ratio.
//
// Memory (measured; the settings are in deflate_codec.cpp): about 71 KiB for the deflater
// (windowBits 13, memLevel 6) and 39 KiB for the inflater (which must accept the peer's
// 32 KiB window), allocated only for connections that turn compression on.
#include <cstddef>
#include <expected>
#include <memory>
#include <string>
#include <string_view>

namespace postamt::net {

class DeflateCodec {
 public:
  enum class Flush { none, sync };

  // Fails only when zlib cannot allocate its state.
  static std::expected<DeflateCodec, std::string> create();

  DeflateCodec(DeflateCodec&&) noexcept;
  DeflateCodec& operator=(DeflateCodec&&) noexcept;
  ~DeflateCodec();

  // The DEFLATE bytes for `plain`. Flush::none may hold bytes back (better compression
  // across pieces of one large write); Flush::sync makes everything so far decodable.
  std::expected<std::string, std::string> compress(std::string_view plain,
                                                   Flush flush = Flush::sync);

  // Queues DEFLATE bytes from the peer (copied; released as they are consumed).
  void push_compressed(std::string_view compressed);
  // True while queued input may still yield output: pull before reading the network.
  bool has_pending_input() const;
  // Up to `max_piece` plain bytes (max_piece > 0). Empty when the queued input is used up
  // without producing output (headers, an empty flush block) — read more then. An error is
  // final: the input was not a valid DEFLATE stream (or continued past its end).
  std::expected<std::string, std::string> pull_decompressed(std::size_t max_piece);

  // Bytes zlib holds for both directions right now (for tests and capacity planning).
  std::size_t memory_in_use() const;

 private:
  struct State;
  explicit DeflateCodec(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace postamt::net
