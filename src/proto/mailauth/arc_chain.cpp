#include "proto/mailauth/arc_chain.hpp"

#include <array>
#include <optional>

#include "proto/mailauth/tag_list.hpp"

namespace postamt::mailauth {
namespace {

enum class ArcFieldKind { seal = 0, message_signature = 1, auth_results = 2 };

std::optional<ArcFieldKind> arc_field_kind(std::string_view name) {
  if (field_name_equals(name, "ARC-Seal")) return ArcFieldKind::seal;
  if (field_name_equals(name, "ARC-Message-Signature")) return ArcFieldKind::message_signature;
  if (field_name_equals(name, "ARC-Authentication-Results")) return ArcFieldKind::auth_results;
  return std::nullopt;
}

std::string_view kind_name(ArcFieldKind kind) {
  switch (kind) {
    case ArcFieldKind::seal: return "ARC-Seal";
    case ArcFieldKind::message_signature: return "ARC-Message-Signature";
    case ArcFieldKind::auth_results: return "ARC-Authentication-Results";
  }
  return "";
}

ArcChain failed(std::string reason) {
  ArcChain chain;
  chain.status = ArcChainStatus::fail;
  chain.reason = std::move(reason);
  return chain;
}

// Per instance, what was found of each kind while reading the fields.
struct Slot {
  std::array<const HeaderField*, 3> fields{};
  std::optional<ArcSeal> seal;
  std::optional<ArcMessageSignature> message_signature;
  std::optional<ArcAuthenticationResults> auth_results;
};

}  // namespace

bool is_arc_field_name(std::string_view name) { return arc_field_kind(name).has_value(); }

ArcChain collect_arc_chain(const std::vector<HeaderField>& fields) {
  std::array<Slot, kMaxArcInstance + 1> slots{};  // slots[i] for instance i
  std::uint32_t highest = 0;
  std::size_t seen = 0;
  for (const HeaderField& field : fields) {
    const auto kind = arc_field_kind(field.name);
    if (!kind) continue;
    // Three fields per instance at most: anything beyond is not read (§4.2.1 cap).
    if (++seen > 3 * kMaxArcInstance) return failed("more than 50 ARC sets");
    std::uint32_t instance = 0;
    Slot* slot = nullptr;
    switch (*kind) {
      case ArcFieldKind::seal: {
        auto seal = parse_arc_seal(field.value);
        if (!seal) return failed("ARC-Seal: " + seal.error().message);
        instance = seal->instance;
        slot = &slots[instance];
        if (slot->seal) return failed("two ARC-Seal fields for i=" + std::to_string(instance));
        slot->seal = std::move(*seal);
        break;
      }
      case ArcFieldKind::message_signature: {
        auto ams = parse_arc_message_signature(field.value);
        if (!ams) return failed("ARC-Message-Signature: " + ams.error().message);
        instance = ams->instance;
        slot = &slots[instance];
        if (slot->message_signature) return failed("two ARC-Message-Signature fields for i=" + std::to_string(instance));
        slot->message_signature = std::move(*ams);
        break;
      }
      case ArcFieldKind::auth_results: {
        auto aar = parse_arc_authentication_results(field.value);
        if (!aar) return failed("ARC-Authentication-Results: " + aar.error().message);
        instance = aar->instance;
        slot = &slots[instance];
        if (slot->auth_results) return failed("two ARC-Authentication-Results fields for i=" + std::to_string(instance));
        slot->auth_results = *aar;
        break;
      }
    }
    slot->fields[static_cast<std::size_t>(*kind)] = &field;
    highest = std::max(highest, instance);
  }
  if (highest == 0) return ArcChain{};

  // §5.2 step 2: every instance 1..N complete.
  for (std::uint32_t i = 1; i <= highest; ++i) {
    for (std::size_t kind = 0; kind < 3; ++kind) {
      if (!slots[i].fields[kind]) {
        return failed("no " + std::string(kind_name(static_cast<ArcFieldKind>(kind))) + " for i=" + std::to_string(i));
      }
    }
  }
  // §5.2 step 3: a chain its newest sealer declared failed stays failed.
  if (slots[highest].seal->chain_status == ArcChainStatus::fail) {
    return failed("ARC-Seal i=" + std::to_string(highest) + " says cv=fail");
  }
  // §5.2 step 4: cv=none only at i=1, pass everywhere above.
  for (std::uint32_t i = 1; i <= highest; ++i) {
    const ArcChainStatus expected = i == 1 ? ArcChainStatus::none : ArcChainStatus::pass;
    if (slots[i].seal->chain_status != expected) {
      return failed("ARC-Seal i=" + std::to_string(i) + " has cv=" + std::string(arc_status_name(slots[i].seal->chain_status)));
    }
  }

  ArcChain chain;
  chain.status = ArcChainStatus::pass;
  chain.sets.reserve(highest);
  for (std::uint32_t i = 1; i <= highest; ++i) {
    Slot& slot = slots[i];
    chain.sets.push_back(ArcSet{*slot.fields[0], *slot.fields[1], *slot.fields[2], std::move(*slot.seal),
                                std::move(*slot.message_signature), *slot.auth_results});
  }
  return chain;
}

void write_seal_hash_input(std::span<const ArcSetText> sets, HashSink& sink) {
  for (std::size_t k = 0; k < sets.size(); ++k) {
    canonicalize_header(DkimCanon::relaxed, sets[k].auth_results, sink);
    canonicalize_header(DkimCanon::relaxed, sets[k].message_signature, sink);
    if (k + 1 < sets.size()) {
      canonicalize_header(DkimCanon::relaxed, sets[k].seal, sink);
    } else {
      canonicalize_header(DkimCanon::relaxed, without_b_value(sets[k].seal), sink, /*final_crlf=*/false);
    }
  }
}

std::vector<ArcSetText> arc_set_texts(const ArcChain& chain, std::uint32_t instance) {
  std::vector<ArcSetText> texts;
  for (std::uint32_t k = 0; k < instance && k < chain.sets.size(); ++k) {
    const ArcSet& set = chain.sets[k];
    texts.push_back(ArcSetText{set.auth_results_field.raw, set.message_signature_field.raw, set.seal_field.raw});
  }
  return texts;
}

ArcChainTop find_arc_chain_top(const std::vector<HeaderField>& fields) {
  ArcChainTop top;
  for (const HeaderField& field : fields) {
    const auto kind = arc_field_kind(field.name);
    if (!kind) continue;
    std::optional<std::uint32_t> instance;
    bool failed_seal = false;
    if (*kind == ArcFieldKind::auth_results) {
      if (auto aar = parse_arc_authentication_results(field.value)) instance = aar->instance;
    } else if (auto tags = parse_tag_list(field.value)) {
      if (auto i = find_tag(*tags, "i")) instance = parse_arc_instance(*i);
      if (*kind == ArcFieldKind::seal) failed_seal = find_tag(*tags, "cv") == std::optional<std::string_view>("fail");
    }
    if (!instance) continue;
    if (*instance > top.highest_instance) {
      top.highest_instance = *instance;
      top.newest_seal_failed = false;
    }
    if (*instance == top.highest_instance && failed_seal) top.newest_seal_failed = true;
  }
  return top;
}

}  // namespace postamt::mailauth
