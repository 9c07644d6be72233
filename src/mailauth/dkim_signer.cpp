#include "mailauth/dkim_signer.hpp"

#include "base/base64.hpp"
#include "mailauth/sha256_sink.hpp"
#include "proto/mailauth/dkim_canon.hpp"
#include "proto/mailauth/dkim_signature_builder.hpp"
#include "proto/mailauth/message_head.hpp"

namespace postamt::mailauth {
namespace {

constexpr std::size_t kBodyChunk = 64 * 1024;

}  // namespace

std::string domain_of_address(std::string_view address) {
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  return to_lower_ascii(address.substr(at + 1));
}

void DkimSigner::add_key(std::string domain, std::string selector, DkimPrivateKey key) {
  keys_[to_lower_ascii(domain)].push_back(DkimSigningKey{std::move(selector), std::move(key)});
}

bool DkimSigner::signs_for(std::string_view domain) const { return keys_.find(domain) != keys_.end(); }

std::size_t DkimSigner::key_count() const {
  std::size_t count = 0;
  for (const auto& [domain, keys] : keys_) count += keys.size();
  return count;
}

Result<std::string> DkimSigner::sign(std::string_view message, std::string_view domain, std::uint64_t now) const {
  const auto found = keys_.find(domain);
  if (found == keys_.end()) return std::string();
  const SplitHead head = split_message_head(message);
  if (head.over_limits) return permanent_error("header too large to sign");

  // h=: each field as often as it is present, From and Subject once more (§5.4.2).
  std::vector<std::string> names;
  for (std::string_view name : kSignedFields) {
    std::size_t present = 0;
    for (const auto& field : head.fields) present += field_name_equals(field.name, name) ? 1 : 0;
    const bool oversign = name == "From" || name == "Subject";
    for (std::size_t i = 0; i < present + (oversign ? 1 : 0); ++i) names.emplace_back(name);
  }
  StringSink signed_header;
  for (const HeaderField* field : select_signed_fields(head.fields, names)) {
    canonicalize_header(DkimCanon::relaxed, field->raw, signed_header);
  }

  Sha256Sink body_sink;
  BodyCanonicalizer body(DkimCanon::relaxed, body_sink);
  for (std::string_view rest = message.substr(std::min(head.body_offset, message.size())); !rest.empty();) {
    const std::size_t take = std::min(rest.size(), kBodyChunk);
    body.feed(rest.substr(0, take));
    rest.remove_prefix(take);
  }
  body.finish();
  const std::string body_hash = base64_encode(body_sink.finish());

  std::string fields_out;
  for (const auto& signing : found->second) {
    DkimSignatureFields fields;
    fields.algorithm = signing.key.algorithm();
    fields.domain = std::string(domain);
    fields.selector = signing.selector;
    fields.signed_headers = names;
    fields.body_hash_base64 = body_hash;
    fields.timestamp = now;
    // §3.7: the header data, then this field with an empty b=, without its CRLF.
    Sha256Sink header_sink;
    header_sink.update(signed_header.text);
    canonicalize_header(DkimCanon::relaxed, build_dkim_signature_field(fields), header_sink, false);
    auto signature = signing.key.sign_digest(header_sink.finish());
    if (!signature) return std::unexpected(signature.error());
    fields_out += build_dkim_signature_field(fields, base64_encode(*signature));
    fields_out += "\r\n";
  }
  return fields_out;
}

}  // namespace postamt::mailauth
