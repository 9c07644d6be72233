#include "mailauth/arc_sealer.hpp"

#include "base/base64.hpp"
#include "mailauth/sha256_sink.hpp"
#include "proto/mailauth/arc_chain.hpp"
#include "proto/mailauth/arc_set_builder.hpp"
#include "proto/mailauth/dkim_canon.hpp"
#include "proto/mailauth/message_head.hpp"
#include "proto/mailauth/tag_list.hpp"

namespace postamt::mailauth {
namespace {

// The payload goes into a header field as it is: every line break must be a fold (CRLF
// followed by WSP), or it would end the field and start another (header injection).
bool is_foldable_payload(std::string_view payload) {
  if (trim_fws(payload).empty()) return false;
  for (std::size_t i = 0; i < payload.size(); ++i) {
    if (payload[i] == '\r' && (i + 1 >= payload.size() || payload[i + 1] != '\n')) return false;
    if (payload[i] == '\n') {
      if (i == 0 || payload[i - 1] != '\r') return false;
      if (i + 1 >= payload.size() || (payload[i + 1] != ' ' && payload[i + 1] != '\t')) return false;
    }
  }
  return true;
}

}  // namespace

ArcSealer::ArcSealer(std::string domain, std::string selector, DkimPrivateKey key)
    : domain_(to_lower_ascii(domain)), selector_(std::move(selector)), key_(std::move(key)) {}

Result<std::optional<ArcSealedSet>> ArcSealer::seal(const ArcSealInput& input) const {
  if (!input.chain) return permanent_error("ARC sealing needs the chain's verdict");
  if (!is_foldable_payload(input.auth_results_payload)) {
    return permanent_error("the Authentication-Results payload is empty or has a line break that is not a fold");
  }
  const SplitHead split = split_message_head(input.message);
  if (split.over_limits) return permanent_error("header too large to seal");

  const ArcChainTop top = find_arc_chain_top(split.fields);
  if (top.newest_seal_failed) return std::optional<ArcSealedSet>{};  // §5.1.2: the chain has ended
  if (top.highest_instance >= kMaxArcInstance) return std::optional<ArcSealedSet>{};

  ArcSealedSet set;
  set.instance = top.highest_instance + 1;
  // §5.1.2: cv is the validation result; none only for the first set.
  set.chain_status = top.highest_instance == 0 ? ArcChainStatus::none : input.chain->status;
  if (set.chain_status == ArcChainStatus::none && top.highest_instance > 0) set.chain_status = ArcChainStatus::fail;
  if (top.highest_instance == 0 && input.chain->status != ArcChainStatus::none) {
    return permanent_error("the verdict names a chain the message does not have");
  }
  ArcChain chain;
  if (set.chain_status == ArcChainStatus::pass) {
    chain = collect_arc_chain(split.fields);
    if (chain.status != ArcChainStatus::pass || chain.sets.size() != top.highest_instance) {
      return permanent_error("the verdict says pass for a malformed chain");
    }
  }

  // The body hash, relaxed (RFC 6376 §3.4.4).
  Sha256Sink body_sink;
  BodyCanonicalizer body(DkimCanon::relaxed, body_sink);
  body.feed(input.message.substr(std::min(split.body_offset, input.message.size())));
  body.finish();

  ArcMessageSignatureFields ams;
  ams.instance = set.instance;
  ams.algorithm = key_.algorithm();
  ams.domain = domain_;
  ams.selector = selector_;
  ams.timestamp = input.now;
  ams.body_hash_base64 = base64_encode(body_sink.finish());
  if (!input.signed_headers.empty()) {
    for (const auto& name : input.signed_headers) ams.signed_headers.push_back(to_lower_ascii(name));
  } else {
    for (std::string_view name : kArcSignedFields) {
      for (const auto& field : split.fields) {
        if (field_name_equals(field.name, name)) {
          ams.signed_headers.push_back(to_lower_ascii(name));
          break;
        }
      }
    }
  }
  for (const auto& name : ams.signed_headers) {
    if (field_name_equals(name, "arc-seal")) return permanent_error("the AMS must not sign ARC-Seal (RFC 8617 §4.1.2)");
  }

  // The AMS: the h= fields and the AMS itself with b= empty (RFC 6376 §3.7).
  Sha256Sink ams_sink;
  for (const HeaderField* field : select_signed_fields(split.fields, ams.signed_headers)) {
    canonicalize_header(DkimCanon::relaxed, field->raw, ams_sink);
  }
  canonicalize_header(DkimCanon::relaxed, build_arc_message_signature_field(ams), ams_sink, false);
  auto ams_signature = key_.sign_digest(ams_sink.finish());
  if (!ams_signature) return std::unexpected(ams_signature.error());
  set.message_signature = build_arc_message_signature_field(ams, base64_encode(*ams_signature));

  set.auth_results = build_arc_authentication_results_field(set.instance, input.auth_results_payload);

  // The AS: every set up to ours, or ours alone when the chain failed (§5.1.2).
  ArcSealFields seal;
  seal.instance = set.instance;
  seal.algorithm = key_.algorithm();
  seal.chain_status = set.chain_status;
  seal.domain = domain_;
  seal.selector = selector_;
  seal.timestamp = input.now;
  const std::string unsigned_seal = build_arc_seal_field(seal);
  std::vector<ArcSetText> texts;
  if (set.chain_status == ArcChainStatus::pass) texts = arc_set_texts(chain, top.highest_instance);
  texts.push_back(ArcSetText{set.auth_results, set.message_signature, unsigned_seal});
  Sha256Sink seal_sink;
  write_seal_hash_input(texts, seal_sink);
  auto seal_signature = key_.sign_digest(seal_sink.finish());
  if (!seal_signature) return std::unexpected(seal_signature.error());
  set.seal = build_arc_seal_field(seal, base64_encode(*seal_signature));
  return std::optional<ArcSealedSet>(std::move(set));
}

}  // namespace postamt::mailauth
