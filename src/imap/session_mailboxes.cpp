// ImapSession: commands on mailboxes (RFC 9051 §6.3) and QUOTA (RFC 9208).
#include <algorithm>
#include <ctime>
#include <map>
#include <set>

#include "base/log.hpp"
#include "imap/message/fetch_renderer.hpp"
#include "imap/response_text.hpp"
#include "imap/session.hpp"
#include "mime/analyze_message.hpp"
#include "net/connection.hpp"
#include "proto/imap/list_pattern.hpp"
#include "proto/imap/mailbox_name.hpp"
#include "storage/api/disk_space.hpp"
#include "storage/api/name_rules.hpp"

namespace postamt::imap {
namespace {

namespace p = proto::imap;
using storage::StorageError;

std::string_view special_use_attribute(storage::SpecialUse use) {
  switch (use) {
    case storage::SpecialUse::drafts: return "\\Drafts";
    case storage::SpecialUse::sent: return "\\Sent";
    case storage::SpecialUse::trash: return "\\Trash";
    case storage::SpecialUse::junk: return "\\Junk";
    case storage::SpecialUse::archive: return "\\Archive";
    case storage::SpecialUse::none: break;
  }
  return {};
}

std::optional<storage::SpecialUse> special_use_from_attribute(std::string_view attribute) {
  std::string lower(attribute);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "\\drafts") return storage::SpecialUse::drafts;
  if (lower == "\\sent") return storage::SpecialUse::sent;
  if (lower == "\\trash") return storage::SpecialUse::trash;
  if (lower == "\\junk") return storage::SpecialUse::junk;
  if (lower == "\\archive") return storage::SpecialUse::archive;
  return std::nullopt;
}

// Every ancestor of a name: "a/b/c" -> "a", "a/b".
std::vector<std::string> ancestors(const std::string& name) {
  std::vector<std::string> out;
  for (std::size_t pos = name.find('/'); pos != std::string::npos; pos = name.find('/', pos + 1)) {
    out.push_back(name.substr(0, pos));
  }
  return out;
}

// RFC 9051 §6.3.4: the superior names a new name needs are created with it (CREATE, and
// the target of RENAME). Blocking: run on the storage pool.
storage::StoreResult<void> create_missing_ancestors(storage::MailStore& store, storage::Id account_id,
                                                    const std::string& name) {
  for (const auto& parent : ancestors(name)) {
    auto found = store.find_mailbox(account_id, parent);
    if (found) continue;
    if (found.error().code != StorageError::Code::not_found) return std::unexpected(found.error());
    auto made = store.create_mailbox(account_id, parent);
    if (!made && made.error().code != StorageError::Code::already_exists) return std::unexpected(made.error());
  }
  return {};
}

// RFC 9208 §5.1: the one quota root "" with the STORAGE resource in KiB, or no resources.
std::string quota_line(std::uint64_t used_bytes, std::uint64_t quota_bytes) {
  if (quota_bytes == 0) return "QUOTA \"\" ()";
  return "QUOTA \"\" (STORAGE " + std::to_string((used_bytes + 1023) / 1024) + " " +
         std::to_string(quota_bytes / 1024) + ")";
}

// The account's usage and quota (bytes, 0: unlimited) for QUOTA responses. Blocking.
storage::StoreResult<std::pair<std::uint64_t, std::uint64_t>> usage_and_quota(
    storage::MailStore& store, const storage::AccountRecord& account) {
  auto current = store.find_account(account.address);  // the quota may have changed since login
  if (!current) return std::unexpected(current.error());
  auto used = store.account_usage(account.id);
  if (!used) return std::unexpected(used.error());
  return std::pair{*used, current->quota_bytes};
}

std::string status_item_name(p::StatusItem item) {
  switch (item) {
    case p::StatusItem::messages: return "MESSAGES";
    case p::StatusItem::uidnext: return "UIDNEXT";
    case p::StatusItem::uidvalidity: return "UIDVALIDITY";
    case p::StatusItem::unseen: return "UNSEEN";
    case p::StatusItem::deleted: return "DELETED";
    case p::StatusItem::size: return "SIZE";
    case p::StatusItem::recent: return "RECENT";
    case p::StatusItem::highestmodseq: return "HIGHESTMODSEQ";
    case p::StatusItem::appendlimit: return "APPENDLIMIT";
  }
  return "MESSAGES";
}

// What LIST shows of one name.
struct ListEntry {
  bool exists = false;
  bool subscribed = false;
  bool has_children = false;
  bool child_subscribed = false;  // an inferior is subscribed (LSUB's "%" parents)
  bool unlisted_child_subscribed = false;  // ... and the patterns do not match it
  storage::SpecialUse special_use = storage::SpecialUse::none;
  std::optional<storage::MailboxRecord> record;
};

}  // namespace

