#include "imap/message/fetch_renderer.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "imap/message/binary_section.hpp"
#include "imap/message/body_section.hpp"
#include "imap/message/response_string.hpp"

namespace postamt::imap {

using proto::imap::FetchAttribute;
using proto::imap::Section;
using Kind = FetchAttribute::Kind;

namespace {

constexpr std::string_view kRecent = "\\Recent";

Section whole_message(Section::Text text) {
  Section section;
  section.text = text;
  return section;
}

// Writes the items of one FETCH response, separated by SP.
class ItemWriter {
 public:
  explicit ItemWriter(std::string& out) : out_(out) {}

  std::string& begin_item(std::string_view name) {
    if (!first_) out_.push_back(' ');
    first_ = false;
    out_ += name;
    return out_;
  }

 private:
  std::string& out_;
  bool first_ = true;
};

class FetchRenderer {
 public:
  FetchRenderer(const FetchSource& source, const FetchOptions& options, std::string& out)
      : source_(source), options_(options), out_(out), items_(out) {}

  std::expected<void, FetchError> render(std::span<const FetchAttribute> attributes) {
    begin(attributes);
    for (const FetchAttribute& attribute : attributes) {
      auto written = write(attribute);
      if (!written) return written;
    }
    end();
    return {};
  }

  void begin(std::span<const FetchAttribute> attributes) {
    out_ += "* ";
    out_ += std::to_string(source_.sequence_number);
    out_ += " FETCH (";
    // RFC 9051 §6.4.9: UID FETCH answers always carry UID; RFC 7162 §3.1.4.1: with
    // CONDSTORE the answer carries MODSEQ. Either is sent once, where it was asked for.
    if (options_.include_uid && !asks_for(attributes, Kind::uid)) write_uid();
    if (options_.include_modseq && !asks_for(attributes, Kind::modseq)) write_modseq();
  }

  void end() { out_ += ")\r\n"; }

  std::expected<std::string_view, FetchError> item(const FetchAttribute& attribute,
                                                   std::size_t defer_above) {
    defer_above_ = defer_above;
    deferred_ = {};
    auto written = write(attribute);
    defer_above_ = 0;
    if (!written) return std::unexpected(written.error());
    return deferred_;
  }

 private:
  static bool asks_for(std::span<const FetchAttribute> attributes, Kind kind) {
    return std::any_of(attributes.begin(), attributes.end(),
                       [kind](const FetchAttribute& a) { return a.kind == kind; });
  }

  const storage::MessageSummary& summary() const {
    static const storage::MessageSummary none;
    return source_.summary != nullptr ? *source_.summary : none;
  }

  std::expected<void, FetchError> write(const FetchAttribute& attribute) {
    switch (attribute.kind) {
      case Kind::flags:
        write_flags();
        break;
      case Kind::internal_date:
        items_.begin_item("INTERNALDATE \"") += format_internal_date(summary().internal_date);
        out_.push_back('"');
        break;
      case Kind::rfc822_size:
        items_.begin_item("RFC822.SIZE ") += std::to_string(summary().size);
        break;
      case Kind::envelope:
        write_cached("ENVELOPE ", &mime::MessageMetadata::envelope);
        break;
      case Kind::body:
        write_cached("BODY ", &mime::MessageMetadata::body);
        break;
      case Kind::body_structure:
        write_cached("BODYSTRUCTURE ", &mime::MessageMetadata::bodystructure);
        break;
      case Kind::body_section:
        write_body_section(attribute);
        break;
      case Kind::rfc822:
        write_rfc822("RFC822", Section{});
        break;
      case Kind::rfc822_header:
        write_rfc822("RFC822.HEADER", whole_message(Section::Text::header));
        break;
      case Kind::rfc822_text:
        write_rfc822("RFC822.TEXT", whole_message(Section::Text::text));
        break;
      case Kind::binary:
        return write_binary(attribute);
      case Kind::binary_size:
        return write_binary_size(attribute);
      case Kind::uid:
        write_uid();
        break;
      case Kind::modseq:
        write_modseq();
        break;
    }
    return {};
  }

