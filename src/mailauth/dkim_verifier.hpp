#pragma once
// DkimVerifier: DKIM verification of one message (RFC 6376 §6, RFC 8301, RFC 8463),
// sans-I/O: it is fed the message in chunks, names the key records it needs as
// DnsQuestions, is fed their answers, and gives one DkimResult per signature.
//
//   DkimVerifier verifier({.now = unix_seconds});
//   verifier.feed(chunk); ...             // the message, any split (header, then body)
//   verifier.finish();                    // end of the message
//   for (q : verifier.questions()) verifier.answer(q, co_await lookup(q));
//   auto results = verifier.results();
//
// questions() may be asked, and answered, as soon as the header has been fed (before
// the body ends): the key checks do not need the body. The message is never held: the
// header is kept until it ends (at most max_head_size), the body goes through one
// canonicaliser and SHA-256 per distinct (body canonicalisation, l=) among the
// signatures, whatever their number.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/mailauth/dkim_signature.hpp"
#include "proto/mailauth/dns_question.hpp"

namespace postamt::mailauth {

// RFC 8601 §2.7.1 dkim results.
enum class DkimStatus { pass, fail, neutral, policy, temperror, permerror };
std::string_view dkim_status_name(DkimStatus status);

struct DkimResult {
  DkimStatus status = DkimStatus::permerror;
  std::string domain;     // d= (empty when the signature could not be read)
  std::string selector;   // s=
  std::string algorithm;  // a= ("rsa-sha256", "ed25519-sha256", "rsa-sha1")
  std::string identity;   // i= (default "@" + d=)
  // RFC 6008 header.b: the first 12 characters of b= (enough to tell signatures apart).
  std::string header_b;
  std::optional<std::uint64_t> body_length;  // l= when the signature had one
  bool body_partly_unsigned = false;         // l= covers less than the whole body
  bool testing = false;                      // the key record says t=y
  std::string reason;                        // why, for the log and A-R comments
};

struct DkimVerifierOptions {
  std::uint64_t now = 0;                   // Unix seconds, for x=; 0: expiry not checked
  std::size_t max_signatures = 10;         // more are permerror, unverified
  std::size_t max_head_size = 256 * 1024;  // header bytes kept until the header ends
  bool accept_body_length = true;          // false: signatures with l= are "policy"
};

class DkimVerifier {
 public:
  explicit DkimVerifier(DkimVerifierOptions options = {});
  ~DkimVerifier();
  DkimVerifier(DkimVerifier&&) noexcept;
  DkimVerifier& operator=(DkimVerifier&&) noexcept;

  // The message as received (header, empty line, body), in order, any split. Bare LF
  // line ends are read as CRLF.
  void feed(std::string_view bytes);
  // The message ended. A message without an empty line is all header, empty body.
  void finish();

  // Once the header is in: whether it has DKIM-Signature fields at all.
  bool header_complete() const { return head_done_; }
  std::size_t signature_count() const;
  // Distinct body hashes being computed (one per (body canonicalisation, l=)).
  std::size_t body_hash_count() const { return body_hashes_.size(); }

  // The TXT questions (`selector._domainkey.domain`), each once, for the signatures
  // still waiting for their key; empty before the header is complete.
  std::vector<DnsQuestion> questions() const;
  // The answer to one of questions(); answers to other questions are ignored.
  void answer(const DnsQuestion& question, const DnsAnswer& answer);

  // One result per DKIM-Signature field, in header order. Call after finish(): before
  // it, or for a key never answered, the result is temperror.
  std::vector<DkimResult> results() const;

 private:
  struct BodyHash;
  struct Entry;
  void take_head(std::string_view head, bool cut_short);
  void feed_body(std::string_view bytes);
  void check_key(Entry& entry, const DnsAnswer& answer);

  DkimVerifierOptions options_;
  std::string head_;  // the header while it arrives
  std::size_t scanned_ = 0;
  bool head_done_ = false;
  bool finished_ = false;
  std::vector<std::unique_ptr<BodyHash>> body_hashes_;
  std::vector<Entry> entries_;
};

}  // namespace postamt::mailauth
