#include "imap/message/sort_order.hpp"

#include <glib.h>

#include <algorithm>
#include <compare>

#include "imap/message/base_subject.hpp"
#include "mime/address_list.hpp"
#include "mime/header_decoding.hpp"
#include "mime/header_fields.hpp"

namespace postamt::imap {
namespace {

using proto::imap::SortCriterion;
using proto::imap::SortKey;

std::strong_ordering compare_key(const SortFields& a, const SortFields& b, SortKey key) {
  switch (key) {
    case SortKey::arrival: return a.arrival <=> b.arrival;
    case SortKey::date: return a.sent <=> b.sent;
    case SortKey::size: return a.size <=> b.size;
    case SortKey::subject: return a.subject <=> b.subject;
    case SortKey::from: return a.from <=> b.from;
    case SortKey::to: return a.to <=> b.to;
    case SortKey::cc: return a.cc <=> b.cc;
    case SortKey::display_from: return a.display_from <=> b.display_from;
    case SortKey::display_to: return a.display_to <=> b.display_to;
  }
  return std::strong_ordering::equal;
}

const mime::EnvelopeAddress* first_address(const std::vector<mime::EnvelopeAddress>& list) {
  return list.empty() ? nullptr : &list.front();
}

}  // namespace

SortNeeds sort_needs(std::span<const SortCriterion> criteria) {
  SortNeeds needs;
  for (const SortCriterion& criterion : criteria) {
    switch (criterion.key) {
      case SortKey::date:
      case SortKey::subject: needs.metadata = true; break;
      case SortKey::from:
      case SortKey::to:
      case SortKey::cc:
      case SortKey::display_from:
      case SortKey::display_to: needs.header = true; break;
      case SortKey::arrival:
      case SortKey::size: break;
    }
  }
  return needs;
}

std::int64_t sent_date_for_sort(std::optional<std::int64_t> header_date, std::int64_t internal_date) {
  return header_date ? *header_date : internal_date;
}

std::string first_mailbox_key(std::string_view raw_address_list) {
  const auto list = mime::parse_address_list(mime::unfold(raw_address_list.substr(0, mime::kMaxDecodedInput)));
  const mime::EnvelopeAddress* first = first_address(list);
  if (first == nullptr || !first->mailbox) return {};
  return ascii_casemap(*first->mailbox);
}

std::string display_key(std::string_view raw_address_list) {
  const auto list = mime::parse_address_list(mime::unfold(raw_address_list.substr(0, mime::kMaxDecodedInput)));
  const mime::EnvelopeAddress* first = first_address(list);
  if (first == nullptr) return {};
  if (first->name) {
    const std::string name = mime::decode_phrase(*first->name);
    if (!name.empty()) return unicode_casemap(name);
  }
  if (!first->host) return unicode_casemap(first->mailbox.value_or(""));  // a group's name
  return unicode_casemap(first->mailbox.value_or("") + "@" + *first->host);
}

std::string unicode_casemap(std::string_view text) {
  if (!g_utf8_validate(text.data(), static_cast<gssize>(text.size()), nullptr)) return std::string(text);
  // RFC 5051 §2: each character to its simple titlecase mapping, then NFKD.
  std::string titled;
  titled.reserve(text.size());
  for (const char* at = text.data(); at < text.data() + text.size(); at = g_utf8_next_char(at)) {
    char encoded[6];
    const gint length = g_unichar_to_utf8(g_unichar_totitle(g_utf8_get_char(at)), encoded);
    titled.append(encoded, static_cast<std::size_t>(length));
  }
  gchar* decomposed = g_utf8_normalize(titled.data(), static_cast<gssize>(titled.size()), G_NORMALIZE_NFKD);
  if (decomposed == nullptr) return titled;
  std::string out = decomposed;
  g_free(decomposed);
  return out;
}

std::vector<std::uint32_t> sort_order(std::vector<SortFields> messages,
                                      std::span<const SortCriterion> criteria) {
  std::sort(messages.begin(), messages.end(), [&](const SortFields& a, const SortFields& b) {
    for (const SortCriterion& criterion : criteria) {
      const auto order = compare_key(a, b, criterion.key);
      if (order != 0) return criterion.reverse ? order > 0 : order < 0;
    }
    return a.sequence_number < b.sequence_number;
  });
  std::vector<std::uint32_t> order;
  order.reserve(messages.size());
  for (const SortFields& message : messages) order.push_back(message.sequence_number);
  return order;
}

}  // namespace postamt::imap