std::expected<std::string, std::string> ImapSession::mailbox_from_client(const std::string& raw) const {
  std::string name;
  if (utf8_names()) {
    if (!p::is_valid_utf8(raw)) return std::unexpected("Mailbox name is not valid UTF-8");
    name = raw;
  } else {
    auto decoded = p::decode_modified_utf7(raw);
    if (!decoded) return std::unexpected("Mailbox name is not valid modified UTF-7: " + decoded.error());
    name = std::move(*decoded);
  }
  auto normalized = storage::normalize_mailbox_name(name);
  if (!normalized) return std::unexpected(normalized.error());
  return *normalized;
}

void ImapSession::append_mailbox_name(std::string& out, const std::string& name) const {
  if (utf8_names()) {
    append_string(out, name, true);
    return;
  }
  auto encoded = p::encode_modified_utf7(name);
  append_string(out, encoded ? *encoded : name, false);
}

void ImapSession::store_failure(const Tag& tag, const StorageError& error, std::string_view what) {
  switch (error.code) {
    case StorageError::Code::not_found: no(tag, "[NONEXISTENT] " + error.message); return;
    case StorageError::Code::already_exists: no(tag, "[ALREADYEXISTS] " + error.message); return;
    case StorageError::Code::invalid: no(tag, "[CANNOT] " + error.message); return;
    case StorageError::Code::conflict: no(tag, "[INUSE] " + error.message); return;
    case StorageError::Code::quota_exceeded: no(tag, "[OVERQUOTA] " + error.message); return;
    case StorageError::Code::busy:
    case StorageError::Code::io: break;
  }
  log::error("imap.store_failed", {{"sid", sid()}, {"what", what}, {"error", error.message}});
  no(tag, "[UNAVAILABLE] " + std::string(what) + " failed, try again later");
}

void ImapSession::deselect() {
  if (selected_ && signal_) state_->watchers.unwatch(selected_->id(), signal_.get());
  selected_.reset();
  saved_search_.reset();
  if (state_kind_ == State::selected) state_kind_ = State::authenticated;
}

