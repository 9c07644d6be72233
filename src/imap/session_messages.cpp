// ImapSession: commands of the selected state (RFC 9051 §6.4): FETCH, STORE, SEARCH, COPY,
// MOVE (RFC 6851), EXPUNGE, UID EXPUNGE (RFC 4315), CLOSE, UNSELECT, and the announcement
// of other sessions' changes.
#include <algorithm>
#include <ctime>
#include <span>

#include "base/log.hpp"
#include "imap/junk_trainer.hpp"
#include "imap/message_loader.hpp"
#include "imap/message/fetch_renderer.hpp"
#include "imap/message/response_string.hpp"
#include "imap/message/search_matcher.hpp"
#include "imap/response_text.hpp"
#include "imap/search_prefilter.hpp"
#include "imap/session.hpp"
#include "mime/message_metadata.hpp"
#include "net/connection.hpp"

namespace postamt::imap {
namespace {

namespace p = proto::imap;
using storage::StorageError;

// Messages one storage round trip loads: whole messages, or only metadata and headers
// (small, so more of them per trip; each trip is a hop to the storage pool and back).
constexpr std::size_t kBatch = 64;
constexpr std::size_t kLightBatch = 200;  // the store's UID chunk: one statement per trip
// Whole messages one trip loads, in octets: as many as fit (at least one), so a batch of
// big messages never sits in memory together.
constexpr std::uint64_t kBatchOctets = 1024 * 1024;
// Output is written out (the write awaited: a client that reads slowly slows only its own
// session) whenever this much has piled up, between the items of one message too; a
// section bigger than kDeferSection is sent from the loaded message in kFlushAt pieces
// instead of copied. So a session queues at most kFlushAt plus one item under
// kDeferSection (or one decoded BINARY item) beside the messages of one batch.
constexpr std::size_t kFlushAt = 256 * 1024;
constexpr std::size_t kDeferSection = 64 * 1024;

bool key_uses_modseq(const p::SearchKey& key) {
  if (key.kind == p::SearchKey::Kind::modseq) return true;
  return std::any_of(key.children.begin(), key.children.end(), key_uses_modseq);
}

std::vector<std::uint32_t> all_sequence_numbers(const SelectedMailbox& view) {
  std::vector<std::uint32_t> all(view.exists());
  for (std::uint32_t n = 1; n <= all.size(); ++n) all[n - 1] = n;
  return all;
}

bool has_flag(const storage::MessageSummary& summary, std::string_view flag) {
  return std::find(summary.flags.begin(), summary.flags.end(), flag) != summary.flags.end();
}

}  // namespace

// Whether every attribute that needs the stored bytes only reads the top-level header
// (BODY[HEADER], BODY[HEADER.FIELDS (...)], RFC822.HEADER): what clients ask for every
// message of a mailbox, answered from the first octets of each blob alone.
bool header_only(std::span<const p::FetchAttribute> attributes) {
  using Kind = p::FetchAttribute::Kind;
  using Text = p::Section::Text;
  bool any = false;
  for (const auto& attribute : attributes) {
    switch (attribute.kind) {
      case Kind::rfc822_header:
        any = true;
        break;
      case Kind::body_section: {
        const auto text = attribute.section.text;
        if (!attribute.section.part.empty() ||
            (text != Text::header && text != Text::header_fields && text != Text::header_fields_not)) {
          return false;
        }
        any = true;
        break;
      }
      case Kind::rfc822: case Kind::rfc822_text: case Kind::binary: case Kind::binary_size:
        return false;
      default:
        break;
    }
  }
  return any;
}

// --- FETCH (RFC 9051 §6.4.5; CHANGEDSINCE / VANISHED RFC 7162 §3.1.4, §3.2.6)

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::FetchCommand& command) {
  // RFC 7162 §3.1: CHANGEDSINCE and the MODSEQ item are CONDSTORE-enabling.
  const bool asks_modseq = std::any_of(command.attributes.begin(), command.attributes.end(),
      [](const p::FetchAttribute& a) { return a.kind == p::FetchAttribute::Kind::modseq; });
  if (command.changed_since || asks_modseq) condstore_ = true;
  if (command.vanished && !qresync_) {
    bad(tag, "VANISHED needs QRESYNC enabled");
    co_return;
  }
  SelectedMailbox& view = *selected_;
  if (!command.uid && view.names_missing_sequence_numbers(command.set)) {
    bad(tag, "Invalid message sequence number");
    co_return;
  }
  std::vector<std::uint32_t> seqs =
      view.resolve(command.set, command.uid, saved_search_ ? &*saved_search_ : nullptr);
  if (command.changed_since) {
    std::erase_if(seqs, [&](std::uint32_t n) { return view.message(n).modseq <= *command.changed_since; });
  }
  if (command.partial) {  // RFC 9394 §3.2: a window of what the set (and CHANGEDSINCE) named
    const auto [begin, end] = p::partial_window(*command.partial, seqs.size());
    seqs = std::vector<std::uint32_t>(seqs.begin() + static_cast<std::ptrdiff_t>(begin),
                                      seqs.begin() + static_cast<std::ptrdiff_t>(end));
  }
  if (command.vanished) {
    // RFC 7162 §3.2.6: UIDs of the set expunged since the client's MODSEQ.
    const storage::Id id = view.id();
    const std::uint64_t since = *command.changed_since;
    auto expunged = co_await state_->deps.pool.run([&] { return state_->deps.store.expunged_since(id, since); });
    if (!expunged) {
      store_failure(tag, expunged.error(), "FETCH");
      co_return;
    }
    std::vector<std::uint32_t> vanished;
    for (std::uint32_t u : *expunged) {
      if (command.set.contains(u, std::max(u, view.max_uid()))) vanished.push_back(u);
    }
    if (!vanished.empty()) untagged("VANISHED (EARLIER) " + compact_set(vanished));
  }

  FetchOptions options;
  options.imap4rev2 = imap4rev2_;
  options.include_uid = command.uid;
  options.include_modseq = condstore_ && command.changed_since.has_value();

  // Reading a body sets \Seen first (RFC 9051 §6.4.5), and the new flags go out with it.
  std::vector<std::uint32_t> newly_seen;
  if (fetch_sets_seen(command.attributes) && !view.read_only()) {
    std::vector<std::uint32_t> uids;
    for (std::uint32_t n : seqs) {
      if (!has_flag(view.message(n), "\\Seen")) uids.push_back(view.message(n).uid);
    }
    if (!uids.empty()) {
      const storage::Id id = view.id();
      const std::string seen = "\\Seen";
      auto updated = co_await state_->deps.pool.run([&] {
        return state_->deps.store.update_flags(id, uids, storage::FlagChange::add,
                                               std::span<const std::string>(&seen, 1));
      });
      if (!updated) {
        store_failure(tag, updated.error(), "FETCH");
        co_return;
      }
      for (const auto& summary : updated->changed) {
        view.record(summary);
        newly_seen.push_back(summary.uid);
      }
      std::sort(newly_seen.begin(), newly_seen.end());
    }
  }
  std::vector<p::FetchAttribute> with_flags = command.attributes;
  const bool asked_flags = std::any_of(command.attributes.begin(), command.attributes.end(),
                                       [](const auto& a) { return a.kind == p::FetchAttribute::Kind::flags; });
  if (!asked_flags) with_flags.push_back(p::FetchAttribute{p::FetchAttribute::Kind::flags, {}, false, {}});

  FetchNeeds needs = fetch_needs(command.attributes);
  const bool headers_only = needs.content && header_only(command.attributes);
  if (headers_only) needs.metadata = true;  // the header's end is in the metadata
  std::optional<FetchError> failure;
  const bool whole_messages = needs.content && !headers_only;
  const std::size_t batch_size = whole_messages ? kBatch : kLightBatch;
  for (std::size_t begin = 0, end = 0; begin < seqs.size(); begin = end) {
    end = std::min(seqs.size(), begin + batch_size);
    if (whole_messages) {
      std::uint64_t octets = view.message(seqs[begin]).size;
      for (std::size_t i = begin + 1; i < end; ++i) {
        octets += view.message(seqs[i]).size;
        if (octets > kBatchOctets) {
          end = i;
          break;
        }
      }
    }
    std::vector<LoadedMessage> loaded;
    if (needs.metadata || needs.content) {
      std::vector<std::uint32_t> uids;
      for (std::size_t i = begin; i < end; ++i) uids.push_back(view.message(seqs[i]).uid);
      auto batch = co_await load_batch(*state_, view.id(), uids, needs.metadata, needs.content, headers_only);
      if (!batch) {
        store_failure(tag, batch.error(), "FETCH");
        co_return;
      }
      loaded = std::move(*batch);
    }
    std::size_t next_loaded = 0;
    for (std::size_t i = begin; i < end; ++i) {
      const std::uint32_t n = seqs[i];
      const storage::MessageSummary& summary = view.message(n);
      FetchSource source;
      source.sequence_number = n;
      source.summary = &summary;
      source.recent = view.is_recent(summary.uid);
      if (needs.metadata || needs.content) {
        // Records come back in UID order; a UID missing was expunged by another session
        // meanwhile: nothing is sent for it (RFC 9051 §7.5.1 allows the omission).
        while (next_loaded < loaded.size() && loaded[next_loaded].record.uid < summary.uid) ++next_loaded;
        if (next_loaded >= loaded.size() || loaded[next_loaded].record.uid != summary.uid) continue;
        const LoadedMessage& item = loaded[next_loaded];
        source.metadata = item.metadata ? &*item.metadata : nullptr;
        source.content = item.content;
      }
      const bool add_flags = std::binary_search(newly_seen.begin(), newly_seen.end(), summary.uid);
      auto rendered = co_await write_fetch_response(source, add_flags ? with_flags : command.attributes, options);
      if (broken_) co_return;
      if (!rendered && !failure) failure = rendered.error();
    }
  }
  if (failure) {
    no(tag, failure->kind == FetchError::Kind::unknown_cte ? "[UNKNOWN-CTE] " + failure->message
                                                           : failure->message);
    co_return;
  }
  ok(tag, command.uid ? "UID FETCH completed" : "FETCH completed");
}

