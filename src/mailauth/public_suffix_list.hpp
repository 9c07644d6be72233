#pragma once
// The Public Suffix List for DMARC's RFC 7489 mode (RFC 7489 §3.2): the organisational
// domain is the registrable domain, one label below the longest public suffix. Backed by
// Debian's libpsl with the list the `publicsuffix` package installs; libpsl stays in the .cpp.
#include <memory>
#include <string>
#include <string_view>

#include "base/result.hpp"

struct psl_ctx_st;

namespace postamt::mailauth {

class PublicSuffixList {
 public:
  // An empty path: the newer of libpsl's built-in list and the distribution's file
  // (/usr/share/publicsuffix/public_suffix_list.dafsa on Debian). Otherwise that file
  // (.dat text or .dafsa). A start-up call; the list is immutable and thread-safe after.
  static Result<PublicSuffixList> load(const std::string& path = {});

  // The organisational domain of a lower-case name (A-labels or UTF-8): the registrable
  // domain, or the name itself when it is a public suffix or shorter.
  std::string organisational_domain(std::string_view domain) const;

 private:
  explicit PublicSuffixList(std::shared_ptr<const psl_ctx_st> context) : context_(std::move(context)) {}
  std::shared_ptr<const psl_ctx_st> context_;
};

}  // namespace postamt::mailauth
