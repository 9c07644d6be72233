#include "imap/message/response_string.hpp"

#include <algorithm>

namespace postamt::imap {

namespace {

// TEXT-CHAR of RFC 9051 §9 in its 7-bit form: %x01-7F without CR and LF.
bool is_quotable(char c) {
  const auto octet = static_cast<unsigned char>(c);
  return octet >= 0x01 && octet <= 0x7F && c != '\r' && c != '\n';
}

// ATOM-CHAR: any CHAR except atom-specials "(" ")" "{" SP CTL "%" "*" DQUOTE "\" "]".
bool is_atom_char(char c) {
  const auto octet = static_cast<unsigned char>(c);
  if (octet <= 0x20 || octet >= 0x7F) return false;
  return std::string_view("(){%*\"\\]").find(c) == std::string_view::npos;
}

void append_quoted(std::string& out, std::string_view data) {
  out.push_back('"');
  for (char c : data) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

void append_literal(std::string& out, std::string_view prefix, std::string_view data) {
  out += prefix;
  out.push_back('{');
  out += std::to_string(data.size());
  out += "}\r\n";
  out += data;
}

}  // namespace

void append_string(std::string& out, std::string_view data) {
  if (data.size() <= kMaxQuotedLength && std::all_of(data.begin(), data.end(), is_quotable)) {
    append_quoted(out, data);
    return;
  }
  append_literal(out, "", data);
  // RFC 9051 §9: a literal carries CHAR8 (%x01-ff), never NUL; only BINARY's literal8 may.
  // A stored message with NUL octets (RFC 3030 BINARYMIME, or a broken sender) is sent with
  // each NUL as 0x80, which keeps every size and offset the client was told.
  const std::size_t start = out.size() - data.size();
  std::replace(out.begin() + static_cast<std::ptrdiff_t>(start), out.end(), '\0', '\x80');
}

void append_literal_octets(std::string& out, std::string_view data) {
  const std::size_t start = out.size();
  out += data;
  std::replace(out.begin() + static_cast<std::ptrdiff_t>(start), out.end(), '\0', '\x80');
}

void append_binary_string(std::string& out, std::string_view data) {
  if (data.find('\0') != std::string_view::npos) {
    append_literal(out, "~", data);
  } else {
    append_string(out, data);
  }
}

void append_astring(std::string& out, std::string_view data) {
  if (!data.empty() && std::all_of(data.begin(), data.end(), is_atom_char)) {
    out += data;
  } else {
    append_string(out, data);
  }
}

}  // namespace postamt::imap
