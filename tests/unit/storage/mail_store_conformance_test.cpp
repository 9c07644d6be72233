// The MailStore conformance suite (see mail_store_conformance.hpp). Backends instantiate
// it in their own file.
#include "mail_store_conformance.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

namespace postamt::storage::test {
namespace {

using Code = StorageError::Code;

// --- schema

TEST_P(MailStoreConformance, SchemaVersionIsPositiveAndStableAcrossReopen) {
  const int version = store().schema_version();
  EXPECT_GT(version, 0);
  reopen();
  EXPECT_EQ(store().schema_version(), version);
  reopen();
  EXPECT_EQ(store().schema_version(), version);
}

// --- domains

TEST_P(MailStoreConformance, AddDomainNormalises) {
  auto domain = store().add_domain("Example.COM.");
  ASSERT_TRUE(domain) << domain.error().message;
  EXPECT_EQ(domain->name, "example.com");
  EXPECT_GT(domain->id, 0);
  EXPECT_GT(domain->created_at, 0);
  auto found = store().find_domain("EXAMPLE.com");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, domain->id);
  EXPECT_EQ(found->name, "example.com");
}

TEST_P(MailStoreConformance, AddDomainTwiceIsAlreadyExists) {
  ASSERT_TRUE(store().add_domain("example.com"));
  EXPECT_EQ(code_of(store().add_domain("example.com")), Code::already_exists);
  EXPECT_EQ(code_of(store().add_domain("EXAMPLE.COM.")), Code::already_exists);
}

TEST_P(MailStoreConformance, AddDomainRefusesInvalidNames) {
  for (const std::string& name :
       {std::string(), std::string("."), std::string("a..b"), std::string("-a.com"),
        std::string("a-.com"), std::string("a b.com"), std::string("a\x01.com"),
        std::string("under_score.com"), std::string(64, 'a') + ".com",
        std::string(250, 'a') + ".com", std::string("bad\xff.com"), std::string("[1.2.3.4]")}) {
    EXPECT_EQ(code_of(store().add_domain(name)), Code::invalid) << name;
  }
  EXPECT_TRUE(store().add_domain("xn--mnchen-3ya.de"));
  EXPECT_TRUE(store().add_domain("m\xc3\xbcnchen.de"));  // UTF-8 label
  EXPECT_TRUE(store().add_domain(std::string(63, 'b') + ".com"));
}

TEST_P(MailStoreConformance, ListDomainsIsSorted) {
  ASSERT_TRUE(store().add_domain("b.example"));
  ASSERT_TRUE(store().add_domain("a.example"));
  auto domains = store().list_domains();
  ASSERT_TRUE(domains);
  ASSERT_EQ(domains->size(), 2u);
  EXPECT_EQ((*domains)[0].name, "a.example");
  EXPECT_EQ((*domains)[1].name, "b.example");
}

TEST_P(MailStoreConformance, FindDomainErrors) {
  EXPECT_EQ(code_of(store().find_domain("missing.example")), Code::not_found);
  EXPECT_EQ(code_of(store().find_domain("")), Code::invalid);
}

TEST_P(MailStoreConformance, DeleteDomain) {
  ASSERT_TRUE(store().add_domain("example.com"));
  EXPECT_TRUE(store().delete_domain("Example.com"));
  EXPECT_EQ(code_of(store().find_domain("example.com")), Code::not_found);
  EXPECT_EQ(code_of(store().delete_domain("example.com")), Code::not_found);
  EXPECT_EQ(code_of(store().delete_domain("bad domain")), Code::invalid);
}

TEST_P(MailStoreConformance, DeleteDomainWithAccountOrAliasIsConflict) {
  make_account("alice@example.com");
  EXPECT_EQ(code_of(store().delete_domain("example.com")), Code::conflict);
  ASSERT_TRUE(store().delete_account("alice@example.com"));
  ASSERT_TRUE(store().add_alias("@example.com", "bob@elsewhere.test"));
  EXPECT_EQ(code_of(store().delete_domain("example.com")), Code::conflict);
  ASSERT_TRUE(store().delete_alias("@example.com"));
  EXPECT_TRUE(store().delete_domain("example.com"));
}

// --- accounts

TEST_P(MailStoreConformance, AddAccountCreatesInboxAndSpecialUseMailboxes) {
  const AccountRecord account = make_account();
  EXPECT_GT(account.id, 0);
  EXPECT_EQ(account.address, "alice@example.com");
  EXPECT_EQ(account.password_hash, "{ARGON2ID}$argon2id$x");
  EXPECT_EQ(account.quota_bytes, 0u);
  EXPECT_FALSE(account.disabled);
  EXPECT_GT(account.created_at, 0);

  auto mailboxes = store().list_mailboxes(account.id);
  ASSERT_TRUE(mailboxes);
  std::map<std::string, SpecialUse> uses;
  std::set<std::uint32_t> validities;
  for (const MailboxRecord& mailbox : *mailboxes) {
    uses[mailbox.name] = mailbox.special_use;
    validities.insert(mailbox.uidvalidity);
    EXPECT_EQ(mailbox.account_id, account.id);
    EXPECT_EQ(mailbox.uidnext, 1u);
    EXPECT_GT(mailbox.uidvalidity, 0u);
    EXPECT_EQ(mailbox.message_count, 0u);
  }
  const std::map<std::string, SpecialUse> expected = {
      {"INBOX", SpecialUse::none}, {"Drafts", SpecialUse::drafts},
      {"Sent", SpecialUse::sent},  {"Trash", SpecialUse::trash},
      {"Junk", SpecialUse::junk},  {"Archive", SpecialUse::archive}};
  EXPECT_EQ(uses, expected);
  EXPECT_EQ(validities.size(), 6u) << "each mailbox gets its own UIDVALIDITY";

  auto subscriptions = store().list_subscriptions(account.id);
  ASSERT_TRUE(subscriptions);
  EXPECT_EQ(*subscriptions,
            (std::vector<std::string>{"Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"}));
}

TEST_P(MailStoreConformance, AccountAddressesAreCaseInsensitiveForAscii) {
  ASSERT_TRUE(store().add_domain("example.com"));
  auto account = store().add_account("Alice@EXAMPLE.com", "h");
  ASSERT_TRUE(account) << account.error().message;
  EXPECT_EQ(account->address, "Alice@example.com") << "local part kept, domain lower-cased";
  auto found = store().find_account("ALICE@example.COM");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, account->id);
  EXPECT_EQ(code_of(store().add_account("alice@example.com", "h")), Code::already_exists);
}

TEST_P(MailStoreConformance, AddAccountNeedsLocalDomain) {
  EXPECT_EQ(code_of(store().add_account("alice@nowhere.example", "h")), Code::not_found);
}

TEST_P(MailStoreConformance, AddAccountRefusesInvalidAddresses) {
  ASSERT_TRUE(store().add_domain("example.com"));
  for (const std::string& address :
       {std::string(), std::string("alice"), std::string("@example.com"),
        std::string("a@b@example.com"), std::string("a b@example.com"),
        std::string("<a>@example.com"), std::string("a\r\n@example.com"),
        std::string(65, 'x') + "@example.com", std::string("alice@"),
        std::string("al\xc3@example.com")}) {
    EXPECT_EQ(code_of(store().add_account(address, "h")), Code::invalid) << address;
  }
  EXPECT_EQ(code_of(store().add_account("alice@example.com", "bad\nhash")), Code::invalid);
  EXPECT_TRUE(store().add_account("j\xc3\xb6rg@example.com", "h")) << "SMTPUTF8 local part";
  EXPECT_TRUE(store().add_account(std::string(64, 'x') + "@example.com", "h"));
}

