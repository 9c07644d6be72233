#include "mime/analyze_message.hpp"

#include <algorithm>
#include <new>

#include "mime/address_list.hpp"
#include "mime/body_structure_writer.hpp"
#include "mime/envelope_writer.hpp"
#include "mime/header_decoding.hpp"
#include "mime/mime_scanner.hpp"
#include "mime/part_table.hpp"

namespace postamt::mime {

namespace {

MessageMetadata analyze(std::string_view raw) {
  const MimeEntity message = MimeScanner(raw).scan();

  MessageMetadata metadata;
  metadata.envelope = write_envelope(message.headers);
  metadata.bodystructure = write_body_structure(message, raw, true);
  metadata.body = write_body_structure(message, raw, false);
  metadata.parts = build_part_table(message);
  metadata.size = raw.size();
  metadata.lines = static_cast<std::size_t>(std::count(raw.begin(), raw.end(), '\n'));

  const HeaderFields& headers = message.headers;
  if (auto date = headers.raw(HeaderName::date)) metadata.date = parse_date(*date);
  if (auto subject = headers.raw(HeaderName::subject))
    metadata.subject = decode_header_text(*subject);
  if (auto from = headers.raw(HeaderName::from))
    metadata.from = format_address_list_for_search(*from);
  if (auto to = headers.raw(HeaderName::to)) metadata.to = format_address_list_for_search(*to);
  if (auto cc = headers.raw(HeaderName::cc)) metadata.cc = format_address_list_for_search(*cc);
  return metadata;
}

// What is left when even best-effort analysis ran out of memory: one opaque part.
MessageMetadata fallback(std::string_view raw) {
  MessageMetadata metadata;
  metadata.envelope = "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)";
  const std::string size = std::to_string(raw.size());
  metadata.body = "(\"application\" \"octet-stream\" NIL NIL NIL \"7bit\" " + size + ")";
  metadata.bodystructure =
      "(\"application\" \"octet-stream\" NIL NIL NIL \"7bit\" " + size + " NIL NIL NIL NIL)";
  PartInfo whole;
  whole.body_end = raw.size();
  whole.type = "application";
  whole.subtype = "octet-stream";
  whole.is_message = true;
  PartInfo one = whole;
  one.section = "1";
  one.is_message = false;
  metadata.parts = {whole, one};
  metadata.size = raw.size();
  return metadata;
}

}  // namespace

MessageMetadata analyze_message(std::string_view raw) {
  try {
    return analyze(raw);
  } catch (const std::bad_alloc&) {
    return fallback(raw);
  }
}

}  // namespace postamt::mime
