// Fuzzes the RFC5322.From classifier (proto/mailauth/from_domain) and the header splitter
// it reads with: no crash; fields tile the header block in order; a domain is given only
// for status ok, and then it is lower case, non-empty, without whitespace, '@' or controls.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "proto/mailauth/auth_results.hpp"
#include "proto/mailauth/from_domain.hpp"

#include "fuzz_bits.hpp"

using postamt::fuzz::fail;
using namespace postamt::mailauth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view block(reinterpret_cast<const char*>(data), size);
  std::size_t expected_offset = 0;
  for (const RawHeaderField& field : split_header_fields(block)) {
    if (field.offset != expected_offset || field.length == 0 || field.offset + field.length > block.size()) fail();
    expected_offset = field.offset + field.length;
  }
  const AuthorDomain author = classify_from_header_block(block);
  if (author.ok() != !author.domain.empty()) fail();
  for (char c : author.domain) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b == 0x7f || c == '@' || (c >= 'A' && c <= 'Z')) fail();
  }
  // Stripping keeps every byte that is not in a removed field.
  const auto stripped = strip_forged_authentication_results(block, "mx.example.org");
  std::size_t removed = 0;
  for (const ByteRange& r : forged_authentication_results(block, "mx.example.org")) removed += r.length;
  if (stripped.size() + removed != block.size()) fail();
  return 0;
}
