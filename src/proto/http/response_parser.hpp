#pragma once
// ResponseParser: one HTTP/1.1 response (RFC 9112), fed in whatever pieces arrive. The
// status line and fields are bounded (64 KiB together), the body by the caller's limit;
// the body is framed by chunked transfer coding (§7.1), Content-Length (§6.3) or the end
// of the connection. Interim 1xx responses are skipped (RFC 9110 §15.2).
#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "proto/http/message.hpp"

namespace postamt::proto::http {

class ResponseParser {
 public:
  static constexpr std::size_t kMaxHeaderSize = 64 * 1024;

  explicit ResponseParser(std::size_t max_body_size);

  // Consumes `data`. Returns true once the response is complete (bytes after it are
  // ignored), false when more is needed, an error when the bytes are not a response or
  // exceed a bound. After an error or completion further calls return the same outcome.
  Result<bool> feed(std::string_view data);

  // The connection ended: completes a body that runs until the close, or says what is
  // missing.
  Result<void> finish();

  bool complete() const { return state_ == State::done; }
  const Response& response() const { return response_; }
  Response take() { return std::move(response_); }

 private:
  enum class State { status_line, fields, body_length, body_close, chunk_size, chunk_data, chunk_end, trailers, done, failed };

  Result<bool> step();  // one unit of progress; false when waiting for bytes
  Result<void> fail(std::string message);
  Result<void> on_status_line(std::string_view line);
  Result<void> on_field(std::string_view line);
  Result<void> on_fields_end();
  Result<void> append_body(std::string_view data);
  // The next line (without CR LF) from the buffer, or nullopt; counts against the bound.
  Result<bool> next_line(std::string_view& line, std::size_t limit);

  std::size_t max_body_;
  State state_ = State::status_line;
  std::string buffer_;
  std::size_t start_ = 0;
  std::size_t header_bytes_ = 0;
  std::size_t remaining_ = 0;  // body_length / chunk_data: octets still to come
  Response response_;
  std::string error_;
};

}  // namespace postamt::proto::http
