#include "mime/mime_scanner.hpp"

#include <algorithm>
#include <utility>

#include "mime/ascii_case.hpp"

namespace postamt::mime {

namespace {

// ftext = %d33-57 / %d59-126 (RFC 5322 §3.6.8)
bool is_ftext(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 33 && u <= 126 && u != ':';
}

}  // namespace

MimeEntity MimeScanner::scan() {
  boundaries_.clear();
  entities_ = 0;
  Scanned scanned = scan_entity(0, 0, DefaultType::text_plain);
  return std::move(scanned.entity);
}

std::size_t MimeScanner::line_end(std::size_t pos) const {
  const auto lf = raw_.find('\n', pos);
  return lf == std::string_view::npos ? raw_.size() : lf + 1;
}

MimeScanner::Scanned MimeScanner::scan_entity(std::size_t begin, std::size_t depth,
                                              DefaultType default_type) {
  ++entities_;
  Scanned scanned;
  MimeEntity& entity = scanned.entity;
  entity.header_begin = begin;
  const std::optional<Delimiter> cut = scan_header(entity);
  entity.content = parse_content_fields(entity.headers, default_type);
  const bool composite = entity.content.is_multipart() || entity.content.is_message_rfc822();
  if (composite && (depth >= kMaxDepth || entities_ >= kMaxEntities)) entity.content.make_opaque();

  if (entity.content.is_multipart()) {
    entity.kind = MimeEntity::Kind::multipart;
    const auto boundary = entity.content.parameter("boundary");
    if (!cut && boundary && !boundary->empty() && boundary->size() <= kMaxBoundaryLength) {
      scanned.terminator = scan_multipart(entity, std::string(*boundary), depth);
      return scanned;
    }
    // Without a usable boundary there are no body parts to find (the body structure
    // shows one empty text/plain part, as "1*body" requires).
  } else if (entity.content.is_message_rfc822()) {
    // RFC 2046 §5.2.1: the body is a complete message, parsed as such whatever its
    // (illegal, if not 7bit/8bit/binary) transfer encoding.
    entity.kind = MimeEntity::Kind::message;
    if (cut) {
      // The header was cut short by a delimiter: the encapsulated message is empty.
      MimeEntity inner;
      ++entities_;
      inner.header_begin = inner.header_end = inner.body_end = entity.header_end;
      inner.content = parse_content_fields(inner.headers, DefaultType::text_plain);
      entity.body_end = entity.header_end;
      entity.children.push_back(std::move(inner));
      scanned.terminator = cut;
      return scanned;
    }
    Scanned inner = scan_entity(entity.header_end, depth + 1, DefaultType::text_plain);
    entity.body_end = inner.entity.body_end;
    entity.children.push_back(std::move(inner.entity));
    scanned.terminator = inner.terminator;
    return scanned;
  }

  if (cut) {
    entity.body_end = entity.header_end;
    scanned.terminator = cut;
    return scanned;
  }
  scanned.terminator = find_delimiter(entity.header_end);
  entity.body_end = end_before(scanned.terminator, entity.header_end);
  return scanned;
}

std::optional<MimeScanner::Delimiter> MimeScanner::scan_header(MimeEntity& entity) {
  struct Pending {
    std::string_view name;
    std::size_t value_begin = 0;
    std::size_t value_end = 0;
  };
  std::optional<Pending> pending;
  const auto flush = [&] {
    if (pending) {
      entity.headers.add(pending->name, raw_.substr(pending->value_begin,
                                                    pending->value_end - pending->value_begin));
      pending.reset();
    }
  };

  std::size_t pos = entity.header_begin;
  while (pos < raw_.size()) {
    const std::size_t next = line_end(pos);
    std::size_t content_end = next;
    if (content_end > pos && raw_[content_end - 1] == '\n') --content_end;
    if (content_end > pos && raw_[content_end - 1] == '\r') --content_end;

    if (content_end == pos) {  // the empty line that ends the header (RFC 5322 §2.1)
      flush();
      // RFC 2046 §5.1.1: body-part = MIME-part-headers [CRLF *OCTET]. When a delimiter
      // follows at once, this line break is the delimiter's own CRLF: the part has no
      // blank line and no body, and its MIME header ends with its last field.
      // Only an exact delimiter line counts here: "--abc" after a blank line may be the
      // first delimiter of this part's own multipart body, not the enclosing "--ab".
      if (!boundaries_.empty()) {
        if (auto delimiter = match_delimiter(next)) {
          std::string_view tail = raw_.substr(delimiter->line_begin, delimiter->line_end - delimiter->line_begin);
          tail.remove_prefix(2 + boundaries_[delimiter->level].size());
          if (tail.starts_with("--")) tail.remove_prefix(2);
          if (tail.find_first_not_of(" \t\r\n") == std::string_view::npos) {
            entity.header_end = end_before(delimiter, entity.header_begin);
            return delimiter;
          }
        }
      }
      entity.header_end = next;
      return std::nullopt;
    }
    if (!boundaries_.empty()) {
      if (auto delimiter = match_delimiter(pos)) {
        // A delimiter cuts the header short; the line break before it is the
        // delimiter's (RFC 2046 §5.1.1), so the header ends before that too.
        flush();
        entity.header_end = end_before(delimiter, entity.header_begin);
        return delimiter;
      }
    }
    const char first = raw_[pos];
    if (first == ' ' || first == '\t') {
      // A continuation line (RFC 5322 §2.2.3); with no field before it, it is ignored.
      if (pending) pending->value_end = content_end;
    } else {
      std::size_t i = pos;
      while (i < content_end && is_ftext(raw_[i])) ++i;
      const std::size_t name_end = i;
      while (i < content_end && (raw_[i] == ' ' || raw_[i] == '\t')) ++i;  // obs-optional
      if (name_end == pos || i >= content_end || raw_[i] != ':') {
        // Not a header field: the body starts here, without a blank line.
        flush();
        entity.header_end = pos;
        return std::nullopt;
      }
      flush();
      pending = Pending{raw_.substr(pos, name_end - pos), i + 1, content_end};
    }
    pos = next;
  }
  flush();
  entity.header_end = raw_.size();
  return std::nullopt;
}

std::optional<MimeScanner::Delimiter> MimeScanner::scan_multipart(MimeEntity& entity,
                                                                  std::string boundary,
                                                                  std::size_t depth) {
  const bool digest = ascii_iequals(entity.content.subtype, "digest");
  boundaries_.push_back(std::move(boundary));
  const std::size_t level = boundaries_.size() - 1;

  std::optional<Delimiter> delimiter = find_delimiter(entity.header_end);  // after the preamble
  while (true) {
    if (!delimiter) {
      entity.body_end = raw_.size();
      boundaries_.pop_back();
      return std::nullopt;
    }
    if (delimiter->level < level) {  // an enclosing multipart's delimiter ends this one too
      entity.body_end = end_before(delimiter, entity.header_end);
      boundaries_.pop_back();
      return delimiter;
    }
    if (delimiter->close) {
      // The epilogue runs to whatever ends the enclosing entity.
      boundaries_.pop_back();
      std::optional<Delimiter> next = find_delimiter(delimiter->line_end);
      entity.body_end = end_before(next, entity.header_end);
      return next;
    }
    if (entities_ >= kMaxEntities) {
      delimiter = find_delimiter(delimiter->line_end);
      continue;
    }
    Scanned child = scan_entity(delimiter->line_end, depth + 1,
                                digest ? DefaultType::message_rfc822 : DefaultType::text_plain);
    entity.children.push_back(std::move(child.entity));
    delimiter = child.terminator;
  }
}

std::optional<MimeScanner::Delimiter> MimeScanner::find_delimiter(std::size_t pos) const {
  if (boundaries_.empty()) return std::nullopt;
  while (pos < raw_.size()) {
    if (raw_[pos] == '-') {
      if (auto delimiter = match_delimiter(pos)) return delimiter;
    }
    const auto lf = raw_.find('\n', pos);
    if (lf == std::string_view::npos) break;
    pos = lf + 1;
  }
  return std::nullopt;
}

std::optional<MimeScanner::Delimiter> MimeScanner::match_delimiter(std::size_t line_begin) const {
  const std::string_view line = raw_.substr(line_begin);
  if (!line.starts_with("--")) return std::nullopt;
  const std::string_view rest = line.substr(2);
  std::optional<std::size_t> best;
  for (std::size_t i = boundaries_.size(); i-- > 0;) {  // innermost first: it wins ties
    const std::string& boundary = boundaries_[i];
    if (rest.starts_with(boundary) && (!best || boundary.size() > boundaries_[*best].size())) {
      best = i;
    }
  }
  if (!best) return std::nullopt;
  Delimiter delimiter;
  delimiter.line_begin = line_begin;
  delimiter.line_end = line_end(line_begin);
  delimiter.level = *best;
  delimiter.close = rest.substr(boundaries_[*best].size()).starts_with("--");
  return delimiter;
}

std::size_t MimeScanner::end_before(const std::optional<Delimiter>& next,
                                    std::size_t body_begin) const {
  if (!next) return raw_.size();
  std::size_t end = next->line_begin;
  // RFC 2046 §5.1.1: the CRLF preceding the boundary delimiter line is conceptually
  // attached to the boundary.
  if (end > body_begin && raw_[end - 1] == '\n') {
    --end;
    if (end > body_begin && raw_[end - 1] == '\r') --end;
  }
  return std::max(end, body_begin);
}

}  // namespace postamt::mime