TEST_P(MailStoreConformance, ListAccounts) {
  make_account("bob@b.example");
  make_account("alice@a.example");
  make_account("carol@a.example");
  auto all = store().list_accounts();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].address, "alice@a.example");
  auto in_a = store().list_accounts("A.example");
  ASSERT_TRUE(in_a);
  ASSERT_EQ(in_a->size(), 2u);
  EXPECT_EQ((*in_a)[0].address, "alice@a.example");
  EXPECT_EQ((*in_a)[1].address, "carol@a.example");
  EXPECT_EQ(code_of(store().list_accounts("missing.example")), Code::not_found);
  EXPECT_EQ(code_of(store().list_accounts("bad domain")), Code::invalid);
}

TEST_P(MailStoreConformance, FindAccountErrors) {
  ASSERT_TRUE(store().add_domain("example.com"));
  EXPECT_EQ(code_of(store().find_account("nobody@example.com")), Code::not_found);
  EXPECT_EQ(code_of(store().find_account("not an address")), Code::invalid);
}

TEST_P(MailStoreConformance, SetPasswordHashAndQuota) {
  make_account();
  ASSERT_TRUE(store().set_password_hash("ALICE@example.com", "{SHA512-CRYPT}$6$new"));
  ASSERT_TRUE(store().set_quota("alice@example.com", 1'000'000));
  auto found = store().find_account("alice@example.com");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->password_hash, "{SHA512-CRYPT}$6$new");
  EXPECT_EQ(found->quota_bytes, 1'000'000u);
  EXPECT_EQ(code_of(store().set_password_hash("bob@example.com", "x")), Code::not_found);
  EXPECT_EQ(code_of(store().set_quota("bob@example.com", 1)), Code::not_found);
  EXPECT_EQ(code_of(store().set_password_hash("alice@example.com", std::string_view("a\0b", 3))),
            Code::invalid);
}

TEST_P(MailStoreConformance, DeleteAccountRemovesEverythingAndDropsBlobReferences) {
  const AccountRecord alice = make_account("alice@example.com");
  const AccountRecord bob = make_account("bob@example.com");
  const MailboxRecord inbox = mailbox(alice.id, "INBOX");
  const MailboxRecord sent = mailbox(alice.id, "Sent");
  const MailboxRecord bob_inbox = mailbox(bob.id, "INBOX");
  append({message_for(inbox.id, blob('1')), message_for(sent.id, blob('1')),
          message_for(inbox.id, blob('2')), message_for(bob_inbox.id, blob('2'))});
  ASSERT_TRUE(store().subscribe(alice.id, "Whatever"));

  ASSERT_TRUE(store().delete_account("Alice@Example.com"));
  EXPECT_EQ(code_of(store().find_account("alice@example.com")), Code::not_found);
  EXPECT_EQ(code_of(store().list_mailboxes(alice.id)), Code::not_found);
  EXPECT_EQ(code_of(store().list_messages(inbox.id)), Code::not_found);
  EXPECT_EQ(code_of(store().list_subscriptions(alice.id)), Code::not_found);
  // blob 1 was only Alice's; blob 2 is still in Bob's INBOX.
  EXPECT_EQ(unreferenced(store()), std::vector<std::string>{blob('1')});
  EXPECT_EQ(messages(bob_inbox.id).size(), 1u);
  EXPECT_EQ(code_of(store().delete_account("alice@example.com")), Code::not_found);

  // The name can be used again, with fresh mailboxes.
  const AccountRecord again = make_account("alice@example.com");
  EXPECT_NE(again.id, alice.id);
  EXPECT_NE(mailbox(again.id, "INBOX").uidvalidity, inbox.uidvalidity);
}

// --- aliases

TEST_P(MailStoreConformance, AddAndFindAliases) {
  ASSERT_TRUE(store().add_domain("example.com"));
  auto alias = store().add_alias("Postmaster@EXAMPLE.com", "alice@example.com");
  ASSERT_TRUE(alias) << alias.error().message;
  EXPECT_GT(alias->id, 0);
  EXPECT_EQ(alias->source, "Postmaster@example.com");
  ASSERT_TRUE(store().add_alias("postmaster@example.com", "bob@elsewhere.test"));
  ASSERT_TRUE(store().add_alias("@Example.com", "catchall@example.com"));

  auto found = store().find_aliases("POSTMASTER@example.com");
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].destination, "alice@example.com");
  EXPECT_EQ((*found)[1].destination, "bob@elsewhere.test");
  auto catchall = store().find_aliases("@example.com");
  ASSERT_TRUE(catchall);
  ASSERT_EQ(catchall->size(), 1u);
  EXPECT_EQ((*catchall)[0].source, "@example.com");
  auto none = store().find_aliases("nobody@example.com");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(code_of(store().find_aliases("bad")), Code::invalid);
}

TEST_P(MailStoreConformance, AddAliasErrors) {
  ASSERT_TRUE(store().add_domain("example.com"));
  ASSERT_TRUE(store().add_alias("a@example.com", "b@example.com"));
  EXPECT_EQ(code_of(store().add_alias("A@example.com", "B@EXAMPLE.com")), Code::already_exists);
  EXPECT_EQ(code_of(store().add_alias("a@remote.example", "b@example.com")), Code::not_found);
  EXPECT_EQ(code_of(store().add_alias("@remote.example", "b@example.com")), Code::not_found);
  EXPECT_EQ(code_of(store().add_alias("a@example.com", "@example.com")), Code::invalid);
  EXPECT_EQ(code_of(store().add_alias("a@example.com", "")), Code::invalid);
  EXPECT_EQ(code_of(store().add_alias("", "b@example.com")), Code::invalid);
  EXPECT_EQ(code_of(store().add_alias("@", "b@example.com")), Code::invalid);
  EXPECT_EQ(code_of(store().add_alias("c@example.com", "C@example.com")), Code::invalid);
}

TEST_P(MailStoreConformance, ListAliases) {
  ASSERT_TRUE(store().add_domain("a.example"));
  ASSERT_TRUE(store().add_domain("b.example"));
  ASSERT_TRUE(store().add_alias("x@b.example", "y@a.example"));
  ASSERT_TRUE(store().add_alias("x@a.example", "y@a.example"));
  auto all = store().list_aliases();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].source, "x@a.example");
  auto in_b = store().list_aliases("b.example");
  ASSERT_TRUE(in_b);
  ASSERT_EQ(in_b->size(), 1u);
  EXPECT_EQ((*in_b)[0].source, "x@b.example");
  EXPECT_EQ(code_of(store().list_aliases("c.example")), Code::not_found);
}

TEST_P(MailStoreConformance, DeleteAlias) {
  ASSERT_TRUE(store().add_domain("example.com"));
  ASSERT_TRUE(store().add_alias("a@example.com", "b@example.com"));
  ASSERT_TRUE(store().add_alias("a@example.com", "c@example.com"));
  ASSERT_TRUE(store().add_alias("d@example.com", "c@example.com"));
  ASSERT_TRUE(store().delete_alias("A@example.com", "B@example.com"));
  EXPECT_EQ(code_of(store().delete_alias("a@example.com", "b@example.com")), Code::not_found);
  EXPECT_EQ(store().find_aliases("a@example.com")->size(), 1u);
  ASSERT_TRUE(store().delete_alias("a@example.com"));
  EXPECT_TRUE(store().find_aliases("a@example.com")->empty());
  EXPECT_EQ(code_of(store().delete_alias("a@example.com")), Code::not_found);
  EXPECT_EQ(store().find_aliases("d@example.com")->size(), 1u);
  EXPECT_EQ(code_of(store().delete_alias("bad")), Code::invalid);
}

// --- mailboxes

