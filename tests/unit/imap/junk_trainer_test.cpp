// Which COPY/MOVE teaches what (imap/junk_trainer.hpp).
#include "imap/junk_trainer.hpp"

#include <gtest/gtest.h>

namespace postamt::imap {
namespace {

storage::MailboxRecord box(storage::Id id, std::string name, storage::SpecialUse use = storage::SpecialUse::none) {
  storage::MailboxRecord record;
  record.id = id;
  record.name = std::move(name);
  record.special_use = use;
  return record;
}

TEST(JunkLesson, IntoJunkIsSpamOutOfJunkIsHamExceptToTrash) {
  const auto inbox = box(1, "INBOX");
  const auto junk = box(2, "Spam", storage::SpecialUse::junk);
  const auto named_junk = box(3, "junk");
  const auto trash = box(4, "Deleted", storage::SpecialUse::trash);
  const auto archive = box(5, "Archive", storage::SpecialUse::archive);
  EXPECT_EQ(junk_lesson(inbox, junk), JunkLesson::spam);
  EXPECT_EQ(junk_lesson(archive, named_junk), JunkLesson::spam) << "named Junk, any case";
  EXPECT_EQ(junk_lesson(junk, inbox), JunkLesson::ham);
  EXPECT_EQ(junk_lesson(named_junk, archive), JunkLesson::ham);
  EXPECT_EQ(junk_lesson(junk, trash), std::nullopt) << "deleting spam teaches nothing";
  EXPECT_EQ(junk_lesson(junk, box(6, "Trash")), std::nullopt);
  EXPECT_EQ(junk_lesson(junk, named_junk), std::nullopt) << "Junk to Junk";
  EXPECT_EQ(junk_lesson(junk, junk), std::nullopt);
  EXPECT_EQ(junk_lesson(inbox, archive), std::nullopt);
  EXPECT_EQ(junk_lesson(trash, inbox), std::nullopt);
}

}  // namespace
}  // namespace postamt::imap
