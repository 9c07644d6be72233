#include "proto/mailauth/dkim_canon.hpp"

#include <algorithm>

namespace postamt::mailauth {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

}  // namespace

void canonicalize_header(DkimCanon canon, std::string_view raw, HashSink& sink, bool final_crlf) {
  std::string out;
  out.reserve(raw.size() + 2);
  if (canon == DkimCanon::simple) {
    // §3.4.1: unchanged (bare LF line breaks written as CRLF).
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r')) out.push_back('\r');
      out.push_back(raw[i]);
    }
  } else {
    // §3.4.2: name lower-cased, no WSP around the colon, unfolded, WSP runs as one SP,
    // no WSP at the end.
    const std::size_t colon = raw.find(':');
    std::string_view name = raw.substr(0, colon);
    while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
    for (char c : name) out.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
    out.push_back(':');
    bool wsp = false;
    bool started = false;
    if (colon != std::string_view::npos) {
      for (char c : raw.substr(colon + 1)) {
        if (c == '\r' || c == '\n') continue;  // unfold
        if (is_wsp(c)) {
          wsp = true;
          continue;
        }
        if (wsp && started) out.push_back(' ');
        wsp = false;
        started = true;
        out.push_back(c);
      }
    }
  }
  if (final_crlf) out.append("\r\n");
  sink.update(out);
}

std::vector<const HeaderField*> select_signed_fields(const std::vector<HeaderField>& fields,
                                                     const std::vector<std::string>& names) {
  std::vector<const HeaderField*> chosen;
  std::vector<bool> used(fields.size(), false);
  for (const auto& name : names) {
    for (std::size_t i = fields.size(); i-- > 0;) {
      if (!used[i] && field_name_equals(fields[i].name, name)) {
        used[i] = true;
        chosen.push_back(&fields[i]);
        break;
      }
    }
  }
  return chosen;
}

BodyCanonicalizer::BodyCanonicalizer(DkimCanon canon, HashSink& sink, std::optional<std::uint64_t> limit)
    : canon_(canon), sink_(sink), limit_(limit) {
  out_.reserve(4096);
}

void BodyCanonicalizer::write(std::string_view bytes) {
  if (bytes.size() >= 512) {  // a long run: straight to the sink, no copy
    flush();
    emit(bytes);
    return;
  }
  out_.append(bytes);
  if (out_.size() >= 4096) flush();
}

void BodyCanonicalizer::flush() {
  emit(out_);
  out_.clear();
}

void BodyCanonicalizer::emit(std::string_view bytes) {
  // Only what falls within l= reaches the sink; everything is counted.
  std::string_view within = bytes;
  if (limit_) {
    const std::uint64_t room = produced_ >= *limit_ ? 0 : *limit_ - produced_;
    within = within.substr(0, static_cast<std::size_t>(std::min<std::uint64_t>(room, within.size())));
  }
  produced_ += bytes.size();
  if (!within.empty()) sink_.update(within);
}

void BodyCanonicalizer::content(std::string_view run) {
  while (pending_line_ends_ > 0) {
    write("\r\n");
    --pending_line_ends_;
  }
  if (pending_wsp_) {
    write(" ");
    pending_wsp_ = false;
  }
  any_content_ = true;
  write(run);
}

void BodyCanonicalizer::line_end() {
  pending_wsp_ = false;  // relaxed: WSP at the end of a line is ignored (§3.4.4)
  ++pending_line_ends_;
}

void BodyCanonicalizer::feed(std::string_view chunk) {
  const bool relaxed = canon_ == DkimCanon::relaxed;
  // Bytes that end a run of content: line ends, and for relaxed the WSP it folds.
  auto special = [relaxed](char c) { return c == '\r' || c == '\n' || (relaxed && is_wsp(c)); };
  std::size_t i = 0;
  while (i < chunk.size()) {
    const char c = chunk[i];
    if (pending_cr_) {
      pending_cr_ = false;
      if (c == '\n') {
        line_end();
        ++i;
        continue;
      }
      content("\r");  // a bare CR is content; c is looked at below
    }
    if (c == '\r') {
      pending_cr_ = true;
      ++i;
    } else if (c == '\n') {
      line_end();  // a bare LF ends a line too
      ++i;
    } else if (relaxed && is_wsp(c)) {
      pending_wsp_ = true;
      ++i;
    } else {
      // Ordinary bytes go out as one run.
      std::size_t end = i + 1;
      while (end < chunk.size()) {
        if (!special(chunk[end])) {
          ++end;
        } else if (relaxed && chunk[end] == ' ' && end + 1 < chunk.size() && !special(chunk[end + 1])) {
          end += 2;  // one SP between content stays one SP: part of the run
        } else {
          break;
        }
      }
      content(chunk.substr(i, end - i));
      i = end;
    }
  }
}

void BodyCanonicalizer::finish() {
  if (pending_cr_) {
    pending_cr_ = false;
    content("\r");
  }
  // Trailing empty lines are dropped (§3.4.3, §3.4.4), then the last line ends in CRLF.
  // simple: an empty body is a single CRLF. relaxed: an empty body stays empty.
  pending_line_ends_ = 0;
  pending_wsp_ = false;
  if (canon_ == DkimCanon::simple || any_content_) write("\r\n");
  flush();
}

}  // namespace postamt::mailauth