TEST_P(MailStoreConformance, CreateAndFindMailbox) {
  const AccountRecord account = make_account();
  auto created = store().create_mailbox(account.id, "Projects/2024", SpecialUse::none);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->name, "Projects/2024");
  EXPECT_EQ(created->uidnext, 1u);
  EXPECT_GT(created->uidvalidity, 0u);
  const MailboxRecord found = mailbox(account.id, "Projects/2024");
  EXPECT_EQ(found.id, created->id);
  EXPECT_EQ(found.uidvalidity, created->uidvalidity);
  EXPECT_EQ(code_of(store().find_mailbox(account.id, "projects/2024")), Code::not_found)
      << "names other than INBOX are case-sensitive";
  EXPECT_EQ(code_of(store().create_mailbox(account.id, "Projects/2024")), Code::already_exists);
  EXPECT_EQ(code_of(store().create_mailbox(account.id + 1000, "X")), Code::not_found);
  auto special = store().create_mailbox(account.id, "Old mail", SpecialUse::archive);
  ASSERT_TRUE(special);
  EXPECT_EQ(mailbox(account.id, "Old mail").special_use, SpecialUse::archive);
}

TEST_P(MailStoreConformance, InboxIsCaseInsensitive) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "inbox");
  EXPECT_EQ(inbox.name, "INBOX");
  EXPECT_EQ(mailbox(account.id, "InBoX").id, inbox.id);
  EXPECT_EQ(code_of(store().create_mailbox(account.id, "Inbox")), Code::already_exists);
  auto child = store().create_mailbox(account.id, "inbox/Lists");
  ASSERT_TRUE(child);
  EXPECT_EQ(child->name, "INBOX/Lists");
  EXPECT_EQ(mailbox(account.id, "Inbox/Lists").id, child->id);
}

TEST_P(MailStoreConformance, MailboxNamesAreValidated) {
  const AccountRecord account = make_account();
  for (const std::string& name : {std::string(), std::string("/a"), std::string("a/"),
                                  std::string("a//b"), std::string("a\tb"), std::string("a\x7f"),
                                  std::string("bad\xc0\xaf"), std::string(1001, 'm'),
                                  std::string("../../etc"), std::string("a/./b"), std::string("..")}) {
    EXPECT_EQ(code_of(store().create_mailbox(account.id, name)), Code::invalid) << name;
    EXPECT_EQ(code_of(store().find_mailbox(account.id, name)), Code::invalid) << name;
  }
  EXPECT_TRUE(store().create_mailbox(account.id, std::string(1000, 'm')));
  EXPECT_TRUE(store().create_mailbox(account.id,
                                     "Entw\xc3\xbc"
                                     "rfe"));
  // Names are data, never paths; "." and ".." levels are refused all the same, because
  // clients that mirror folders as directories would read them as paths.
  EXPECT_TRUE(store().create_mailbox(account.id, "..a/b.."));
}

TEST_P(MailStoreConformance, UidvalidityIsNewForEveryCreationEvenOfTheSameName) {
  const AccountRecord account = make_account();
  auto first = store().create_mailbox(account.id, "Work");
  ASSERT_TRUE(first);
  ASSERT_TRUE(store().delete_mailbox(account.id, "Work"));
  auto second = store().create_mailbox(account.id, "Work");
  ASSERT_TRUE(second);
  EXPECT_GT(second->uidvalidity, first->uidvalidity);
  reopen();
  ASSERT_TRUE(store().delete_mailbox(account.id, "Work"));
  auto third = store().create_mailbox(account.id, "Work");
  ASSERT_TRUE(third);
  EXPECT_GT(third->uidvalidity, second->uidvalidity);
}

TEST_P(MailStoreConformance, RenameMailboxMovesInferiorsAndKeepsState) {
  const AccountRecord account = make_account();
  ASSERT_TRUE(store().create_mailbox(account.id, "a"));
  ASSERT_TRUE(store().create_mailbox(account.id, "a/b"));
  ASSERT_TRUE(store().create_mailbox(account.id, "a/b/c"));
  ASSERT_TRUE(store().create_mailbox(account.id, "ab"));  // not an inferior of "a"
  const MailboxRecord a = mailbox(account.id, "a");
  const MailboxRecord ab_c = mailbox(account.id, "a/b/c");
  append({message_for(a.id, blob('1')), message_for(a.id, blob('2'))});

  ASSERT_TRUE(store().rename_mailbox(account.id, "a", "x/y"));
  EXPECT_EQ(code_of(store().find_mailbox(account.id, "a")), Code::not_found);
  EXPECT_EQ(code_of(store().find_mailbox(account.id, "a/b")), Code::not_found);
  const MailboxRecord moved = mailbox(account.id, "x/y");
  EXPECT_EQ(moved.id, a.id);
  EXPECT_EQ(moved.uidvalidity, a.uidvalidity);
  EXPECT_EQ(moved.uidnext, 3u);
  EXPECT_EQ(moved.message_count, 2u);
  EXPECT_EQ(mailbox(account.id, "x/y/b/c").uidvalidity, ab_c.uidvalidity);
  EXPECT_TRUE(store().find_mailbox(account.id, "x/y/b"));
  EXPECT_TRUE(store().find_mailbox(account.id, "ab"));
  EXPECT_EQ(messages(a.id).size(), 2u);
}

TEST_P(MailStoreConformance, RenameMailboxErrors) {
  const AccountRecord account = make_account();
  ASSERT_TRUE(store().create_mailbox(account.id, "a"));
  ASSERT_TRUE(store().create_mailbox(account.id, "a/b"));
  ASSERT_TRUE(store().create_mailbox(account.id, "c"));
  ASSERT_TRUE(store().create_mailbox(account.id, "d/b"));
  EXPECT_EQ(code_of(store().rename_mailbox(account.id, "a", "c")), Code::already_exists);
  // "a" -> "d" would move "a/b" onto the existing "d/b": refused, nothing renamed.
  EXPECT_EQ(code_of(store().rename_mailbox(account.id, "a", "d")), Code::already_exists);
  EXPECT_TRUE(store().find_mailbox(account.id, "a"));
  EXPECT_EQ(code_of(store().find_mailbox(account.id, "d")), Code::not_found);
  EXPECT_EQ(code_of(store().rename_mailbox(account.id, "missing", "e")), Code::not_found);
  EXPECT_EQ(code_of(store().rename_mailbox(account.id, "inbox", "e")), Code::invalid);
  EXPECT_EQ(code_of(store().rename_mailbox(account.id, "a", "a/z")), Code::invalid);
  EXPECT_EQ(code_of(store().rename_mailbox(account.id, "a", "")), Code::invalid);
  EXPECT_EQ(code_of(store().rename_mailbox(account.id, "a", "Inbox")), Code::already_exists);
}

TEST_P(MailStoreConformance, DeleteMailboxDropsMessagesAndBlobReferences) {
  const AccountRecord account = make_account();
  auto work = store().create_mailbox(account.id, "Work");
  ASSERT_TRUE(work);
  ASSERT_TRUE(store().create_mailbox(account.id, "Work/Child"));
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  append({message_for(work->id, blob('1')), message_for(work->id, blob('2')),
          message_for(inbox.id, blob('2'))});
  ASSERT_TRUE(store().delete_mailbox(account.id, "Work"));
  EXPECT_EQ(code_of(store().find_mailbox(account.id, "Work")), Code::not_found);
  EXPECT_TRUE(store().find_mailbox(account.id, "Work/Child")) << "inferiors are not deleted";
  EXPECT_EQ(code_of(store().list_messages(work->id)), Code::not_found);
  EXPECT_EQ(unreferenced(store()), std::vector<std::string>{blob('1')});
  EXPECT_EQ(code_of(store().delete_mailbox(account.id, "Work")), Code::not_found);
  EXPECT_EQ(code_of(store().delete_mailbox(account.id, "inbox")), Code::invalid);
  EXPECT_EQ(code_of(store().delete_mailbox(account.id, "a//b")), Code::invalid);
}

