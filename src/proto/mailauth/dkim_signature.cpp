#include "proto/mailauth/dkim_signature.hpp"

#include <limits>

#include "base/base64.hpp"
#include "proto/mailauth/message_head.hpp"
#include "proto/mailauth/tag_list.hpp"

namespace postamt::mailauth {

std::string_view algorithm_name(DkimAlgorithm algorithm) {
  switch (algorithm) {
    case DkimAlgorithm::rsa_sha256: return "rsa-sha256";
    case DkimAlgorithm::ed25519_sha256: return "ed25519-sha256";
    case DkimAlgorithm::rsa_sha1: return "rsa-sha1";
  }
  return "";
}

std::string_view canon_name(DkimCanon canon) { return canon == DkimCanon::simple ? "simple" : "relaxed"; }

std::string to_lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<std::uint64_t> parse_decimal(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

bool identity_within_domain(std::string_view identity, std::string_view domain) {
  const std::size_t at = identity.rfind('@');
  if (at == std::string_view::npos) return false;
  const std::string host = to_lower_ascii(identity.substr(at + 1));
  const std::string parent = to_lower_ascii(domain);
  if (host == parent) return true;
  return host.size() > parent.size() + 1 && host.ends_with(parent) && host[host.size() - parent.size() - 1] == '.';
}

namespace {

// RFC 6376 §3.5: d= and s= are domain names (sub-domain *("." sub-domain)); selectors
// may contain "." too. Letters, digits, "-" and "_" (common in selectors) per label.
bool is_domain_like(std::string_view name) {
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

Result<std::string> decode_base64_tag(std::string_view value, std::string_view tag) {
  auto decoded = base64_decode(without_whitespace(value));
  if (!decoded) return permanent_error("bad base64 in " + std::string(tag) + "=");
  return std::move(*decoded);
}

Result<std::pair<DkimCanon, DkimCanon>> parse_canon(std::string_view value) {
  const std::size_t slash = value.find('/');
  auto one = [](std::string_view name) -> std::optional<DkimCanon> {
    if (name == "simple") return DkimCanon::simple;
    if (name == "relaxed") return DkimCanon::relaxed;
    return std::nullopt;
  };
  const auto header = one(value.substr(0, slash));
  // §3.5: "If only one algorithm is named, that algorithm is used for the header and
  // "simple" is used for the body."
  const auto body = slash == std::string_view::npos ? std::optional(DkimCanon::simple) : one(value.substr(slash + 1));
  if (!header || !body) return permanent_error("unknown canonicalization " + std::string(value));
  return std::pair{*header, *body};
}

}  // namespace

Result<DkimSignature> parse_dkim_signature(std::string_view value) {
  auto tags = parse_tag_list(value);
  if (!tags) return std::unexpected(tags.error());
  for (const char* required : {"v", "a", "b", "bh", "d", "h", "s"}) {
    if (!find_tag(*tags, required)) return permanent_error(std::string("missing tag ") + required + "=");
  }
  DkimSignature sig;
  if (*find_tag(*tags, "v") != "1") return permanent_error("unsupported version v=" + std::string(*find_tag(*tags, "v")));

  const std::string algorithm = to_lower_ascii(*find_tag(*tags, "a"));
  if (algorithm == "rsa-sha256") {
    sig.algorithm = DkimAlgorithm::rsa_sha256;
  } else if (algorithm == "ed25519-sha256") {
    sig.algorithm = DkimAlgorithm::ed25519_sha256;
  } else if (algorithm == "rsa-sha1") {
    sig.algorithm = DkimAlgorithm::rsa_sha1;
  } else {
    return permanent_error("unknown algorithm a=" + algorithm);
  }

  sig.b_text = without_whitespace(*find_tag(*tags, "b"));
  auto b = decode_base64_tag(sig.b_text, "b");
  if (!b) return std::unexpected(b.error());
  if (b->empty()) return permanent_error("empty signature b=");
  sig.signature = std::move(*b);
  auto bh = decode_base64_tag(*find_tag(*tags, "bh"), "bh");
  if (!bh) return std::unexpected(bh.error());
  if (bh->empty()) return permanent_error("empty body hash bh=");
  sig.body_hash = std::move(*bh);

  if (auto c = find_tag(*tags, "c")) {
    auto canon = parse_canon(to_lower_ascii(*c));
    if (!canon) return std::unexpected(canon.error());
    sig.header_canon = canon->first;
    sig.body_canon = canon->second;
  }

  const std::string_view domain = *find_tag(*tags, "d");
  if (!is_domain_like(domain)) return permanent_error("bad domain d=");
  sig.domain = to_lower_ascii(domain);

  bool from_signed = false;
  for (auto name : split_trimmed(*find_tag(*tags, "h"), ':')) {
    if (name.empty()) return permanent_error("empty header name in h=");
    for (char c : name) {
      if (c < 33 || c > 126 || c == ':') return permanent_error("bad header name in h=");
    }
    if (field_name_equals(name, "from")) from_signed = true;
    sig.signed_headers.emplace_back(name);
  }
  // §5.4: "The From header field MUST be signed".
  if (!from_signed) return permanent_error("h= does not include From");

  if (auto i = find_tag(*tags, "i")) {
    // i= may be dkim-quoted-printable; "@" and the domain are plain in practice.
    if (i->find('@') == std::string_view::npos) return permanent_error("i= without '@'");
    if (!identity_within_domain(*i, sig.domain)) return permanent_error("i= is not within d=");
    sig.identity = std::string(*i);
  } else {
    sig.identity = "@" + sig.domain;
  }

  if (auto l = find_tag(*tags, "l")) {
    sig.body_length = parse_decimal(*l);
    if (!sig.body_length) return permanent_error("bad body length l=");
  }
  if (auto q = find_tag(*tags, "q")) {
    bool dns_txt = false;
    for (auto method : split_trimmed(*q, ':')) dns_txt = dns_txt || to_lower_ascii(method) == "dns/txt";
    if (!dns_txt) return permanent_error("no supported query method in q=");
  }
  const std::string_view selector = *find_tag(*tags, "s");
  if (!is_domain_like(selector)) return permanent_error("bad selector s=");
  sig.selector = to_lower_ascii(selector);
  if (auto t = find_tag(*tags, "t")) {
    sig.timestamp = parse_decimal(*t);
    if (!sig.timestamp) return permanent_error("bad timestamp t=");
  }
  if (auto x = find_tag(*tags, "x")) {
    sig.expiration = parse_decimal(*x);
    if (!sig.expiration) return permanent_error("bad expiration x=");
    // §3.5: "the value of the "x=" tag MUST be greater than the value of the "t=" tag".
    if (sig.timestamp && *sig.expiration <= *sig.timestamp) return permanent_error("x= not after t=");
  }
  return sig;
}

std::string without_b_value(std::string_view raw_field) {
  // Walks the tag-list of the value (after the first colon) and drops the bytes of the
  // value of the tag named exactly "b", whitespace included, up to the next ";".
  std::string out;
  out.reserve(raw_field.size());
  const std::size_t colon = raw_field.find(':');
  if (colon == std::string_view::npos) return std::string(raw_field);
  out.append(raw_field.substr(0, colon + 1));
  std::size_t pos = colon + 1;
  while (pos < raw_field.size()) {
    std::size_t end = raw_field.find(';', pos);
    if (end == std::string_view::npos) end = raw_field.size();
    const std::string_view spec = raw_field.substr(pos, end - pos);
    const std::size_t equals = spec.find('=');
    if (equals != std::string_view::npos && trim_fws(spec.substr(0, equals)) == "b") {
      out.append(spec.substr(0, equals + 1));
    } else {
      out.append(spec);
    }
    if (end < raw_field.size()) out.push_back(';');
    pos = end + 1;
  }
  return out;
}

}  // namespace postamt::mailauth
