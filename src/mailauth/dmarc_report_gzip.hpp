#pragma once
// The compression of DMARC aggregate reports (RFC 7489 §7.2.1.1: gzip, or zip from some
// reporters), on zlib. Decompression is bounded: a small hostile attachment cannot
// inflate into unbounded memory.
#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace postamt::mailauth {

// RFC 1952 gzip of `data`.
std::string gzip_compress(std::string_view data);

// Inflates a gzip (RFC 1952) or zlib (RFC 1950) stream; refuses output beyond max_output.
Result<std::string> gunzip_bounded(std::string_view data, std::size_t max_output);

// The first file of a ZIP archive (PKWARE APPNOTE §4.3.7 local file header), stored or
// deflated, inflated up to max_output. Enough for the one-file archives reporters send.
Result<std::string> unzip_first_file(std::string_view data, std::size_t max_output);

}  // namespace postamt::mailauth