TEST_P(MailStoreConformance, ListMailboxesCountsMessagesAndSizes) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  const auto rows =
      append({message_for(inbox.id, blob('1'), 100), message_for(inbox.id, blob('2'), 250),
              message_for(inbox.id, blob('3'), 50)});
  ASSERT_EQ(rows.size(), 3u);
  auto list = store().list_mailboxes(account.id);
  ASSERT_TRUE(list);
  const auto it = std::ranges::find(*list, std::string("INBOX"), &MailboxRecord::name);
  ASSERT_NE(it, list->end());
  EXPECT_EQ(it->message_count, 3u);
  EXPECT_EQ(it->total_size, 400u);
  const std::vector<std::uint32_t> uids = {rows[1].uid};
  ASSERT_TRUE(store().expunge(inbox.id, uids));
  const MailboxRecord after = mailbox(account.id, "INBOX");
  EXPECT_EQ(after.message_count, 2u);
  EXPECT_EQ(after.total_size, 150u);
  EXPECT_EQ(code_of(store().list_mailboxes(account.id + 1000)), Code::not_found);
}

// --- messages

TEST_P(MailStoreConformance, AppendAssignsAscendingUidsAndModseqs) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  const auto rows = append({message_for(inbox.id, blob('1')), message_for(inbox.id, blob('2')),
                            message_for(inbox.id, blob('3'))});
  ASSERT_EQ(rows.size(), 3u);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].uid, i + 1);
    EXPECT_GT(rows[i].id, 0);
    EXPECT_EQ(rows[i].mailbox_id, inbox.id);
    if (i > 0) {
      EXPECT_GT(rows[i].modseq, rows[i - 1].modseq);
    }
  }
  EXPECT_GT(rows[0].modseq, inbox.highestmodseq);
  const MailboxRecord after = mailbox(account.id, "INBOX");
  EXPECT_EQ(after.uidnext, 4u);
  EXPECT_EQ(after.highestmodseq, rows[2].modseq);

  const auto more = append({message_for(inbox.id, blob('4'))});
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].uid, 4u);
  EXPECT_GT(more[0].modseq, rows[2].modseq);
}

TEST_P(MailStoreConformance, AppendReturnsRowsInInputOrderAcrossMailboxes) {
  const AccountRecord alice = make_account("alice@example.com");
  const AccountRecord bob = make_account("bob@example.com");
  const MailboxRecord a = mailbox(alice.id, "INBOX");
  const MailboxRecord b = mailbox(bob.id, "INBOX");
  const auto rows = append({message_for(a.id, blob('1'), 10), message_for(b.id, blob('1'), 10),
                            message_for(a.id, blob('2'), 20), message_for(b.id, blob('3'), 30)});
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].mailbox_id, a.id);
  EXPECT_EQ(rows[0].uid, 1u);
  EXPECT_EQ(rows[1].mailbox_id, b.id);
  EXPECT_EQ(rows[1].uid, 1u);
  EXPECT_EQ(rows[2].mailbox_id, a.id);
  EXPECT_EQ(rows[2].uid, 2u);
  EXPECT_EQ(rows[2].size, 20u);
  EXPECT_EQ(rows[3].mailbox_id, b.id);
  EXPECT_EQ(rows[3].uid, 2u);
  EXPECT_EQ(rows[3].blob_id, blob('3'));
}

TEST_P(MailStoreConformance, AppendIsAllOrNothing) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  const std::vector<NewMessage> batch = {message_for(inbox.id, blob('1')),
                                         message_for(inbox.id + 1000, blob('2'))};
  EXPECT_EQ(code_of(store().append_messages(batch)), Code::not_found);
  EXPECT_TRUE(messages(inbox.id).empty());
  const MailboxRecord after = mailbox(account.id, "INBOX");
  EXPECT_EQ(after.uidnext, 1u);
  EXPECT_EQ(after.highestmodseq, inbox.highestmodseq);
  auto known = store().blob_known(blob('1'));
  ASSERT_TRUE(known);
  EXPECT_FALSE(*known) << "the rolled-back append left no blob reference";
}

TEST_P(MailStoreConformance, AppendRefusesInvalidInput) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  for (const std::string& id : {std::string(), std::string(63, 'a'), std::string(64, 'A'),
                                std::string("../") + std::string(61, 'a')}) {
    const std::vector<NewMessage> batch = {message_for(inbox.id, id)};
    EXPECT_EQ(code_of(store().append_messages(batch)), Code::invalid) << id;
  }
  for (const std::string& flag : {std::string(), std::string("a b"), std::string("\\"),
                                  std::string("(x"), std::string("x\r")}) {
    const std::vector<NewMessage> batch = {message_for(inbox.id, blob('1'), 1, {flag})};
    EXPECT_EQ(code_of(store().append_messages(batch)), Code::invalid) << flag;
  }
  EXPECT_TRUE(messages(inbox.id).empty());
  auto none = store().append_messages({});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_P(MailStoreConformance, AppendStoresAllFieldsAndNormalisesFlags) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  NewMessage message =
      message_for(inbox.id, blob('a'), 4242, {"\\seen", "$Label", "\\SEEN", "$label", "\\Flagged"});
  message.internal_date = 1'234'567'890;
  message.mime_metadata = std::string("\0\x01\xff binary", 10);
  const auto rows = append({message});
  ASSERT_EQ(rows.size(), 1u);
  const std::vector<std::string> expected_flags = {"$Label", "\\Flagged", "\\Seen"};
  EXPECT_EQ(rows[0].flags, expected_flags);
  const auto listed = messages(inbox.id);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, rows[0].id);
  EXPECT_EQ(listed[0].uid, 1u);
  EXPECT_EQ(listed[0].modseq, rows[0].modseq);
  EXPECT_EQ(listed[0].flags, expected_flags);
  EXPECT_EQ(listed[0].internal_date, 1'234'567'890);
  EXPECT_EQ(listed[0].size, 4242u);
  EXPECT_EQ(listed[0].blob_id, blob('a'));
  EXPECT_EQ(listed[0].mime_metadata, message.mime_metadata);
  EXPECT_EQ(code_of(store().list_messages(inbox.id + 1000)), Code::not_found);
}

TEST_P(MailStoreConformance, SetFlagsGivesChangedMessagesNewModseqs) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  const auto rows =
      append({message_for(inbox.id, blob('1'), 1, {"\\Seen"}),
              message_for(inbox.id, blob('2'), 1, {}), message_for(inbox.id, blob('3'), 1, {})});
  const std::vector<std::uint32_t> uids = {1, 2, 99};
  const std::vector<std::string> flags = {"\\seen"};
  ASSERT_TRUE(store().set_flags(inbox.id, uids, flags));
  const auto after = messages(inbox.id);
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[0].modseq, rows[0].modseq) << "unchanged flags keep their MODSEQ";
  EXPECT_GT(after[1].modseq, rows[2].modseq);
  EXPECT_EQ(after[1].flags, std::vector<std::string>{"\\Seen"});
  EXPECT_EQ(after[2].modseq, rows[2].modseq);
  EXPECT_EQ(mailbox(account.id, "INBOX").highestmodseq, after[1].modseq);

  const std::vector<std::uint32_t> two = {1, 2};
  const std::vector<std::string> more = {"\\Answered", "$Work", "\\Seen"};
  ASSERT_TRUE(store().set_flags(inbox.id, two, more));
  const auto again = messages(inbox.id);
  EXPECT_NE(again[0].modseq, again[1].modseq) << "each changed message gets its own MODSEQ";
  EXPECT_GT(std::min(again[0].modseq, again[1].modseq), after[1].modseq);
  EXPECT_EQ(again[0].flags, (std::vector<std::string>{"$Work", "\\Answered", "\\Seen"}));

  ASSERT_TRUE(store().set_flags(inbox.id, two, {}));
  EXPECT_TRUE(messages(inbox.id)[0].flags.empty());
  EXPECT_EQ(code_of(store().set_flags(inbox.id + 1000, two, flags)), Code::not_found);
  const std::vector<std::string> bad = {"a b"};
  EXPECT_EQ(code_of(store().set_flags(inbox.id, two, bad)), Code::invalid);
}

