// DeflateCodec: raw DEFLATE both ways (RFC 1951, as IMAP COMPRESS uses it, RFC 4978):
// round trips, sync-flush boundaries, corrupt input, and decompression in bounded pieces.
#include "net/deflate_codec.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>

namespace postamt::net {
namespace {

DeflateCodec make_codec() {
  auto codec = DeflateCodec::create();
  EXPECT_TRUE(codec.has_value());
  return std::move(*codec);
}

// Everything the queued input yields, in pieces of at most `piece` bytes.
std::string drain(DeflateCodec& codec, std::size_t piece = 16 * 1024) {
  std::string out;
  while (codec.has_pending_input()) {
    auto plain = codec.pull_decompressed(piece);
    EXPECT_TRUE(plain.has_value()) << plain.error();
    if (!plain) break;
    EXPECT_LE(plain->size(), piece);
    if (plain->empty()) break;
    out += *plain;
  }
  return out;
}

// An independent peer: zlib with its own settings (32 KiB window, raw DEFLATE).
std::string zlib_raw_deflate(std::string_view plain, int flush, int window_bits = 15) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, -window_bits, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, plain.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = static_cast<uInt>(plain.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, flush);
  EXPECT_TRUE(rc == Z_OK || rc == Z_STREAM_END);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  return out;
}

std::string zlib_raw_inflate(std::string_view compressed) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, -15), Z_OK);
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z.avail_in = static_cast<uInt>(compressed.size());
  char buffer[4096];
  int rc = Z_OK;
  do {
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof buffer;
    rc = inflate(&z, Z_SYNC_FLUSH);
    out.append(buffer, sizeof buffer - z.avail_out);
  } while (rc == Z_OK && z.avail_out == 0);
  EXPECT_TRUE(rc == Z_OK || rc == Z_BUF_ERROR || rc == Z_STREAM_END) << rc;
  inflateEnd(&z);
  return out;
}

std::string imap_like_text(std::size_t lines) {
  std::string text;
  for (std::size_t i = 1; i <= lines; ++i) {
    text += "* " + std::to_string(i) + " FETCH (UID " + std::to_string(1000 + i) +
            " FLAGS (\\Seen) RFC822.SIZE " + std::to_string(2000 + i * 7) + ")\r\n";
  }
  return text;
}

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

TEST(DeflateCodec, RoundTripsBetweenTwoCodecs) {
  DeflateCodec server = make_codec();
  DeflateCodec client = make_codec();
  const std::string text = imap_like_text(2000);
  auto compressed = server.compress(text);
  ASSERT_TRUE(compressed.has_value());
  EXPECT_LT(compressed->size(), text.size() / 4);
  client.push_compressed(*compressed);
  EXPECT_EQ(drain(client), text);
}

TEST(DeflateCodec, RoundTripsIncompressibleAndEmptyInput) {
  DeflateCodec a = make_codec();
  DeflateCodec b = make_codec();
  const std::string noise = random_bytes(300 * 1024, 7);
  auto compressed = a.compress(noise);
  ASSERT_TRUE(compressed.has_value());
  b.push_compressed(*compressed);
  EXPECT_EQ(drain(b), noise);
  // Nothing to send: at most an empty flush marker, and it decodes to nothing.
  auto nothing = a.compress("");
  ASSERT_TRUE(nothing.has_value());
  b.push_compressed(*nothing);
  EXPECT_EQ(drain(b), "");
}

TEST(DeflateCodec, OutputIsReadableByPlainZlib) {
  DeflateCodec codec = make_codec();
  std::string all;
  const std::string first = "* OK [CAPABILITY IMAP4rev1] ready\r\n";
  const std::string second = imap_like_text(500);
  all += codec.compress(first).value();
  all += codec.compress(second).value();
  EXPECT_EQ(zlib_raw_inflate(all), first + second);
}