// --- SELECT / EXAMINE (RFC 9051 §6.3.2, §6.3.3; CONDSTORE/QRESYNC RFC 7162 §3.1.8, §3.2.5)

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::SelectCommand& command) {
  const bool was_selected = selected_.has_value();
  deselect();
  // RFC 7162 §3.2.11: with QRESYNC the client learns the old mailbox is closed.
  if (was_selected && qresync_) untagged("OK [CLOSED] Previous mailbox closed");
  auto name = mailbox_from_client(command.mailbox);
  if (!name) {
    no(tag, "[CANNOT] " + name.error());
    co_return;
  }
  if (command.qresync && !qresync_) {
    bad(tag, "QRESYNC must be enabled first");  // RFC 7162 §3.2.5
    co_return;
  }
  if (command.condstore) condstore_ = true;  // RFC 7162 §3.1.8: a CONDSTORE-enabling command

  struct Opened {
    storage::MailboxRecord mailbox;
    std::vector<storage::MessageSummary> messages;
    std::uint32_t first_recent_uid = 0;
    std::vector<std::uint32_t> vanished;
  };
  const storage::Id account_id = account_->id;
  const bool read_only = command.read_only;
  const std::optional<p::QresyncParameters>& qresync = command.qresync;
  auto opened = co_await state_->deps.pool.run([&]() -> storage::StoreResult<Opened> {
    auto& store = state_->deps.store;
    auto mailbox = store.find_mailbox(account_id, *name);
    if (!mailbox) return std::unexpected(mailbox.error());
    auto messages = store.list_summaries(mailbox->id);
    if (!messages) return std::unexpected(messages.error());
    Opened result{std::move(*mailbox), std::move(*messages), 0, {}};
    if (!read_only) {
      auto recent = store.claim_recent(result.mailbox.id);
      if (!recent) return std::unexpected(recent.error());
      result.first_recent_uid = *recent;
    } else {
      // RFC 3501 §6.3.2: EXAMINE reports the recent messages without taking their \Recent
      // away: the last `recent` messages below the UIDNEXT the count was taken at.
      auto status = store.mailbox_status(result.mailbox.id);
      if (!status) return std::unexpected(status.error());
      result.first_recent_uid = status->mailbox.uidnext;
      std::uint32_t left = status->recent;
      for (auto it = result.messages.rbegin(); it != result.messages.rend() && left > 0; ++it) {
        if (it->uid >= status->mailbox.uidnext) continue;
        result.first_recent_uid = it->uid;
        --left;
      }
    }
    if (qresync && qresync->uidvalidity == result.mailbox.uidvalidity) {
      auto vanished = store.expunged_since(result.mailbox.id, qresync->modseq);
      if (!vanished) return std::unexpected(vanished.error());
      result.vanished = std::move(*vanished);
    }
    return result;
  });
  if (!opened) {
    store_failure(tag, opened.error(), "SELECT");
    co_return;
  }

  signal_ = std::make_shared<ChangeSignal>(connection_->executor());
  state_->watchers.watch(opened->mailbox.id, signal_);
  selected_.emplace(opened->mailbox, read_only, std::move(opened->messages), opened->first_recent_uid);
  state_kind_ = State::selected;
  SelectedMailbox& view = *selected_;

  out_ += view.flags_response();
  untagged(std::to_string(view.exists()) + " EXISTS");
  if (!imap4rev2_) untagged(std::to_string(view.recent_count()) + " RECENT");
  out_ += view.permanent_flags_response();
  if (!imap4rev2_) {
    if (auto unseen = view.first_unseen()) untagged("OK [UNSEEN " + std::to_string(*unseen) + "] First unseen");
  }
  untagged("OK [UIDVALIDITY " + std::to_string(view.uidvalidity()) + "] UIDs valid");
  untagged("OK [UIDNEXT " + std::to_string(view.uidnext()) + "] Predicted next UID");
  untagged("OK [HIGHESTMODSEQ " + std::to_string(view.highest_modseq()) + "] Highest");
  if (imap4rev2_) {
    // RFC 9051 §6.3.2: the mailbox name as the server knows it.
    std::string list = "LIST () \"/\" ";
    append_mailbox_name(list, view.name());
    untagged(list);
  }

  // RFC 7162 §3.2.5.2: what the client missed since its last known MODSEQ.
  if (command.qresync && command.qresync->uidvalidity == view.uidvalidity()) {
    const auto& params = *command.qresync;
    std::vector<std::uint32_t> vanished;
    for (std::uint32_t uid : opened->vanished) {
      if (!params.known_uids || params.known_uids->contains(uid, std::max(uid, view.max_uid()))) {
        vanished.push_back(uid);
      }
    }
    if (!vanished.empty()) untagged("VANISHED (EARLIER) " + compact_set(vanished));
    for (std::uint32_t n = 1; n <= view.exists(); ++n) {
      const auto& message = view.message(n);
      if (message.modseq <= params.modseq) continue;
      out_ += "* " + std::to_string(n) + " FETCH (UID " + std::to_string(message.uid) + " FLAGS " +
              flag_list(message.flags) + " MODSEQ (" + std::to_string(message.modseq) + "))\r\n";
    }
  }
  ok(tag, read_only ? "[READ-ONLY] EXAMINE completed" : "[READ-WRITE] SELECT completed");
}

