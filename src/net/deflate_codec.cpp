#include "net/deflate_codec.hpp"

#define ZLIB_CONST  // next_in points to const bytes
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace postamt::net {
namespace {

// Sending side. RFC 4978 §4 leaves the compressor's trade-offs to the sender. zlib's
// deflater needs 2^(windowBits+2) + 2^(memLevel+9) bytes plus ~6 KiB of state: the default
// (15, 8) costs ~262 KiB per connection, (13, 6) costs 64 KiB + ~6 KiB. An 8 KiB window
// still spans several messages' headers, which is where IMAP output repeats itself.
constexpr int kLevel = 6;
constexpr int kDeflateWindowBits = 13;
constexpr int kDeflateMemLevel = 6;
// Receiving side. A raw DEFLATE stream does not announce its window (RFC 1951 §2), so the
// peer may refer back the full 32 KiB: the inflater needs the largest window (32 KiB, made
// on the first output) plus ~7 KiB of state.
constexpr int kInflateWindowBits = 15;

// Output grows in steps of this size while compressing.
constexpr std::size_t kCompressStep = 16 * 1024;
// zlib counts in uInt; larger inputs go in slices.
constexpr std::size_t kMaxSlice = std::size_t{1} << 30;

// zlib's allocations, counted per codec: each block carries its size in a header.
constexpr std::size_t kHeader = alignof(std::max_align_t);

voidpf counted_alloc(voidpf opaque, uInt items, uInt size) {
  const std::size_t bytes = static_cast<std::size_t>(items) * size;
  void* raw = std::malloc(bytes + kHeader);
  if (raw == nullptr) return Z_NULL;
  std::memcpy(raw, &bytes, sizeof bytes);
  *static_cast<std::size_t*>(opaque) += bytes;
  return static_cast<char*>(raw) + kHeader;
}

void counted_free(voidpf opaque, voidpf address) {
  if (address == nullptr) return;
  char* raw = static_cast<char*>(address) - kHeader;
  std::size_t bytes = 0;
  std::memcpy(&bytes, raw, sizeof bytes);
  *static_cast<std::size_t*>(opaque) -= bytes;
  std::free(raw);
}

const Bytef* bytes_of(const char* data) { return reinterpret_cast<const Bytef*>(data); }
Bytef* bytes_of(char* data) { return reinterpret_cast<Bytef*>(data); }

std::string zlib_message(const z_stream& stream, int rc) {
  return stream.msg != nullptr ? std::string(stream.msg) : std::string(zError(rc));
}

}  // namespace

struct DeflateCodec::State {
  // z_streams must not move once initialised (zlib keeps a pointer back to them).
  z_stream deflater{};
  z_stream inflater{};
  bool deflater_ready = false;
  bool inflater_ready = false;
  std::size_t allocated = 0;  // bytes zlib holds, both directions

  std::string input;            // compressed bytes from the peer, not yet inflated
  std::size_t input_start = 0;  // the consumed prefix of `input`
  bool output_may_be_pending = false;  // the last pull stopped because its piece was full
  bool stream_ended = false;           // the peer sent the final block
  std::string failure;                 // set once the input proved invalid; final

  State() {
    for (z_stream* stream : {&deflater, &inflater}) {
      stream->zalloc = counted_alloc;
      stream->zfree = counted_free;
      stream->opaque = &allocated;
    }
  }
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() {
    if (deflater_ready) deflateEnd(&deflater);
    if (inflater_ready) inflateEnd(&inflater);
  }

  std::size_t queued() const { return input.size() - input_start; }
};

DeflateCodec::DeflateCodec(std::unique_ptr<State> state) : state_(std::move(state)) {}
DeflateCodec::DeflateCodec(DeflateCodec&&) noexcept = default;
DeflateCodec& DeflateCodec::operator=(DeflateCodec&&) noexcept = default;
DeflateCodec::~DeflateCodec() = default;

std::expected<DeflateCodec, std::string> DeflateCodec::create() {
  auto state = std::make_unique<State>();
  // Negative windowBits: raw DEFLATE without the zlib header (RFC 4978 §3 uses RFC 1951).
  int rc = deflateInit2(&state->deflater, kLevel, Z_DEFLATED, -kDeflateWindowBits,
                        kDeflateMemLevel, Z_DEFAULT_STRATEGY);
  if (rc != Z_OK) return std::unexpected("deflate init: " + zlib_message(state->deflater, rc));
  state->deflater_ready = true;
  rc = inflateInit2(&state->inflater, -kInflateWindowBits);
  if (rc != Z_OK) return std::unexpected("inflate init: " + zlib_message(state->inflater, rc));
  state->inflater_ready = true;
  return DeflateCodec(std::move(state));
}

std::expected<std::string, std::string> DeflateCodec::compress(std::string_view plain,
                                                               Flush flush) {
  z_stream& z = state_->deflater;
  std::string out;
  do {
    const std::size_t slice = std::min(plain.size(), kMaxSlice);
    z.next_in = bytes_of(plain.data());
    z.avail_in = static_cast<uInt>(slice);
    plain.remove_prefix(slice);
    // RFC 4978 §4: a sync flush ends the output on a byte boundary, so the peer can
    // decode the whole response without waiting for more.
    const int mode = plain.empty() && flush == Flush::sync ? Z_SYNC_FLUSH : Z_NO_FLUSH;
    // deflate() is done with this slice once it leaves output space unused.
    do {
      const std::size_t used = out.size();
      out.resize(used + kCompressStep);
      z.next_out = bytes_of(out.data() + used);
      z.avail_out = static_cast<uInt>(kCompressStep);
      const int rc = deflate(&z, mode);
      out.resize(used + kCompressStep - z.avail_out);
      // Z_BUF_ERROR only says there was nothing to do (e.g. a flush right after a flush).
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return std::unexpected("deflate: " + zlib_message(z, rc));
      }
    } while (z.avail_out == 0);
  } while (!plain.empty());
  return out;
}

