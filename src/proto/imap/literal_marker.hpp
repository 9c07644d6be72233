#pragma once
// Recognises the literal marker that ends an IMAP line (RFC 9051 §4.3 literal,
// RFC 7888 §3 literal-plus `{n+}`, RFC 3516 §4.2 literal8 `~{n}`).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace postamt::proto::imap {

struct LiteralMarker {
  std::uint64_t size = 0;       // saturates at UINT64_MAX for absurd announcements
  bool synchronizing = true;
  bool binary = false;
  std::size_t marker_length = 0;  // octets of "~{n+}" at the end of the line
};

// The marker at the end of `line`, or nothing if the line does not end in one.
std::optional<LiteralMarker> find_literal_marker(std::string_view line);

}  // namespace postamt::proto::imap
