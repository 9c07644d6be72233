#include "proto/http/response_parser.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace postamt::proto::http {

namespace {

std::string_view trim_ows(std::string_view text) {  // RFC 9110 §5.6.3: OWS = *( SP / HTAB )
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Whether a comma-separated field value's last element is "chunked" (RFC 9112 §6.1).
bool ends_with_chunked(std::string_view value) {
  const auto comma = value.rfind(',');
  const std::string_view last = trim_ows(comma == std::string_view::npos ? value : value.substr(comma + 1));
  return iequals(last, "chunked");
}

}  // namespace

ResponseParser::ResponseParser(std::size_t max_body_size) : max_body_(max_body_size) {}

Result<void> ResponseParser::fail(std::string message) {
  state_ = State::failed;
  error_ = "http: " + std::move(message);
  buffer_.clear();
  start_ = 0;
  return permanent_error(error_);
}

Result<bool> ResponseParser::feed(std::string_view data) {
  if (state_ == State::failed) return permanent_error(error_);
  if (state_ == State::done) return true;
  buffer_.append(data);
  for (;;) {
    auto progressed = step();
    if (!progressed) return std::unexpected(progressed.error());
    if (state_ == State::done) {
      buffer_.clear();
      start_ = 0;
      return true;
    }
    if (!*progressed) break;
  }
  // Keep only what is not consumed.
  if (start_ > 0) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  return false;
}

Result<void> ResponseParser::finish() {
  if (state_ == State::failed) return permanent_error(error_);
  if (state_ == State::done) return {};
  if (state_ == State::body_close) {
    state_ = State::done;
    return {};
  }
  if (state_ == State::status_line && response_.status == 0 && buffer_.size() == start_) {
    return fail("the connection closed before a response");
  }
  return fail("the connection closed in the middle of the response");
}

Result<bool> ResponseParser::next_line(std::string_view& line, std::size_t limit) {
  const std::string_view rest = std::string_view(buffer_).substr(start_);
  const auto lf = rest.find('\n');
  if (lf == std::string_view::npos) {
    if (rest.size() > limit) return std::unexpected(fail("a line is too long").error());
    return false;
  }
  if (lf + 1 > limit) return std::unexpected(fail("a line is too long").error());
  line = rest.substr(0, lf);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // RFC 9112 §2.2: a bare LF is tolerated
  start_ += lf + 1;
  return true;
}

Result<bool> ResponseParser::step() {
  std::string_view line;
  const std::size_t available = buffer_.size() - start_;
  switch (state_) {
    case State::status_line:
    case State::fields:
    case State::trailers: {
      const std::size_t left = kMaxHeaderSize > header_bytes_ ? kMaxHeaderSize - header_bytes_ : 0;
      auto got = next_line(line, left);
      if (!got) return got;
      if (!*got) return false;
      header_bytes_ += line.size() + 2;
      if (state_ == State::status_line) {
        if (auto ok = on_status_line(line); !ok) return std::unexpected(ok.error());
      } else if (line.empty()) {
        if (state_ == State::trailers) {
          state_ = State::done;
        } else if (auto ok = on_fields_end(); !ok) {
          return std::unexpected(ok.error());
        }
      } else if (state_ == State::trailers) {
        // Trailer fields are read and dropped (RFC 9112 §7.1.2): nothing here needs them.
      } else if (auto ok = on_field(line); !ok) {
        return std::unexpected(ok.error());
      }
      return true;
    }
    case State::body_length:
    case State::chunk_data: {
      if (available == 0) return false;
      const std::size_t n = std::min(available, remaining_);
      if (auto ok = append_body(std::string_view(buffer_).substr(start_, n)); !ok) return std::unexpected(ok.error());
      start_ += n;
      remaining_ -= n;
      if (remaining_ == 0) state_ = state_ == State::body_length ? State::done : State::chunk_end;
      return true;
    }
    case State::body_close: {
      if (available == 0) return false;
      if (auto ok = append_body(std::string_view(buffer_).substr(start_)); !ok) return std::unexpected(ok.error());
      start_ = buffer_.size();
      return false;
    }
    case State::chunk_size: {
      // RFC 9112 §7.1: chunk-size [ chunk-ext ] CRLF; the extensions are ignored.
      auto got = next_line(line, 4096);
      if (!got) return got;
      if (!*got) return false;
      const auto semicolon = line.find(';');
      const std::string_view digits = trim_ows(line.substr(0, semicolon));
      std::size_t size = 0;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), size, 16);
      if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
          digits.find_first_of("+-") != std::string_view::npos) {
        return std::unexpected(fail("bad chunk size").error());
      }
      if (size > max_body_ || response_.body.size() > max_body_ - size) {
        return std::unexpected(fail(fmt::format("the body is larger than {} octets", max_body_)).error());
      }
      if (size == 0) {
        state_ = State::trailers;
      } else {
        remaining_ = size;
        state_ = State::chunk_data;
      }
      return true;
    }
    case State::chunk_end: {
      auto got = next_line(line, 2);
      if (!got) return got;
      if (!*got) return false;
      if (!line.empty()) return std::unexpected(fail("a chunk does not end with CRLF").error());
      state_ = State::chunk_size;
      return true;
    }
    case State::done:
    case State::failed:
      return false;
  }
  return false;
}

