#include "mime/part_table.hpp"

#include <string>

#include "mime/ascii_case.hpp"

namespace postamt::mime {

namespace {

std::string child_section(const std::string& parent, std::size_t number) {
  return parent.empty() ? std::to_string(number) : parent + "." + std::to_string(number);
}

class TableBuilder {
 public:
  std::vector<PartInfo> build(const MimeEntity& message) {
    PartInfo whole = describe(message, "");
    whole.header_begin = 0;
    whole.is_message = true;
    whole.message_header_begin = message.header_begin;
    whole.message_header_end = message.header_end;
    parts_.push_back(std::move(whole));
    add_message_body(message, "");
    return std::move(parts_);
  }

 private:
  static PartInfo describe(const MimeEntity& entity, std::string section) {
    PartInfo part;
    part.section = std::move(section);
    part.header_begin = entity.header_begin;
    part.header_end = entity.header_end;
    part.body_end = entity.body_end;
    part.type = ascii_lowercase(entity.content.type);
    part.subtype = ascii_lowercase(entity.content.subtype);
    if (auto charset = entity.content.parameter("charset"))
      part.charset = ascii_lowercase(*charset);
    part.encoding = parse_transfer_encoding(entity.content.transfer_encoding.value_or(""));
    return part;
  }

  // The parts of a message (top level or encapsulated) numbered below `prefix`.
  void add_message_body(const MimeEntity& message, const std::string& prefix) {
    if (message.kind == MimeEntity::Kind::multipart) {
      add_multipart_children(message, prefix);
    } else {
      add_part(message, child_section(prefix, 1));
    }
  }

  void add_multipart_children(const MimeEntity& multipart, const std::string& prefix) {
    if (multipart.children.empty()) {
      PartInfo empty;
      empty.section = child_section(prefix, 1);
      empty.header_begin = empty.header_end = empty.body_end = multipart.header_end;
      empty.type = "text";
      empty.subtype = "plain";
      parts_.push_back(std::move(empty));
      return;
    }
    for (std::size_t i = 0; i < multipart.children.size(); ++i) {
      add_part(multipart.children[i], child_section(prefix, i + 1));
    }
  }

  void add_part(const MimeEntity& entity, std::string section) {
    PartInfo part = describe(entity, section);
    if (entity.kind == MimeEntity::Kind::message && !entity.children.empty()) {
      const MimeEntity& inner = entity.children.front();
      part.is_message = true;
      part.message_header_begin = inner.header_begin;
      part.message_header_end = inner.header_end;
      parts_.push_back(std::move(part));
      add_message_body(inner, section);
      return;
    }
    parts_.push_back(std::move(part));
    if (entity.kind == MimeEntity::Kind::multipart) add_multipart_children(entity, section);
  }

  std::vector<PartInfo> parts_;
};

}  // namespace

std::vector<PartInfo> build_part_table(const MimeEntity& message) {
  return TableBuilder().build(message);
}

}  // namespace postamt::mime
