#include "mime/body_structure_writer.hpp"

#include <algorithm>
#include <optional>
#include <vector>

#include "mime/envelope_writer.hpp"
#include "mime/imap_string.hpp"

namespace postamt::mime {

namespace {

constexpr std::string_view kEmptyPart =
    R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)";

std::size_t count_lines(std::string_view raw, std::size_t begin, std::size_t end) {
  const std::string_view body = raw.substr(begin, end - begin);
  return static_cast<std::size_t>(std::count(body.begin(), body.end(), '\n'));
}

// body-fld-param = "(" string SP string *(SP string SP string) ")" / nil
void append_parameters(std::string& out, const std::vector<MediaParameter>& parameters,
                       bool add_default_charset) {
  const bool has_charset = std::any_of(parameters.begin(), parameters.end(),
                                       [](const MediaParameter& p) { return p.name == "charset"; });
  const bool add_charset = add_default_charset && !has_charset;
  if (parameters.empty() && !add_charset) {
    out.append("NIL");
    return;
  }
  out.push_back('(');
  bool first = true;
  for (const MediaParameter& parameter : parameters) {
    if (!first) out.push_back(' ');
    first = false;
    append_imap_string(out, parameter.name);
    out.push_back(' ');
    append_imap_string(out, parameter.value);
  }
  if (add_charset) {
    if (!first) out.push_back(' ');
    out.append(R"("charset" "us-ascii")");
  }
  out.push_back(')');
}

// body-fld-dsp SP body-fld-lang SP body-fld-loc
void append_common_extension(std::string& out, const ContentFields& content) {
  if (content.disposition) {
    out.push_back('(');
    append_imap_string(out, *content.disposition);
    out.push_back(' ');
    append_parameters(out, content.disposition_parameters, false);
    out.push_back(')');
  } else {
    out.append("NIL");
  }
  out.push_back(' ');
  if (content.languages.empty()) {
    out.append("NIL");
  } else {
    out.push_back('(');
    for (std::size_t i = 0; i < content.languages.size(); ++i) {
      if (i > 0) out.push_back(' ');
      append_imap_string(out, content.languages[i]);
    }
    out.push_back(')');
  }
  out.push_back(' ');
  append_imap_nstring(out, content.location);
}

void append_body(std::string& out, const MimeEntity& entity, std::string_view raw, bool extended) {
  const ContentFields& content = entity.content;
  out.push_back('(');
  if (entity.kind == MimeEntity::Kind::multipart) {
    // body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
    if (entity.children.empty()) {
      out.append(kEmptyPart);
      if (extended) out.append(" NIL NIL NIL NIL");
      out.push_back(')');
    }
    for (const MimeEntity& child : entity.children) append_body(out, child, raw, extended);
    out.push_back(' ');
    append_imap_string(out, content.subtype);
    if (extended) {
      out.push_back(' ');
      append_parameters(out, content.parameters, false);
      out.push_back(' ');
      append_common_extension(out, content);
    }
    out.push_back(')');
    return;
  }

  // body-fields = body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP
  //               body-fld-octets
  append_imap_string(out, content.type);
  out.push_back(' ');
  append_imap_string(out, content.subtype);
  out.push_back(' ');
  append_parameters(out, content.parameters, content.is_text());
  out.push_back(' ');
  append_imap_nstring(out, content.id);
  out.push_back(' ');
  append_imap_nstring(out, content.description);
  out.push_back(' ');
  append_imap_string(out, content.transfer_encoding.value_or("7bit"));
  out.push_back(' ');
  out.append(std::to_string(entity.body_end - entity.header_end));

  if (entity.kind == MimeEntity::Kind::message && !entity.children.empty()) {
    // body-type-msg: ... SP envelope SP body SP body-fld-lines
    const MimeEntity& message = entity.children.front();
    out.push_back(' ');
    out.append(write_envelope(message.headers));
    out.push_back(' ');
    append_body(out, message, raw, extended);
    out.push_back(' ');
    out.append(std::to_string(count_lines(raw, entity.header_end, entity.body_end)));
  } else if (content.is_text()) {
    // body-type-text: ... SP body-fld-lines
    out.push_back(' ');
    out.append(std::to_string(count_lines(raw, entity.header_end, entity.body_end)));
  }

  if (extended) {
    // body-ext-1part = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]]
    out.push_back(' ');
    append_imap_nstring(out, content.md5);
    out.push_back(' ');
    append_common_extension(out, content);
  }
  out.push_back(')');
}

}  // namespace

std::string write_body_structure(const MimeEntity& entity, std::string_view raw, bool extended) {
  std::string out;
  append_body(out, entity, raw, extended);
  return out;
}

}  // namespace postamt::mime
