#include "storage/api/name_rules.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace postamt::storage {
namespace {

constexpr std::size_t kMaxDomainOctets = 253;
constexpr std::size_t kMaxLabelOctets = 63;
constexpr std::size_t kMaxLocalPartOctets = 64;
constexpr std::size_t kMaxAddressOctets = 254;
constexpr std::size_t kMaxMailboxNameOctets = 1000;
constexpr std::size_t kMaxFlagOctets = 255;
constexpr std::string_view kInbox = "INBOX";

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

bool is_ascii_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals_ascii(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(), ascii_lower);
  return out;
}

// RFC 9051 §9: atom-specials are "(" ")" "{" SP CTL list-wildcards quoted-specials "]".
bool is_atom_char(unsigned char c) {
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case '(':
    case ')':
    case '{':
    case '%':
    case '*':
    case '"':
    case '\\':
    case ']':
      return false;
    default:
      return true;
  }
}

constexpr std::array<std::string_view, 5> kSystemFlags = {"\\Answered", "\\Deleted", "\\Draft",
                                                          "\\Flagged", "\\Seen"};

}  // namespace

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    std::uint32_t code = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      length = 2;
      code = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      length = 3;
      code = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      length = 4;
      code = c & 0x07;
    } else {
      return false;  // continuation byte, overlong lead (c0, c1) or beyond U+10FFFF
    }
    if (text.size() - i < length) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      code = (code << 6) | (cc & 0x3f);
    }
    if ((length == 3 && code < 0x800) || (length == 4 && code < 0x10000)) return false;
    if (code >= 0xd800 && code <= 0xdfff) return false;
    if (code > 0x10ffff) return false;
    i += length;
  }
  return true;
}