TEST_P(MailStoreConformance, ExpungeRemovesMessagesAndUidsAreNotReused) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  append({message_for(inbox.id, blob('1')), message_for(inbox.id, blob('2')),
          message_for(inbox.id, blob('3'))});
  const std::uint64_t before = mailbox(account.id, "INBOX").highestmodseq;
  const std::vector<std::uint32_t> uids = {3, 1, 77};
  ASSERT_TRUE(store().expunge(inbox.id, uids));
  const auto left = messages(inbox.id);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].uid, 2u);
  EXPECT_GT(mailbox(account.id, "INBOX").highestmodseq, before) << "RFC 7162: expunge is a change";
  const auto next = append({message_for(inbox.id, blob('4'))});
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].uid, 4u);
  const std::uint64_t settled = mailbox(account.id, "INBOX").highestmodseq;
  ASSERT_TRUE(store().expunge(inbox.id, uids));  // nothing left to remove
  EXPECT_EQ(mailbox(account.id, "INBOX").highestmodseq, settled);
  EXPECT_EQ(code_of(store().expunge(inbox.id + 1000, uids)), Code::not_found);
}

TEST_P(MailStoreConformance, UidsStayMonotonicAcrossReopen) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  const auto first = append({message_for(inbox.id, blob('1')), message_for(inbox.id, blob('2'))});
  const std::vector<std::uint32_t> uids = {2};
  ASSERT_TRUE(store().expunge(inbox.id, uids));
  reopen();
  const auto second = append({message_for(inbox.id, blob('3'))});
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].uid, 3u);
  EXPECT_GT(second[0].modseq, first[1].modseq);
}

TEST_P(MailStoreConformance, ConcurrentAppendsGetDistinctUids) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  constexpr int kThreads = 4;
  constexpr int kBatches = 10;
  std::vector<std::thread> threads;
  std::vector<std::vector<MessageRecord>> results(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        const std::vector<NewMessage> batch = {message_for(inbox.id, blob('1')),
                                               message_for(inbox.id, blob('2'))};
        auto rows = store().append_messages(batch);
        if (rows) results[t].insert(results[t].end(), rows->begin(), rows->end());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::uint32_t> uids;
  std::set<std::uint64_t> modseqs;
  for (const auto& rows : results)
    for (const MessageRecord& row : rows) {
      uids.insert(row.uid);
      modseqs.insert(row.modseq);
    }
  constexpr std::size_t kTotal = kThreads * kBatches * 2;
  EXPECT_EQ(uids.size(), kTotal);
  EXPECT_EQ(modseqs.size(), kTotal);
  EXPECT_EQ(*uids.rbegin(), kTotal);
  EXPECT_EQ(messages(inbox.id).size(), kTotal);
}

// --- subscriptions

TEST_P(MailStoreConformance, Subscriptions) {
  const AccountRecord account = make_account();
  ASSERT_TRUE(store().subscribe(account.id, "Lists/Not yet created"));
  ASSERT_TRUE(store().subscribe(account.id, "Lists/Not yet created")) << "idempotent";
  ASSERT_TRUE(store().subscribe(account.id, "inbox/x"));
  auto list = store().list_subscriptions(account.id);
  ASSERT_TRUE(list);
  EXPECT_NE(std::ranges::find(*list, "Lists/Not yet created"), list->end());
  EXPECT_NE(std::ranges::find(*list, "INBOX/x"), list->end());
  ASSERT_TRUE(store().unsubscribe(account.id, "Lists/Not yet created"));
  EXPECT_EQ(code_of(store().unsubscribe(account.id, "Lists/Not yet created")), Code::not_found);
  ASSERT_TRUE(store().unsubscribe(account.id, "Trash"));
  list = store().list_subscriptions(account.id);
  ASSERT_TRUE(list);
  EXPECT_EQ(*list,
            (std::vector<std::string>{"Archive", "Drafts", "INBOX", "INBOX/x", "Junk", "Sent"}));
  EXPECT_EQ(code_of(store().subscribe(account.id, "a//b")), Code::invalid);
  EXPECT_EQ(code_of(store().subscribe(account.id + 1000, "a")), Code::not_found);
  EXPECT_EQ(code_of(store().list_subscriptions(account.id + 1000)), Code::not_found);
}

// --- blob references

TEST_P(MailStoreConformance, BlobReferencesFollowAppendAndExpunge) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  const MailboxRecord archive = mailbox(account.id, "Archive");
  append({message_for(inbox.id, blob('1')), message_for(archive.id, blob('1'))});
  EXPECT_TRUE(*store().blob_known(blob('1')));
  EXPECT_TRUE(unreferenced(store()).empty());
  const std::vector<std::uint32_t> one = {1};
  ASSERT_TRUE(store().expunge(inbox.id, one));
  EXPECT_TRUE(unreferenced(store()).empty()) << "Archive still holds it";
  ASSERT_TRUE(store().expunge(archive.id, one));
  EXPECT_EQ(unreferenced(store()), std::vector<std::string>{blob('1')});
  EXPECT_TRUE(*store().blob_known(blob('1'))) << "known until forgotten";
  const std::vector<std::string> ids = {blob('1')};
  ASSERT_TRUE(store().forget_blobs(ids));
  EXPECT_FALSE(*store().blob_known(blob('1')));
  EXPECT_TRUE(unreferenced(store()).empty());
  ASSERT_TRUE(store().forget_blobs(ids)) << "forgetting an unknown blob is a no-op";
}

TEST_P(MailStoreConformance, ForgetBlobsRefusesReferencedBlobs) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  append({message_for(inbox.id, blob('1')), message_for(inbox.id, blob('2'))});
  const std::vector<std::uint32_t> first = {1};
  ASSERT_TRUE(store().expunge(inbox.id, first));
  const std::vector<std::string> ids = {blob('1'), blob('2')};
  EXPECT_EQ(code_of(store().forget_blobs(ids)), Code::conflict);
  EXPECT_TRUE(*store().blob_known(blob('1'))) << "nothing forgotten on conflict";
  EXPECT_TRUE(*store().blob_known(blob('2')));
  const std::vector<std::string> bad = {"xyz"};
  EXPECT_EQ(code_of(store().forget_blobs(bad)), Code::invalid);
  EXPECT_EQ(code_of(store().blob_known("../x")), Code::invalid);
}

TEST_P(MailStoreConformance, ReappendingAnUnreferencedBlobRevivesIt) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  append({message_for(inbox.id, blob('1'))});
  const std::vector<std::uint32_t> one = {1};
  ASSERT_TRUE(store().expunge(inbox.id, one));
  EXPECT_EQ(unreferenced(store()).size(), 1u);
  append({message_for(inbox.id, blob('1'))});
  EXPECT_TRUE(unreferenced(store()).empty());
}

// --- outbound queue

