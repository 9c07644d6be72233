#include "dns/query_batch.hpp"

#include <ares.h>

#include <utility>

namespace postamt::dns {

namespace {
constexpr int kClassIn = 1;  // RFC 1035 §3.2.4
}  // namespace

void QueryBatch::ask(std::vector<Question> questions, ares_channeldata* channel, ares_channeldata* without_edns,
                     DeadlineList* deadlines, DeadlineClock::time_point deadline) {
  std::size_t count = questions.size();
  questions_ = std::move(questions);
  outcomes_.resize(count);
  answered_.assign(count, false);
  slots_.resize(count);
  for (std::size_t i = 0; i < count; ++i) slots_[i] = Slot{this, i, false};
  remaining_ = count;
  without_edns_ = without_edns;
  if (deadlines != nullptr) {
    deadlines_ = deadlines;
    deadline_entry_ = deadlines->emplace(deadline, this);
  }
  if (count == 0) {
    complete();
    delete this;
    return;
  }
  // After the last ares_query the batch may be gone: nothing below touches it.
  for (std::size_t i = 0; i < count; ++i) {
    const Question& question = questions_[i];
    ares_query(channel, question.name.c_str(), kClassIn, question.type, &QueryBatch::on_answer, &slots_[i]);
  }
}

void QueryBatch::on_answer(void* arg, int status, int /*timeouts*/, unsigned char* answer, int length) {
  auto* slot = static_cast<Slot*>(arg);
  slot->batch->answered(*slot, status, answer, length);  // may free the batch
}

void QueryBatch::answered(Slot& slot, int status, const unsigned char* answer, int length) {
  if (status == ARES_EFORMERR && !completed_ && without_edns_ != nullptr && !slot.asked_without_edns) {
    slot.asked_without_edns = true;  // the same callback comes again, for the new query
    const Question& question = questions_[slot.index];
    ares_query(without_edns_, question.name.c_str(), kClassIn, question.type, &QueryBatch::on_answer, &slot);
    return;
  }
  if (!completed_) {
    QueryOutcome& outcome = outcomes_[slot.index];
    outcome.status = status;
    // NODATA and NXDOMAIN keep their message too: its header and authority section (the AD
    // bit, the SOA for negative caching) matter to lookup_records.
    bool has_message = status == ARES_SUCCESS || status == ARES_ENODATA || status == ARES_ENOTFOUND;
    if (has_message && answer != nullptr && length > 0) outcome.answer.assign(answer, answer + length);
    answered_[slot.index] = true;
  }
  if (--remaining_ == 0) {
    complete();
    delete this;
  }
}

void QueryBatch::expire() {
  for (std::size_t i = 0; i < outcomes_.size(); ++i)
    if (!answered_[i]) outcomes_[i] = deadline_outcome();
  complete();
}

void QueryBatch::complete() {
  if (completed_) return;
  completed_ = true;
  if (deadlines_ != nullptr) deadlines_->erase(deadline_entry_);
  deadlines_ = nullptr;
  deliver(std::move(outcomes_));
}

}  // namespace postamt::dns
