#include "imap/search_prefilter.hpp"

#include <algorithm>
#include <iterator>

#include "imap/message/search_string.hpp"

namespace postamt::imap {
namespace {

using Kind = proto::imap::SearchKey::Kind;

bool starts_code_point(char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }

std::size_t code_points(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), starts_code_point));
}

// The first `max` characters of valid UTF-8 `text`.
std::string first_characters(std::string text, std::size_t max) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (starts_code_point(text[i]) && seen++ == max) {
      text.resize(i);
      break;
    }
  }
  return text;
}

// Keeps the needles no other needle contains (an exact duplicate once), longest first.
std::vector<std::string> without_implied(std::vector<std::string> needles) {
  std::sort(needles.begin(), needles.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  std::vector<std::string> kept;
  for (std::string& needle : needles) {
    const bool implied = std::any_of(kept.begin(), kept.end(), [&](const std::string& longer) {
      return longer.find(needle) != std::string::npos;
    });
    if (!implied) kept.push_back(std::move(needle));
  }
  return kept;
}

// Ascending UID lists.
std::vector<std::uint32_t> intersection(const std::vector<std::uint32_t>& a,
                                        const std::vector<std::uint32_t>& b) {
  std::vector<std::uint32_t> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::vector<std::uint32_t> union_of(const std::vector<std::uint32_t>& a,
                                    const std::vector<std::uint32_t>& b) {
  std::vector<std::uint32_t> out;
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace

std::vector<std::string> required_substrings(const proto::imap::SearchKey& key) {
  std::vector<std::string> needles;
  // Iterative, so a deeply nested key costs no stack.
  std::vector<const proto::imap::SearchKey*> pending = {&key};
  while (!pending.empty()) {
    const proto::imap::SearchKey& current = *pending.back();
    pending.pop_back();
    switch (current.kind) {
      case Kind::and_:
        for (const auto& child : current.children) pending.push_back(&child);
        break;
      case Kind::body:  // the body text
      case Kind::text: {  // header or body text: the index holds both
        std::string folded = fold_for_search(current.text);
        if (code_points(folded) >= kMinIndexedNeedleCharacters)
          needles.push_back(first_characters(std::move(folded), kMaxIndexedNeedleCharacters));
        break;
      }
      default:  // NOT and OR promise nothing about a needle; other keys do not read text
        break;
    }
  }
  needles = without_implied(std::move(needles));
  if (needles.size() > kMaxIndexedNeedles) needles.resize(kMaxIndexedNeedles);
  return needles;
}

storage::StoreResult<std::vector<std::uint32_t>> text_search_candidates(
    storage::MailStore& store, storage::Id mailbox_id, std::span<const std::string> needles) {
  if (needles.empty())
    return storage::storage_error(storage::StorageError::Code::invalid,
                                  "A text search prefilter needs a needle.");
  // Unindexed first: a blob indexed between the two questions then shows up as a match,
  // so no message falls between them.
  auto unindexed = store.unindexed_uids(mailbox_id);
  if (!unindexed) return std::unexpected(std::move(unindexed.error()));
  std::vector<std::uint32_t> matching;
  for (std::size_t i = 0; i < needles.size(); ++i) {
    auto found = store.text_candidates(mailbox_id, needles[i]);
    if (!found) return std::unexpected(std::move(found.error()));
    matching = i == 0 ? std::move(*found) : intersection(matching, *found);
    if (matching.empty()) break;
  }
  return union_of(*unindexed, matching);
}

}  // namespace postamt::imap