TEST(DeflateCodec, ReadsAPeerUsingTheFull32KiBWindow) {
  // A repeat 30000 bytes back: only an inflater with a 32 KiB window can follow it.
  const std::string block = random_bytes(30000, 11);
  const std::string text = block + block;
  const std::string compressed = zlib_raw_deflate(text, Z_SYNC_FLUSH);
  ASSERT_LT(compressed.size(), 40000u);
  DeflateCodec codec = make_codec();
  codec.push_compressed(compressed);
  EXPECT_EQ(drain(codec), text);
}

// RFC 4978 §4: after each sync-flushed write the peer can decode every byte sent so far.
TEST(DeflateCodec, EachSyncFlushedWriteDecodesCompletely) {
  DeflateCodec server = make_codec();
  DeflateCodec client = make_codec();
  for (int i = 0; i < 50; ++i) {
    const std::string response = "A" + std::to_string(i) + " OK NOOP completed\r\n";
    auto compressed = server.compress(response);
    ASSERT_TRUE(compressed.has_value());
    // The sync flush marker: an empty stored block, 00 00 FF FF.
    ASSERT_GE(compressed->size(), 4u);
    EXPECT_EQ(compressed->substr(compressed->size() - 4), std::string("\0\0\xff\xff", 4));
    client.push_compressed(*compressed);
    EXPECT_EQ(drain(client), response);
    EXPECT_FALSE(client.has_pending_input());
  }
}

TEST(DeflateCodec, UnflushedPiecesAppearWithTheNextSyncFlush) {
  DeflateCodec server = make_codec();
  DeflateCodec client = make_codec();
  const std::string text = imap_like_text(3000);
  std::string wire;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::string_view piece = std::string_view(text).substr(at, 10000);
    at += piece.size();
    const auto flush = at < text.size() ? DeflateCodec::Flush::none : DeflateCodec::Flush::sync;
    wire += server.compress(piece, flush).value();
  }
  client.push_compressed(wire);
  EXPECT_EQ(drain(client), text);
}

TEST(DeflateCodec, InputArrivingByteByByteDecodesTheSame) {
  DeflateCodec server = make_codec();
  DeflateCodec client = make_codec();
  const std::string text = imap_like_text(200);
  const std::string wire = server.compress(text).value();
  std::string out;
  for (char c : wire) {
    client.push_compressed(std::string_view(&c, 1));
    out += drain(client, 100);
  }
  EXPECT_EQ(out, text);
}

TEST(DeflateCodec, TruncatedInputWaitsForMore) {
  DeflateCodec server = make_codec();
  DeflateCodec client = make_codec();
  const std::string wire = server.compress(imap_like_text(100)).value();
  client.push_compressed(std::string_view(wire).substr(0, 3));
  auto first = client.pull_decompressed(1024);
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(client.has_pending_input());  // read more from the network now
  client.push_compressed(std::string_view(wire).substr(3));
  EXPECT_EQ(*first + drain(client), imap_like_text(100));
}

TEST(DeflateCodec, CorruptInputIsAnErrorThatStays) {
  DeflateCodec codec = make_codec();
  // Block type 3 (BTYPE=11) is reserved in RFC 1951 §3.2.3.
  codec.push_compressed(std::string("\xff\xff\xff\xff\xff\xff", 6));
  auto result = codec.pull_decompressed(1024);
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(result.error().find("corrupt"), std::string::npos) << result.error();
  EXPECT_TRUE(codec.has_pending_input());  // the caller pulls again and sees the error
  codec.push_compressed(DeflateCodec::create().value().compress("x").value());
  EXPECT_FALSE(codec.pull_decompressed(1024).has_value());
}

TEST(DeflateCodec, RandomGarbageNeverCrashes) {
  for (unsigned seed = 0; seed < 200; ++seed) {
    DeflateCodec codec = make_codec();
    codec.push_compressed(random_bytes(512, seed));
    for (int i = 0; i < 100 && codec.has_pending_input(); ++i) {
      auto piece = codec.pull_decompressed(4096);
      if (!piece) break;
      EXPECT_LE(piece->size(), 4096u);
    }
  }
}

