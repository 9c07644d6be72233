#pragma once
// Result<T>: the error channel of every protocol and storage path.
// An Error says whether retrying later may help (temporary, maps to 4xx / [UNAVAILABLE])
// or not (permanent, maps to 5xx / NO).
#include <expected>
#include <string>
#include <utility>

namespace postamt {

enum class ErrorKind { temporary, permanent };

struct Error {
  ErrorKind kind = ErrorKind::permanent;
  std::string message;

  bool temporary() const { return kind == ErrorKind::temporary; }
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> temporary_error(std::string message) {
  return std::unexpected(Error{ErrorKind::temporary, std::move(message)});
}

inline std::unexpected<Error> permanent_error(std::string message) {
  return std::unexpected(Error{ErrorKind::permanent, std::move(message)});
}

}  // namespace postamt
