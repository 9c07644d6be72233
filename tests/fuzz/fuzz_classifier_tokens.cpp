// Fuzzes filter/classifier_tokens: the built-in classifier's tokenizer on arbitrary
// message bytes (header fields, MIME parts, transfer encodings, charsets). Checks: no
// crash, UB or leak; at most max_tokens tokens, all distinct and of the documented forms
// (a lower-cased word of 3 to 40 octets, or "FIELD:addr:LOCAL@DOMAIN" / "FIELD:domain:
// DOMAIN" with both parts present); a smaller max_tokens gives a prefix of the full list
// (the first tokens met); the hashes are the texts' FNV-1a hashes, each once.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "filter/classifier_tokens.hpp"

#include "fuzz_bits.hpp"

namespace {

using namespace postamt::filter;
using postamt::fuzz::fail;

bool word_octet(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}
bool inner_octet(char c) { return c == '\'' || c == '-' || c == '.' || c == '_'; }

bool is_word(std::string_view word) {
  if (word.size() < 3 || word.size() > 40) return false;
  if (!word_octet(static_cast<unsigned char>(word.front())) || !word_octet(static_cast<unsigned char>(word.back()))) {
    return false;
  }
  for (const char c : word) {
    if (!word_octet(static_cast<unsigned char>(c)) && !inner_octet(c)) return false;
  }
  return true;
}

bool has_upper(std::string_view text) {
  for (const char c : text) {
    if (c >= 'A' && c <= 'Z') return true;
  }
  return false;
}

void check_token(std::string_view token) {
  if (has_upper(token)) fail();
  for (const std::string_view field : {"from:", "to:", "cc:", "reply-to:"}) {
    if (!token.starts_with(field)) continue;
    const std::string_view rest = token.substr(field.size());
    if (rest.starts_with("addr:")) {
      const std::string_view address = rest.substr(5);
      const auto at = address.find('@');
      if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) fail();
      if (address.find_first_of(" \t,<>\"();") != std::string_view::npos) fail();
      return;
    }
    if (rest.starts_with("domain:")) {
      if (rest.size() == 7) fail();
      return;
    }
    if (!is_word(rest)) fail();
    return;
  }
  if (token.starts_with("subject:")) {
    if (!is_word(token.substr(8))) fail();
    return;
  }
  if (!is_word(token)) fail();  // a word of a text part
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string> texts = classifier_token_texts(message);
  if (texts.size() > kMaxClassifierTokens) fail();
  std::unordered_set<std::string_view> distinct;
  for (const std::string& token : texts) {
    check_token(token);
    if (!distinct.insert(token).second) fail();
  }
  // The first tokens met: a smaller bound cuts the same list short.
  const std::size_t small = size > 0 ? 1 + data[0] % 40 : 1;
  const std::vector<std::string> first = classifier_token_texts(message, small);
  if (first.size() != std::min(small, texts.size())) fail();
  for (std::size_t i = 0; i < first.size(); ++i) {
    if (first[i] != texts[i]) fail();
  }
  // The stored form: each text's hash, a hash once.
  const std::vector<std::uint64_t> hashes = classifier_tokens(message);
  std::unordered_set<std::uint64_t> expected;
  for (const std::string& token : texts) expected.insert(token_hash(token));
  if (hashes.size() != expected.size()) fail();
  for (const std::uint64_t hash : hashes) {
    if (!expected.contains(hash)) fail();
  }
  return 0;
}
