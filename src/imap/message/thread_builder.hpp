#pragma once
// THREAD (RFC 5256 §4), sans-I/O: ORDEREDSUBJECT and REFERENCES over the messages a search
// selected, rendered as the "thread-list" of the THREAD response ("(2)(3 6 (4 23)(44 7 96))").
#include <cstdint>
#include <string>
#include <vector>

namespace postamt::imap {

// What threading reads of one message.
struct ThreadMessage {
  std::uint32_t number = 0;         // what the response shows: sequence number or UID
  std::uint32_t sequence_number = 0;  // the tie-breaker of equal sent dates
  std::int64_t sent = 0;            // sent_date_for_sort() (RFC 5256 §2.2)
  std::string base_subject;         // ascii_casemap(base_subject().text)
  bool reply_or_forward = false;    // base_subject().reply_or_forward
  std::string message_id;           // the msg-id of Message-ID, "" when none
  std::vector<std::string> references;  // msg-ids of References, else of In-Reply-To
};

// The msg-ids ("<left@right>", angle brackets included) of a raw References / In-Reply-To
// / Message-ID value, in order; comments, phrases and malformed ids are skipped.
std::vector<std::string> message_ids(std::string_view raw_value);

// ORDEREDSUBJECT (RFC 5256 §4): messages grouped by base subject, each group a parent (its
// first message by sent date) with the others as its children; groups ordered by the
// sent date of their first message.
std::string thread_ordered_subject(std::vector<ThreadMessage> messages);

// REFERENCES (RFC 5256 §4, steps 1 to 6): parent/child links from Message-ID, References
// and In-Reply-To, dummy parents for referenced messages that are not there (pruned in
// step 4), threads with the same base subject merged (step 5), siblings by sent date.
std::string thread_references(std::vector<ThreadMessage> messages);

}  // namespace postamt::imap
