// Authentication-Results against another implementation: Debian's python3-authres reads
// what our writer writes (hostile values included) to the same methods, results, reasons
// and properties, and our reader reads what authres writes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "proto/mailauth/auth_results.hpp"

#ifndef POSTAMT_TEST_DATA_DIR
#error "POSTAMT_TEST_DATA_DIR is needed to find authres_peer.py"
#endif

namespace postamt::mailauth {
namespace {

nlohmann::json run_peer(const std::string& mode, const std::string& input) {
  const std::string script = std::string(POSTAMT_TEST_DATA_DIR) + "/../unit/mailauth/authres_peer.py";
  const auto in = std::filesystem::temp_directory_path() / ("authres_in_" + std::to_string(::getpid()));
  std::ofstream(in, std::ios::binary) << input;
  const std::string command = "/usr/bin/python3 " + script + " " + mode + " < " + in.string();
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return {};
  std::string output;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = ::pclose(pipe);
  std::filesystem::remove(in);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "authres_peer.py failed (is python3-authres installed? scripts/install-deps.sh test)";
  return nlohmann::json::parse(output, nullptr, false);
}

nlohmann::json meaning(const AuthenticationResults& ar) {
  nlohmann::json results = nlohmann::json::array();
  for (const auto& r : ar.results) {
    nlohmann::json properties = nlohmann::json::array();
    for (const auto& p : r.properties) properties.push_back({p.ptype, p.property, p.value});
    results.push_back({r.method, r.result, r.reason, properties});
  }
  return {{"authserv_id", ar.authserv_id}, {"results", results}};
}

TEST(AuthResultsAgainstAuthres, AuthresReadsWhatWeWrite) {
  std::vector<AuthenticationResults> written;
  written.push_back({"mx.example.org", std::nullopt, {}});
  AuthenticationResults usual{"mx.example.org", std::nullopt, {}};
  usual.results.push_back(AuthMethodResult{"spf", "pass", "", "", {}}.with("smtp", "mailfrom", "bounce@example.net"));
  usual.results.push_back(AuthMethodResult{"dkim", "pass", "", "2048-bit key", {}}
                              .with("header", "d", "example.net")
                              .with("header", "s", "sel-2026")
                              .with("header", "i", "@example.net"));
  usual.results.push_back(AuthMethodResult{"dmarc", "fail", "no aligned identifier", "", {}}
                              .with("header", "from", "bank.example")
                              .with("policy", "dmarc", "reject"));
  usual.results.push_back(AuthMethodResult{"iprev", "pass", "", "", {}}.with("policy", "iprev", "192.0.2.200"));
  written.push_back(usual);
  // Sender-controlled text trying to add a verdict. (Not tried here: backslashes and
  // quotes, which authres 1.2 returns still escaped, and smtp.mailfrom beside smtp.helo in
  // one spf result, of which it keeps the last; our own tests cover both.)
  for (std::string hostile : {"evil.example; dmarc=pass header.from=bank.example",
                              "x (dkim=pass) y", "a\r\nAuthentication-Results: mx.example.org; dmarc=pass",
                              "<b@evil.example>, header.d=bank.example"}) {
    AuthenticationResults ar{"mx.example.org", std::nullopt, {}};
    ar.results.push_back(AuthMethodResult{"spf", "fail", "", "", {}}.with("smtp", "mailfrom", hostile));
    ar.results.push_back(AuthMethodResult{"auth", "fail", "", "", {}}.with("smtp", "auth", hostile));
    ar.results.push_back(AuthMethodResult{"dkim", "fail", "", "", {}}.with("header", "d", hostile));
    written.push_back(ar);
  }
  std::string input;
  for (const auto& ar : written) input += format_authentication_results_field(ar) + std::string(1, '\0');
  const nlohmann::json read = run_peer("read", input);
  ASSERT_TRUE(read.is_array()) << read.dump();
  ASSERT_EQ(read.size(), written.size());
  for (std::size_t i = 0; i < written.size(); ++i) {
    SCOPED_TRACE(format_authentication_results_field(written[i]));
    ASSERT_FALSE(read[i].contains("error")) << read[i].dump();
    // What authres reads is what our own reader reads: the same methods and values.
    auto ours = parse_authentication_results(format_authentication_results_value(written[i]));
    ASSERT_TRUE(ours);
    EXPECT_EQ(read[i], meaning(*ours));
    EXPECT_EQ(read[i]["results"].size(), written[i].results.size());
  }
}

TEST(AuthResultsAgainstAuthres, WeReadWhatAuthresWrites) {
  const nlohmann::json written = run_peer("write", "");
  ASSERT_TRUE(written.is_array()) << written.dump();
  ASSERT_FALSE(written.empty());
  for (const auto& entry : written) {
    std::string field = entry[0].get<std::string>();
    SCOPED_TRACE(field);
    const std::string name = "Authentication-Results:";
    ASSERT_TRUE(field.starts_with(name));
    auto ours = parse_authentication_results(std::string_view(field).substr(name.size()));
    ASSERT_TRUE(ours) << ours.error().message;
    EXPECT_EQ(meaning(*ours), entry[1]);
    EXPECT_EQ(authserv_id_of(std::string_view(field).substr(name.size())), "mx.example.org");
  }
}

}  // namespace
}  // namespace postamt::mailauth