// --- CREATE (RFC 9051 §6.3.4; USE, RFC 6154 §3)

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::CreateCommand& command) {
  std::string raw = command.mailbox;
  // "foo/" creates "foo": the trailing delimiter only says more names may follow.
  while (raw.size() > 1 && raw.back() == '/') raw.pop_back();
  auto name = mailbox_from_client(raw);
  if (!name) {
    no(tag, "[CANNOT] " + name.error());
    co_return;
  }
  if (*name == "INBOX") {
    no(tag, "[ALREADYEXISTS] INBOX always exists");
    co_return;
  }
  storage::SpecialUse use = storage::SpecialUse::none;
  for (const auto& attribute : command.special_use) {
    auto known = special_use_from_attribute(attribute);
    if (!known || command.special_use.size() > 1) {
      no(tag, "[USEATTR] Unsupported special-use attribute " + attribute);
      co_return;
    }
    use = *known;
  }
  const storage::Id account_id = account_->id;
  auto created = co_await state_->deps.pool.run([&]() -> storage::StoreResult<storage::MailboxRecord> {
    auto& store = state_->deps.store;
    if (auto parents = create_missing_ancestors(store, account_id, *name); !parents) {
      return std::unexpected(parents.error());
    }
    return store.create_mailbox(account_id, *name, use);
  });
  if (!created) {
    store_failure(tag, created.error(), "CREATE");
    co_return;
  }
  ok(tag, "CREATE completed");
}

// --- DELETE (RFC 9051 §6.3.5)

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::DeleteCommand& command) {
  auto name = mailbox_from_client(command.mailbox);
  if (!name) {
    no(tag, "[CANNOT] " + name.error());
    co_return;
  }
  if (*name == "INBOX") {
    no(tag, "[CANNOT] INBOX cannot be deleted");
    co_return;
  }
  const storage::Id account_id = account_->id;
  if (selected_ && selected_->name() == *name) deselect();
  auto deleted = co_await state_->deps.pool.run([&] { return state_->deps.store.delete_mailbox(account_id, *name); });
  if (!deleted) {
    store_failure(tag, deleted.error(), "DELETE");
    co_return;
  }
  ok(tag, "DELETE completed");
}

// --- RENAME (RFC 9051 §6.3.6)

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::RenameCommand& command) {
  auto from = mailbox_from_client(command.from);
  auto to = mailbox_from_client(command.to);
  if (!from || !to) {
    no(tag, "[CANNOT] " + (from ? to.error() : from.error()));
    co_return;
  }
  if (*to == "INBOX") {
    no(tag, "[ALREADYEXISTS] INBOX always exists");
    co_return;
  }
  const storage::Id account_id = account_->id;
  auto renamed = co_await state_->deps.pool.run([&]() -> storage::StoreResult<bool> {
    auto& store = state_->deps.store;
    if (auto parents = create_missing_ancestors(store, account_id, *to); !parents) {
      return std::unexpected(parents.error());
    }
    if (*from != "INBOX") {
      auto done = store.rename_mailbox(account_id, *from, *to);
      if (!done) return std::unexpected(done.error());
      return true;
    }
    // Renaming INBOX moves its messages into a new mailbox and leaves INBOX empty (§6.3.6).
    auto inbox = store.find_mailbox(account_id, "INBOX");
    if (!inbox) return std::unexpected(inbox.error());
    auto target = store.create_mailbox(account_id, *to);
    if (!target) return std::unexpected(target.error());
    auto messages = store.list_summaries(inbox->id);
    if (!messages) return std::unexpected(messages.error());
    std::vector<std::uint32_t> uids;
    for (const auto& m : *messages) uids.push_back(m.uid);
    if (!uids.empty()) {
      auto moved = store.copy_messages(inbox->id, uids, target->id, true);
      if (!moved) return std::unexpected(moved.error());
    }
    return true;
  });
  if (!renamed) {
    store_failure(tag, renamed.error(), "RENAME");
    co_return;
  }
  ok(tag, "RENAME completed");
}