TEST_P(MailStoreConformance, EnqueueAndFind) {
  auto queued = store().enqueue(queue_message(blob('e'), {"x@remote.test", "y@remote.test"}));
  ASSERT_TRUE(queued) << queued.error().message;
  EXPECT_GT(queued->id, 0);
  EXPECT_GT(queued->created_at, 0);
  ASSERT_EQ(queued->recipients.size(), 2u);
  EXPECT_GT(queued->recipients[0].id, 0);
  EXPECT_NE(queued->recipients[0].id, queued->recipients[1].id);
  EXPECT_EQ(queued->recipients[1].message_id, queued->id);

  auto found = store().find_queued(queued->id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->sender, "alice@example.com");
  EXPECT_EQ(found->blob_id, blob('e'));
  EXPECT_EQ(found->size, 321u);
  EXPECT_EQ(found->envid, "env-1");
  EXPECT_EQ(found->ret, "HDRS");
  EXPECT_EQ(found->created_at, queued->created_at);
  ASSERT_EQ(found->recipients.size(), 2u);
  EXPECT_EQ(found->recipients[0].address, "x@remote.test");
  EXPECT_EQ(found->recipients[0].notify, "FAILURE");
  EXPECT_EQ(found->recipients[0].state, QueueState::queued);
  EXPECT_EQ(found->recipients[1].id, queued->recipients[1].id);
  EXPECT_EQ(code_of(store().find_queued(queued->id + 1000)), Code::not_found);
}