Result<void> ResponseParser::on_status_line(std::string_view line) {
  // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ].
  if (!line.starts_with("HTTP/1.") || line.size() < 12 || line[8] != ' ') {
    return fail("not an HTTP/1.x status line");
  }
  const std::string_view code = line.substr(9, 3);
  if (!all_digits(code) || (line.size() > 12 && line[12] != ' ')) return fail("bad status code");
  response_ = Response{};
  response_.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  if (response_.status < 100) return fail("bad status code");
  if (line.size() > 13) response_.reason = std::string(line.substr(13));
  state_ = State::fields;
  return {};
}

Result<void> ResponseParser::on_field(std::string_view line) {
  // RFC 9112 §5: field-line = field-name ":" OWS field-value OWS; no obs-fold (§5.2 lets a
  // client replace it, but nothing we talk to folds) and no space before the colon (§5.1).
  if (line.front() == ' ' || line.front() == '\t') return fail("folded header field");
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return fail("a header line without a name");
  const std::string_view name = line.substr(0, colon);
  if (name.find_first_of(" \t") != std::string_view::npos) return fail("whitespace in a header field name");
  if (response_.headers.size() >= 1000) return fail("too many header fields");
  response_.headers.push_back({std::string(name), std::string(trim_ows(line.substr(colon + 1)))});
  return {};
}

Result<void> ResponseParser::on_fields_end() {
  if (response_.status < 200) {  // interim response: the real one follows
    state_ = State::status_line;
    return {};
  }
  // RFC 9112 §6.3: no body for 204 and 304; chunked wins over Content-Length; several
  // differing Content-Length values are an error.
  if (response_.status == 204 || response_.status == 304) {
    state_ = State::done;
    return {};
  }
  bool chunked = false;
  std::optional<std::size_t> length;
  for (const auto& h : response_.headers) {
    if (iequals(h.name, "Transfer-Encoding")) {
      chunked = ends_with_chunked(h.value);
      if (!chunked) return fail("unsupported transfer coding \"" + h.value + "\"");
    } else if (iequals(h.name, "Content-Length")) {
      const std::string_view value = h.value;
      std::size_t n = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (!all_digits(value) || ec != std::errc() || end != value.data() + value.size()) {
        return fail("bad Content-Length");
      }
      if (length && *length != n) return fail("conflicting Content-Length fields");
      length = n;
    }
  }
  if (chunked) {
    state_ = State::chunk_size;
  } else if (length) {
    if (*length > max_body_) return fail(fmt::format("the body is larger than {} octets", max_body_));
    remaining_ = *length;
    response_.body.reserve(*length);
    state_ = *length == 0 ? State::done : State::body_length;
  } else {
    state_ = State::body_close;
  }
  return {};
}

Result<void> ResponseParser::append_body(std::string_view data) {
  if (data.size() > max_body_ || response_.body.size() > max_body_ - data.size()) {
    return fail(fmt::format("the body is larger than {} octets", max_body_));
  }
  response_.body.append(data);
  return {};
}

}  // namespace postamt::proto::http