// --- SUBSCRIBE / UNSUBSCRIBE (RFC 9051 §6.3.7, §6.3.8)

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::SubscribeCommand& command) {
  auto name = mailbox_from_client(command.mailbox);
  if (!name) {
    no(tag, "[CANNOT] " + name.error());
    co_return;
  }
  const storage::Id account_id = account_->id;
  const bool subscribe = command.subscribe;
  auto done = co_await state_->deps.pool.run([&] {
    return subscribe ? state_->deps.store.subscribe(account_id, *name)
                     : state_->deps.store.unsubscribe(account_id, *name);
  });
  if (!done && !(done.error().code == StorageError::Code::not_found && !subscribe)) {
    store_failure(tag, done.error(), subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE");
    co_return;
  }
  ok(tag, subscribe ? "SUBSCRIBE completed" : "UNSUBSCRIBE completed");
}

// --- LIST / LSUB (RFC 9051 §6.3.9, RFC 5258, RFC 5819, RFC 6154, RFC 3501 §6.3.9)

void ImapSession::append_status(std::string& out, const storage::MailboxStatus& status,
                                const std::vector<p::StatusItem>& items) const {
  out += "STATUS ";
  append_mailbox_name(out, status.mailbox.name);
  out += " (";
  bool first = true;
  for (p::StatusItem item : items) {
    if (!first) out += ' ';
    first = false;
    out += status_item_name(item);
    out += ' ';
    switch (item) {
      case p::StatusItem::messages: out += std::to_string(status.mailbox.message_count); break;
      case p::StatusItem::uidnext: out += std::to_string(status.mailbox.uidnext); break;
      case p::StatusItem::uidvalidity: out += std::to_string(status.mailbox.uidvalidity); break;
      case p::StatusItem::unseen: out += std::to_string(status.unseen); break;
      case p::StatusItem::deleted: out += std::to_string(status.deleted); break;
      case p::StatusItem::size: out += std::to_string(status.mailbox.total_size); break;
      case p::StatusItem::recent: out += std::to_string(status.recent); break;
      case p::StatusItem::highestmodseq: out += std::to_string(status.mailbox.highestmodseq); break;
      case p::StatusItem::appendlimit: out += std::to_string(reader_.limits().max_literal_size); break;
    }
  }
  out += ')';
}

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::ListCommand& command) {
  // RFC 9051 §6.3.9: an empty pattern asks for the delimiter and the root.
  if (!command.extended && command.patterns.size() == 1 && command.patterns.front().empty()) {
    untagged(std::string(command.lsub ? "LSUB" : "LIST") + " (\\Noselect) \"/\" \"\"");
    ok(tag, command.lsub ? "LSUB completed" : "LIST completed");
    co_return;
  }
  // Patterns and reference arrive in the client's encoding, like names.
  std::string reference = command.reference;
  std::vector<std::string> patterns;
  if (!utf8_names()) {
    auto decoded = p::decode_modified_utf7(reference);
    if (decoded) reference = std::move(*decoded);
  }
  for (const auto& pattern : command.patterns) {
    if (utf8_names()) {
      patterns.push_back(pattern);
    } else {
      auto decoded = p::decode_modified_utf7(pattern);
      patterns.push_back(decoded ? std::move(*decoded) : pattern);
    }
  }

  const storage::Id account_id = account_->id;
  const bool want_status = command.return_status.has_value();
  struct Listing {
    std::vector<storage::MailboxRecord> mailboxes;
    std::vector<std::string> subscriptions;
    std::map<std::string, storage::MailboxStatus> statuses;
  };
  auto listing = co_await state_->deps.pool.run([&]() -> storage::StoreResult<Listing> {
    auto& store = state_->deps.store;
    auto mailboxes = store.list_mailboxes(account_id);
    if (!mailboxes) return std::unexpected(mailboxes.error());
    auto subscriptions = store.list_subscriptions(account_id);
    if (!subscriptions) return std::unexpected(subscriptions.error());
    Listing result{std::move(*mailboxes), std::move(*subscriptions), {}};
    if (want_status) {
      for (const auto& mailbox : result.mailboxes) {
        if (!p::matches_any(reference, patterns, mailbox.name)) continue;
        auto status = store.mailbox_status(mailbox.id);
        if (status) result.statuses.emplace(mailbox.name, std::move(*status));
      }
    }
    return result;
  });
  if (!listing) {
    store_failure(tag, listing.error(), command.lsub ? "LSUB" : "LIST");
    co_return;
  }

  std::map<std::string, ListEntry> entries;
  for (const auto& mailbox : listing->mailboxes) {
    auto& entry = entries[mailbox.name];
    entry.exists = true;
    entry.special_use = mailbox.special_use;
    entry.record = mailbox;
    for (const auto& parent : ancestors(mailbox.name)) entries[parent].has_children = true;
  }
  for (const auto& name : listing->subscriptions) {
    auto& entry = entries[name];
    entry.subscribed = true;
    const bool listed = p::matches_any(reference, patterns, name);
    for (const auto& parent : ancestors(name)) {
      entries[parent].child_subscribed = true;
      if (!listed) entries[parent].unlisted_child_subscribed = true;
    }
  }

  const bool only_subscribed = command.lsub || command.select_subscribed;
  const bool rev2_rules = command.extended || imap4rev2_;
  std::vector<std::string> names;
  for (const auto& [name, entry] : entries) names.push_back(name);
  // INBOX first, then by name: what clients show.
  std::stable_partition(names.begin(), names.end(), [](const std::string& n) { return n == "INBOX"; });

  for (const auto& name : names) {
    const ListEntry& entry = entries[name];
    if (!p::matches_any(reference, patterns, name)) continue;
    if (command.select_special_use && entry.special_use == storage::SpecialUse::none) continue;
    // RFC 5258 §3.5 and its example 9: CHILDINFO tells of a subscribed descendant this
    // answer does not list (the patterns miss it); a parent whose subscribed descendants
    // are all listed themselves is not shown for them ("*"). A subscribed mailbox with
    // such a descendant carries CHILDINFO too (example 9's "eps2").
    const bool recursive_hit = command.select_recursive_match && entry.unlisted_child_subscribed;
    bool lsub_parent = false;
    if (only_subscribed && !entry.subscribed && !recursive_hit) {
      // RFC 3501 §6.3.9: when "%" stops above a subscribed name, LSUB shows the level it
      // stopped at, as \Noselect.
      if (!command.lsub || !entry.child_subscribed) continue;
      const std::string prefix = name + "/";
      const bool child_listed = std::any_of(
          listing->subscriptions.begin(), listing->subscriptions.end(), [&](const std::string& s) {
            return s.starts_with(prefix) && p::matches_any(reference, patterns, s);
          });
      if (child_listed) continue;
      lsub_parent = true;
    }
    if (!only_subscribed && !entry.exists && !entry.has_children) continue;

    std::vector<std::string> attributes;
    if (lsub_parent) {
      attributes.push_back("\\Noselect");
    } else if (!entry.exists) {
      attributes.push_back(rev2_rules && !command.lsub ? "\\NonExistent" : "\\Noselect");
    }
    if (!command.lsub) {
      if (entry.has_children) {
        attributes.push_back("\\HasChildren");
      } else if (entry.exists) {
        attributes.push_back("\\HasNoChildren");
      }
      if (entry.subscribed && (command.return_subscribed || command.select_subscribed)) {
        attributes.push_back("\\Subscribed");
      }
      if (auto use = special_use_attribute(entry.special_use); !use.empty()) {
        attributes.emplace_back(use);
      }
    }
    std::string line = command.lsub ? "LSUB (" : "LIST (";
    for (std::size_t i = 0; i < attributes.size(); ++i) {
      if (i) line += ' ';
      line += attributes[i];
    }
    line += ") \"/\" ";
    append_mailbox_name(line, name);
    if (recursive_hit) line += " (\"CHILDINFO\" (\"SUBSCRIBED\"))";
    untagged(line);
    if (want_status && entry.exists) {
      auto status = listing->statuses.find(name);
      if (status != listing->statuses.end()) {
        std::string text;
        append_status(text, status->second, *command.return_status);
        untagged(text);
      }
    }
  }
  ok(tag, command.lsub ? "LSUB completed" : "LIST completed");
}

