// Fuzzes proto/mailauth: the DKIM key record parser (RFC 6376 §3.6.1) and the tag-list
// parser under it; also the body canonicaliser, fed the same bytes whole and split.
// Checks:
//   * no crash, UB or leak;
//   * a parsed record's tags are those the text holds (v= first, k= known);
//   * simple and relaxed body canonicalisation give the same output whatever the split,
//     relaxed output never ends in WSP before CRLF and ends in CRLF unless empty.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/mailauth/dkim_canon.hpp"
#include "proto/mailauth/dkim_key_record.hpp"
#include "proto/mailauth/tag_list.hpp"

#include "fuzz_bits.hpp"

using postamt::fuzz::fail;
namespace ma = postamt::mailauth;

namespace {

std::string canonical(ma::DkimCanon canon, std::string_view body, std::size_t split) {
  ma::StringSink sink;
  ma::BodyCanonicalizer canonicalizer(canon, sink);
  canonicalizer.feed(body.substr(0, split));
  canonicalizer.feed(body.substr(split));
  canonicalizer.finish();
  if (canonicalizer.canonical_length() != sink.text.size()) fail();
  return sink.text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto record = ma::parse_dkim_key_record(text)) {
    auto tags = ma::parse_tag_list(text);
    if (!tags) fail();
    if (!ma::find_tag(*tags, "p")) fail();
    if (!tags->empty() && ma::find_tag(*tags, "v") && (*tags)[0].name != "v") fail();
  }
  const std::size_t split = size == 0 ? 0 : data[0] % (size + 1);
  for (auto canon : {ma::DkimCanon::simple, ma::DkimCanon::relaxed}) {
    const std::string whole = canonical(canon, text, 0);
    if (canonical(canon, text, split) != whole) fail();
    if (canon == ma::DkimCanon::relaxed) {
      if (!whole.empty() && !whole.ends_with("\r\n")) fail();
      if (whole.find(" \r\n") != std::string::npos) fail();
    } else if (!whole.ends_with("\r\n")) {
      fail();
    }
  }
  return 0;
}
