#pragma once
// DKIM canonicalisation (RFC 6376 §3.4): simple and relaxed, for header fields and for
// the body. Output goes into a HashSink (SHA-256 in mailauth/, a string in tests), so
// nothing is copied whole. Line breaks are written as CRLF whether the input had CRLF
// or a bare LF (messages read from files). Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/mailauth/dkim_signature.hpp"
#include "proto/mailauth/message_head.hpp"

namespace postamt::mailauth {

class HashSink {
 public:
  virtual ~HashSink() = default;
  virtual void update(std::string_view bytes) = 0;
};

// Collects the output (tests, and small signing inputs).
class StringSink final : public HashSink {
 public:
  void update(std::string_view bytes) override { text.append(bytes); }
  std::string text;
};

// One header field, canonicalised, followed by CRLF unless `final_crlf` is false (the
// DKIM-Signature being verified or made is hashed without its CRLF, §3.7). `raw` is the
// whole field as HeaderField::raw holds it.
void canonicalize_header(DkimCanon canon, std::string_view raw, HashSink& sink, bool final_crlf = true);

// The header fields named by h= (§5.4.2): for each name, the last instance not yet
// used, going upwards; a name without an unused instance contributes nothing (that is
// how over-signing works). Returns the chosen fields in hashing order.
std::vector<const HeaderField*> select_signed_fields(const std::vector<HeaderField>& fields,
                                                     const std::vector<std::string>& names);

// The body canonicaliser, fed the body in chunks of any size.
class BodyCanonicalizer {
 public:
  // `limit`: l=, the number of canonical octets that go to the sink (the rest counted).
  BodyCanonicalizer(DkimCanon canon, HashSink& sink, std::optional<std::uint64_t> limit = std::nullopt);
  void feed(std::string_view chunk);
  // Ends the body: §3.4.3/§3.4.4 trailing empty lines, the final CRLF, the empty body.
  void finish();
  // Canonical octets of the whole body (beyond l= too); valid after finish().
  std::uint64_t canonical_length() const { return produced_; }

 private:
  void content(std::string_view run);
  void line_end();
  void write(std::string_view bytes);
  void flush();
  void emit(std::string_view bytes);

  DkimCanon canon_;
  HashSink& sink_;
  std::optional<std::uint64_t> limit_;
  std::uint64_t produced_ = 0;
  std::uint64_t pending_line_ends_ = 0;  // empty lines not written yet (maybe trailing)
  bool pending_cr_ = false;
  bool pending_wsp_ = false;  // relaxed: a run of WSP not written yet
  bool any_content_ = false;
  std::string out_;           // batched output to the sink
};

}  // namespace postamt::mailauth