// --- STATUS (RFC 9051 §6.3.11)

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::StatusCommand& command) {
  auto name = mailbox_from_client(command.mailbox);
  if (!name) {
    no(tag, "[CANNOT] " + name.error());
    co_return;
  }
  const storage::Id account_id = account_->id;
  auto status = co_await state_->deps.pool.run([&]() -> storage::StoreResult<storage::MailboxStatus> {
    auto mailbox = state_->deps.store.find_mailbox(account_id, *name);
    if (!mailbox) return std::unexpected(mailbox.error());
    return state_->deps.store.mailbox_status(mailbox->id);
  });
  if (!status) {
    store_failure(tag, status.error(), "STATUS");
    co_return;
  }
  std::string text;
  append_status(text, *status, command.items);
  untagged(text);
  ok(tag, "STATUS completed");
}

// --- APPEND (RFC 9051 §6.3.12; UIDPLUS RFC 4315 §3; APPENDLIMIT RFC 7889)

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::AppendCommand& command) {
  auto name = mailbox_from_client(command.mailbox);
  if (!name) {
    no(tag, "[CANNOT] " + name.error());
    co_return;
  }
  // A big literal was written to the spool file as it arrived (session.cpp).
  MappedContent spooled;
  if (command.message.empty() && (spool_ || !spool_error_.empty())) {
    std::expected<MappedContent, std::string> mapped = std::unexpected(spool_error_);
    if (spool_) mapped = spool_->map();
    if (!mapped) {
      log::error("imap.spool_failed", {{"sid", sid()}, {"error", mapped.error()}});
      no(tag, "[SERVERBUG] Cannot hold the message: " + mapped.error());
      co_return;
    }
    spooled = std::move(*mapped);
  }
  const std::string_view content = spooled.view().empty() ? std::string_view(command.message) : spooled.view();
  if (content.empty()) {
    no(tag, "[CANNOT] An empty message cannot be stored");
    co_return;
  }
  for (const auto& flag : command.flags) {
    if (flag.size() == 7 && strncasecmp(flag.c_str(), "\\Recent", 7) == 0) {
      bad(tag, "\\Recent cannot be set by a client");
      co_return;
    }
  }
  // Below the data disk's free-space floor (limits.min_free_disk_mb) nothing new is stored.
  if (storage::DiskSpace::data().below_floor()) {
    no(tag, "[OVERQUOTA] The server's disk is nearly full (below its free-space floor), try again later");
    co_return;
  }
  const storage::Id account_id = account_->id;
  const auto internal_date = command.internal_date.value_or(static_cast<p::UnixSeconds>(std::time(nullptr)));
  const std::vector<std::string>& flags = command.flags;
  struct Appended {
    std::uint32_t uidvalidity = 0;
    std::uint32_t uid = 0;
  };
  auto appended = co_await state_->deps.pool.run([&]() -> storage::StoreResult<Appended> {
    auto& store = state_->deps.store;
    auto mailbox = store.find_mailbox(account_id, *name);
    if (!mailbox) {
      if (mailbox.error().code == StorageError::Code::not_found) {
        return storage::storage_error(StorageError::Code::not_found, "[TRYCREATE]");
      }
      return std::unexpected(mailbox.error());
    }
    // The blob is durable before the row that names it (DESIGN.md "Durability").
    auto blob = state_->deps.blobs.put(content);
    if (!blob) return std::unexpected(blob.error());
    storage::NewMessage message;
    message.mailbox_id = mailbox->id;
    message.flags = flags;
    message.internal_date = internal_date;
    message.size = content.size();
    message.blob_id = blob->id;
    message.mime_metadata = mime::analyze_message(content).serialize();
    auto stored = store.append_messages(std::span<const storage::NewMessage>(&message, 1));
    // The put held the blob until now; a refused APPEND (quota) leaves it to the reclaimer.
    state_->deps.blobs.release(blob->id, stored ? storage::BlobPins::After::referenced
                                                : storage::BlobPins::After::check);
    if (!stored) return std::unexpected(stored.error());
    return Appended{mailbox->uidvalidity, stored->front().uid};
  });
  if (!appended) {
    if (appended.error().code == StorageError::Code::not_found && appended.error().message == "[TRYCREATE]") {
      no(tag, "[TRYCREATE] No such mailbox");
    } else {
      store_failure(tag, appended.error(), "APPEND");
    }
    co_return;
  }
  state_->metrics.appends.inc();
  // The selected mailbox learns of the new message like of any other change.
  if (selected_ && selected_->name() == *name) co_await synchronize(true);
  ok(tag, "[APPENDUID " + std::to_string(appended->uidvalidity) + " " + std::to_string(appended->uid) +
              "] APPEND completed");
}