// One message's FETCH response, written out as it grows (kFlushAt, kDeferSection). An
// item that fails (BINARY of an unknown encoding) is left out; if nothing of the response
// went out yet, the whole response is (as render_fetch does), else it is closed without it.
asio::awaitable<std::expected<void, FetchError>> ImapSession::write_fetch_response(
    const FetchSource& source, std::span<const p::FetchAttribute> attributes, const FetchOptions& options) {
  std::optional<FetchError> failure;
  const std::size_t start = out_.size();
  bool flushed = false;
  FetchResponseWriter writer(source, options, out_);
  writer.begin(attributes);
  for (const p::FetchAttribute& attribute : attributes) {
    auto deferred = writer.item(attribute, kDeferSection);
    if (!deferred) {
      failure = deferred.error();
      if (!flushed) {
        out_.resize(start);
        co_return std::unexpected(*failure);
      }
      break;
    }
    std::string_view rest = *deferred;
    while (!rest.empty()) {
      const std::string_view piece = rest.substr(0, kFlushAt);
      rest.remove_prefix(piece.size());
      append_literal_octets(out_, piece);
      if (!co_await flush()) co_return std::expected<void, FetchError>{};
      flushed = true;
    }
    if (out_.size() >= kFlushAt) {
      if (!co_await flush()) co_return std::expected<void, FetchError>{};
      flushed = true;
    }
  }
  writer.end();
  if (out_.size() >= kFlushAt) co_await flush();
  if (failure) co_return std::unexpected(*failure);
  co_return std::expected<void, FetchError>{};
}

