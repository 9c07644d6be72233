#include "proto/http/message.hpp"

#include <fmt/format.h>

namespace postamt::proto::http {

namespace {

bool has_line_break(std::string_view text) { return text.find_first_of("\r\n") != std::string_view::npos; }

// RFC 9110 §5.6.2: token = 1*tchar.
bool is_token(std::string_view text) {
  if (text.empty()) return false;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    const bool alnum = (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z');
    if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) return false;
  }
  return true;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::optional<std::string_view> Response::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

Result<std::string> encode_request(const Request& request) {
  if (!is_token(request.method)) return permanent_error("http: bad request method");
  if (request.target.empty() || request.target.front() != '/' ||
      request.target.find_first_of(" \r\n\t") != std::string::npos) {
    return permanent_error("http: bad request target");
  }
  if (request.host.empty() || has_line_break(request.host)) return permanent_error("http: bad Host");
  // RFC 9112 §3: request-line = method SP request-target SP HTTP-version.
  std::string out = fmt::format("{} {} HTTP/1.1\r\nHost: {}\r\n", request.method, request.target, request.host);
  for (const auto& h : request.headers) {
    if (!is_token(h.name)) return permanent_error(fmt::format("http: bad header name \"{}\"", h.name));
    if (has_line_break(h.value) || h.value.find('\0') != std::string::npos) {
      return permanent_error(fmt::format("http: header {} has a line break", h.name));
    }
    if (iequals(h.name, "Content-Length") || iequals(h.name, "Host") || iequals(h.name, "Connection") ||
        iequals(h.name, "Transfer-Encoding")) {
      continue;  // ours to write
    }
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
  out += fmt::format("Content-Length: {}\r\nConnection: close\r\n\r\n", request.body.size());
  out += request.body;
  return out;
}

}  // namespace postamt::proto::http