TEST_P(MailStoreConformance, EnqueueNullSenderAndGivenCreationTime) {
  QueueMessage message = queue_message(blob('e'), {"x@remote.test"});
  message.sender.clear();
  message.ret.clear();
  message.created_at = 1'600'000'000;
  auto queued = store().enqueue(message);
  ASSERT_TRUE(queued);
  auto found = store().find_queued(queued->id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->sender, "");
  EXPECT_EQ(found->created_at, 1'600'000'000);
}

TEST_P(MailStoreConformance, EnqueueRefusesInvalidInput) {
  EXPECT_EQ(code_of(store().enqueue(queue_message(blob('e'), {}))), Code::invalid);
  EXPECT_EQ(code_of(store().enqueue(queue_message("nothex", {"x@remote.test"}))), Code::invalid);
  QueueMessage smuggle = queue_message(blob('e'), {"x@remote.test"});
  smuggle.sender = "a@b\r\nRCPT TO:<c@d>";
  EXPECT_EQ(code_of(store().enqueue(smuggle)), Code::invalid);
  QueueMessage bad_ret = queue_message(blob('e'), {"x@remote.test"});
  bad_ret.ret = "ALL";
  EXPECT_EQ(code_of(store().enqueue(bad_ret)), Code::invalid);
  QueueMessage bad_rcpt = queue_message(blob('e'), {"x@remote.test\n"});
  EXPECT_EQ(code_of(store().enqueue(bad_rcpt)), Code::invalid);
  QueueMessage empty_rcpt = queue_message(blob('e'), {""});
  EXPECT_EQ(code_of(store().enqueue(empty_rcpt)), Code::invalid);
  auto queue = store().list_queue();
  ASSERT_TRUE(queue);
  EXPECT_TRUE(queue->empty());
}

TEST_P(MailStoreConformance, ListQueueAndUpdateRecipient) {
  auto first = store().enqueue(queue_message(blob('1'), {"a@remote.test", "b@remote.test"}));
  auto second = store().enqueue(queue_message(blob('2'), {"c@remote.test"}));
  ASSERT_TRUE(first && second);

  QueueRecipient update = first->recipients[1];
  update.state = QueueState::deferred;
  update.attempts = 3;
  update.next_attempt_at = 1'700'000'900;
  update.last_reply = "451 4.7.1 Try again later";
  ASSERT_TRUE(store().update_recipient(update));

  auto queue = store().list_queue();
  ASSERT_TRUE(queue);
  ASSERT_EQ(queue->size(), 2u);
  EXPECT_EQ((*queue)[0].id, first->id);
  ASSERT_EQ((*queue)[0].recipients.size(), 2u);
  const QueueRecipient& stored = (*queue)[0].recipients[1];
  EXPECT_EQ(stored.state, QueueState::deferred);
  EXPECT_EQ(stored.attempts, 3u);
  EXPECT_EQ(stored.next_attempt_at, 1'700'000'900);
  EXPECT_EQ(stored.last_reply, "451 4.7.1 Try again later");
  EXPECT_EQ((*queue)[0].recipients[0].state, QueueState::queued);
  ASSERT_EQ((*queue)[1].recipients.size(), 1u);
  EXPECT_EQ((*queue)[1].recipients[0].address, "c@remote.test");

  // An operator's hold survives non-final outcomes (an attempt in flight when it was set);
  // the other fields are stored all the same. A final outcome replaces it.
  update.state = QueueState::held;
  ASSERT_TRUE(store().update_recipient(update));
  EXPECT_EQ(store().find_queued(first->id)->recipients[1].state, QueueState::held);
  for (const QueueState state : {QueueState::deferred, QueueState::queued}) {
    update.state = state;
    ++update.attempts;
    ASSERT_TRUE(store().update_recipient(update));
    const QueueRecipient held = store().find_queued(first->id)->recipients[1];
    EXPECT_EQ(held.state, QueueState::held);
    EXPECT_EQ(held.attempts, update.attempts);
  }
  for (const QueueState state : {QueueState::delivered, QueueState::bounced}) {
    update.state = state;
    ASSERT_TRUE(store().update_recipient(update));
    EXPECT_EQ(store().find_queued(first->id)->recipients[1].state, state)
        << "the other recipient is still queued, so the message stays";
  }

  QueueRecipient missing = update;
  missing.id += 1000;
  EXPECT_EQ(code_of(store().update_recipient(missing)), Code::not_found);
  QueueRecipient wrong_message = update;
  wrong_message.message_id = second->id;
  EXPECT_EQ(code_of(store().update_recipient(wrong_message)), Code::not_found);
}

TEST_P(MailStoreConformance, QueueHoldsBlobReferences) {
  const AccountRecord account = make_account();
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  append({message_for(inbox.id, blob('1'))});
  auto queued = store().enqueue(queue_message(blob('1'), {"x@remote.test"}));
  ASSERT_TRUE(queued);
  const std::vector<std::uint32_t> one = {1};
  ASSERT_TRUE(store().expunge(inbox.id, one));
  EXPECT_TRUE(unreferenced(store()).empty()) << "the queue still needs the blob";
  ASSERT_TRUE(store().delete_queued(queued->id));
  EXPECT_EQ(unreferenced(store()), std::vector<std::string>{blob('1')});
  EXPECT_EQ(code_of(store().find_queued(queued->id)), Code::not_found);
  EXPECT_EQ(code_of(store().delete_queued(queued->id)), Code::not_found);

  auto only_queue = store().enqueue(queue_message(blob('2'), {"x@remote.test"}));
  ASSERT_TRUE(only_queue);
  EXPECT_TRUE(*store().blob_known(blob('2')));
  ASSERT_TRUE(store().delete_queued(only_queue->id));
  auto ids = unreferenced(store());
  EXPECT_NE(std::ranges::find(ids, blob('2')), ids.end());
}

// A message with the given recipients, each (state, next attempt time).
QueueMessage with_states(QueueMessage message,
                         std::vector<std::pair<QueueState, UnixTime>> states) {
  for (std::size_t i = 0; i < states.size() && i < message.recipients.size(); ++i) {
    message.recipients[i].state = states[i].first;
    message.recipients[i].next_attempt_at = states[i].second;
  }
  return message;
}

std::vector<QueueState> states_of(const QueueMessage& message) {
  std::vector<QueueState> states;
  for (const QueueRecipient& recipient : message.recipients) states.push_back(recipient.state);
  return states;
}

std::vector<UnixTime> due_times_of(const QueueMessage& message) {
  std::vector<UnixTime> times;
  for (const QueueRecipient& recipient : message.recipients)
    times.push_back(recipient.next_attempt_at);
  return times;
}

TEST_P(MailStoreConformance, LastFinalRecipientRemovesTheMessageAndItsBlobReference) {
  auto queued = store().enqueue(queue_message(blob('1'), {"a@remote.test", "b@remote.test"}));
  ASSERT_TRUE(queued);
  QueueRecipient a = queued->recipients[0];
  QueueRecipient b = queued->recipients[1];
  a.state = QueueState::delivered;
  a.last_reply = "250 2.0.0 Ok";
  ASSERT_TRUE(store().update_recipient(a));
  ASSERT_TRUE(store().find_queued(queued->id)) << "b is still pending";
  EXPECT_TRUE(unreferenced(store()).empty());

  b.state = QueueState::bounced;
  b.last_reply = "550 5.1.1 No such user";
  ASSERT_TRUE(store().update_recipient(b));
  EXPECT_EQ(code_of(store().find_queued(queued->id)), Code::not_found);
  EXPECT_TRUE(store().list_queue()->empty());
  EXPECT_EQ(unreferenced(store()), std::vector<std::string>{blob('1')});
  EXPECT_EQ(code_of(store().update_recipient(b)), Code::not_found) << "gone with its message";
}

TEST_P(MailStoreConformance, HeldRecipientKeepsTheMessageQueued) {
  auto queued = store().enqueue(
      with_states(queue_message(blob('1'), {"a@remote.test", "b@remote.test"}),
                  {{QueueState::held, 0}, {QueueState::queued, 0}}));
  ASSERT_TRUE(queued);
  QueueRecipient b = queued->recipients[1];
  b.state = QueueState::delivered;
  ASSERT_TRUE(store().update_recipient(b));
  auto found = store().find_queued(queued->id);
  ASSERT_TRUE(found);
  EXPECT_EQ(states_of(*found), (std::vector{QueueState::held, QueueState::delivered}));
}

TEST_P(MailStoreConformance, DueQueueHoldsOnlyDueRecipientsOldestFirst) {
  auto a = store().enqueue(with_states(
      queue_message(blob('a'), {"1@r.test", "2@r.test", "3@r.test", "4@r.test", "5@r.test"}),
      {{QueueState::queued, 100},
       {QueueState::deferred, 500},
       {QueueState::held, 50},
       {QueueState::deferred, 700},
       {QueueState::delivered, 10}}));
  auto b = store().enqueue(
      with_states(queue_message(blob('b'), {"6@r.test"}), {{QueueState::queued, 50}}));
  auto c = store().enqueue(
      with_states(queue_message(blob('c'), {"7@r.test"}), {{QueueState::deferred, 1000}}));
  auto d = store().enqueue(
      with_states(queue_message(blob('d'), {"8@r.test"}), {{QueueState::queued, 50}}));
  ASSERT_TRUE(a && b && c && d);

  auto due = store().due_queue(600, 10);
  ASSERT_TRUE(due) << due.error().message;
  ASSERT_EQ(due->size(), 3u);
  EXPECT_EQ((*due)[0].id, b->id) << "due at 50, and older than d";
  EXPECT_EQ((*due)[1].id, d->id) << "due at 50 too";
  EXPECT_EQ((*due)[2].id, a->id) << "its earliest due recipient is due at 100";
  const QueueMessage& first = (*due)[2];
  EXPECT_EQ(first.blob_id, blob('a'));
  EXPECT_EQ(first.sender, "alice@example.com");
  ASSERT_EQ(first.recipients.size(), 2u);
  EXPECT_EQ(first.recipients[0].address, "1@r.test");
  EXPECT_EQ(first.recipients[1].address, "2@r.test");
  EXPECT_EQ(first.recipients[1].state, QueueState::deferred);
  EXPECT_EQ(first.recipients[1].message_id, a->id);

  auto limited = store().due_queue(600, 1);
  ASSERT_TRUE(limited);
  ASSERT_EQ(limited->size(), 1u);
  EXPECT_EQ(limited->front().id, b->id);
  EXPECT_TRUE(store().due_queue(600, 0)->empty());
  EXPECT_TRUE(store().due_queue(49, 10)->empty());
  EXPECT_EQ(store().due_queue(100, 10)->back().recipients.size(), 1u);
  EXPECT_EQ(store().due_queue(5000, 10)->size(), 4u);
}

TEST_P(MailStoreConformance, FlushMakesPendingRecipientsDueNow) {
  auto first = store().enqueue(
      with_states(queue_message(blob('1'), {"1@r.test", "2@r.test", "3@r.test", "4@r.test"}),
                  {{QueueState::queued, 5000},
                   {QueueState::deferred, 6000},
                   {QueueState::held, 7000},
                   {QueueState::deferred, 10}}));
  auto second = store().enqueue(
      with_states(queue_message(blob('2'), {"5@r.test"}), {{QueueState::deferred, 9000}}));
  ASSERT_TRUE(first && second);

  auto flushed = store().flush_queue(first->id, 1000);
  ASSERT_TRUE(flushed) << flushed.error().message;
  EXPECT_EQ(*flushed, 3u);
  auto found = store().find_queued(first->id);
  ASSERT_TRUE(found);
  EXPECT_EQ(states_of(*found), (std::vector{QueueState::queued, QueueState::deferred,
                                            QueueState::held, QueueState::deferred}));
  EXPECT_EQ(due_times_of(*found), (std::vector<UnixTime>{1000, 1000, 7000, 10}))
      << "held stays; a recipient due earlier keeps its place";
  EXPECT_EQ(store().find_queued(second->id)->recipients[0].next_attempt_at, 9000);

  auto all = store().flush_queue(std::nullopt, 800);
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, 4u);
  EXPECT_EQ(store().find_queued(second->id)->recipients[0].next_attempt_at, 800);
  EXPECT_EQ(store().due_queue(800, 10)->size(), 2u);

  EXPECT_EQ(code_of(store().flush_queue(second->id + 1000, 800)), Code::not_found);
  ASSERT_TRUE(store().delete_queued(first->id));
  ASSERT_TRUE(store().delete_queued(second->id));
  EXPECT_EQ(*store().flush_queue(std::nullopt, 800), 0u) << "an empty queue is no error";
}

TEST_P(MailStoreConformance, HoldAndReleaseAMessage) {
  auto queued = store().enqueue(
      with_states(queue_message(blob('1'), {"1@r.test", "2@r.test", "3@r.test"}),
                  {{QueueState::queued, 100}, {QueueState::deferred, 200},
                   {QueueState::delivered, 0}}));
  ASSERT_TRUE(queued);

  auto held = store().hold_queued(queued->id);
  ASSERT_TRUE(held) << held.error().message;
  EXPECT_EQ(*held, 2u);
  EXPECT_EQ(states_of(*store().find_queued(queued->id)),
            (std::vector{QueueState::held, QueueState::held, QueueState::delivered}));
  EXPECT_TRUE(store().due_queue(10'000, 10)->empty()) << "held mail waits";
  EXPECT_EQ(*store().hold_queued(queued->id), 0u) << "held already";

  reopen();
  EXPECT_EQ(states_of(*store().find_queued(queued->id)),
            (std::vector{QueueState::held, QueueState::held, QueueState::delivered}));

  auto released = store().release_queued(queued->id, 5000);
  ASSERT_TRUE(released) << released.error().message;
  EXPECT_EQ(*released, 2u);
  auto found = store().find_queued(queued->id);
  ASSERT_TRUE(found);
  EXPECT_EQ(states_of(*found),
            (std::vector{QueueState::queued, QueueState::queued, QueueState::delivered}));
  EXPECT_EQ(due_times_of(*found), (std::vector<UnixTime>{5000, 5000, 0}));
  EXPECT_EQ(*store().release_queued(queued->id, 5000), 0u) << "nothing held any more";
  EXPECT_EQ(store().due_queue(5000, 10)->size(), 1u);

  EXPECT_EQ(code_of(store().hold_queued(queued->id + 1000)), Code::not_found);
  EXPECT_EQ(code_of(store().release_queued(queued->id + 1000, 1)), Code::not_found);
}

TEST_P(MailStoreConformance, QueueCountsPendingRecipientsByState) {
  auto empty = store().queue_counts();
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_EQ(empty->queued + empty->deferred + empty->held + empty->messages, 0u);

  ASSERT_TRUE(store().enqueue(
      with_states(queue_message(blob('1'), {"1@r.test", "2@r.test", "3@r.test", "4@r.test"}),
                  {{QueueState::queued, 0}, {QueueState::queued, 0}, {QueueState::held, 0},
                   {QueueState::bounced, 0}})));
  ASSERT_TRUE(store().enqueue(
      with_states(queue_message(blob('2'), {"5@r.test"}), {{QueueState::deferred, 0}})));
  ASSERT_TRUE(store().enqueue(
      with_states(queue_message(blob('3'), {"6@r.test"}), {{QueueState::delivered, 0}})));
  auto counts = store().queue_counts();
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->queued, 2u);
  EXPECT_EQ(counts->deferred, 1u);
  EXPECT_EQ(counts->held, 1u);
  EXPECT_EQ(counts->messages, 2u) << "the third has nothing pending";
}

// --- persistence

TEST_P(MailStoreConformance, EverythingSurvivesReopen) {
  const AccountRecord account = make_account();
  ASSERT_TRUE(store().add_alias("@example.com", "alice@example.com"));
  ASSERT_TRUE(store().set_quota("alice@example.com", 5000));
  const MailboxRecord inbox = mailbox(account.id, "INBOX");
  const auto rows = append(
      {message_for(inbox.id, blob('1'), 10, {"\\Seen"}), message_for(inbox.id, blob('2'), 20)});
  ASSERT_TRUE(store().subscribe(account.id, "Later"));
  auto queued = store().enqueue(queue_message(blob('3'), {"x@remote.test"}));
  ASSERT_TRUE(queued);

  reopen();
  EXPECT_TRUE(store().find_domain("example.com"));
  auto found = store().find_account("alice@example.com");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->quota_bytes, 5000u);
  EXPECT_EQ(store().find_aliases("@example.com")->size(), 1u);
  const MailboxRecord reopened = mailbox(account.id, "INBOX");
  EXPECT_EQ(reopened.uidvalidity, inbox.uidvalidity);
  EXPECT_EQ(reopened.uidnext, 3u);
  EXPECT_EQ(reopened.highestmodseq, rows[1].modseq);
  EXPECT_EQ(reopened.message_count, 2u);
  const auto listed = messages(inbox.id);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].flags, std::vector<std::string>{"\\Seen"});
  EXPECT_EQ(listed[1].blob_id, blob('2'));
  auto subscriptions = store().list_subscriptions(account.id);
  ASSERT_TRUE(subscriptions);
  EXPECT_NE(std::ranges::find(*subscriptions, "Later"), subscriptions->end());
  auto again = store().find_queued(queued->id);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->recipients.size(), 1u);
  EXPECT_TRUE(*store().blob_known(blob('3')));
}

}  // namespace
}  // namespace postamt::storage::test

