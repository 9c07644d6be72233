#include "mailauth/arc_verifier.hpp"

#include <algorithm>

#include "mailauth/dkim_crypto.hpp"
#include "mailauth/sha256_sink.hpp"
#include "proto/mailauth/arc_chain.hpp"
#include "proto/mailauth/dkim_canon.hpp"
#include "proto/mailauth/dkim_key_record.hpp"
#include "proto/mailauth/message_head.hpp"
#include "proto/mailauth/tag_list.hpp"

namespace postamt::mailauth {

// One body hash per distinct (body canonicalisation, l=) among the AMSs.
struct ArcVerifier::BodyHash {
  BodyHash(DkimCanon canon_, std::optional<std::uint64_t> limit_)
      : canon(canon_), limit(limit_), canonicalizer(canon_, sink, limit_) {}
  DkimCanon canon;
  std::optional<std::uint64_t> limit;
  Sha256Sink sink;
  BodyCanonicalizer canonicalizer;
  std::string digest;  // after finish()
};

namespace {

constexpr std::size_t kMaxBodyHashes = 4;
constexpr std::size_t kNoBodyHash = static_cast<std::size_t>(-1);

struct KeyVerdict {
  bool valid = false;
  bool temporary = false;
  std::string reason;
};

}  // namespace

// An AS or an AMS waiting for its key.
struct ArcVerifier::Signature {
  DkimAlgorithm algorithm = DkimAlgorithm::rsa_sha256;
  std::string signature;
  std::string header_digest;  // SHA-256 of what the signature covers
  std::string key_name;       // selector._domainkey.domain
  // AMS only: the body hash it claims, the BodyHash computing ours, l=.
  std::string claimed_body_hash;
  DkimCanon body_canon = DkimCanon::relaxed;
  std::size_t body_hash = kNoBodyHash;
  std::optional<std::uint64_t> body_length;
  std::optional<KeyVerdict> key_verdict;
};

namespace {

// RFC 6376 §6.1.2-§6.1.3 for the AS and AMS keys (RFC 8617 §5.2), RFC 8301 §3.2.
KeyVerdict check_key(DkimAlgorithm algorithm, const std::string& key_name, const std::string& digest,
                     const std::string& signature, const DnsAnswer& answer) {
  if (answer.temporary()) return {false, true, "key lookup at " + key_name + " failed temporarily"};
  if (answer.empty()) return {false, false, "no key record at " + key_name};
  if (answer.records.size() > 1) return {false, false, "several key records at " + key_name};
  auto record = parse_dkim_key_record(answer.records.front());
  if (!record) return {false, false, "bad key record at " + key_name + ": " + record.error().message};
  if (record->revoked()) return {false, false, "key at " + key_name + " revoked"};
  if ((record->key_type == DkimKeyType::ed25519) != (algorithm == DkimAlgorithm::ed25519_sha256)) {
    return {false, false, "key type at " + key_name + " does not match a="};
  }
  if (!record->allows_sha256()) return {false, false, "key record h= excludes sha256"};
  if (!record->email_service) return {false, false, "key not for email (s=)"};
  switch (verify_dkim_digest(record->key_type, record->public_key, digest, signature)) {
    case DkimVerifyOutcome::valid: return {true, false, ""};
    case DkimVerifyOutcome::bad_signature: return {false, false, "signature did not verify"};
    case DkimVerifyOutcome::bad_key: return {false, false, "unusable public key at " + key_name};
    case DkimVerifyOutcome::weak_key: return {false, false, "RSA key shorter than 1024 bits (RFC 8301)"};
  }
  return {false, false, "signature did not verify"};
}

std::string key_name(std::string_view selector, std::string_view domain) {
  return std::string(selector) + "._domainkey." + std::string(domain);
}

// Where the header ends: the offset after the empty line, searched from `from` (a
// line start or any later octet), npos if not yet.
std::size_t find_header_end(std::string_view bytes, std::size_t from) {
  if (from == 0) {
    if (bytes.starts_with("\r\n")) return 2;
    if (bytes.starts_with("\n")) return 1;
  }
  for (std::size_t lf = bytes.find('\n', from); lf != std::string_view::npos; lf = bytes.find('\n', lf + 1)) {
    if (lf + 1 < bytes.size() && bytes[lf + 1] == '\n') return lf + 2;
    if (lf + 2 < bytes.size() && bytes[lf + 1] == '\r' && bytes[lf + 2] == '\n') return lf + 3;
  }
  return std::string_view::npos;
}

}  // namespace

ArcVerifier::ArcVerifier(ArcVerifierOptions options) : options_(options) {}
ArcVerifier::~ArcVerifier() = default;
ArcVerifier::ArcVerifier(ArcVerifier&&) noexcept = default;
ArcVerifier& ArcVerifier::operator=(ArcVerifier&&) noexcept = default;

void ArcVerifier::feed(std::string_view bytes) {
  if (finished_) return;
  if (head_done_) {
    feed_body(bytes);
    return;
  }
  // Restart the search a little before the new bytes: the empty line may straddle them.
  const std::size_t from = head_.size() >= 2 ? head_.size() - 2 : 0;
  head_.append(bytes);
  const std::size_t body_offset = find_header_end(head_, from);
  if (body_offset != std::string_view::npos) {
    std::string all = std::move(head_);
    head_.clear();
    take_head(std::string_view(all).substr(0, body_offset), false);
    feed_body(std::string_view(all).substr(body_offset));
  } else if (head_.size() > options_.max_head_size) {
    std::string all = std::move(head_);
    head_.clear();
    take_head(all, true);
  }
}

void ArcVerifier::take_head(std::string_view head, bool cut_short) {
  head_done_ = true;
  const SplitHead split = split_message_head(head, MessageHeadLimits{1000, options_.max_head_size});
  auto decide = [&](ArcChainStatus status, std::string reason) {
    decided_early_ = true;
    early_.status = status;
    early_.reason = std::move(reason);
  };
  if (cut_short || split.over_limits) {
    bool any_arc = false;
    for (const auto& field : split.fields) any_arc = any_arc || is_arc_field_name(field.name);
    return any_arc ? decide(ArcChainStatus::fail, "header too large") : decide(ArcChainStatus::none, "");
  }
  ArcChain chain = collect_arc_chain(split.fields);
  if (chain.status != ArcChainStatus::pass) return decide(chain.status, chain.reason);

  early_.instance_count = static_cast<std::uint32_t>(chain.sets.size());
  for (const ArcSet& set : chain.sets) {
    early_.sealer_domains.push_back(set.seal.domain);
    early_.auth_results.emplace_back(set.auth_results.payload);
  }

  for (std::uint32_t instance = 1; instance <= chain.sets.size(); ++instance) {
    const ArcSet& set = chain.sets[instance - 1];

    Signature seal;
    seal.algorithm = set.seal.algorithm;
    seal.signature = set.seal.signature;
    seal.key_name = key_name(set.seal.selector, set.seal.domain);
    Sha256Sink seal_sink;
    write_seal_hash_input(arc_set_texts(chain, instance), seal_sink);
    seal.header_digest = seal_sink.finish();
    seals_.push_back(std::move(seal));

    // The AMS hashes like a DKIM-Signature (RFC 8617 §4.1.2, RFC 6376 §3.7).
    const ArcMessageSignature& ams = set.message_signature;
    Signature message_signature;
    message_signature.algorithm = ams.algorithm;
    message_signature.signature = ams.signature;
    message_signature.key_name = key_name(ams.selector, ams.domain);
    message_signature.claimed_body_hash = ams.body_hash;
    message_signature.body_length = ams.body_length;
    Sha256Sink header_sink;
    for (const HeaderField* field : select_signed_fields(split.fields, ams.signed_headers)) {
      canonicalize_header(ams.header_canon, field->raw, header_sink);
    }
    canonicalize_header(ams.header_canon, without_b_value(set.message_signature_field.raw), header_sink, false);
    message_signature.header_digest = header_sink.finish();
    message_signature.body_canon = ams.body_canon;
    message_signatures_.push_back(std::move(message_signature));
  }

  // Body hashes, the newest AMS first: it decides, so it always gets one. The older ones
  // only refine oldest-pass; past kMaxBodyHashes distinct (c=, l=) pairs they go
  // unchecked, so 50 sets cannot make us hash the body 50 times.
  for (auto it = message_signatures_.rbegin(); it != message_signatures_.rend(); ++it) {
    std::size_t index = 0;
    while (index < body_hashes_.size() &&
           (body_hashes_[index]->canon != it->body_canon || body_hashes_[index]->limit != it->body_length)) {
      ++index;
    }
    if (index == body_hashes_.size()) {
      if (body_hashes_.size() >= kMaxBodyHashes) continue;  // body_hash stays kNoBodyHash
      body_hashes_.push_back(std::make_unique<BodyHash>(it->body_canon, it->body_length));
    }
    it->body_hash = index;
  }
}

void ArcVerifier::feed_body(std::string_view bytes) {
  if (bytes.empty()) return;
  for (auto& hash : body_hashes_) hash->canonicalizer.feed(bytes);
}

void ArcVerifier::finish() {
  if (finished_) return;
  if (!head_done_) {
    std::string all = std::move(head_);
    head_.clear();
    take_head(all, false);  // all header, no body
  }
  finished_ = true;
  for (auto& hash : body_hashes_) {
    hash->canonicalizer.finish();
    hash->digest = hash->sink.finish();
  }
}

std::vector<DnsQuestion> ArcVerifier::questions() const {
  std::vector<DnsQuestion> asked;
  auto add = [&](const Signature& signature) {
    if (signature.key_verdict) return;
    DnsQuestion question{signature.key_name, RecordType::txt};
    for (const auto& q : asked) {
      if (q == question) return;
    }
    asked.push_back(std::move(question));
  };
  if (!head_done_ || decided_early_) return asked;
  // Every seal's key and the newest AMS's: those decide. An older AMS is checked (for
  // oldest-pass) only when its key is one of these, as it is when each sealer uses one
  // key: a chain then costs one lookup per sealer key, and answer() feeds every signature
  // of the name.
  add(message_signatures_.back());
  for (auto it = seals_.rbegin(); it != seals_.rend(); ++it) add(*it);
  return asked;
}

void ArcVerifier::answer(const DnsQuestion& question, const DnsAnswer& answer) {
  if (question.type != RecordType::txt) return;
  auto take = [&](std::vector<Signature>& signatures) {
    for (auto& signature : signatures) {
      if (signature.key_verdict || signature.key_name != question.name) continue;
      signature.key_verdict =
          check_key(signature.algorithm, signature.key_name, signature.header_digest, signature.signature, answer);
    }
  };
  take(seals_);
  take(message_signatures_);
}

ArcVerdict ArcVerifier::verdict() const {
  ArcVerdict verdict = early_;
  if (decided_early_) return verdict;
  auto fail = [&](std::string reason, bool temporary) {
    verdict.status = ArcChainStatus::fail;
    verdict.temporary = temporary;
    verdict.reason = std::move(reason);
    return verdict;
  };
  if (!finished_) return fail("message incomplete", true);

  // The AMS check: body hash, then the key's verdict on the header hash.
  auto check_message_signature = [&](const Signature& ams) -> KeyVerdict {
    if (ams.body_hash == kNoBodyHash) return {false, false, "body hash not computed (too many distinct c=/l=)"};
    const BodyHash& hash = *body_hashes_[ams.body_hash];
    if (ams.body_length && *ams.body_length > hash.canonicalizer.canonical_length()) {
      return {false, false, "l= is longer than the body"};
    }
    if (hash.digest != ams.claimed_body_hash) return {false, false, "body hash did not verify"};
    if (!ams.key_verdict) return {false, true, "key " + ams.key_name + " not looked up"};
    return *ams.key_verdict;
  };

  const std::uint32_t newest = verdict.instance_count;
  // §5.2 step 5: the newest AMS must verify.
  const KeyVerdict newest_ams = check_message_signature(message_signatures_.back());
  if (!newest_ams.valid) {
    return fail("ARC-Message-Signature i=" + std::to_string(newest) + ": " + newest_ams.reason, newest_ams.temporary);
  }
  // §5.2 step 6: oldest-pass, going down from N-1.
  verdict.oldest_pass = 0;
  for (std::uint32_t instance = newest - 1; instance >= 1; --instance) {
    if (!check_message_signature(message_signatures_[instance - 1]).valid) {
      verdict.oldest_pass = instance + 1;
      break;
    }
  }
  // §5.2 step 7: every ARC-Seal, the newest first.
  for (std::uint32_t instance = newest; instance >= 1; --instance) {
    const Signature& seal = seals_[instance - 1];
    if (!seal.key_verdict) return fail("ARC-Seal i=" + std::to_string(instance) + ": key not looked up", true);
    if (!seal.key_verdict->valid) {
      return fail("ARC-Seal i=" + std::to_string(instance) + ": " + seal.key_verdict->reason,
                  seal.key_verdict->temporary);
    }
  }
  verdict.status = ArcChainStatus::pass;
  return verdict;
}

std::optional<std::uint32_t> trusted_arc_instance(const ArcVerdict& verdict,
                                                  const std::vector<std::string>& trusted_sealers) {
  if (verdict.status != ArcChainStatus::pass) return std::nullopt;
  auto trusted = [&](const std::string& domain) {
    for (const auto& listed : trusted_sealers) {
      const std::string name = to_lower_ascii(trim_fws(listed));
      if (name.empty()) continue;
      if (domain == name) return true;
      if (domain.size() > name.size() + 1 && domain.ends_with(name) && domain[domain.size() - name.size() - 1] == '.') {
        return true;
      }
    }
    return false;
  };
  const auto newest = std::min<std::size_t>(verdict.instance_count, verdict.sealer_domains.size());
  for (auto instance = static_cast<std::uint32_t>(newest); instance >= 1; --instance) {
    if (verdict.oldest_pass != 0 && instance < verdict.oldest_pass) break;  // changed after this set
    if (trusted(verdict.sealer_domains[instance - 1])) return instance;
  }
  return std::nullopt;
}

}  // namespace postamt::mailauth