  // RFC 9051 §7.5.2 FLAGS; \Recent is an IMAP4rev1 session flag (RFC 3501 §2.3.2) that
  // IMAP4rev2 no longer has, so it is never taken from storage.
  void write_flags() {
    std::string& out = items_.begin_item("FLAGS (");
    bool first = true;
    for (const std::string& flag : summary().flags) {
      if (flag == kRecent) continue;
      if (!first) out.push_back(' ');
      first = false;
      out += flag;
    }
    if (source_.recent && !options_.imap4rev2) {
      if (!first) out.push_back(' ');
      out += kRecent;
    }
    out.push_back(')');
  }

  void write_uid() { items_.begin_item("UID ") += std::to_string(summary().uid); }

  void write_modseq() {
    std::string& out = items_.begin_item("MODSEQ (");
    out += std::to_string(summary().modseq);
    out.push_back(')');
  }

  // ENVELOPE, BODY, BODYSTRUCTURE: the strings cached at delivery, verbatim.
  void write_cached(std::string_view name, std::string mime::MessageMetadata::*field) {
    std::string& out = items_.begin_item(name);
    if (source_.metadata != nullptr && !(source_.metadata->*field).empty()) {
      out += source_.metadata->*field;
    } else {
      out += "NIL";  // the session broke fetch_needs(); nothing better to say
    }
  }

  // BODY[<section>]<<partial>>: the answer names the section without .PEEK, and a partial
  // answer names its origin octet (RFC 9051 §7.5.2 "BODY[<section>]<<origin octet>>").
  // A section the message does not have is the empty string: NIL is not allowed here.
  void write_body_section(const FetchAttribute& attribute) {
    std::string& out = items_.begin_item("BODY[");
    append_section_spec(out, attribute.section);
    out.push_back(']');
    append_origin(out, attribute);
    out.push_back(' ');
    const auto bytes = body_section_bytes(source_.content, source_.metadata, attribute.section);
    append_section(out, bytes ? apply_partial(bytes->view(), attribute.partial) : std::string_view());
  }

  // A big slice of the stored message is left for the caller to send (item()); anything
  // else is copied.
  void append_section(std::string& out, std::string_view data) {
    const char* stored_begin = source_.content.data();
    const char* stored_end = stored_begin + source_.content.size();
    const bool slice = !data.empty() && data.data() >= stored_begin && data.data() + data.size() <= stored_end;
    if (defer_above_ > 0 && slice && data.size() > defer_above_ && data.size() > kMaxQuotedLength) {
      out.push_back('{');
      out += std::to_string(data.size());
      out += "}\r\n";
      deferred_ = data;
      return;
    }
    append_string(out, data);
  }

  // RFC822, RFC822.HEADER, RFC822.TEXT: the BODY[], BODY.PEEK[HEADER] and BODY[TEXT]
  // octets under their RFC 3501 names (RFC 9051 Appendix E keeps them for rev1 clients).
  void write_rfc822(std::string_view name, const Section& section) {
    std::string& out = items_.begin_item(name);
    out.push_back(' ');
    const auto bytes = body_section_bytes(source_.content, source_.metadata, section);
    append_section(out, bytes ? bytes->view() : std::string_view());
  }

  // BINARY[<part>]<<partial>> (RFC 3516 §4.2): the decoded content; a literal8 when it
  // holds NUL. The origin octet is named as for BODY[] (RFC 3516 §4.2, RFC 9051 §7.5.2).
  std::expected<void, FetchError> write_binary(const FetchAttribute& attribute) {
    const auto bytes = binary_section_bytes(source_.content, source_.metadata, attribute.section);
    if (!bytes) return unknown_cte(attribute.section);
    std::string& out = items_.begin_item("BINARY[");
    append_section_spec(out, attribute.section);
    out.push_back(']');
    append_origin(out, attribute);
    out.push_back(' ');
    append_binary_string(
        out, *bytes ? apply_partial((*bytes)->view(), attribute.partial) : std::string_view());
    return {};
  }

  // BINARY.SIZE[<part>]: the size BINARY[<part>] would have (RFC 3516 §4.2); 0 for a part
  // the message does not have.
  std::expected<void, FetchError> write_binary_size(const FetchAttribute& attribute) {
    const auto size = binary_section_size(source_.content, source_.metadata, attribute.section);
    if (!size) return unknown_cte(attribute.section);
    std::string& out = items_.begin_item("BINARY.SIZE[");
    append_section_spec(out, attribute.section);
    out += "] ";
    out += std::to_string(size->value_or(0));
    return {};
  }

  static void append_origin(std::string& out, const FetchAttribute& attribute) {
    if (!attribute.partial) return;
    out.push_back('<');
    out += std::to_string(attribute.partial->offset);
    out.push_back('>');
  }

