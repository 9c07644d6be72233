#include "proto/mailauth/arc_headers.hpp"

#include "base/base64.hpp"
#include "proto/mailauth/message_head.hpp"
#include "proto/mailauth/tag_list.hpp"

namespace postamt::mailauth {

std::string_view arc_status_name(ArcChainStatus status) {
  switch (status) {
    case ArcChainStatus::none: return "none";
    case ArcChainStatus::pass: return "pass";
    case ArcChainStatus::fail: return "fail";
  }
  return "";
}

std::optional<std::uint32_t> parse_arc_instance(std::string_view text) {
  if (text.empty() || text.size() > 2) return std::nullopt;
  std::uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (value < 1 || value > kMaxArcInstance) return std::nullopt;
  return value;
}

bool is_arc_domain_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

namespace {

// The tags every ARC signature field shares.
struct CommonTags {
  std::uint32_t instance = 0;
  DkimAlgorithm algorithm = DkimAlgorithm::rsa_sha256;
  std::string signature;
  std::string domain;
  std::string selector;
  std::optional<std::uint64_t> timestamp;
};

Result<std::string> decode_base64_value(std::string_view value, std::string_view tag) {
  auto decoded = base64_decode(without_whitespace(value));
  if (!decoded) return permanent_error("bad base64 in " + std::string(tag) + "=");
  if (decoded->empty()) return permanent_error("empty " + std::string(tag) + "=");
  return std::move(*decoded);
}

// Tag values are case-sensitive (RFC 6376 §3.2): "RSA-SHA256" is not an algorithm.
Result<CommonTags> parse_common(const std::vector<Tag>& tags) {
  for (const char* required : {"i", "a", "b", "d", "s"}) {
    if (!find_tag(tags, required)) return permanent_error(std::string("missing tag ") + required + "=");
  }
  CommonTags common;
  const auto instance = parse_arc_instance(*find_tag(tags, "i"));
  if (!instance) return permanent_error("bad instance i=");
  common.instance = *instance;

  const std::string_view algorithm = *find_tag(tags, "a");
  if (algorithm == "rsa-sha256") {
    common.algorithm = DkimAlgorithm::rsa_sha256;
  } else if (algorithm == "ed25519-sha256") {
    common.algorithm = DkimAlgorithm::ed25519_sha256;
  } else {
    return permanent_error("unsupported algorithm a=" + std::string(algorithm));
  }
  auto b = decode_base64_value(*find_tag(tags, "b"), "b");
  if (!b) return std::unexpected(b.error());
  common.signature = std::move(*b);

  const std::string_view domain = *find_tag(tags, "d");
  if (!is_arc_domain_name(domain)) return permanent_error("bad domain d=");
  common.domain = to_lower_ascii(domain);
  const std::string_view selector = *find_tag(tags, "s");
  if (!is_arc_domain_name(selector)) return permanent_error("bad selector s=");
  common.selector = to_lower_ascii(selector);
  if (auto t = find_tag(tags, "t")) {
    common.timestamp = parse_decimal(*t);
    if (!common.timestamp) return permanent_error("bad timestamp t=");
  }
  return common;
}

Result<std::pair<DkimCanon, DkimCanon>> parse_canon(std::string_view value) {
  const std::size_t slash = value.find('/');
  auto one = [](std::string_view name) -> std::optional<DkimCanon> {
    if (name == "simple") return DkimCanon::simple;
    if (name == "relaxed") return DkimCanon::relaxed;
    return std::nullopt;
  };
  const auto header = one(value.substr(0, slash));
  // RFC 6376 §3.5: one name alone is the header's, and the body is "simple".
  const auto body = slash == std::string_view::npos ? std::optional(DkimCanon::simple) : one(value.substr(slash + 1));
  if (!header || !body) return permanent_error("unknown canonicalization c=" + std::string(value));
  return std::pair{*header, *body};
}

}  // namespace

Result<ArcSeal> parse_arc_seal(std::string_view value) {
  auto tags = parse_tag_list(value);
  if (!tags) return std::unexpected(tags.error());
  // §4.1.3: "The AS MUST NOT use the h= tag".
  if (find_tag(*tags, "h")) return permanent_error("h= in an ARC-Seal");
  if (!find_tag(*tags, "cv")) return permanent_error("missing tag cv=");
  auto common = parse_common(*tags);
  if (!common) return std::unexpected(common.error());
  ArcSeal seal;
  seal.instance = common->instance;
  seal.algorithm = common->algorithm;
  seal.signature = std::move(common->signature);
  seal.domain = std::move(common->domain);
  seal.selector = std::move(common->selector);
  seal.timestamp = common->timestamp;
  const std::string_view cv = *find_tag(*tags, "cv");
  if (cv == "none") {
    seal.chain_status = ArcChainStatus::none;
  } else if (cv == "pass") {
    seal.chain_status = ArcChainStatus::pass;
  } else if (cv == "fail") {
    seal.chain_status = ArcChainStatus::fail;
  } else {
    return permanent_error("bad chain status cv=");
  }
  return seal;
}

Result<ArcMessageSignature> parse_arc_message_signature(std::string_view value) {
  auto tags = parse_tag_list(value);
  if (!tags) return std::unexpected(tags.error());
  for (const char* required : {"bh", "h"}) {
    if (!find_tag(*tags, required)) return permanent_error(std::string("missing tag ") + required + "=");
  }
  auto common = parse_common(*tags);
  if (!common) return std::unexpected(common.error());
  ArcMessageSignature ams;
  ams.instance = common->instance;
  ams.algorithm = common->algorithm;
  ams.signature = std::move(common->signature);
  ams.domain = std::move(common->domain);
  ams.selector = std::move(common->selector);
  ams.timestamp = common->timestamp;

  auto bh = decode_base64_value(*find_tag(*tags, "bh"), "bh");
  if (!bh) return std::unexpected(bh.error());
  ams.body_hash = std::move(*bh);
  if (auto c = find_tag(*tags, "c")) {
    auto canon = parse_canon(*c);
    if (!canon) return std::unexpected(canon.error());
    ams.header_canon = canon->first;
    ams.body_canon = canon->second;
  }
  const std::string_view names = *find_tag(*tags, "h");
  if (!trim_fws(names).empty()) {
    for (auto name : split_trimmed(names, ':')) {
      for (char c : name) {
        if (c < 33 || c > 126) return permanent_error("bad header name in h=");
      }
      // §4.1.2: "the AMS header field MUST NOT include ... ARC-Seal header fields".
      if (field_name_equals(name, "arc-seal")) return permanent_error("h= lists ARC-Seal");
      ams.signed_headers.emplace_back(name);
    }
  }
  if (auto l = find_tag(*tags, "l")) {
    ams.body_length = parse_decimal(*l);
    if (!ams.body_length) return permanent_error("bad body length l=");
  }
  return ams;
}

Result<ArcAuthenticationResults> parse_arc_authentication_results(std::string_view value) {
  const std::string_view text = trim_fws(value);
  const std::size_t semicolon = text.find(';');
  if (semicolon == std::string_view::npos) return permanent_error("no ';' after the instance");
  const std::string_view instance_tag = trim_fws(text.substr(0, semicolon));
  const std::size_t equals = instance_tag.find('=');
  if (equals == std::string_view::npos || trim_fws(instance_tag.substr(0, equals)) != "i") {
    return permanent_error("the instance i= does not come first");
  }
  const auto instance = parse_arc_instance(trim_fws(instance_tag.substr(equals + 1)));
  if (!instance) return permanent_error("bad instance i=");
  const std::string_view payload = trim_fws(text.substr(semicolon + 1));
  if (payload.empty()) return permanent_error("no authentication results after the instance");
  return ArcAuthenticationResults{*instance, payload};
}

}  // namespace postamt::mailauth
