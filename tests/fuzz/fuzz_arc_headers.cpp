// Fuzzes proto/mailauth's ARC parts: the ARC-Seal, ARC-Message-Signature and
// ARC-Authentication-Results parsers on the input as one value, then the input as a
// message head through collect_arc_chain, find_arc_chain_top, the seal hash input and
// merged_auth_results. Checks:
//   * no crash, UB or leak, whatever the bytes;
//   * parsed fields keep RFC 8617's rules: instance 1..50, a known cv, an AMS h= without
//     ARC-Seal, a non-empty signature and body hash;
//   * a chain that passes the form checks has sets 1..N in order (N <= 50), cv none at
//     i=1 and pass above, and its top is what find_arc_chain_top sees;
//   * the seal hash input is made of CRLF-ended lines (no bare CR or LF).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/mailauth/arc_chain.hpp"
#include "proto/mailauth/arc_headers.hpp"
#include "proto/mailauth/arc_set_builder.hpp"
#include "proto/mailauth/message_head.hpp"

#include "fuzz_bits.hpp"

using postamt::fuzz::fail;
namespace ma = postamt::mailauth;

namespace {

void check_instance(std::uint32_t instance) {
  if (instance < 1 || instance > ma::kMaxArcInstance) fail();
}

void check_lines(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n')) fail();
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) fail();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  if (auto seal = ma::parse_arc_seal(input)) {
    check_instance(seal->instance);
    if (seal->signature.empty() || !ma::is_arc_domain_name(seal->domain)) fail();
  }
  if (auto ams = ma::parse_arc_message_signature(input)) {
    check_instance(ams->instance);
    if (ams->signature.empty() || ams->body_hash.empty()) fail();
    for (const auto& name : ams->signed_headers) {
      if (ma::field_name_equals(name, "arc-seal")) fail();
    }
  }
  if (auto aar = ma::parse_arc_authentication_results(input)) {
    check_instance(aar->instance);
    if (aar->payload.empty()) fail();
  }

  const ma::SplitHead head = ma::split_message_head(input);
  const ma::ArcChain chain = ma::collect_arc_chain(head.fields);
  const ma::ArcChainTop top = ma::find_arc_chain_top(head.fields);
  if (chain.status == ma::ArcChainStatus::pass) {
    if (chain.sets.empty() || chain.sets.size() > ma::kMaxArcInstance) fail();
    for (std::size_t k = 0; k < chain.sets.size(); ++k) {
      const ma::ArcSet& set = chain.sets[k];
      if (set.seal.instance != k + 1 || set.message_signature.instance != k + 1 || set.auth_results.instance != k + 1) {
        fail();
      }
      if (set.seal.chain_status != (k == 0 ? ma::ArcChainStatus::none : ma::ArcChainStatus::pass)) fail();
    }
    if (top.highest_instance != chain.sets.size() || top.newest_seal_failed) fail();
    ma::StringSink sink;
    ma::write_seal_hash_input(ma::arc_set_texts(chain, static_cast<std::uint32_t>(chain.sets.size())), sink);
    check_lines(sink.text);
  } else if (chain.status == ma::ArcChainStatus::none) {
    if (!chain.sets.empty() || top.highest_instance != 0) fail();
  } else if (!chain.sets.empty() || chain.reason.empty()) {
    fail();
  }
  const std::string merged = ma::merged_auth_results(head.fields, "mx.example.org");
  if (!merged.empty() && !merged.starts_with("mx.example.org; ")) fail();
  return 0;
}
