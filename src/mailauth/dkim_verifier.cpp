#include "mailauth/dkim_verifier.hpp"

#include "mailauth/dkim_crypto.hpp"
#include "mailauth/sha256_sink.hpp"
#include "proto/mailauth/dkim_canon.hpp"
#include "proto/mailauth/dkim_key_record.hpp"
#include "proto/mailauth/message_head.hpp"
#include "proto/mailauth/tag_list.hpp"

namespace postamt::mailauth {

std::string_view dkim_status_name(DkimStatus status) {
  switch (status) {
    case DkimStatus::pass: return "pass";
    case DkimStatus::fail: return "fail";
    case DkimStatus::neutral: return "neutral";
    case DkimStatus::policy: return "policy";
    case DkimStatus::temperror: return "temperror";
    case DkimStatus::permerror: return "permerror";
  }
  return "permerror";
}

// One body hash: a canonicaliser feeding SHA-256, shared by every signature with the
// same body canonicalisation and l=.
struct DkimVerifier::BodyHash {
  BodyHash(DkimCanon canon_, std::optional<std::uint64_t> limit_)
      : canon(canon_), limit(limit_), canonicalizer(canon_, sink, limit_) {}
  DkimCanon canon;
  std::optional<std::uint64_t> limit;
  Sha256Sink sink;
  BodyCanonicalizer canonicalizer;
  std::string digest;  // after finish()
};

struct DkimVerifier::Entry {
  DkimResult result;               // identification, and the verdict once final
  bool final = false;              // decided without key or body (a parse error, …)
  std::optional<DkimSignature> signature;
  std::string header_digest;       // SHA-256 of the canonical header data (§3.7)
  std::size_t body_hash = 0;       // index into body_hashes_
  std::string key_name;            // selector._domainkey.domain
  std::optional<std::pair<DkimStatus, std::string>> key_verdict;  // after answer()
};

namespace {

constexpr std::size_t kHeaderBPrefix = 12;

std::string key_question_name(const DkimSignature& signature) {
  return signature.selector + "._domainkey." + signature.domain;
}

}  // namespace

DkimVerifier::DkimVerifier(DkimVerifierOptions options) : options_(options) {}
DkimVerifier::~DkimVerifier() = default;
DkimVerifier::DkimVerifier(DkimVerifier&&) noexcept = default;
DkimVerifier& DkimVerifier::operator=(DkimVerifier&&) noexcept = default;

std::size_t DkimVerifier::signature_count() const { return entries_.size(); }

void DkimVerifier::feed(std::string_view bytes) {
  if (finished_) return;
  if (head_done_) {
    feed_body(bytes);
    return;
  }
  head_.append(bytes);
  // Look for the empty line from a little before the new bytes (it may straddle them).
  const std::size_t from = scanned_ >= 2 ? scanned_ - 2 : 0;
  std::size_t body_offset = std::string::npos;
  if (from == 0) {
    body_offset = find_body_offset(head_);
  } else {
    for (std::size_t lf = head_.find('\n', from); lf != std::string::npos; lf = head_.find('\n', lf + 1)) {
      // An empty line: LF followed by (CR) LF.
      if (lf + 1 < head_.size() && head_[lf + 1] == '\n') {
        body_offset = lf + 2;
        break;
      }
      if (lf + 2 < head_.size() && head_[lf + 1] == '\r' && head_[lf + 2] == '\n') {
        body_offset = lf + 3;
        break;
      }
    }
  }
  scanned_ = head_.size();
  if (body_offset != std::string::npos) {
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

void DkimVerifier::take_head(std::string_view head, bool cut_short) {
  head_done_ = true;
  const auto split = split_message_head(head, MessageHeadLimits{1000, options_.max_head_size});
  for (const auto& field : split.fields) {
    if (!field_name_equals(field.name, "DKIM-Signature")) continue;
    Entry entry;
    // Identification even for a signature that does not parse, where readable.
    if (auto tags = parse_tag_list(field.value)) {
      if (auto d = find_tag(*tags, "d")) entry.result.domain = to_lower_ascii(*d);
      if (auto s = find_tag(*tags, "s")) entry.result.selector = std::string(*s);
      if (auto a = find_tag(*tags, "a")) entry.result.algorithm = to_lower_ascii(*a);
      if (auto b = find_tag(*tags, "b")) entry.result.header_b = without_whitespace(*b).substr(0, kHeaderBPrefix);
    }
    auto finalize = [&](DkimStatus status, std::string reason) {
      entry.final = true;
      entry.result.status = status;
      entry.result.reason = std::move(reason);
    };
    auto parsed = parse_dkim_signature(field.value);
    if (entries_.size() >= options_.max_signatures) {
      finalize(DkimStatus::permerror, "too many signatures, not verified");
    } else if (cut_short || split.over_limits) {
      finalize(DkimStatus::permerror, "header too large");
    } else if (!parsed) {
      finalize(DkimStatus::permerror, parsed.error().message);
    } else {
      entry.result.domain = parsed->domain;
      entry.result.selector = parsed->selector;
      entry.result.identity = parsed->identity;
      entry.result.algorithm = std::string(algorithm_name(parsed->algorithm));
      entry.result.body_length = parsed->body_length;
      if (parsed->algorithm == DkimAlgorithm::rsa_sha1) {
        finalize(DkimStatus::policy, "rsa-sha1 is not accepted (RFC 8301)");
      } else if (options_.now != 0 && parsed->expiration && options_.now > *parsed->expiration) {
        finalize(DkimStatus::permerror, "signature expired");
      } else if (parsed->body_length && !options_.accept_body_length) {
        finalize(DkimStatus::policy, "l= not accepted");
      } else {
        // §3.7: the header hash: the h= fields, then this field with b= emptied, no CRLF.
        Sha256Sink sink;
        for (const HeaderField* signed_field : select_signed_fields(split.fields, parsed->signed_headers)) {
          canonicalize_header(parsed->header_canon, signed_field->raw, sink);
        }
        canonicalize_header(parsed->header_canon, without_b_value(field.raw), sink, false);
        entry.header_digest = sink.finish();
        entry.key_name = key_question_name(*parsed);
        std::size_t index = 0;
        while (index < body_hashes_.size() &&
               (body_hashes_[index]->canon != parsed->body_canon || body_hashes_[index]->limit != parsed->body_length)) {
          ++index;
        }
        if (index == body_hashes_.size()) {
          body_hashes_.push_back(std::make_unique<BodyHash>(parsed->body_canon, parsed->body_length));
        }
        entry.body_hash = index;
        entry.signature = std::move(*parsed);
      }
    }
    entries_.push_back(std::move(entry));
  }
}

void DkimVerifier::feed_body(std::string_view bytes) {
  if (bytes.empty()) return;
  for (auto& hash : body_hashes_) hash->canonicalizer.feed(bytes);
}

void DkimVerifier::finish() {
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

std::vector<DnsQuestion> DkimVerifier::questions() const {
  std::vector<DnsQuestion> asked;
  for (const auto& entry : entries_) {
    if (entry.final || entry.key_verdict || entry.key_name.empty()) continue;
    DnsQuestion question{entry.key_name, RecordType::txt};
    bool seen = false;
    for (const auto& q : asked) seen = seen || q == question;
    if (!seen) asked.push_back(std::move(question));
  }
  return asked;
}

void DkimVerifier::answer(const DnsQuestion& question, const DnsAnswer& answer) {
  if (question.type != RecordType::txt) return;
  for (auto& entry : entries_) {
    if (entry.final || entry.key_verdict || entry.key_name != question.name) continue;
    check_key(entry, answer);
  }
}

// RFC 6376 §6.1.2 (key retrieval) and §6.1.3 (the signature), RFC 8301 §3.2.
void DkimVerifier::check_key(Entry& entry, const DnsAnswer& answer) {
  auto verdict = [&](DkimStatus status, std::string reason) { entry.key_verdict = {status, std::move(reason)}; };
  if (answer.temporary()) return verdict(DkimStatus::temperror, "key lookup failed temporarily");
  if (answer.empty()) return verdict(DkimStatus::permerror, "no key record at " + entry.key_name);
  if (answer.records.size() > 1) return verdict(DkimStatus::permerror, "several key records at " + entry.key_name);
  auto record = parse_dkim_key_record(answer.records.front());
  if (!record) return verdict(DkimStatus::permerror, "bad key record: " + record.error().message);
  entry.result.testing = record->testing;
  if (record->revoked()) return verdict(DkimStatus::fail, "key revoked");
  const DkimSignature& signature = *entry.signature;
  const bool ed25519 = signature.algorithm == DkimAlgorithm::ed25519_sha256;
  if ((record->key_type == DkimKeyType::ed25519) != ed25519) {
    return verdict(DkimStatus::permerror, "key type does not match a=");
  }
  if (!record->allows_sha256()) return verdict(DkimStatus::permerror, "key record h= excludes sha256");
  if (!record->email_service) return verdict(DkimStatus::permerror, "key not for email (s=)");
  if (record->strict_identity) {
    const std::size_t at = signature.identity.rfind('@');
    if (to_lower_ascii(std::string_view(signature.identity).substr(at + 1)) != signature.domain) {
      return verdict(DkimStatus::permerror, "key t=s forbids a subdomain in i=");
    }
  }
  switch (verify_dkim_digest(record->key_type, record->public_key, entry.header_digest, signature.signature)) {
    case DkimVerifyOutcome::valid: return verdict(DkimStatus::pass, "");
    case DkimVerifyOutcome::bad_signature: return verdict(DkimStatus::fail, "signature did not verify");
    case DkimVerifyOutcome::bad_key: return verdict(DkimStatus::permerror, "unusable public key");
    case DkimVerifyOutcome::weak_key: return verdict(DkimStatus::permerror, "RSA key shorter than 1024 bits (RFC 8301)");
  }
}

std::vector<DkimResult> DkimVerifier::results() const {
  std::vector<DkimResult> out;
  out.reserve(entries_.size());
  for (const auto& entry : entries_) {
    DkimResult result = entry.result;
    if (entry.final) {
      out.push_back(std::move(result));
      continue;
    }
    const DkimSignature& signature = *entry.signature;
    result.header_b = signature.b_text.substr(0, kHeaderBPrefix);
    auto set = [&](DkimStatus status, std::string reason) {
      result.status = status;
      result.reason = std::move(reason);
    };
    const BodyHash& hash = *body_hashes_[entry.body_hash];
    if (!finished_) {
      set(DkimStatus::temperror, "message incomplete");
    } else if (signature.body_length && *signature.body_length > hash.canonicalizer.canonical_length()) {
      // §3.5: l= longer than the body makes the signature invalid.
      set(DkimStatus::permerror, "l= is longer than the body");
    } else if (hash.digest != signature.body_hash) {
      set(DkimStatus::fail, "body hash did not verify");
    } else if (!entry.key_verdict) {
      set(DkimStatus::temperror, "key not looked up");
    } else {
      set(entry.key_verdict->first, entry.key_verdict->second);
    }
    if (signature.body_length && hash.canonicalizer.canonical_length() > *signature.body_length) {
      result.body_partly_unsigned = true;
      if (result.status == DkimStatus::pass) result.reason = "l= leaves part of the body unsigned";
    }
    out.push_back(std::move(result));
  }
  return out;
}

}  // namespace postamt::mailauth
