#pragma once
// QueryBatch: the questions of one lookup (MX; or AAAA and A at once), asked on c-ares and
// completed together, when every question is answered or when the lookup deadline passes,
// whichever comes first. Internal to the resolver.
//
// A batch frees itself once c-ares has called back for every question: a query abandoned
// at the deadline may still be retried by c-ares until its own tries run out, and c-ares
// holds a pointer into the batch until then.
#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "dns/answer_parse.hpp"

struct ares_channeldata;  // c-ares's channel (ares_channel is a pointer to it)

namespace postamt::dns {

struct Question {
  std::string name;
  int type = 0;  // RFC 1035 §3.2.2 TYPE
};

class QueryBatch;
using DeadlineClock = std::chrono::steady_clock;
using DeadlineList = std::multimap<DeadlineClock::time_point, QueryBatch*>;

class QueryBatch {
 public:
  QueryBatch(const QueryBatch&) = delete;
  QueryBatch& operator=(const QueryBatch&) = delete;
  virtual ~QueryBatch() = default;

  // Asks every question on `channel`. A question that channel's server rejects with FORMERR
  // is asked once more on `without_edns` when that is not null (RFC 6891 §7: a server that
  // does not know EDNS answers FORMERR). Registers the deadline first when one is given.
  // The batch may be freed before this returns (c-ares can fail a question at once).
  void ask(std::vector<Question> questions, ares_channeldata* channel, ares_channeldata* without_edns,
           DeadlineList* deadlines, DeadlineClock::time_point deadline);

  // The lookup deadline passed: unanswered questions count as timed out.
  void expire();

 protected:
  QueryBatch() = default;
  // Hands the outcomes (one per question, in order) to the waiting lookup; called once.
  virtual void deliver(std::vector<QueryOutcome> outcomes) = 0;

 private:
  struct Slot {  // the `arg` c-ares passes back: which question of which batch
    QueryBatch* batch = nullptr;
    std::size_t index = 0;
    bool asked_without_edns = false;
  };

  static void on_answer(void* arg, int status, int timeouts, unsigned char* answer, int length);
  void answered(Slot& slot, int status, const unsigned char* answer, int length);
  void complete();

  std::vector<Question> questions_;
  std::vector<QueryOutcome> outcomes_;
  std::vector<bool> answered_;
  std::vector<Slot> slots_;  // stable for the batch's life
  std::size_t remaining_ = 0;  // c-ares callbacks still to come
  bool completed_ = false;
  ares_channeldata* without_edns_ = nullptr;
  DeadlineList* deadlines_ = nullptr;
  DeadlineList::iterator deadline_entry_;
};

}  // namespace postamt::dns