TEST(DeflateCodec, AStreamMayEndButNothingMayFollowItsEnd) {
  const std::string text = "A1 LOGOUT\r\n";
  const std::string finished = zlib_raw_deflate(text, Z_FINISH);
  DeflateCodec ended = make_codec();
  ended.push_compressed(finished);
  EXPECT_EQ(drain(ended), text);

  DeflateCodec overrun = make_codec();
  overrun.push_compressed(finished + "more");
  std::string out;
  for (int i = 0; i < 10; ++i) {
    auto piece = overrun.pull_decompressed(1024);
    if (!piece) {
      EXPECT_NE(piece.error().find("after the end"), std::string::npos) << piece.error();
      return;
    }
    out += *piece;
  }
  FAIL() << "bytes after the final block were accepted";
}

// A few hundred KiB that expand to 64 MiB come out one bounded piece at a time, with the
// codec's own memory unchanged by the ratio.
TEST(DeflateCodec, ABombIsHandedOutInBoundedPieces) {
  const std::size_t bomb_size = 64 * 1024 * 1024;
  const std::string plain(bomb_size, 'A');
  const std::string bomb = zlib_raw_deflate(plain, Z_SYNC_FLUSH);
  ASSERT_LT(bomb.size(), 128u * 1024);

  DeflateCodec codec = make_codec();
  constexpr std::size_t kPiece = 16 * 1024;
  std::size_t total = 0;
  std::size_t pieces = 0;
  std::size_t fed = 0;
  std::size_t peak_memory = 0;
  while (fed < bomb.size() || codec.has_pending_input()) {
    if (!codec.has_pending_input()) {  // like the connection: read only when drained
      const std::string_view chunk = std::string_view(bomb).substr(fed, kPiece);
      fed += chunk.size();
      codec.push_compressed(chunk);
    }
    auto piece = codec.pull_decompressed(kPiece);
    ASSERT_TRUE(piece.has_value());
    ASSERT_LE(piece->size(), kPiece);
    ASSERT_EQ(piece->find_first_not_of('A'), std::string::npos);
    total += piece->size();
    ++pieces;
    peak_memory = std::max(peak_memory, codec.memory_in_use());
  }
  EXPECT_EQ(total, bomb_size);
  EXPECT_GE(pieces, bomb_size / kPiece);
  EXPECT_LT(peak_memory, 160u * 1024);
}

TEST(DeflateCodec, MemoryPerCodecIsModest) {
  DeflateCodec server = make_codec();
  const std::size_t at_start = server.memory_in_use();
  // The deflater (windowBits 13, memLevel 6) is allocated up front; the inflater's window
  // comes with its first output.
  DeflateCodec client = make_codec();
  client.push_compressed(server.compress(imap_like_text(100)).value());
  drain(client);
  const std::size_t after_inflating = client.memory_in_use();
  std::printf("deflate codec memory: %zu bytes at start, %zu once inflating\n", at_start,
              after_inflating);
  EXPECT_LT(at_start, 80u * 1024);
  EXPECT_LT(after_inflating, 120u * 1024);
  EXPECT_GE(after_inflating, at_start + 32u * 1024);  // the 32 KiB receive window
}

TEST(DeflateCodec, MovedCodecKeepsItsStreams) {
  DeflateCodec server = make_codec();
  DeflateCodec client = make_codec();
  client.push_compressed(server.compress("first\r\n").value());
  DeflateCodec moved_server = std::move(server);
  DeflateCodec moved_client = std::move(client);
  moved_client.push_compressed(moved_server.compress("second\r\n").value());
  EXPECT_EQ(drain(moved_client), "first\r\nsecond\r\n");
}

}  // namespace
}  // namespace postamt::net
