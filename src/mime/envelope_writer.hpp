#pragma once
// The IMAP ENVELOPE of a message header (RFC 9051 §7.5.2).
#include <string>

#include "mime/header_fields.hpp"

namespace postamt::mime {

// "(" date SP subject SP from SP sender SP reply-to SP to SP cc SP bcc SP in-reply-to SP
// message-id ")". Values are raw header text, unfolded (RFC 5322 §2.2.3) and trimmed; an
// absent field is NIL, a present but empty one "". The first of repeated fields counts.
// Sender and Reply-To default to From when absent or empty, as RFC 9051 §7.5.2 requires.
// An address list without any address is NIL. Address details: address_list.hpp.
std::string write_envelope(const HeaderFields& headers);

}  // namespace postamt::mime
