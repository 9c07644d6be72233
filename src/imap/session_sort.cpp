// ImapSession: SORT and THREAD (RFC 5256), SORT's ESEARCH answers (ESORT, RFC 5267 §3.2)
// and the DISPLAYFROM / DISPLAYTO keys (SORT=DISPLAY, RFC 5957). The search is SEARCH's
// (search_hits); what each key compares is in imap/message/sort_order.hpp and the threading
// in imap/message/thread_builder.hpp. Only what the criteria read is loaded: ARRIVAL and
// SIZE sort on the summaries alone, DATE and SUBJECT on the delivery-time metadata, and
// the address keys and THREAD on the top-level header (header cache first).
#include <algorithm>

#include "imap/message/base_subject.hpp"
#include "imap/message/header_field_reader.hpp"
#include "imap/message/sort_order.hpp"
#include "imap/message/thread_builder.hpp"
#include "imap/message_loader.hpp"
#include "imap/response_text.hpp"
#include "imap/session.hpp"
#include "mime/ascii_case.hpp"
#include "mime/header_decoding.hpp"

namespace postamt::imap {
namespace {

namespace p = proto::imap;

// UIDs one storage trip loads (the store's UID chunk).
constexpr std::size_t kSortBatch = 200;

bool supported_charset(const std::string& charset) {
  return charset == "UTF-8" || charset == "US-ASCII";  // RFC 5256 §3: US-ASCII at least
}

// The raw value of the first `name` field of a header, if there is one.
std::optional<std::string_view> first_field(std::string_view header, std::string_view name) {
  HeaderFieldReader reader(header);
  while (auto field = reader.next()) {
    if (field->has_colon && mime::ascii_iequals(field->name, name)) return field->raw_value;
  }
  return std::nullopt;
}

// The values of several fields in one pass over the header (the first of each name).
struct ThreadFields {
  std::optional<std::string_view> message_id, references, in_reply_to;
};
ThreadFields thread_fields(std::string_view header) {
  ThreadFields fields;
  HeaderFieldReader reader(header);
  while (auto field = reader.next()) {
    if (!field->has_colon) continue;
    if (!fields.message_id && mime::ascii_iequals(field->name, "message-id")) {
      fields.message_id = field->raw_value;
    } else if (!fields.references && mime::ascii_iequals(field->name, "references")) {
      fields.references = field->raw_value;
    } else if (!fields.in_reply_to && mime::ascii_iequals(field->name, "in-reply-to")) {
      fields.in_reply_to = field->raw_value;
    }
  }
  return fields;
}

bool uses_modseq(const p::SearchKey& key) {
  if (key.kind == p::SearchKey::Kind::modseq) return true;
  return std::any_of(key.children.begin(), key.children.end(), uses_modseq);
}

// ESEARCH ALL in sort order (RFC 5267 §3.2): ascending runs as ranges, order kept.
std::string ordered_set(const std::vector<std::uint32_t>& numbers) {
  std::string out;
  for (std::size_t i = 0; i < numbers.size();) {
    std::size_t j = i;
    while (j + 1 < numbers.size() && numbers[j + 1] == numbers[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(numbers[i]);
    if (j > i) out += ':' + std::to_string(numbers[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::SortCommand& command) {
  if (!supported_charset(command.charset)) {
    no(tag, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
    co_return;
  }
  auto found = co_await search_hits(tag, command.key, "SORT");
  if (!found) co_return;
  SelectedMailbox& view = *selected_;
  const std::vector<std::uint32_t>& hits = found->sequence_numbers;

  std::vector<SortFields> fields(hits.size());
  for (std::size_t i = 0; i < hits.size(); ++i) {
    const storage::MessageSummary& summary = view.message(hits[i]);
    fields[i].sequence_number = hits[i];
    fields[i].arrival = summary.internal_date;
    fields[i].sent = summary.internal_date;  // until the Date: field says otherwise
    fields[i].size = summary.size;
  }
  const SortNeeds needs = sort_needs(command.criteria);
  for (std::size_t begin = 0; (needs.metadata || needs.header) && begin < hits.size(); begin += kSortBatch) {
    const std::size_t end = std::min(hits.size(), begin + kSortBatch);
    std::vector<std::uint32_t> uids;
    for (std::size_t i = begin; i < end; ++i) uids.push_back(view.message(hits[i]).uid);
    auto batch = co_await load_batch(*state_, view.id(), uids, needs.metadata, needs.header, true);
    if (!batch) {
      store_failure(tag, batch.error(), "SORT");
      co_return;
    }
    // Both in UID order; a message expunged meanwhile keeps the empty keys.
    std::size_t next = 0;
    for (std::size_t i = begin; i < end; ++i) {
      while (next < batch->size() && (*batch)[next].record.uid < uids[i - begin]) ++next;
      if (next >= batch->size() || (*batch)[next].record.uid != uids[i - begin]) continue;
      const LoadedMessage& message = (*batch)[next];
      SortFields& out = fields[i];
      if (needs.metadata && message.metadata) {
        out.sent = sent_date_for_sort(message.metadata->date, out.arrival);
        out.subject = ascii_casemap(base_subject(message.metadata->subject).text);
      }
      if (needs.header) {
        for (const p::SortCriterion& criterion : command.criteria) {
          switch (criterion.key) {
            case p::SortKey::from:
              out.from = first_mailbox_key(first_field(message.content, "from").value_or(""));
              break;
            case p::SortKey::to:
              out.to = first_mailbox_key(first_field(message.content, "to").value_or(""));
              break;
            case p::SortKey::cc:
              out.cc = first_mailbox_key(first_field(message.content, "cc").value_or(""));
              break;
            case p::SortKey::display_from:
              out.display_from = display_key(first_field(message.content, "from").value_or(""));
              break;
            case p::SortKey::display_to:
              out.display_to = display_key(first_field(message.content, "to").value_or(""));
              break;
            default:
              break;
          }
        }
      }
    }
  }
  std::vector<std::uint32_t> numbers = sort_order(std::move(fields), command.criteria);
  if (command.uid) {
    for (std::uint32_t& n : numbers) n = view.message(n).uid;
  }

  // RFC 7162 §3.1.5: a MODSEQ search key enables CONDSTORE, and the answer carries the
  // highest MODSEQ of the messages found.
  const bool modseq = uses_modseq(command.key);
  if (modseq) condstore_ = true;
  const bool report_modseq = modseq && !numbers.empty();
  const char* done = command.uid ? "UID SORT completed" : "SORT completed";
  if (!command.return_options) {
    std::string line = "SORT";
    for (std::uint32_t number : numbers) line += " " + std::to_string(number);
    if (report_modseq) line += " (MODSEQ " + std::to_string(found->highest_modseq) + ")";
    untagged(line);
    ok(tag, done);
    co_return;
  }
  // RFC 5267 §3.2: MIN and MAX are the first and the last message in sort order, ALL the
  // whole result in sort order.
  p::SearchReturn returns = *command.return_options;
  if (!returns.min && !returns.max && !returns.count && !returns.partial) returns.all = true;
  std::string line = "ESEARCH (TAG ";
  append_string(line, tag, false);
  line += ")";
  if (command.uid) line += " UID";
  if (!numbers.empty()) {
    if (returns.min) line += " MIN " + std::to_string(numbers.front());
    if (returns.max) line += " MAX " + std::to_string(numbers.back());
    if (returns.all) line += " ALL " + ordered_set(numbers);
  }
  if (returns.partial) {  // RFC 5267 §4.4, RFC 9394 §3.1: a window in sort order, or NIL
    const auto [begin, end] = p::partial_window(*returns.partial, numbers.size());
    const std::vector<std::uint32_t> window(numbers.begin() + static_cast<std::ptrdiff_t>(begin),
                                            numbers.begin() + static_cast<std::ptrdiff_t>(end));
    line += " PARTIAL (" + p::partial_range_text(*returns.partial) + " " +
            (window.empty() ? std::string("NIL") : ordered_set(window)) + ")";
  }
  if (returns.count) line += " COUNT " + std::to_string(numbers.size());
  if (report_modseq) line += " MODSEQ " + std::to_string(found->highest_modseq);
  untagged(line);
  ok(tag, done);
}

asio::awaitable<void> ImapSession::handle(const Tag& tag, p::ThreadCommand& command) {
  if (!supported_charset(command.charset)) {
    no(tag, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
    co_return;
  }
  auto found = co_await search_hits(tag, command.key, "THREAD");
  if (!found) co_return;
  SelectedMailbox& view = *selected_;
  const std::vector<std::uint32_t>& hits = found->sequence_numbers;
  const bool references = command.algorithm == p::ThreadAlgorithm::references;

  std::vector<ThreadMessage> messages(hits.size());
  for (std::size_t begin = 0; begin < hits.size(); begin += kSortBatch) {
    const std::size_t end = std::min(hits.size(), begin + kSortBatch);
    std::vector<std::uint32_t> uids;
    for (std::size_t i = begin; i < end; ++i) uids.push_back(view.message(hits[i]).uid);
    auto batch = co_await load_batch(*state_, view.id(), uids, true, references, true);
    if (!batch) {
      store_failure(tag, batch.error(), "THREAD");
      co_return;
    }
    std::size_t next = 0;
    for (std::size_t i = begin; i < end; ++i) {
      const storage::MessageSummary& summary = view.message(hits[i]);
      ThreadMessage& out = messages[i];
      out.number = command.uid ? summary.uid : hits[i];
      out.sequence_number = hits[i];
      out.sent = summary.internal_date;
      while (next < batch->size() && (*batch)[next].record.uid < summary.uid) ++next;
      if (next >= batch->size() || (*batch)[next].record.uid != summary.uid) continue;
      const LoadedMessage& message = (*batch)[next];
      if (message.metadata) {
        out.sent = sent_date_for_sort(message.metadata->date, summary.internal_date);
        BaseSubject subject = base_subject(message.metadata->subject);
        out.base_subject = ascii_casemap(subject.text);
        out.reply_or_forward = subject.reply_or_forward;
      }
      if (references) {
        const ThreadFields header = thread_fields(message.content);
        if (header.message_id) {
          auto ids = message_ids(*header.message_id);
          if (!ids.empty()) out.message_id = std::move(ids.front());
        }
        // RFC 5256 §4 step 1A: References, or else the first msg-id of In-Reply-To.
        if (header.references) out.references = message_ids(*header.references);
        if (out.references.empty() && header.in_reply_to) {
          auto ids = message_ids(*header.in_reply_to);
          if (!ids.empty()) out.references.push_back(std::move(ids.front()));
        }
      }
    }
  }
  const std::string threads =
      references ? thread_references(std::move(messages)) : thread_ordered_subject(std::move(messages));
  untagged(threads.empty() ? "THREAD" : "THREAD " + threads);
  ok(tag, command.uid ? "UID THREAD completed" : "THREAD completed");
}

}  // namespace postamt::imap
