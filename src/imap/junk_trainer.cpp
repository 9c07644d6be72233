#include "imap/junk_trainer.hpp"

namespace postamt::imap {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool is_junk(const storage::MailboxRecord& mailbox) {
  return mailbox.special_use == storage::SpecialUse::junk || iequals(mailbox.name, "Junk");
}

bool is_trash(const storage::MailboxRecord& mailbox) {
  return mailbox.special_use == storage::SpecialUse::trash || iequals(mailbox.name, "Trash");
}

}  // namespace

std::optional<JunkLesson> junk_lesson(const storage::MailboxRecord& source, const storage::MailboxRecord& destination) {
  if (source.id == destination.id) return std::nullopt;
  const bool from_junk = is_junk(source);
  const bool to_junk = is_junk(destination);
  if (to_junk && !from_junk) return JunkLesson::spam;
  if (from_junk && !to_junk && !is_trash(destination)) return JunkLesson::ham;
  return std::nullopt;
}

}  // namespace postamt::imap
