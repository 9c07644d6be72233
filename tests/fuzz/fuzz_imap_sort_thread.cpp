// Fuzzes the SORT / THREAD grammar (RFC 5256 §5, ESORT RFC 5267 §3.2, RFC 5957) and the
// sans-I/O ordering behind it. Checks:
//   * "SORT" / "UID SORT" / "THREAD" / "UID THREAD" (with or without RETURN) followed by
//     the input's bytes: no crash or UB; errors short and printable; a parsed SORT has
//     criteria, an upper-case charset, no SAVE, and a search tree within kMaxSearchDepth;
//   * base_subject(): never longer than the input, no leading, trailing or doubled
//     space, and idempotent (the base subject of a base subject is itself);
//   * thread_references() / thread_ordered_subject() over messages whose Message-IDs,
//     References and subjects come from the input (duplicates, loops, self references):
//     balanced parentheses, and every message number exactly once;
//   * sort_order(): a permutation of the sequence numbers.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "imap/message/base_subject.hpp"
#include "imap/message/sort_order.hpp"
#include "imap/message/thread_builder.hpp"
#include "proto/imap/command_reader.hpp"
#include "proto/imap/commands.hpp"
#include "proto/imap/search_key_parser.hpp"
#include "proto/imap/tokenizer.hpp"

#include "fuzz_bits.hpp"

namespace {

using namespace postamt::proto::imap;
using postamt::fuzz::Bits;
using postamt::fuzz::fail;

std::size_t depth_of(const SearchKey& key, std::size_t depth) {
  if (depth > kMaxSearchDepth + 2) fail();
  std::size_t deepest = depth;
  for (const SearchKey& child : key.children) deepest = std::max(deepest, depth_of(child, depth + 1));
  return deepest;
}

void check_search(const std::string& charset, const SearchKey& key) {
  if (charset.empty()) fail();
  for (char c : charset) {
    if (c >= 'a' && c <= 'z') fail();
  }
  if (key.kind != SearchKey::Kind::and_ || key.children.empty()) fail();
  depth_of(key, 0);
}

void check_command(std::string line) {
  Command command;
  command.lines.push_back(std::move(line));
  auto tokens = tokenize(std::move(command));
  if (!tokens) return;
  const std::string tag = tokens->tag;
  auto typed = parse_command(std::move(*tokens));
  if (!typed) {
    const std::string& message = typed.error().message;
    if (typed.error().tag != tag || message.empty() || message.size() > 300) fail();
    for (char c : message) {
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) fail();
    }
    return;
  }
  if (auto* sort = std::get_if<SortCommand>(&typed->command)) {
    if (sort->criteria.empty()) fail();
    if (sort->return_options && sort->return_options->save) fail();
    check_search(sort->charset, sort->key);
  } else if (auto* thread = std::get_if<ThreadCommand>(&typed->command)) {
    check_search(thread->charset, thread->key);
  }
}

void check_base_subject(std::string_view subject) {
  const postamt::imap::BaseSubject base = postamt::imap::base_subject(subject);
  const std::string& text = base.text;
  if (text.size() > subject.size()) fail();
  if (!text.empty() && (text.front() == ' ' || text.back() == ' ')) fail();
  if (text.find("  ") != std::string::npos) fail();
  if (text.find_first_of("\t\r\n") != std::string::npos) fail();
  if (postamt::imap::base_subject(text).text != text) fail();
}

// Every number once, parentheses balanced, nothing but digits, spaces and parentheses.
void check_threads(const std::string& threads, std::size_t count) {
  std::vector<int> seen(count + 1, 0);
  int depth = 0;
  for (std::size_t i = 0; i < threads.size();) {
    const char c = threads[i];
    if (c == '(') {
      ++depth;
      ++i;
    } else if (c == ')') {
      if (--depth < 0) fail();
      ++i;
    } else if (c == ' ') {
      ++i;
    } else if (c >= '0' && c <= '9') {
      std::size_t number = 0;
      while (i < threads.size() && threads[i] >= '0' && threads[i] <= '9') {
        number = number * 10 + static_cast<std::size_t>(threads[i] - '0');
        if (number > count) fail();
        ++i;
      }
      if (number == 0 || ++seen[number] != 1) fail();
    } else {
      fail();
    }
  }
  if (depth != 0) fail();
  for (std::size_t n = 1; n <= count; ++n) {
    if (seen[n] != 1) fail();
  }
}

void check_ordering(Bits& bits, std::string_view data) {
  const std::size_t count = 1 + bits.take(40);
  std::vector<postamt::imap::ThreadMessage> messages(count);
  std::vector<postamt::imap::SortFields> fields(count);
  static constexpr std::string_view kSubjects[] = {"Re: a", "a", "[x] Fwd: a", "b (fwd)", "", "[fwd: b]", "Re[2]: b"};
  for (std::size_t i = 0; i < count; ++i) {
    auto& m = messages[i];
    m.number = static_cast<std::uint32_t>(i + 1);
    m.sequence_number = m.number;
    m.sent = bits.take(5);
    const auto base = postamt::imap::base_subject(kSubjects[bits.take(std::size(kSubjects))]);
    m.base_subject = postamt::imap::ascii_casemap(base.text);
    m.reply_or_forward = base.reply_or_forward;
    if (bits.take(4) != 0) m.message_id = "<" + std::to_string(bits.take(12)) + "@x>";
    for (unsigned r = bits.take(5); r > 0; --r) m.references.push_back("<" + std::to_string(bits.take(12)) + "@x>");
    fields[i].sequence_number = m.number;
    fields[i].arrival = bits.take(3);
    fields[i].subject = m.base_subject;
    fields[i].from = std::string(data.substr(0, bits.take(3)));
  }
  check_threads(postamt::imap::thread_references(messages), count);
  check_threads(postamt::imap::thread_ordered_subject(messages), count);
  const std::vector<SortCriterion> criteria = {{SortKey::subject, bits.take(2) == 1},
                                               {SortKey::arrival, bits.take(2) == 1},
                                               {SortKey::from, false}};
  std::vector<std::uint32_t> order = postamt::imap::sort_order(fields, criteria);
  std::sort(order.begin(), order.end());
  for (std::size_t i = 0; i < count; ++i) {
    if (order.size() != count || order[i] != i + 1) fail();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static constexpr const char* kPrefixes[] = {
      "t SORT ", "t UID SORT ", "t THREAD ", "t UID THREAD ", "t SORT RETURN (", "t SORT (",
      "t THREAD REFERENCES ", "t SORT (DATE) UTF-8 "};
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  // One line: the tokenizer gets what the reader frames, never CR or LF inside.
  const std::string_view line = text.substr(0, std::min(text.find_first_of("\r\n"), text.size()));
  check_command(kPrefixes[data[0] % std::size(kPrefixes)] + std::string(line.substr(0, 4000)));
  check_base_subject(text.substr(0, 2000));
  Bits bits(data, size);
  check_ordering(bits, text);
  return 0;
}