// --- STORE (RFC 9051 §6.4.6; UNCHANGEDSINCE RFC 7162 §3.1.3)

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::StoreCommand& command) {
  SelectedMailbox& view = *selected_;
  if (view.read_only()) {
    no(tag, "[READ-ONLY] The mailbox is selected read-only");
    co_return;
  }
  if (command.unchanged_since) condstore_ = true;
  if (!command.uid && view.names_missing_sequence_numbers(command.set)) {
    bad(tag, "Invalid message sequence number");
    co_return;
  }
  const std::vector<std::uint32_t> seqs =
      view.resolve(command.set, command.uid, saved_search_ ? &*saved_search_ : nullptr);
  std::vector<std::uint32_t> uids;
  uids.reserve(seqs.size());
  for (std::uint32_t n : seqs) uids.push_back(view.message(n).uid);
  const storage::Id id = view.id();
  const auto change = command.mode == p::FlagMode::add      ? storage::FlagChange::add
                      : command.mode == p::FlagMode::remove ? storage::FlagChange::remove
                                                            : storage::FlagChange::replace;
  const std::vector<std::string>& flags = command.flags;
  const std::optional<std::uint64_t> unchanged_since = command.unchanged_since;
  auto updated = co_await state_->deps.pool.run(
      [&] { return state_->deps.store.update_flags(id, uids, change, flags, unchanged_since); });
  if (!updated) {
    if (updated.error().code == StorageError::Code::invalid) {
      bad(tag, updated.error().message);
    } else {
      store_failure(tag, updated.error(), "STORE");
    }
    co_return;
  }
  std::vector<std::uint32_t> changed_uids;
  for (const auto& summary : updated->changed) {
    view.record(summary);
    changed_uids.push_back(summary.uid);
  }
  std::sort(changed_uids.begin(), changed_uids.end());
  // RFC 9051 §7.3.5: a keyword set for the first time is in FLAGS before a FETCH shows it.
  view.announce_keywords(updated->changed, out_);
  for (std::uint32_t n : seqs) {
    const auto& summary = view.message(n);
    if (std::binary_search(updated->modified.begin(), updated->modified.end(), summary.uid)) continue;
    const bool changed = std::binary_search(changed_uids.begin(), changed_uids.end(), summary.uid);
    if (command.silent) {
      // RFC 7162 §3.1.3: with CONDSTORE the new MODSEQ is reported even when silent.
      if (!condstore_ || !changed) continue;
      out_ += "* " + std::to_string(n) + " FETCH (UID " + std::to_string(summary.uid) + " MODSEQ (" +
              std::to_string(summary.modseq) + "))\r\n";
      continue;
    }
    out_ += "* " + std::to_string(n) + " FETCH (";
    if (command.uid) out_ += "UID " + std::to_string(summary.uid) + " ";
    out_ += "FLAGS " + flag_list(summary.flags, !imap4rev2_ && view.is_recent(summary.uid));
    if (condstore_) out_ += " MODSEQ (" + std::to_string(summary.modseq) + ")";
    out_ += ")\r\n";
  }
  if (!updated->modified.empty()) {
    std::vector<std::uint32_t> numbers;
    for (std::uint32_t uid : updated->modified) {
      if (command.uid) {
        numbers.push_back(uid);
      } else if (auto n = view.sequence_of(uid)) {
        numbers.push_back(*n);
      }
    }
    std::sort(numbers.begin(), numbers.end());
    ok(tag, "[MODIFIED " + compact_set(numbers) + "] Conditional STORE failed for some messages");
    co_return;
  }
  ok(tag, command.uid ? "UID STORE completed" : "STORE completed");
}

