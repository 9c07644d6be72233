#include "proto/mailauth/dkim_key_record.hpp"

#include "base/base64.hpp"
#include "proto/mailauth/dkim_signature.hpp"
#include "proto/mailauth/tag_list.hpp"

namespace postamt::mailauth {

bool DkimKeyRecord::allows_sha256() const {
  if (hash_algorithms.empty()) return true;
  for (const auto& name : hash_algorithms) {
    if (name == "sha256") return true;
  }
  return false;
}

Result<DkimKeyRecord> parse_dkim_key_record(std::string_view text) {
  auto tags = parse_tag_list(text);
  if (!tags) return std::unexpected(tags.error());
  DkimKeyRecord record;
  // §3.6.1: v= is optional; "If specified, this tag MUST be set to "DKIM1" ... and
  // MUST be the first tag in the record."
  for (std::size_t i = 0; i < tags->size(); ++i) {
    if ((*tags)[i].name != "v") continue;
    if (i != 0) return permanent_error("v= is not the first tag");
    if ((*tags)[i].value != "DKIM1") return permanent_error("unsupported key record version");
  }
  if (auto k = find_tag(*tags, "k")) {
    const std::string type = to_lower_ascii(*k);
    if (type == "rsa") {
      record.key_type = DkimKeyType::rsa;
    } else if (type == "ed25519") {
      record.key_type = DkimKeyType::ed25519;
    } else {
      return permanent_error("unknown key type k=" + type);
    }
  }
  const auto p = find_tag(*tags, "p");
  if (!p) return permanent_error("key record without p=");
  const std::string p_text = without_whitespace(*p);
  if (!p_text.empty()) {
    auto key = base64_decode(p_text);
    if (!key || key->empty()) return permanent_error("bad base64 in p=");
    record.public_key = std::move(*key);
  }
  if (auto h = find_tag(*tags, "h")) {
    for (auto name : split_trimmed(*h, ':')) {
      if (!name.empty()) record.hash_algorithms.push_back(to_lower_ascii(name));
    }
  }
  if (auto s = find_tag(*tags, "s")) {
    record.email_service = false;
    for (auto service : split_trimmed(*s, ':')) {
      if (service == "*" || to_lower_ascii(service) == "email") record.email_service = true;
    }
  }
  if (auto t = find_tag(*tags, "t")) {
    for (auto flag : split_trimmed(*t, ':')) {
      if (flag == "y") record.testing = true;
      if (flag == "s") record.strict_identity = true;  // unknown flags are ignored (§3.6.1)
    }
  }
  return record;
}

}  // namespace postamt::mailauth
