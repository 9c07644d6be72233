#pragma once
// Shared by the DKIM unit tests: reading tests/data files, a scripted RecordLookup, and
// running the sans-I/O verifier with answers from a zone map.
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "mailauth/dkim_lookup.hpp"
#include "mailauth/dkim_verifier.hpp"
#include "mailauth/record_lookup.hpp"

namespace postamt::mailauth::testing {

inline std::string read_test_file(const std::string& relative) {
  std::ifstream in(std::string(POSTAMT_TEST_DATA_DIR) + "/" + relative, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A zone of TXT records: name -> answer. Unknown names are NXDOMAIN.
class ScriptedLookup final : public RecordLookup {
 public:
  std::map<std::string, DnsAnswer> answers;
  std::vector<DnsQuestion> asked;
  void add_txt(const std::string& name, std::string value) { answers[name] = DnsAnswer::with({std::move(value)}); }
  asio::awaitable<DnsAnswer> lookup(DnsQuestion question) override {
    asked.push_back(question);
    const auto found = answers.find(question.name);
    co_return found == answers.end() ? DnsAnswer::nx_domain() : found->second;
  }
};

// Verifies `message` fed in chunks of `chunk` octets, keys looked up through the driver.
inline std::vector<DkimResult> verify_message(const std::string& message, ScriptedLookup& lookup,
                                              std::size_t chunk = 4096, DkimVerifierOptions options = {}) {
  DkimVerifier verifier(options);
  for (std::size_t i = 0; i < message.size(); i += chunk) verifier.feed(std::string_view(message).substr(i, chunk));
  verifier.finish();
  asio::io_context io;
  auto future = asio::co_spawn(io, verify_dkim(verifier, lookup), asio::use_future);
  io.run();
  return future.get();
}

inline std::vector<std::string> statuses(const std::vector<DkimResult>& results) {
  std::vector<std::string> out;
  for (const auto& r : results) out.emplace_back(dkim_status_name(r.status));
  return out;
}

}  // namespace postamt::mailauth::testing