// --- SEARCH (RFC 9051 §6.4.4; ESEARCH RFC 4731; SEARCHRES RFC 5182; MODSEQ RFC 7162)

// The messages matching `key` (RFC 9051 §6.4.4), for SEARCH, SORT and THREAD: each
// message's summary, metadata or header is read only when a key needs it. Nothing when the
// store failed (the NO is queued, naming `verb`).
asio::awaitable<std::optional<ImapSession::SearchHits>> ImapSession::search_hits(
    const Tag& tag, const p::SearchKey& key, std::string_view verb) {
  SelectedMailbox& view = *selected_;
  SearchNeeds needs = search_needs(key);
  // HEADER, BCC and SENT* read only the message header: read just that range of each
  // blob (its end is in the metadata), not the whole message.
  // (The metadata is loaded only where another key needs it: HEADER reads the header's
  // own fields.)
  const bool headers_only = needs.content && !needs.body;
  SearchScope scope;
  scope.max_sequence_number = view.exists();
  scope.max_uid = view.max_uid();
  scope.now = static_cast<storage::UnixTime>(std::time(nullptr));
  scope.saved_uids = saved_search_ ? &*saved_search_ : nullptr;

  // BODY/TEXT needles every match must contain: the full-text index names the candidates
  // (plus every message not indexed yet); the matcher still decides, so the answer keeps
  // RFC 9051 substring semantics.
  std::optional<std::vector<std::uint32_t>> text_candidates;  // ascending UIDs
  if (const auto needles = required_substrings(key); !needles.empty()) {
    const storage::Id id = view.id();
    auto found = co_await state_->deps.pool.run(
        [&] { return text_search_candidates(state_->deps.store, id, needles); });
    if (!found) {
      store_failure(tag, found.error(), verb);
      co_return std::nullopt;
    }
    text_candidates = std::move(*found);
  }
  const auto may_match = [&](std::uint32_t uid) {
    return !text_candidates || std::binary_search(text_candidates->begin(), text_candidates->end(), uid);
  };

  std::vector<std::uint32_t> hits;  // sequence numbers
  std::uint64_t highest_hit_modseq = 0;
  const std::uint32_t batch_size = needs.content && !headers_only ? kBatch : kLightBatch;
  for (std::uint32_t begin = 1; begin <= view.exists(); begin += batch_size) {
    const std::uint32_t end = std::min<std::uint32_t>(view.exists() + 1, begin + batch_size);
    std::vector<LoadedMessage> loaded;
    if (needs.metadata || needs.content) {
      std::vector<std::uint32_t> uids;
      for (std::uint32_t n = begin; n < end; ++n) {
        if (may_match(view.message(n).uid)) uids.push_back(view.message(n).uid);
      }
      if (uids.empty()) continue;
      auto batch = co_await load_batch(*state_, view.id(), uids, needs.metadata, needs.content, headers_only);
      if (!batch) {
        store_failure(tag, batch.error(), verb);
        co_return std::nullopt;
      }
      loaded = std::move(*batch);
    }
    std::size_t next_loaded = 0;
    for (std::uint32_t n = begin; n < end; ++n) {
      const storage::MessageSummary& summary = view.message(n);
      if (!may_match(summary.uid)) continue;
      SearchSubject subject;
      subject.sequence_number = n;
      subject.summary = &summary;
      subject.recent = view.is_recent(summary.uid);
      if (needs.metadata || needs.content) {
        while (next_loaded < loaded.size() && loaded[next_loaded].record.uid < summary.uid) ++next_loaded;
        if (next_loaded >= loaded.size() || loaded[next_loaded].record.uid != summary.uid) continue;
        const LoadedMessage& item = loaded[next_loaded];
        subject.metadata = item.metadata ? &*item.metadata : nullptr;
        subject.content = item.content;
      }
      if (search_matches(key, subject, scope)) {
        hits.push_back(n);
        highest_hit_modseq = std::max(highest_hit_modseq, summary.modseq);
      }
    }
  }

  co_return SearchHits{std::move(hits), highest_hit_modseq};
}

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::SearchCommand& command) {
  if (command.charset && *command.charset != "UTF-8" && *command.charset != "US-ASCII") {
    no(tag, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
    co_return;
  }
  SelectedMailbox& view = *selected_;
  auto found = co_await search_hits(tag, command.key, "SEARCH");
  if (!found) co_return;
  const std::vector<std::uint32_t>& hits = found->sequence_numbers;
  const std::uint64_t highest_hit_modseq = found->highest_modseq;

  std::vector<std::uint32_t> numbers;  // what the client gets: UIDs or sequence numbers
  numbers.reserve(hits.size());
  for (std::uint32_t n : hits) numbers.push_back(command.uid ? view.message(n).uid : n);
  const bool modseq = key_uses_modseq(command.key) && !hits.empty();
  if (key_uses_modseq(command.key)) condstore_ = true;

  std::optional<p::SearchReturn> returns = command.return_options;
  // IMAP4rev2 always answers with ESEARCH (RFC 9051 §6.4.4); no options means ALL.
  if (!returns && imap4rev2_) {
    returns.emplace();
    returns->all = true;
  }
  if (returns && !returns->min && !returns->max && !returns->all && !returns->count && !returns->save &&
      !returns->partial) {
    returns->all = true;  // RETURN () (RFC 4731 §3.1)
  }
  if (!returns) {
    std::string line = "SEARCH";
    for (std::uint32_t number : numbers) line += " " + std::to_string(number);
    if (modseq) line += " (MODSEQ " + std::to_string(highest_hit_modseq) + ")";
    untagged(line);
    ok(tag, command.uid ? "UID SEARCH completed" : "SEARCH completed");
    co_return;
  }
  if (returns->save) {
    // RFC 5182 §2.4: with only MIN and/or MAX besides SAVE, only those are saved.
    std::vector<std::uint32_t> saved;
    const bool only_extremes = (returns->min || returns->max) && !returns->all && !returns->count;
    if (only_extremes) {
      if (!hits.empty() && returns->min) saved.push_back(view.message(hits.front()).uid);
      if (!hits.empty() && returns->max) saved.push_back(view.message(hits.back()).uid);
    } else {
      for (std::uint32_t n : hits) saved.push_back(view.message(n).uid);
    }
    std::sort(saved.begin(), saved.end());
    saved.erase(std::unique(saved.begin(), saved.end()), saved.end());
    saved_search_ = std::move(saved);
  }
  const bool only_save =
      returns->save && !returns->min && !returns->max && !returns->all && !returns->count && !returns->partial;
  if (!only_save) {
    std::string line = "ESEARCH (TAG ";
    append_string(line, tag, false);
    line += ")";
    if (command.uid) line += " UID";
    if (!numbers.empty()) {
      if (returns->min) line += " MIN " + std::to_string(numbers.front());
      if (returns->max) line += " MAX " + std::to_string(numbers.back());
      if (returns->all) line += " ALL " + compact_set(numbers);
    }
    if (returns->partial) {  // RFC 9394 §3.1: the window of the ascending result, or NIL
      const auto [begin, end] = p::partial_window(*returns->partial, numbers.size());
      const std::vector<std::uint32_t> window(numbers.begin() + static_cast<std::ptrdiff_t>(begin),
                                              numbers.begin() + static_cast<std::ptrdiff_t>(end));
      line += " PARTIAL (" + p::partial_range_text(*returns->partial) + " " +
              (window.empty() ? std::string("NIL") : compact_set(window)) + ")";
    }
    if (returns->count) line += " COUNT " + std::to_string(numbers.size());
    if (modseq) line += " MODSEQ " + std::to_string(highest_hit_modseq);
    untagged(line);
  }
  ok(tag, command.uid ? "UID SEARCH completed" : "SEARCH completed");
}

// --- COPY / MOVE (RFC 9051 §6.4.7; MOVE RFC 6851; COPYUID RFC 4315 §3)

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::CopyCommand& command) {
  SelectedMailbox& view = *selected_;
  const char* verb = command.move ? "MOVE" : "COPY";
  if (command.move && view.read_only()) {
    no(tag, "[READ-ONLY] The mailbox is selected read-only");
    co_return;
  }
  auto destination = mailbox_from_client(command.mailbox);
  if (!destination) {
    no(tag, "[CANNOT] " + destination.error());
    co_return;
  }
  if (!command.uid && view.names_missing_sequence_numbers(command.set)) {
    bad(tag, "Invalid message sequence number");
    co_return;
  }
  const std::vector<std::uint32_t> seqs =
      view.resolve(command.set, command.uid, saved_search_ ? &*saved_search_ : nullptr);
  std::vector<std::uint32_t> uids;
  for (std::uint32_t n : seqs) uids.push_back(view.message(n).uid);
  const storage::Id account_id = account_->id;
  const storage::Id source_id = view.id();
  const bool move = command.move;
  // A copy into or out of Junk teaches the classifiers (imap/junk_trainer.hpp).
  JunkTrainer* trainer = state_->deps.junk_trainer;
  std::optional<JunkLesson> lesson;
  std::vector<std::string> taught_blobs;
  auto copied = co_await state_->deps.pool.run([&]() -> storage::StoreResult<storage::CopyResult> {
    auto target = state_->deps.store.find_mailbox(account_id, *destination);
    if (!target) {
      if (target.error().code == StorageError::Code::not_found) {
        return storage::storage_error(StorageError::Code::not_found, "[TRYCREATE]");
      }
      return std::unexpected(target.error());
    }
    if (uids.empty()) return storage::CopyResult{target->uidvalidity, {}, {}};
    auto result = state_->deps.store.copy_messages(source_id, uids, target->id, move);
    if (result && trainer != nullptr && !result->destination_uids.empty()) {
      auto source = state_->deps.store.find_mailbox_by_id(source_id);
      if (source) lesson = junk_lesson(*source, *target);
      if (lesson) {
        // The copies share the originals' blobs; a failure here only loses the lesson.
        if (auto rows = state_->deps.store.fetch_message_blobs(target->id, result->destination_uids)) {
          for (auto& row : *rows) taught_blobs.push_back(std::move(row.blob_id));
        }
      }
    }
    return result;
  });
  if (lesson && !taught_blobs.empty()) {
    trainer->train(account_->address, std::move(taught_blobs), *lesson);
  }
  if (!copied) {
    if (copied.error().code == StorageError::Code::not_found && copied.error().message == "[TRYCREATE]") {
      no(tag, "[TRYCREATE] No such mailbox");
    } else {
      store_failure(tag, copied.error(), verb);
    }
    co_return;
  }
  std::string code;
  if (!copied->source_uids.empty()) {
    code = "[COPYUID " + std::to_string(copied->destination_uidvalidity) + " " +
           compact_set(copied->source_uids) + " " + compact_set(copied->destination_uids) + "] ";
  }
  if (!move) {
    ok(tag, code + (command.uid ? "UID COPY completed" : "COPY completed"));
    co_return;
  }
  // RFC 6851 §4.3: COPYUID in an untagged OK before the expunges.
  if (!code.empty()) untagged("OK " + code + "Moved");
  view.remove(copied->source_uids, view_options(), out_);
  if (saved_search_) {
    std::erase_if(*saved_search_, [&](std::uint32_t u) {
      return std::binary_search(copied->source_uids.begin(), copied->source_uids.end(), u);
    });
  }
  ok(tag, command.uid ? "UID MOVE completed" : "MOVE completed");
}

