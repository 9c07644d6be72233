#pragma once
// ContentFields: the MIME header fields of one entity as BODYSTRUCTURE presents them
// (RFC 9051 §7.5.2): media type and parameters (RFC 2045 §5), transfer encoding (§6),
// id and description (§7, §8), disposition (RFC 2183), language (RFC 3282), location
// (RFC 2557) and MD5 (RFC 1864).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mime/header_fields.hpp"
#include "mime/media_parameters.hpp"

namespace postamt::mime {

// The type an entity has when its Content-Type is absent or invalid.
enum class DefaultType {
  text_plain,      // RFC 2045 §5.2: text/plain; charset=us-ascii
  message_rfc822,  // body parts of multipart/digest, RFC 2046 §5.1.5
};

struct ContentFields {
  std::string type;     // as written (case kept), or the default
  std::string subtype;  // as written, or the default
  std::vector<MediaParameter> parameters;
  bool defaulted = true;  // no usable Content-Type field

  std::optional<std::string> transfer_encoding;  // the token as written
  std::optional<std::string> id;
  std::optional<std::string> description;  // raw: RFC 2047 words are not decoded
  std::optional<std::string> md5;
  std::optional<std::string> disposition;  // the disposition type as written
  std::vector<MediaParameter> disposition_parameters;
  std::vector<std::string> languages;
  std::optional<std::string> location;

  bool is_multipart() const;
  // Only message/rfc822 encapsulates a message here. RFC 9051 also lets message/global
  // (RFC 6532) carry an envelope, but the cached BODYSTRUCTURE is served to IMAP4rev1
  // clients too, whose grammar (RFC 3501 media-message) knows only RFC822; as a basic
  // body, message/global is valid for both.
  bool is_message_rfc822() const;
  bool is_text() const;

  // The value of a Content-Type parameter; `name` in lower case.
  std::optional<std::string_view> parameter(std::string_view name) const;

  // Replaces the media type by application/octet-stream (used past the nesting limits).
  void make_opaque();
};

// Content-* fields are honoured whether or not MIME-Version is present: RFC 2045 §4 makes
// it the mark of a MIME message, but real senders omit it and real servers (Dovecot by
// default) do not insist; without it and without Content-Type the defaults apply anyway.
ContentFields parse_content_fields(const HeaderFields& headers, DefaultType default_type);

}  // namespace postamt::mime