// --- QUOTA (RFC 9208): one root "" per account, the STORAGE resource in KiB.

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::GetQuotaCommand& command) {
  if (!command.root.empty()) {
    no(tag, "[NONEXISTENT] No such quota root");
    co_return;
  }
  const storage::AccountRecord& account = *account_;
  auto usage = co_await state_->deps.pool.run([&] { return usage_and_quota(state_->deps.store, account); });
  if (!usage) {
    store_failure(tag, usage.error(), "GETQUOTA");
    co_return;
  }
  untagged(quota_line(usage->first, usage->second));
  ok(tag, "GETQUOTA completed");
}

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::GetQuotaRootCommand& command) {
  auto name = mailbox_from_client(command.mailbox);
  if (!name) {
    no(tag, "[CANNOT] " + name.error());
    co_return;
  }
  const storage::AccountRecord& account = *account_;
  auto usage = co_await state_->deps.pool.run([&]() -> storage::StoreResult<std::pair<std::uint64_t, std::uint64_t>> {
    auto mailbox = state_->deps.store.find_mailbox(account.id, *name);
    if (!mailbox) return std::unexpected(mailbox.error());
    return usage_and_quota(state_->deps.store, account);
  });
  if (!usage) {
    store_failure(tag, usage.error(), "GETQUOTAROOT");
    co_return;
  }
  std::string root = "QUOTAROOT ";
  append_mailbox_name(root, *name);
  root += " \"\"";
  untagged(root);
  untagged(quota_line(usage->first, usage->second));
  ok(tag, "GETQUOTAROOT completed");
}

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::SetQuotaCommand&) {
  // Quotas are the administrator's (postamt user quota); RFC 9208 §4.4 allows refusing.
  no(tag, "[NOPERM] Quotas are set by the administrator");
  co_return;
}

}  // namespace postamt::imap
