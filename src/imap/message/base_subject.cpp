#include "imap/message/base_subject.hpp"

namespace postamt::imap {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

bool starts_with_ci(std::string_view text, std::string_view upper_prefix) {
  if (text.size() < upper_prefix.size()) return false;
  for (std::size_t i = 0; i < upper_prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != upper_prefix[i]) return false;
  }
  return true;
}

// Step (1), after the decoding: tabs and line breaks (continuations) become spaces, runs of
// spaces one space.
std::string collapse_white_space(std::string_view subject) {
  std::string out;
  out.reserve(subject.size());
  for (char c : subject) {
    if (c == '\t' || c == '\r' || c == '\n') c = ' ';
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out += c;
  }
  return out;
}

// subj-blob = "[" *BLOBCHAR "]" *WSP, BLOBCHAR any octet but "[" and "]". The length of
// the blob at the start of `text`, or 0.
std::size_t blob_length(std::string_view text) {
  if (text.empty() || text.front() != '[') return 0;
  std::size_t i = 1;
  while (i < text.size() && text[i] != '[' && text[i] != ']') ++i;
  if (i >= text.size() || text[i] != ']') return 0;
  ++i;
  while (i < text.size() && is_wsp(text[i])) ++i;
  return i;
}

// subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":". Its length at the start, or 0.
std::size_t refwd_length(std::string_view text) {
  std::size_t i = 0;
  if (starts_with_ci(text, "RE")) {
    i = 2;
  } else if (starts_with_ci(text, "FWD")) {
    i = 3;
  } else if (starts_with_ci(text, "FW")) {
    i = 2;
  } else {
    return 0;
  }
  while (i < text.size() && is_wsp(text[i])) ++i;
  i += blob_length(text.substr(i));
  if (i < text.size() && text[i] == ':') return i + 1;
  return 0;
}

// subj-leader = (*subj-blob subj-refwd) / WSP. Its length at the start, or 0; `refwd` tells
// whether it was a subj-refwd.
std::size_t leader_length(std::string_view text, bool& refwd) {
  refwd = false;
  if (!text.empty() && is_wsp(text.front())) return 1;
  std::size_t i = 0;
  for (;;) {
    if (const std::size_t refwd_at = refwd_length(text.substr(i)); refwd_at != 0) {
      refwd = true;
      return i + refwd_at;
    }
    const std::size_t blob = blob_length(text.substr(i));
    if (blob == 0) return 0;
    i += blob;
  }
}

}  // namespace

BaseSubject base_subject(std::string_view decoded_subject) {
  BaseSubject result;
  std::string text = collapse_white_space(decoded_subject);
  for (;;) {
    // (2) subj-trailer = "(fwd)" / WSP, removed from the end as long as one matches.
    for (;;) {
      if (!text.empty() && is_wsp(text.back())) {
        text.pop_back();
      } else if (text.size() >= 5 && starts_with_ci(std::string_view(text).substr(text.size() - 5), "(FWD)")) {
        text.resize(text.size() - 5);
        result.reply_or_forward = true;
      } else {
        break;
      }
    }
    // (3) to (5): leaders, and a leading blob if something is left after it.
    for (;;) {
      bool changed = false;
      bool refwd = false;
      while (const std::size_t leader = leader_length(text, refwd)) {
        text.erase(0, leader);
        if (refwd) result.reply_or_forward = true;
        changed = true;
      }
      if (const std::size_t blob = blob_length(text); blob != 0) {
        // (4) only when the rest is a non-empty subj-base (it starts with a NONWSP: the
        // blob swallowed the white space after it).
        if (blob < text.size()) {
          text.erase(0, blob);
          changed = true;
        }
      }
      if (!changed) break;
    }
    // (6) "[fwd:" ... "]": unwrap and start over from (2).
    if (text.size() >= 6 && starts_with_ci(text, "[FWD:") && text.back() == ']') {
      text = text.substr(5, text.size() - 6);
      result.reply_or_forward = true;
      continue;
    }
    break;
  }
  result.text = std::move(text);
  return result;
}

std::string ascii_casemap(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

}  // namespace postamt::imap
