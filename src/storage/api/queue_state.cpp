#include "storage/api/types.hpp"

namespace postamt::storage {

std::string_view queue_state_name(QueueState state) {
  switch (state) {
    case QueueState::queued:
      return "queued";
    case QueueState::deferred:
      return "deferred";
    case QueueState::delivered:
      return "delivered";
    case QueueState::bounced:
      return "bounced";
    case QueueState::held:
      return "held";
  }
  return "queued";
}

}  // namespace postamt::storage