bool is_valid_blob_id(std::string_view blob_id) {
  return blob_id.size() == 64 && std::ranges::all_of(blob_id, [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

NameResult<std::string> normalize_domain_name(std::string_view name) {
  if (name.empty()) return std::unexpected("The domain name is empty.");
  if (name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return std::unexpected("The domain name has no labels.");
  if (name.size() > kMaxDomainOctets)
    return std::unexpected("The domain name is longer than 253 octets.");
  if (!is_valid_utf8(name)) return std::unexpected("The domain name is not valid UTF-8.");
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t dot = std::min(name.find('.', start), name.size());
    const std::string_view label = name.substr(start, dot - start);
    if (label.empty()) return std::unexpected("The domain name has an empty label.");
    if (label.size() > kMaxLabelOctets)
      return std::unexpected("A label of the domain name is longer than 63 octets.");
    if (label.front() == '-' || label.back() == '-')
      return std::unexpected("A label of the domain name begins or ends with a hyphen.");
    for (const char ch : label) {
      const auto c = static_cast<unsigned char>(ch);
      if (!is_ascii_alnum(c) && c != '-' && c < 0x80)
        return std::unexpected(
            "The domain name holds a character other than letters, digits, "
            "hyphens and dots.");
    }
    start = dot + 1;
  }
  return lower_ascii(name);
}

NameResult<std::string> normalize_address(std::string_view address) {
  if (address.empty()) return std::unexpected("The address is empty.");
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return std::unexpected("The address has no '@'.");
  if (address.find('@') != at) return std::unexpected("The address has more than one '@'.");
  const std::string_view local = address.substr(0, at);
  if (local.empty()) return std::unexpected("The address has an empty local part.");
  if (local.size() > kMaxLocalPartOctets)
    return std::unexpected("The local part of the address is longer than 64 octets.");
  for (const char ch : local) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_control(c) || c == ' ' || c == '<' || c == '>')
      return std::unexpected(
          "The local part of the address holds a control character, a "
          "space or an angle bracket.");
  }
  if (!is_valid_utf8(local))
    return std::unexpected("The local part of the address is not valid UTF-8.");
  auto domain = normalize_domain_name(address.substr(at + 1));
  if (!domain) return std::unexpected(std::move(domain.error()));
  std::string out;
  out.reserve(local.size() + 1 + domain->size());
  out.append(local).append("@").append(*domain);
  if (out.size() > kMaxAddressOctets)
    return std::unexpected("The address is longer than 254 octets.");
  return out;
}

NameResult<std::string> normalize_alias_source(std::string_view source) {
  if (!source.empty() && source.front() == '@') {
    auto domain = normalize_domain_name(source.substr(1));
    if (!domain) return std::unexpected(std::move(domain.error()));
    return "@" + *domain;
  }
  return normalize_address(source);
}

std::string_view domain_of(std::string_view normalized_address) {
  const std::size_t at = normalized_address.rfind('@');
  return at == std::string_view::npos ? std::string_view{} : normalized_address.substr(at + 1);
}

NameResult<std::string> normalize_mailbox_name(std::string_view name) {
  if (name.empty()) return std::unexpected("The mailbox name is empty.");
  if (name.size() > kMaxMailboxNameOctets)
    return std::unexpected("The mailbox name is longer than 1000 octets.");
  if (std::ranges::any_of(name, [](char c) { return is_control(static_cast<unsigned char>(c)); }))
    return std::unexpected("The mailbox name holds a control character.");
  if (!is_valid_utf8(name)) return std::unexpected("The mailbox name is not valid UTF-8.");
  if (name.front() == '/' || name.back() == '/')
    return std::unexpected("The mailbox name begins or ends with the hierarchy separator '/'.");
  if (name.find("//") != std::string_view::npos)
    return std::unexpected("The mailbox name has an empty hierarchy level ('//').");
  // "." and ".." mean nothing in IMAP, but clients that mirror names as directories
  // (Maildir, mbox trees) would read them as paths: refused.
  for (std::size_t begin = 0; begin <= name.size();) {
    const std::size_t end = std::min(name.find('/', begin), name.size());
    const std::string_view level = name.substr(begin, end - begin);
    if (level == "." || level == "..")
      return std::unexpected("The mailbox name has a '.' or '..' hierarchy level.");
    begin = end + 1;
  }
  if (iequals_ascii(name, kInbox)) return std::string(kInbox);
  if (name.size() > kInbox.size() && name[kInbox.size()] == '/' &&
      iequals_ascii(name.substr(0, kInbox.size()), kInbox))
    return std::string(kInbox) + std::string(name.substr(kInbox.size()));
  return std::string(name);
}

NameResult<std::vector<std::string>> normalize_flags(std::span<const std::string> flags) {
  std::vector<std::string> out;
  out.reserve(flags.size());
  for (const std::string& flag : flags) {
    if (flag.empty()) return std::unexpected("A flag is empty.");
    if (flag.size() > kMaxFlagOctets) return std::unexpected("A flag is longer than 255 octets.");
    const std::string_view atom = flag.front() == '\\' ? std::string_view(flag).substr(1) : flag;
    if (atom.empty() || !std::ranges::all_of(atom, [](char c) {
          return is_atom_char(static_cast<unsigned char>(c));
        }))
      return std::unexpected("The flag '" + flag + "' is not an IMAP atom.");
    std::string canonical = flag;
    for (const std::string_view system : kSystemFlags)
      if (iequals_ascii(flag, system)) canonical = system;
    // RFC 9051 §9 flag-extension: "\" flags other than the defined ones are reserved for
    // future standards; a client may not invent them.
    if (canonical.front() == '\\' && canonical == flag &&
        std::ranges::none_of(kSystemFlags, [&](std::string_view s) { return s == canonical; }))
      return std::unexpected("The flag '" + flag + "' is not a system flag.");
    // Flags compare case-insensitively; the first spelling of a keyword wins.
    if (std::ranges::none_of(out,
                             [&](const std::string& f) { return iequals_ascii(f, canonical); }))
      out.push_back(std::move(canonical));
  }
  std::ranges::sort(out);
  return out;
}

}  // namespace postamt::storage