void DeflateCodec::push_compressed(std::string_view compressed) {
  State& s = *state_;
  if (s.input_start > 0) {
    s.input.erase(0, s.input_start);
    s.input_start = 0;
  }
  s.input.append(compressed);
}

bool DeflateCodec::has_pending_input() const {
  const State& s = *state_;
  return !s.failure.empty() || s.queued() > 0 || s.output_may_be_pending;
}

std::expected<std::string, std::string> DeflateCodec::pull_decompressed(std::size_t max_piece) {
  State& s = *state_;
  if (!s.failure.empty()) return std::unexpected(s.failure);
  max_piece = std::clamp<std::size_t>(max_piece, 1, std::numeric_limits<uInt>::max());
  std::string out(max_piece, '\0');
  z_stream& z = s.inflater;
  z.next_out = bytes_of(out.data());
  z.avail_out = static_cast<uInt>(max_piece);
  while (z.avail_out > 0) {
    if (s.stream_ended) {
      // The peer ended its stream (a final block); nothing may follow it.
      if (s.queued() > 0) s.failure = "data after the end of the DEFLATE stream";
      break;
    }
    const std::size_t slice = std::min(s.queued(), kMaxSlice);
    z.next_in = bytes_of(s.input.data() + s.input_start);
    z.avail_in = static_cast<uInt>(slice);
    const int rc = inflate(&z, Z_SYNC_FLUSH);
    s.input_start += slice - z.avail_in;
    if (rc == Z_STREAM_END) {
      s.stream_ended = true;
      continue;
    }
    if (rc == Z_BUF_ERROR) break;  // no progress possible: more input is needed
    if (rc != Z_OK) {
      s.failure = "corrupt DEFLATE stream: " + zlib_message(z, rc);
      break;
    }
    if (z.avail_in == 0 && s.queued() == 0) break;  // all input used; output space left
  }
  if (!s.failure.empty()) return std::unexpected(s.failure);
  s.output_may_be_pending = z.avail_out == 0;
  out.resize(max_piece - z.avail_out);
  if (s.queued() == 0) {
    s.input.clear();
    s.input_start = 0;
    if (s.input.capacity() > 64 * 1024) s.input.shrink_to_fit();
  }
  return out;
}

std::size_t DeflateCodec::memory_in_use() const { return state_->allocated; }

}  // namespace postamt::net
