#pragma once
// Internationalised domain names in DNS form. An EAI message (RFC 6532) may carry a From
// domain in UTF-8 (U-labels); its DMARC record is published under the A-label form
// (xn--..., RFC 5890), so the name must be converted before any lookup — otherwise
// "bücher.example" would find no policy and a p=reject domain could be spoofed.
// Backed by libidn2 (IDNA2008 with UTS #46 non-transitional mapping); kept to this .cpp.
#include <optional>
#include <string>
#include <string_view>

namespace postamt::mailauth {

// ASCII names come back lower-cased; UTF-8 ones as A-labels; nullopt when the name is not
// a valid IDN (the caller treats it as no usable domain).
std::optional<std::string> to_a_labels(std::string_view domain);

}  // namespace postamt::mailauth
