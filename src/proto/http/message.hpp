#pragma once
// A small sans-I/O HTTP/1.1 client codec (RFC 9110 semantics, RFC 9112 message syntax) for
// talking to local services such as rspamd: a request is encoded whole, a response is
// parsed incrementally from whatever pieces the network delivers, with bounded sizes.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace postamt::proto::http {

struct Header {
  std::string name;
  std::string value;
};

struct Request {
  std::string method = "GET";
  std::string target = "/";  // origin-form (RFC 9112 §3.2.1)
  std::string host;          // the Host field's value (RFC 9110 §7.2), "host:port"
  std::vector<Header> headers;
  std::string body;          // sent with Content-Length (also when empty for POST/PUT)
};

// The request's wire form: request line, Host, the given fields, Content-Length and
// "Connection: close" (one exchange per connection). Names and values must not hold CR
// or LF; such a field is refused (an injected header would be a request smuggled in).
Result<std::string> encode_request(const Request& request);

struct Response {
  int status = 0;
  std::string reason;
  std::vector<Header> headers;  // in order; names as received
  std::string body;             // de-chunked

  // The first field called `name` (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
};

bool iequals(std::string_view a, std::string_view b);

}  // namespace postamt::proto::http
