#include "proto/imap/command_reader.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include "proto/imap/literal_marker.hpp"

namespace postamt::proto::imap {
namespace {

// "<tag> APPEND ..." in any case: the one command whose literal is a whole message.
bool is_append(std::string_view first_line) {
  const auto space = first_line.find(' ');
  if (space == std::string_view::npos) return false;
  const std::string_view rest = first_line.substr(space + 1);
  constexpr std::string_view kAppend = "APPEND ";
  if (rest.size() < kAppend.size()) return false;
  for (std::size_t i = 0; i < kAppend.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(rest[i])) != kAppend[i]) return false;
  }
  return true;
}

}  // namespace

std::string_view ReaderError::reason() const {
  switch (kind) {
    case ReaderErrorKind::line_too_long: return "Command line too long";
    case ReaderErrorKind::literal_too_big: return "[TOOBIG] Literal too big";
    case ReaderErrorKind::too_many_literals: return "Too many literals in one command";
    case ReaderErrorKind::command_too_big: return "[TOOBIG] Command too big";
  }
  return "Invalid command";
}

CommandReader::CommandReader(ReaderLimits limits)
    : limits_(limits), lines_(limits.max_line_length) {}

void CommandReader::receive(std::string_view data) {
  if (state_ == State::closed) return;
  lines_.feed(data);
}

void CommandReader::set_limits(const ReaderLimits& limits) {
  const std::size_t line_limit = limits_.max_line_length;
  limits_ = limits;
  limits_.max_line_length = line_limit;
}

void CommandReader::reset_command() {
  current_ = Command{};
  tag_.clear();
  command_bytes_ = 0;
  literal_remaining_ = 0;
  spilling_ = false;
}

ReaderError CommandReader::fail(ReaderErrorKind kind, bool fatal, std::uint64_t literal_size) {
  ReaderError error{kind, std::move(tag_), fatal, literal_size};
  reset_command();
  if (fatal) {
    state_ = State::closed;
    lines_.discard_buffered();
  } else {
    state_ = State::line;
  }
  return error;
}

bool CommandReader::can_skip(const std::optional<LiteralMarker>& marker) const {
  return !marker || marker->synchronizing || marker->size <= limits_.max_literal_size;
}

// The rest of a refused command, line by line: a synchronising literal is never sent (the
// client has the refusal instead of "+"), so the command ends there, as at a line without
// a literal; a non-synchronising one comes unasked and is read and thrown away, if it is
// no bigger than a literal may be (RFC 7888 §4). False: too big, the stream is out of sync.
bool CommandReader::skip_rest(const std::optional<LiteralMarker>& marker) {
  skipping_ = false;
  if (!can_skip(marker)) return false;
  if (!marker || marker->synchronizing) return true;
  skipping_ = true;
  literal_remaining_ = marker->size;
  if (literal_remaining_ > 0) state_ = State::literal;
  return true;
}

void CommandReader::continue_literal() {
  if (state_ == State::awaiting_continuation) state_ = State::literal;
}

void CommandReader::reject_literal() {
  if (state_ != State::awaiting_continuation) return;
  // RFC 9051 §7.5: refused instead of "+", the client does not send the literal.
  reset_command();
  state_ = State::line;
}

