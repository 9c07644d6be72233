#include "mime/content_fields.hpp"

#include "mime/ascii_case.hpp"
#include "mime/field_cursor.hpp"

namespace postamt::mime {

namespace {

// Content-Type: type "/" subtype *(";" parameter) (RFC 2045 §5.1). An unusable value
// leaves the defaults in place (RFC 2045 §5.2 recommends that for invalid fields).
void parse_content_type(ContentFields& fields, const std::string& value) {
  FieldCursor cursor(value);
  cursor.skip_cfws();
  const std::string_view type = cursor.read_while(is_mime_token_char);
  cursor.skip_cfws();
  if (type.empty() || cursor.peek() != '/') return;
  cursor.advance();
  cursor.skip_cfws();
  const std::string_view subtype = cursor.read_while(is_mime_token_char);
  if (subtype.empty()) return;
  fields.type = std::string(type);
  fields.subtype = std::string(subtype);
  fields.defaulted = false;
  fields.parameters = parse_media_parameters(cursor);
}

// disposition := disposition-type *(";" disposition-parm) (RFC 2183 §2).
void parse_disposition(ContentFields& fields, const std::string& value) {
  FieldCursor cursor(value);
  cursor.skip_cfws();
  const std::string_view type = cursor.read_while(is_mime_token_char);
  if (type.empty()) return;
  fields.disposition = std::string(type);
  fields.disposition_parameters = parse_media_parameters(cursor);
}

// Content-Language: 1#Language-tag, with CFWS (RFC 3282 §2).
std::vector<std::string> parse_languages(const std::string& value) {
  std::vector<std::string> tags;
  FieldCursor cursor(value);
  while (!cursor.at_end() && tags.size() < 100) {
    cursor.skip_cfws();
    const std::string_view tag = cursor.read_while([](char c) { return is_mime_token_char(c); });
    if (!tag.empty()) tags.emplace_back(tag);
    cursor.skip_cfws();
    if (cursor.at_end()) break;
    if (cursor.peek() != ',' && tag.empty()) {
      cursor.advance();  // not a tag character: skip it
      continue;
    }
    if (cursor.peek() == ',') cursor.advance();
  }
  return tags;
}

// Content-Transfer-Encoding: mechanism := token (RFC 2045 §6.1). A value that is not a
// token is treated as absent, i.e. 7bit.
std::optional<std::string> parse_transfer_encoding_token(const std::string& value) {
  FieldCursor cursor(value);
  cursor.skip_cfws();
  const std::string_view token = cursor.read_while(is_mime_token_char);
  cursor.skip_cfws();
  if (token.empty() || !cursor.at_end()) return std::nullopt;
  return std::string(token);
}

std::optional<std::string> non_empty(std::optional<std::string> value) {
  if (value && value->empty()) return std::nullopt;
  return value;
}

}  // namespace

bool ContentFields::is_multipart() const { return ascii_iequals(type, "multipart"); }

bool ContentFields::is_message_rfc822() const {
  return ascii_iequals(type, "message") && ascii_iequals(subtype, "rfc822");
}

bool ContentFields::is_text() const { return ascii_iequals(type, "text"); }

std::optional<std::string_view> ContentFields::parameter(std::string_view name) const {
  for (const auto& p : parameters) {
    if (p.name == name) return p.value;
  }
  return std::nullopt;
}

void ContentFields::make_opaque() {
  type = "application";
  subtype = "octet-stream";
  parameters.clear();
}

ContentFields parse_content_fields(const HeaderFields& headers, DefaultType default_type) {
  ContentFields fields;
  if (default_type == DefaultType::message_rfc822) {
    fields.type = "message";
    fields.subtype = "rfc822";
  } else {
    fields.type = "text";
    fields.subtype = "plain";
  }
  if (auto value = headers.value(HeaderName::content_type)) parse_content_type(fields, *value);
  if (auto value = headers.value(HeaderName::content_transfer_encoding)) {
    fields.transfer_encoding = parse_transfer_encoding_token(*value);
  }
  fields.id = non_empty(headers.value(HeaderName::content_id));
  fields.description = non_empty(headers.value(HeaderName::content_description));
  fields.md5 = non_empty(headers.value(HeaderName::content_md5));
  fields.location = non_empty(headers.value(HeaderName::content_location));
  if (auto value = headers.value(HeaderName::content_disposition))
    parse_disposition(fields, *value);
  if (auto value = headers.value(HeaderName::content_language))
    fields.languages = parse_languages(*value);
  return fields;
}

}  // namespace postamt::mime