// --- EXPUNGE, UID EXPUNGE, CLOSE, UNSELECT (RFC 9051 §6.4.3, §6.4.2, §6.4.1; RFC 4315 §2.1)

asio::awaitable<bool> ImapSession::expunge_deleted(const Tag& tag, const std::vector<std::uint32_t>& candidates,
                                                   bool silent) {
  SelectedMailbox& view = *selected_;
  std::vector<std::uint32_t> uids;
  for (std::uint32_t n : candidates) {
    if (has_flag(view.message(n), "\\Deleted")) uids.push_back(view.message(n).uid);
  }
  if (uids.empty()) co_return true;
  const storage::Id id = view.id();
  auto removed = co_await state_->deps.pool.run([&] { return state_->deps.store.expunge(id, uids); });
  if (!removed) {
    store_failure(tag, removed.error(), "EXPUNGE");
    co_return false;
  }
  std::string announcements;
  view.remove(uids, view_options(), announcements);
  if (!silent) out_ += announcements;
  if (saved_search_) {
    std::erase_if(*saved_search_, [&](std::uint32_t u) { return std::find(uids.begin(), uids.end(), u) != uids.end(); });
  }
  co_return true;
}

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::ExpungeCommand&) {
  if (selected_->read_only()) {
    no(tag, "[READ-ONLY] The mailbox is selected read-only");
    co_return;
  }
  // Other sessions may have set \Deleted since this one last looked.
  co_await synchronize(true);
  if (!selected_) co_return;
  // A named vector, not a temporary: g++ 12 mishandles temporaries bound to a coroutine's
  // reference parameters inside the co_await expression.
  const std::vector<std::uint32_t> all = all_sequence_numbers(*selected_);
  if (co_await expunge_deleted(tag, all, false)) ok(tag, "EXPUNGE completed");
}

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::UidExpungeCommand& command) {
  if (selected_->read_only()) {
    no(tag, "[READ-ONLY] The mailbox is selected read-only");
    co_return;
  }
  co_await synchronize(true);
  if (!selected_) co_return;
  const auto seqs = selected_->resolve(command.set, true, saved_search_ ? &*saved_search_ : nullptr);
  if (co_await expunge_deleted(tag, seqs, false)) ok(tag, "UID EXPUNGE completed");
}

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::CloseCommand&) {
  if (!selected_->read_only()) {
    // RFC 9051 §6.4.1: expunge silently, then leave the selected state.
    const std::vector<std::uint32_t> all = all_sequence_numbers(*selected_);
    if (!co_await expunge_deleted(tag, all, true)) co_return;
  }
  deselect();
  ok(tag, "CLOSE completed");
}

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::UnselectCommand&) {
  deselect();
  ok(tag, "UNSELECT completed");
  co_return;
}