std::optional<ReaderEvent> CommandReader::next_event() {
  while (true) {
    switch (state_) {
      case State::closed:
      case State::awaiting_continuation:
        return std::nullopt;
      case State::literal: {
        // Octets are copied straight into the literal: no line splitting, any octet.
        const std::size_t want = static_cast<std::size_t>(
            std::min<std::uint64_t>(literal_remaining_, lines_.buffered()));
        literal_remaining_ -= want;
        if (literal_remaining_ == 0) state_ = State::line;
        if (skipping_) {  // a refused command's literal: thrown away
          lines_.take(want);
          if (literal_remaining_ > 0) return std::nullopt;
          continue;
        }
        if (spilling_ && want > 0) return LiteralBytes{lines_.take(want)};
        if (want > 0) current_.literals.back().data += lines_.take(want);
        if (literal_remaining_ > 0) return std::nullopt;
        continue;
      }
      case State::line: {
        auto line = lines_.next_line();
        if (!line) return std::nullopt;
        if (!*line) {
          // The over-long line was dropped as it arrived (LineBuffer); the command it
          // belongs to is dropped too. Its tag, when the kept head shows one, gets the
          // tagged BAD (RFC 9051 §7.1.3); the rest of the command is read and thrown away
          // (skip_rest).
          const auto marker = find_literal_marker(lines_.dropped_tail());
          if (skipping_) {  // a command already refused: no second reply
            if (!skip_rest(marker)) return fail(ReaderErrorKind::line_too_long, true, 0);
            continue;
          }
          if (current_.lines.empty()) {
            const std::string_view head = lines_.dropped_head();
            const std::size_t space = head.find(' ');
            if (space != std::string_view::npos) tag_ = std::string(head.substr(0, space));
          }
          const bool in_sync = can_skip(marker);
          ReaderError error = fail(ReaderErrorKind::line_too_long, !in_sync, 0);
          if (in_sync) skip_rest(marker);
          return error;
        }
        // Copy out: the view dies at the next take() or feed().
        std::string text((*line)->text);
        if (skipping_) {
          if (!skip_rest(find_literal_marker(text))) {
            return fail(ReaderErrorKind::line_too_long, true, 0);
          }
          continue;
        }
        if (auto event = on_line(text)) return event;
        continue;
      }
    }
  }
}

std::optional<std::expected<std::string, ReaderErrorKind>> CommandReader::next_raw_line() {
  if (state_ != State::line || !current_.lines.empty() || skipping_) return std::nullopt;
  auto line = lines_.next_line();
  if (!line) return std::nullopt;
  if (!*line) return std::unexpected(ReaderErrorKind::line_too_long);
  return std::string((*line)->text);
}

std::optional<ReaderEvent> CommandReader::on_line(std::string_view text) {
  if (current_.lines.empty()) {
    // The tag as sent, for the driver's tagged reply; validated by the tokenizer.
    tag_ = std::string(text.substr(0, std::min(text.find(' '), text.size())));
  }
  command_bytes_ += text.size() + 2;
  const auto marker = find_literal_marker(text);
  const bool sync = !marker || marker->synchronizing;
  if (command_bytes_ > limits_.max_command_size) {
    return fail(ReaderErrorKind::command_too_big, !sync, 0);
  }
  if (!marker) {
    current_.lines.emplace_back(text);
    Command done = std::move(current_);
    reset_command();
    return done;
  }
  // The limits are checked on the announcement, before any literal octet is read
  // (RFC 9051 §7.1 TOOBIG, RFC 7888 §4).
  if (current_.literals.size() >= limits_.max_literals) {
    return fail(ReaderErrorKind::too_many_literals, !sync, marker->size);
  }
  std::uint64_t limit = limits_.max_literal_size;
  if (!sync && limits_.literal_minus) limit = std::min(limit, kLiteralMinusMax);
  if (marker->size > limit) return fail(ReaderErrorKind::literal_too_big, !sync, marker->size);
  if (marker->size > limits_.max_command_size - command_bytes_) {
    return fail(ReaderErrorKind::command_too_big, !sync, marker->size);
  }
  command_bytes_ += marker->size;
  spilling_ = limits_.spill_threshold > 0 && marker->size >= limits_.spill_threshold &&
              is_append(current_.lines.empty() ? text : std::string_view(current_.lines.front()));
  current_.lines.emplace_back(text.substr(0, text.size() - marker->marker_length));
  current_.literals.push_back(Literal{{}, marker->binary, sync, spilling_, marker->size});
  if (!spilling_) {
    current_.literals.back().data.reserve(
        static_cast<std::size_t>(std::min<std::uint64_t>(marker->size, 64 * 1024)));
  }
  literal_remaining_ = marker->size;
  if (sync) {
    state_ = State::awaiting_continuation;
    return NeedContinuation{marker->size, tag_};
  }
  state_ = State::literal;
  return std::nullopt;
}

}  // namespace postamt::proto::imap
