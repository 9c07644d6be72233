#include "mailauth/dmarc_report_gzip.hpp"

#include <zlib.h>

#include <cstdint>
#include <cstring>

namespace postamt::mailauth {
namespace {

constexpr std::size_t kChunk = 64 * 1024;

// Inflates with the given window bits (31+: gzip, 15+32: gzip or zlib, -15: raw deflate).
Result<std::string> inflate_bounded(std::string_view data, int window_bits, std::size_t max_output) {
  z_stream stream{};
  if (inflateInit2(&stream, window_bits) != Z_OK) return temporary_error("zlib: inflateInit2 failed");
  std::string out;
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  int status = Z_OK;
  while (status != Z_STREAM_END) {
    const std::size_t before = out.size();
    if (before >= max_output + 1) {
      inflateEnd(&stream);
      return permanent_error("the decompressed report is larger than " + std::to_string(max_output) + " octets");
    }
    const std::size_t room = std::min(kChunk, max_output + 1 - before);
    out.resize(before + room);
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + before);
    stream.avail_out = static_cast<uInt>(room);
    status = inflate(&stream, Z_NO_FLUSH);
    out.resize(before + room - stream.avail_out);
    if (status == Z_STREAM_END) break;
    if (status != Z_OK) {
      inflateEnd(&stream);
      return permanent_error(std::string("corrupt compressed data: ") + (stream.msg ? stream.msg : "zlib error"));
    }
    if (stream.avail_in == 0 && stream.avail_out != 0) {
      inflateEnd(&stream);
      return permanent_error("the compressed data ends early");
    }
  }
  inflateEnd(&stream);
  if (out.size() > max_output)
    return permanent_error("the decompressed report is larger than " + std::to_string(max_output) + " octets");
  return out;
}

std::uint32_t little_endian(std::string_view data, std::size_t offset, std::size_t width) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < width; ++i)
    value |= static_cast<std::uint32_t>(static_cast<unsigned char>(data[offset + i])) << (8 * i);
  return value;
}

}  // namespace

std::string gzip_compress(std::string_view data) {
  z_stream stream{};
  // 15 + 16: a gzip header and trailer around the deflate stream.
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out(deflateBound(&stream, static_cast<uLong>(data.size())) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int status = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return status == Z_STREAM_END ? out : std::string();
}

Result<std::string> gunzip_bounded(std::string_view data, std::size_t max_output) {
  return inflate_bounded(data, 15 + 32, max_output);
}

Result<std::string> unzip_first_file(std::string_view data, std::size_t max_output) {
  constexpr std::size_t kHeader = 30;
  if (data.size() < kHeader || data.substr(0, 4) != std::string_view("PK\x03\x04", 4))
    return permanent_error("not a ZIP archive");
  const std::uint32_t flags = little_endian(data, 6, 2);
  const std::uint32_t method = little_endian(data, 8, 2);
  const std::uint32_t compressed = little_endian(data, 18, 4);
  const std::size_t name_length = little_endian(data, 26, 2);
  const std::size_t extra_length = little_endian(data, 28, 2);
  const std::size_t start = kHeader + name_length + extra_length;
  if (flags & 0x1) return permanent_error("encrypted ZIP archive");
  if (start > data.size()) return permanent_error("truncated ZIP archive");
  std::string_view body = data.substr(start);
  // Bit 3: the sizes follow the data (a data descriptor); a deflate stream ends by itself.
  const bool sized = (flags & 0x8) == 0;
  if (sized) {
    if (compressed > body.size()) return permanent_error("truncated ZIP archive");
    body = body.substr(0, compressed);
  }
  if (method == 0) {
    if (!sized) return permanent_error("a stored ZIP entry without its size");
    if (body.size() > max_output) return permanent_error("the report in the ZIP archive is too large");
    return std::string(body);
  }
  if (method != 8) return permanent_error("ZIP compression method " + std::to_string(method) + " is not supported");
  return inflate_bounded(body, -15, max_output);
}

}  // namespace postamt::mailauth