// --- other sessions' changes

asio::awaitable<void> ImapSession::synchronize(bool force) {
  if (!selected_ || !signal_) co_return;
  const bool raised = signal_->take();
  if (!raised && !force) co_return;
  SelectedMailbox& view = *selected_;
  const storage::Id id = view.id();
  const std::uint64_t known = view.highest_modseq();
  const std::uint32_t known_uidnext = view.uidnext();
  const bool read_only = view.read_only();
  const std::uint32_t uidvalidity = view.uidvalidity();
  struct Found {
    bool mailbox_gone = false;
    MailboxChanges changes;
  };
  auto found = co_await state_->deps.pool.run([&]() -> storage::StoreResult<Found> {
    auto& store = state_->deps.store;
    Found result;
    auto mailbox = store.find_mailbox_by_id(id);
    if (!mailbox) {
      if (mailbox.error().code == StorageError::Code::not_found) {
        result.mailbox_gone = true;
        return result;
      }
      return std::unexpected(mailbox.error());
    }
    // Row ids may be reused after a delete: another UIDVALIDITY is another mailbox.
    if (mailbox->uidvalidity != uidvalidity) {
      result.mailbox_gone = true;
      return result;
    }
    // The mark first: anything committed after it is read again next time (harmless).
    result.changes.highest_modseq = mailbox->highestmodseq;
    if (mailbox->highestmodseq == known && mailbox->uidnext == known_uidnext) return result;
    auto expunged = store.expunged_since(id, known);
    if (!expunged) return std::unexpected(expunged.error());
    result.changes.expunged_uids = std::move(*expunged);
    auto changed = store.list_summaries(id, known);
    if (!changed) return std::unexpected(changed.error());
    result.changes.changed = std::move(*changed);
    if (!read_only && mailbox->uidnext > known_uidnext) {
      auto recent = store.claim_recent(id);
      if (!recent) return std::unexpected(recent.error());
      result.changes.first_recent_uid = *recent;
    }
    return result;
  });
  if (!found) {
    log::error("imap.sync_failed", {{"sid", sid()}, {"error", found.error().message}});
    signal_->raise();  // try again at the next command
    co_return;
  }
  if (found->mailbox_gone) {
    // Another session deleted the selected mailbox: nothing sensible remains to show.
    untagged("BYE [UNAVAILABLE] The selected mailbox was deleted");
    state_kind_ = State::logout;
    co_return;
  }
  auto gone = view.apply(found->changes, view_options(), out_);
  if (saved_search_ && !gone.empty()) {
    std::erase_if(*saved_search_, [&](std::uint32_t u) { return std::binary_search(gone.begin(), gone.end(), u); });
  }
}

}  // namespace postamt::imap