namespace postamt::storage::test {
namespace {

using Code = StorageError::Code;

TEST_P(MailStoreConformance, CommitDeliveriesStoresMessagesAndQueueInOneStep) {
  const AccountRecord alice = make_account("alice@example.com");
  const AccountRecord bob = make_account("bob@example.com");
  const MailboxRecord a = mailbox(alice.id, "INBOX");
  const MailboxRecord b = mailbox(bob.id, "INBOX");
  DeliveryItem first;
  first.messages = {message_for(a.id, blob('1'), 10), message_for(b.id, blob('1'), 10)};
  first.outbound = queue_message(blob('1'), {"x@remote.test"});
  DeliveryItem second;
  second.messages = {message_for(a.id, blob('2'), 20)};
  const std::vector<DeliveryItem> items = {first, second};

  auto outcomes = store().commit_deliveries(items);
  ASSERT_EQ(outcomes.size(), 2u);
  ASSERT_TRUE(outcomes[0]) << outcomes[0].error().message;
  ASSERT_TRUE(outcomes[1]) << outcomes[1].error().message;
  ASSERT_EQ(outcomes[0]->stored.size(), 2u);
  EXPECT_EQ(outcomes[0]->stored[0].uid, 1u);
  EXPECT_EQ(outcomes[0]->stored[1].mailbox_id, b.id);
  ASSERT_TRUE(outcomes[0]->queued);
  EXPECT_GT(outcomes[0]->queued->id, 0);
  EXPECT_EQ(outcomes[1]->stored[0].uid, 2u);
  EXPECT_FALSE(outcomes[1]->queued);

  EXPECT_EQ(messages(a.id).size(), 2u);
  EXPECT_EQ(messages(b.id).size(), 1u);
  auto queue = store().list_queue();
  ASSERT_TRUE(queue);
  ASSERT_EQ(queue->size(), 1u);
  EXPECT_EQ(queue->front().recipients.front().address, "x@remote.test");
}

TEST_P(MailStoreConformance, CommitDeliveriesIsolatesAFailingItem) {
  const AccountRecord alice = make_account();
  const MailboxRecord inbox = mailbox(alice.id, "INBOX");
  DeliveryItem good;
  good.messages = {message_for(inbox.id, blob('1'))};
  DeliveryItem missing_mailbox;  // fails inside the transaction
  missing_mailbox.messages = {message_for(inbox.id, blob('2')), message_for(inbox.id + 1000, blob('3'))};
  DeliveryItem invalid;  // fails validation
  invalid.messages = {message_for(inbox.id, "not-a-blob-id")};
  DeliveryItem also_good;
  also_good.messages = {message_for(inbox.id, blob('4'))};
  const std::vector<DeliveryItem> items = {good, missing_mailbox, invalid, also_good};

  auto outcomes = store().commit_deliveries(items);
  ASSERT_EQ(outcomes.size(), 4u);
  EXPECT_TRUE(outcomes[0]);
  EXPECT_EQ(code_of(outcomes[1]), Code::not_found);
  EXPECT_EQ(code_of(outcomes[2]), Code::invalid);
  ASSERT_TRUE(outcomes[3]);
  // The failed item left nothing behind: no row, no UID used, no blob reference.
  const auto rows = messages(inbox.id);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].blob_id, blob('1'));
  EXPECT_EQ(rows[1].blob_id, blob('4'));
  EXPECT_EQ(rows[1].uid, 2u);
  auto known = store().blob_known(blob('2'));
  ASSERT_TRUE(known);
  EXPECT_FALSE(*known);
}

TEST_P(MailStoreConformance, CommittedDeliveriesSurviveReopen) {
  const AccountRecord alice = make_account();
  const MailboxRecord inbox = mailbox(alice.id, "INBOX");
  DeliveryItem item;
  item.messages = {message_for(inbox.id, blob('9'), 42)};
  const std::vector<DeliveryItem> items = {item};
  ASSERT_TRUE(store().commit_deliveries(items)[0]);
  reopen();
  const auto rows = messages(inbox.id);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].size, 42u);
}

}  // namespace
}  // namespace postamt::storage::test