  static std::unexpected<FetchError> unknown_cte(const Section& section) {
    std::string spec;
    append_section_spec(spec, section);
    return std::unexpected(FetchError{FetchError::Kind::unknown_cte,
                                      "cannot decode the content-transfer-encoding of part " +
                                          spec});
  }

  const FetchSource& source_;
  const FetchOptions& options_;
  std::string& out_;
  ItemWriter items_;
  std::size_t defer_above_ = 0;
  std::string_view deferred_;
};

}  // namespace

// The options are kept (a caller may pass a temporary); the source and `out` are the
// caller's and outlive the writer.
class FetchResponseWriter::Impl {
 public:
  Impl(const FetchSource& source, const FetchOptions& options, std::string& out)
      : options(options), renderer(source, this->options, out) {}

  const FetchOptions options;
  FetchRenderer renderer;
};

FetchResponseWriter::FetchResponseWriter(const FetchSource& source, const FetchOptions& options,
                                         std::string& out)
    : impl_(std::make_unique<Impl>(source, options, out)) {}

FetchResponseWriter::~FetchResponseWriter() = default;

void FetchResponseWriter::begin(std::span<const FetchAttribute> attributes) {
  impl_->renderer.begin(attributes);
}

std::expected<std::string_view, FetchError> FetchResponseWriter::item(const FetchAttribute& attribute,
                                                                      std::size_t defer_above) {
  return impl_->renderer.item(attribute, defer_above);
}

void FetchResponseWriter::end() { impl_->renderer.end(); }

FetchNeeds fetch_needs(std::span<const FetchAttribute> attributes) {
  FetchNeeds needs;
  for (const FetchAttribute& attribute : attributes) {
    switch (attribute.kind) {
      case Kind::envelope:
      case Kind::body:
      case Kind::body_structure:
        needs.metadata = true;
        break;
      case Kind::body_section:
        needs.content = true;
        needs.metadata = needs.metadata || section_needs_metadata(attribute.section);
        break;
      case Kind::binary:
      case Kind::binary_size:
        needs.content = true;
        needs.metadata = needs.metadata || !attribute.section.part.empty();
        break;
      case Kind::rfc822:
        needs.content = true;
        break;
      case Kind::rfc822_header:
      case Kind::rfc822_text:
        needs.content = true;
        needs.metadata = true;
        break;
      case Kind::flags:
      case Kind::internal_date:
      case Kind::rfc822_size:
      case Kind::uid:
      case Kind::modseq:
        break;
    }
  }
  return needs;
}

bool fetch_sets_seen(std::span<const FetchAttribute> attributes) {
  return std::any_of(attributes.begin(), attributes.end(), [](const FetchAttribute& a) {
    switch (a.kind) {
      case Kind::body_section:
      case Kind::binary:
        return !a.peek;
      case Kind::rfc822:
      case Kind::rfc822_text:
        return true;
      default:
        return false;
    }
  });
}

std::expected<void, FetchError> render_fetch(const FetchSource& source,
                                             std::span<const FetchAttribute> attributes,
                                             const FetchOptions& options, std::string& out) {
  const std::size_t start = out.size();
  auto rendered = FetchRenderer(source, options, out).render(attributes);
  if (!rendered) out.resize(start);  // no half-written response
  return rendered;
}

std::string format_internal_date(storage::UnixTime time) {
  using namespace std::chrono;
  // date-year is 4DIGIT (RFC 9051 §9): the time is kept within years 0000..9999.
  constexpr std::int64_t kFirst = -62167219200;  // 0000-01-01T00:00:00Z
  constexpr std::int64_t kLast = 253402300799;   // 9999-12-31T23:59:59Z
  const sys_seconds point{seconds{std::clamp<std::int64_t>(time, kFirst, kLast)}};
  const sys_days day = floor<days>(point);
  const year_month_day date{day};
  const hh_mm_ss clock{point - day};
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char text[40];
  std::snprintf(text, sizeof text, "%02u-%s-%04d %02d:%02d:%02d +0000",
                static_cast<unsigned>(date.day()),
                kMonths[static_cast<unsigned>(date.month()) - 1].data(),
                static_cast<int>(date.year()), static_cast<int>(clock.hours().count()),
                static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()));
  return text;
}

}  // namespace postamt::imap
