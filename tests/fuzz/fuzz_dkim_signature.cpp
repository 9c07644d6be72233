// Fuzzes proto/mailauth: the DKIM-Signature parser, the head splitter, without_b_value and
// header canonicalisation. Checks:
//   * no crash, UB or leak, whatever the bytes;
//   * a parsed signature has what RFC 6376 §3.5 requires: From in h=, i= within d=,
//     x= after t=, a non-empty b= and bh=;
//   * emptying b= twice changes nothing more (idempotent), and the relaxed form of a
//     field has no CR/LF before its final CRLF.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/mailauth/dkim_canon.hpp"
#include "proto/mailauth/dkim_signature.hpp"
#include "proto/mailauth/message_head.hpp"

#include "fuzz_bits.hpp"

using postamt::fuzz::fail;
namespace ma = postamt::mailauth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  if (auto sig = ma::parse_dkim_signature(value)) {
    bool from = false;
    for (const auto& name : sig->signed_headers) from = from || ma::field_name_equals(name, "from");
    if (!from) fail();
    if (!ma::identity_within_domain(sig->identity, sig->domain)) fail();
    if (sig->timestamp && sig->expiration && *sig->expiration <= *sig->timestamp) fail();
    if (sig->signature.empty() || sig->body_hash.empty()) fail();
  }
  const std::string field = "DKIM-Signature:" + std::string(value);
  const std::string once = ma::without_b_value(field);
  if (ma::without_b_value(once) != once) fail();
  const std::string message = field + "\r\n\r\n";
  const auto head = ma::split_message_head(message);
  for (const auto& f : head.fields) {
    ma::StringSink sink;
    ma::canonicalize_header(ma::DkimCanon::relaxed, f.raw, sink);
    const std::string_view text(sink.text);
    if (!text.ends_with("\r\n")) fail();
    const std::string_view inner = text.substr(0, text.size() - 2);
    if (inner.find('\r') != std::string_view::npos || inner.find('\n') != std::string_view::npos) fail();
  }
  return 0;
}
