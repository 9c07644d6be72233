// Fuzzes filter/rspamd_reply: rspamd's /checkv2 JSON reply and the controller's learn
// reply. Checks: no crash, UB or leak; a parsed reply maps to a verdict whose reply code
// fits its action, whose header changes have valid names and values without a bare CR
// or LF, and whose counts stay bounded.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "filter/rspamd_reply.hpp"

#include "fuzz_bits.hpp"

using namespace postamt::filter;
using postamt::fuzz::fail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto reply = parse_rspamd_reply(input);
  if (reply) {
    if (reply->symbols.size() > 1000 || reply->add_headers.size() > 64 || reply->remove_headers.size() > 64) fail();
    const Verdict verdict = rspamd_verdict(*reply);
    if (verdict.action == Action::reject && (!verdict.reply || verdict.reply->code != 550)) fail();
    if (verdict.action == Action::defer && (!verdict.reply || verdict.reply->code != 451)) fail();
    for (const auto& change : verdict.header_changes) {
      if (change.name.empty() || change.name.find(':') != std::string::npos) fail();
      for (std::size_t i = 0; i < change.value.size(); ++i) {
        const char c = change.value[i];
        if (c == '\n' && (i == 0 || change.value[i - 1] != '\r')) fail();
        if (c == '\r' && (i + 2 >= change.value.size() || change.value[i + 1] != '\n' ||
                          (change.value[i + 2] != ' ' && change.value[i + 2] != '\t'))) {
          fail();
        }
      }
    }
  }
  const int status = size > 0 ? 100 + data[0] * 2 : 200;
  (void)parse_rspamd_learn_reply(status, input);
  return 0;
}
