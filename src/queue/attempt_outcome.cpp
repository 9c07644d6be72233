#include "queue/attempt_outcome.hpp"

namespace postamt::queue {

Verdict verdict_of_code(int code) {
  if (code >= 200 && code < 300) return Verdict::delivered;
  if (code >= 500 && code < 600) return Verdict::permanent;
  return Verdict::temporary;  // 4xx, and anything unexpected is not a reason to bounce
}

std::string status_of_reply(int code, std::string_view enhanced) {
  if (!enhanced.empty()) return std::string(enhanced);
  const int klass = code / 100;
  if (klass == 2 || klass == 4 || klass == 5) return std::to_string(klass) + ".0.0";
  return "4.0.0";
}

}  // namespace postamt::queue
