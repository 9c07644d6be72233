#pragma once
// ArcVerifier: ARC chain validation of one message (RFC 8617 §5.2), sans-I/O like
// DkimVerifier: it is fed the message in chunks, names the key records it needs as
// DnsQuestions, is fed their answers, and gives one ArcVerdict.
//
//   ArcVerifier verifier;
//   verifier.feed(chunk); ...             // the message as received, any split
//   verifier.finish();
//   for (q : verifier.questions()) verifier.answer(q, co_await lookup(q));
//   ArcVerdict verdict = verifier.verdict();
//
// (or `co_await verify_arc(verifier, lookup)`, mailauth/arc_lookup.hpp). The questions
// are known once the header is in (header_complete()), so they may be asked while the
// body still streams. Keys asked: `s._domainkey.d` (TXT) of every ARC-Seal and of the
// newest ARC-Message-Signature (an older AMS is checked, for oldest_pass, when its key is
// among those). Bounds: at most 50 sets (§4.2.1), at most 4 body hashes however many
// distinct c=/l= the AMSs name (the newest AMS's always), the header up to max_head_size.
//
// Verify before sealing (ANCHORS §1): ArcSealer takes the verdict given here.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/mailauth/arc_headers.hpp"
#include "proto/mailauth/dns_question.hpp"

namespace postamt::mailauth {

struct ArcVerdict {
  // cv: none (no ARC set), pass (every seal and the newest AMS verified), fail.
  ArcChainStatus status = ArcChainStatus::none;
  // fail only because a key lookup failed temporarily (DNS): worth a later retry;
  // report it as arc=temperror rather than arc=fail if the caller wants to.
  bool temporary = false;
  std::uint32_t instance_count = 0;  // N, the highest instance (0 without a chain)
  // §5.2 step 6, on a passing chain: 0 when every AMS verified, otherwise the lowest
  // instance from which every AMS up to N verified (the newest always does on pass). An
  // older AMS whose key was not asked (see above) counts as not verified.
  std::uint32_t oldest_pass = 0;
  // The d= of each ARC-Seal, i=1 first (filled whenever the chain is well-formed, pass or
  // fail): compare with mailauth.trusted_arc_sealers, and only on pass.
  std::vector<std::string> sealer_domains;
  // The ARC-Authentication-Results payload of each set ("authserv-id; results"), i=1
  // first, as the sealers wrote them (same condition as sealer_domains): what a trusted
  // sealer saw (e.g. its dmarc=pass), to parse with the A-R parser.
  std::vector<std::string> auth_results;
  std::string reason;  // why (fail), for the log and the A-R comment
};

// The local policy of RFC 7489 §10.1 / RFC 8617 §7.2 for mailauth.trusted_arc_sealers:
// on a passing chain, the newest instance whose sealer (AS d=, compared case-insensitively
// with the list, exactly or as a subdomain of a listed domain) is trusted and since which
// the message is unchanged (its AMS and every newer one verified: oldest_pass is 0 or at
// most that instance). nullopt otherwise. The caller may then override a DMARC failure,
// best when that set's auth_results says dmarc=pass.
std::optional<std::uint32_t> trusted_arc_instance(const ArcVerdict& verdict,
                                                  const std::vector<std::string>& trusted_sealers);

struct ArcVerifierOptions {
  std::size_t max_head_size = 256 * 1024;  // header bytes kept until the header ends
};

class ArcVerifier {
 public:
  explicit ArcVerifier(ArcVerifierOptions options = {});
  ~ArcVerifier();
  ArcVerifier(const ArcVerifier&) = delete;
  ArcVerifier& operator=(const ArcVerifier&) = delete;
  // Movable, so a session can keep one per transaction (not while a lookup drives it).
  ArcVerifier(ArcVerifier&&) noexcept;
  ArcVerifier& operator=(ArcVerifier&&) noexcept;

  // The message as received (header, empty line, body), any split; bare LF ends are
  // read as CRLF.
  void feed(std::string_view bytes);
  // The message ended (a message without an empty line is all header).
  void finish();

  bool header_complete() const { return head_done_; }
  // The TXT key questions, each once, not yet answered; empty before the header is
  // complete and for a chain already decided by its form (none, or fail).
  std::vector<DnsQuestion> questions() const;
  void answer(const DnsQuestion& question, const DnsAnswer& answer);

  // After finish() and the answers; an unanswered key counts as a temporary failure.
  ArcVerdict verdict() const;

 private:
  struct BodyHash;
  struct Signature;
  void take_head(std::string_view head, bool cut_short);
  void feed_body(std::string_view bytes);

  ArcVerifierOptions options_;
  std::string head_;  // the header while it arrives
  bool head_done_ = false;
  bool finished_ = false;
  ArcVerdict early_;  // the verdict decided by the chain's form, or the sets' identity
  bool decided_early_ = false;
  std::vector<std::unique_ptr<BodyHash>> body_hashes_;
  std::vector<Signature> seals_;               // [k] is instance k+1
  std::vector<Signature> message_signatures_;  // [k] is instance k+1
};

}  // namespace postamt::mailauth
