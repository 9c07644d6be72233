#pragma once
// The filters' header changes (filter::HeaderChange: a milter's SMFIR_ADDHEADER,
// SMFIR_INSHEADER and SMFIR_CHGHEADER, rspamd's milter block, our X-Spam-Status) as
// splices of the stored message (MessageSpool::HeadEdit), located in the message's own
// header. Indices refer to the header as the message arrived (a milter that changes
// several fields by index sees them as sent); our trace fields are not counted.
#include <string>
#include <string_view>
#include <vector>

#include "filter/filter.hpp"
#include "smtp/message_spool.hpp"

namespace postamt::smtp {

// `head`: the start of the message (MessageSpool::head()). Every X-Spam-* field the
// message came with is dropped when `drop_incoming_verdicts` (mail from outside).
void add_header_changes(std::string_view head, const std::vector<filter::HeaderChange>& changes,
                        bool drop_incoming_verdicts, MessageSpool::HeadEdit& edit);

// "Name: value" + CRLF, the value folded (RFC 5322 §2.2.3) at a space or after a comma so
// no line passes 78 octets where that is possible; CR and LF inside the value that do not
// start a continuation line are replaced by spaces.
std::string header_field_line(std::string_view name, std::string_view value);

// "Name: value" + CRLF as the filter gave it (HeaderChange::verbatim): one space after the
// colon unless the value starts with WSP, folds kept, nothing refolded.
std::string verbatim_field_line(std::string_view name, std::string_view value);

}  // namespace postamt::smtp
