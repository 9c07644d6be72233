#include "filter/classifier_tokens.hpp"

#include <unordered_set>

#include "imap/message/message_text.hpp"
#include "mime/analyze_message.hpp"

namespace postamt::filter {
namespace {

constexpr std::size_t kMinWord = 3;
constexpr std::size_t kMaxWord = 40;
constexpr std::size_t kMaxHeaderText = 64 * 1024;

bool word_octet(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}
bool inner_octet(unsigned char c) { return c == '\'' || c == '-' || c == '.' || c == '_'; }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = lower(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

class Collector {
 public:
  explicit Collector(std::size_t max) : max_(max) {}
  bool full() const { return tokens_.size() >= max_; }
  void add(std::string token) {
    if (full()) return;
    if (seen_.insert(token).second) tokens_.push_back(std::move(token));
  }
  // Every word of `text`, with `prefix`.
  void words(std::string_view text, std::string_view prefix) {
    std::size_t i = 0;
    while (i < text.size() && !full()) {
      while (i < text.size() && !word_octet(static_cast<unsigned char>(text[i]))) ++i;
      std::size_t end = i;
      while (end < text.size() && (word_octet(static_cast<unsigned char>(text[end])) ||
                                   inner_octet(static_cast<unsigned char>(text[end])))) {
        ++end;
      }
      std::string_view word = text.substr(i, end - i);
      while (!word.empty() && inner_octet(static_cast<unsigned char>(word.back()))) word.remove_suffix(1);
      if (word.size() >= kMinWord && word.size() <= kMaxWord) add(std::string(prefix) + lowered(word));
      i = end;
    }
  }
  // An address field: names' words and each address whole and its domain.
  void addresses(std::string_view value, std::string_view field) {
    const std::string prefix = std::string(field) + ":";
    std::string names;
    std::size_t i = 0;
    while (i < value.size()) {
      const std::size_t end = value.find_first_of(" \t,<>\"();", i);
      const std::string_view piece = value.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
      // A sentence's full stop or a group's colon after an address is not part of it; what
      // remains needs a local part and a domain ("a@." is none).
      std::string_view address = piece;
      while (!address.empty() && (address.back() == '.' || address.back() == ':')) address.remove_suffix(1);
      const auto at = address.find('@');
      if (at != std::string_view::npos && at > 0 && at + 1 < address.size() && address.size() <= 254) {
        add(prefix + "addr:" + lowered(address));
        add(prefix + "domain:" + lowered(address.substr(at + 1)));
      } else {
        names += piece;
        names += ' ';
      }
      if (end == std::string_view::npos) break;
      i = end + 1;
    }
    words(names, prefix);
  }
  std::vector<std::string> take() { return std::move(tokens_); }

 private:
  std::size_t max_;
  std::vector<std::string> tokens_;
  std::unordered_set<std::string> seen_;
};

}  // namespace

std::vector<std::string> classifier_token_texts(std::string_view message, std::size_t max_tokens) {
  Collector collector(max_tokens);
  // "Name: value" lines, unfolded, encoded words decoded.
  const std::string header = imap::searchable_header_text(message, kMaxHeaderText);
  std::string_view rest = header;
  while (!rest.empty()) {
    const auto newline = rest.find('\n');
    std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    if (iequals(name, "Subject")) collector.words(value, "subject:");
    else if (iequals(name, "From")) collector.addresses(value, "from");
    else if (iequals(name, "To")) collector.addresses(value, "to");
    else if (iequals(name, "Cc")) collector.addresses(value, "cc");
    else if (iequals(name, "Reply-To")) collector.addresses(value, "reply-to");
  }
  if (!collector.full()) {
    const mime::MessageMetadata metadata = mime::analyze_message(message);
    collector.words(imap::searchable_body_text(message, metadata, kMaxClassifierText), "");
  }
  return collector.take();
}

std::uint64_t token_hash(std::string_view token) {
  // FNV-1a, 64 bits (offset basis and prime as the FNV specification gives them).
  std::uint64_t hash = 14695981039346656037ULL;
  for (const char c : token) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

std::vector<std::uint64_t> classifier_tokens(std::string_view message, std::size_t max_tokens) {
  std::vector<std::uint64_t> hashes;
  for (const std::string& token : classifier_token_texts(message, max_tokens)) hashes.push_back(token_hash(token));
  // Two texts may share a hash (rarely): a lesson counts each hash once.
  std::unordered_set<std::uint64_t> seen;
  std::erase_if(hashes, [&](std::uint64_t h) { return !seen.insert(h).second; });
  return hashes;
}

}  // namespace postamt::filter
