#include "server/config/config_loader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <string_view>

namespace postamt::config {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const fs::path kDataDir = fs::path(POSTAMT_TEST_DATA_DIR) / "config";
const fs::path kSource = "/etc/postamt/postamt.toml";
constexpr std::string_view kListener =
    "[[listener]]\n"
    "protocol = \"smtp\"\n"
    "address = \"127.0.0.1:0\"\n";

Config parse_ok(std::string_view text, const fs::path& source = kSource) {
  auto result = parse_config(text, source);
  EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().to_string());
  return result ? *result : Config{};
}

ConfigErrors parse_errors(std::string_view text, const fs::path& source = kSource) {
  auto result = parse_config(text, source);
  EXPECT_FALSE(result.has_value()) << "the config was accepted:\n" << text;
  return result ? ConfigErrors{} : result.error();
}

// A config with a valid listener appended, so only `text` can be wrong.
std::string with_listener(std::string_view text) {
  return std::string(text) + "\n" + std::string(kListener);
}

// ---------------------------------------------------------------------------------------
// Valid files

TEST(ConfigLoader, FullConfigParsesEveryKey) {
  const auto loaded = load_config_file(kDataDir / "full.toml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const Config& c = *loaded;

  EXPECT_EQ(c.source, kDataDir / "full.toml");
  EXPECT_EQ(c.server.hostname, "mail.example.test");
  EXPECT_EQ(c.server.data_dir, kDataDir / "var/data");
  EXPECT_EQ(c.server.ports_file, kDataDir / "var/ports.json");
  EXPECT_EQ(c.server.user, "postamt");
  EXPECT_EQ(c.server.io_threads, 4u);
  EXPECT_EQ(c.server.storage_threads, 3u);
  EXPECT_EQ(c.server.shutdown_grace, std::chrono::seconds(10));

  EXPECT_EQ(c.tls.cert, fs::path("/etc/ssl/postamt/cert.pem"));
  EXPECT_EQ(c.tls.key, kDataDir / "tls/key.pem");
  EXPECT_TRUE(c.tls.self_signed);
  EXPECT_EQ(c.tls.min_version, "1.3");
  EXPECT_EQ(c.tls.ciphers, "ECDHE-RSA-AES128-GCM-SHA256");

  EXPECT_TRUE(c.auth.allow_plaintext_without_tls);
  EXPECT_EQ(c.auth.max_failures_per_ip, 5u);
  EXPECT_EQ(c.auth.lockout, std::chrono::seconds(600));
  EXPECT_EQ(c.auth.failure_delay, std::chrono::milliseconds(250));

  EXPECT_EQ(c.dns.servers, (std::vector<std::string>{"127.0.0.1:5353", "192.0.2.53",
                                                     "[2001:db8::53]:53", "2001:db8::54"}));
  EXPECT_EQ(c.dns.timeout, std::chrono::seconds(3));

  EXPECT_EQ(c.outbound.mx_port, 2525);
  EXPECT_EQ(c.outbound.relayhost, "smarthost.example.test:587");

  EXPECT_EQ(c.smtp.max_message_size, 10485760u);
  EXPECT_EQ(c.smtp.max_recipients, 50u);
  EXPECT_EQ(c.smtp.relay_networks,
            (std::vector<std::string>{"127.0.0.0/8", "::1/128", "192.0.2.0/24"}));

  EXPECT_EQ(c.limits.max_connections, 500u);
  EXPECT_EQ(c.limits.max_connections_per_ip, 20u);
  EXPECT_EQ(c.limits.idle_timeout, std::chrono::seconds(60));
  EXPECT_EQ(c.limits.max_line_length, 4096u);
  EXPECT_EQ(c.limits.command_timeout, std::chrono::seconds(30));
  EXPECT_EQ(c.limits.min_transfer_rate, 0u);
  EXPECT_EQ(c.limits.login_timeout, std::chrono::seconds(90));
  EXPECT_EQ(c.limits.max_unauthenticated_connections, 400u);
  EXPECT_EQ(c.limits.max_unauthenticated_per_ip, 5u);
  EXPECT_EQ(c.limits.max_connections_per_ip_per_minute, 30u);

  EXPECT_EQ(c.log.level, LogLevel::debug);
  EXPECT_EQ(c.log.file, kDataDir / "var/log/postamt.log");

  ASSERT_EQ(c.listeners.size(), 4u);
  EXPECT_EQ(c.listeners[0].protocol, Protocol::smtp);
  EXPECT_EQ(c.listeners[0].host, "127.0.0.1");
  EXPECT_EQ(c.listeners[0].port, 2525);
  EXPECT_EQ(c.listeners[1].protocol, Protocol::submissions);
  EXPECT_EQ(c.listeners[1].host, "::1");
  EXPECT_EQ(c.listeners[1].port, 4465);
  EXPECT_EQ(c.listeners[2].protocol, Protocol::imap);
  EXPECT_EQ(c.listeners[2].address(), "0.0.0.0:0");
  EXPECT_EQ(c.listeners[3].protocol, Protocol::http);
}

TEST(ConfigLoader, DefaultsComeFromConfigHpp) {
  const auto loaded = load_config_file(kDataDir / "minimal.toml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const Config& c = *loaded;
  const Config d;

  EXPECT_EQ(c.server.hostname, d.server.hostname);
  EXPECT_EQ(c.server.data_dir, kDataDir / "data");  // relative default, anchored too
  EXPECT_FALSE(c.server.ports_file);
  EXPECT_FALSE(c.server.user);
  EXPECT_EQ(c.server.io_threads, d.server.io_threads);
  EXPECT_EQ(c.server.storage_threads, d.server.storage_threads);
  EXPECT_EQ(c.server.shutdown_grace, d.server.shutdown_grace);
  EXPECT_EQ(c.tls.cert, kDataDir / "tls/cert.pem");
  EXPECT_EQ(c.tls.key, kDataDir / "tls/key.pem");
  EXPECT_EQ(c.tls.self_signed, d.tls.self_signed);
  EXPECT_EQ(c.tls.min_version, d.tls.min_version);
  EXPECT_EQ(c.tls.ciphers, d.tls.ciphers);
  EXPECT_EQ(c.auth.allow_plaintext_without_tls, d.auth.allow_plaintext_without_tls);
  EXPECT_EQ(c.auth.max_failures_per_ip, d.auth.max_failures_per_ip);
  EXPECT_EQ(c.auth.lockout, d.auth.lockout);
  EXPECT_EQ(c.auth.failure_delay, d.auth.failure_delay);
  EXPECT_TRUE(c.dns.servers.empty());
  EXPECT_EQ(c.dns.timeout, d.dns.timeout);
  EXPECT_EQ(c.outbound.mx_port, d.outbound.mx_port);
  EXPECT_EQ(c.outbound.relayhost, "");
  EXPECT_EQ(c.smtp.max_message_size, d.smtp.max_message_size);
  EXPECT_EQ(c.smtp.max_recipients, d.smtp.max_recipients);
  EXPECT_TRUE(c.smtp.relay_networks.empty());
  EXPECT_EQ(c.limits.max_connections, d.limits.max_connections);
  EXPECT_EQ(c.limits.max_connections_per_ip, d.limits.max_connections_per_ip);
  EXPECT_EQ(c.limits.idle_timeout, d.limits.idle_timeout);
  EXPECT_EQ(c.limits.max_line_length, d.limits.max_line_length);
  EXPECT_EQ(c.log.level, d.log.level);
  EXPECT_FALSE(c.log.file);
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].address(), "127.0.0.1:0");
}

TEST(ConfigLoader, DesignBriefExampleParses) {
  const auto loaded = load_config_file(kDataDir / "design_example.toml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->dns.servers, std::vector<std::string>{"127.0.0.1:5353"});
  EXPECT_TRUE(loaded->tls.self_signed);
  EXPECT_EQ(loaded->tls.cert, kDataDir / "var/tls/cert.pem");
}

TEST(ConfigLoader, DottedKeysAndInlineTablesAreTheSameKeys) {
  const Config c = parse_ok(
      "server.hostname = \"mx.example.test\"\n"
      "log = { level = \"warn\" }\n"
      "listener = [{ protocol = \"imap\", address = \"127.0.0.1:143\" }]\n");
  EXPECT_EQ(c.server.hostname, "mx.example.test");
  EXPECT_EQ(c.log.level, LogLevel::warn);
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].protocol, Protocol::imap);
}

TEST(ConfigLoader, SmtpSubmissionAndSlowClientKeys) {
  const Config c = parse_ok(with_listener(
      "[smtp]\nenforce_from_header = false\nallow_null_sender_submission = true\n"
      "spool_memory_limit = 4096\ncommand_timeout_seconds = 5\ndata_timeout_seconds = 30\n"
      "data_min_rate = 0\n"
      "[smtp.send_as]\n\"Alice@Example.test\" = [\"Partner.example\", \"other.example\"]\n"));
  EXPECT_FALSE(c.smtp.enforce_from_header);
  EXPECT_TRUE(c.smtp.allow_null_sender_submission);
  EXPECT_EQ(c.smtp.spool_memory_limit, 4096u);
  EXPECT_EQ(c.smtp.command_timeout, std::chrono::seconds(5));
  EXPECT_EQ(c.smtp.data_timeout, std::chrono::seconds(30));
  EXPECT_EQ(c.smtp.data_min_rate, 0u);
  ASSERT_EQ(c.smtp.send_as.size(), 1u);
  EXPECT_EQ(c.smtp.send_as.at("alice@example.test"),
            (std::vector<std::string>{"partner.example", "other.example"}));
}

TEST(ConfigLoader, EmptyRelayhostMeansNone) {
  EXPECT_EQ(parse_ok(with_listener("[outbound]\nrelayhost = \"\"")).outbound.relayhost, "");
  EXPECT_EQ(
      parse_ok(with_listener("[outbound]\nrelayhost = \"[2001:db8::1]:25\"")).outbound.relayhost,
      "[2001:db8::1]:25");
  EXPECT_EQ(parse_ok(with_listener("[outbound]\nrelayhost = \"192.0.2.1:25\"")).outbound.relayhost,
            "192.0.2.1:25");
}

TEST(ConfigLoader, BoundaryValuesAreAccepted) {
  const Config c = parse_ok(
      with_listener("[server]\nio_threads = 256\nstorage_threads = 64\nshutdown_grace_seconds = 0\n"
                    "[limits]\nmax_line_length = 512\n"
                    "[outbound]\nmx_port = 65535\n"
                    "[smtp]\nmax_message_size = 9223372036854775807\nrelay_networks = "
                    "[\"0.0.0.0/0\", \"::/0\"]\n"));
  EXPECT_EQ(c.server.io_threads, 256u);
  EXPECT_EQ(c.server.storage_threads, 64u);
  EXPECT_EQ(c.limits.max_line_length, 512u);
  EXPECT_EQ(c.outbound.mx_port, 65535);
  EXPECT_EQ(c.smtp.max_message_size, 9223372036854775807ull);
  EXPECT_EQ(parse_ok(with_listener("[limits]\nmax_line_length = 1048576")).limits.max_line_length,
            1048576u);
}

TEST(ConfigLoader, EveryLogLevelAndProtocolIsAccepted) {
  const std::pair<std::string_view, LogLevel> levels[] = {{"trace", LogLevel::trace},
                                                          {"debug", LogLevel::debug},
                                                          {"info", LogLevel::info},
                                                          {"warn", LogLevel::warn},
                                                          {"error", LogLevel::error}};
  for (const auto& [name, level] : levels) {
    EXPECT_EQ(parse_ok(with_listener("[log]\nlevel = \"" + std::string(name) + "\"")).log.level,
              level);
  }
  const std::pair<std::string_view, Protocol> protocols[] = {{"smtp", Protocol::smtp},
                                                             {"submission", Protocol::submission},
                                                             {"submissions", Protocol::submissions},
                                                             {"imap", Protocol::imap},
                                                             {"imaps", Protocol::imaps},
                                                             {"pop3", Protocol::pop3},
                                                             {"pop3s", Protocol::pop3s},
                                                             {"http", Protocol::http}};
  for (const auto& [name, protocol] : protocols) {
    const Config c = parse_ok("[[listener]]\nprotocol = \"" + std::string(name) +
                              "\"\naddress = \"127.0.0.1:0\"\n");
    ASSERT_EQ(c.listeners.size(), 1u);
    EXPECT_EQ(c.listeners[0].protocol, protocol);
  }
}

// ---------------------------------------------------------------------------------------
// Relative paths

TEST(ConfigLoader, RelativePathsAreAnchoredAtTheConfigDirectory) {
  const Config c = parse_ok(
      with_listener("[server]\ndata_dir = \"../var/data\"\nports_file = \"./run/ports.json\"\n"
                    "[tls]\ncert = \"/etc/ssl/cert.pem\"\nkey = \"tls/../tls/key.pem\"\n"
                    "[log]\nfile = \"postamt.log\"\n"),
      "/srv/mail/etc/postamt.toml");
  EXPECT_EQ(c.source, fs::path("/srv/mail/etc/postamt.toml"));
  EXPECT_EQ(c.server.data_dir, fs::path("/srv/mail/var/data"));
  EXPECT_EQ(c.server.ports_file, fs::path("/srv/mail/etc/run/ports.json"));
  EXPECT_EQ(c.tls.cert, fs::path("/etc/ssl/cert.pem"));
  EXPECT_EQ(c.tls.key, fs::path("/srv/mail/etc/tls/key.pem"));
  EXPECT_EQ(c.log.file, fs::path("/srv/mail/etc/postamt.log"));
}

TEST(ConfigLoader, RelativeSourcePathIsMadeAbsolute) {
  const Config c = parse_ok(kListener, "conf/postamt.toml");
  EXPECT_TRUE(c.source.is_absolute());
  EXPECT_EQ(c.source, (fs::current_path() / "conf/postamt.toml").lexically_normal());
  EXPECT_EQ(c.server.data_dir, (fs::current_path() / "conf/data").lexically_normal());
}

TEST(ConfigLoader, LoadedFileWorksFromAnyWorkingDirectory) {
  const fs::path before = fs::current_path();
  fs::current_path("/");
  const auto loaded = load_config_file(fs::relative(kDataDir / "full.toml", "/"));
  fs::current_path(before);
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->server.data_dir, kDataDir / "var/data");
}

// ---------------------------------------------------------------------------------------
// Listeners

TEST(ConfigLoader, Ipv6ListenerIsCanonicalAndBracketed) {
  const Config c = parse_ok(
      "[[listener]]\nprotocol = \"imap\"\naddress = \"[::1]:143\"\n"
      "[[listener]]\nprotocol = \"imaps\"\naddress = \"[2001:DB8:0::1]:993\"\n");
  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_EQ(c.listeners[0].host, "::1");
  EXPECT_EQ(c.listeners[0].port, 143);
  EXPECT_EQ(c.listeners[0].address(), "[::1]:143");
  EXPECT_EQ(c.listeners[1].host, "2001:db8::1");
  EXPECT_EQ(c.listeners[1].address(), "[2001:db8::1]:993");
}

TEST(ConfigLoader, MissingListenersIsAProblemForTheWholeFile) {
  const auto errors = parse_errors("[server]\nhostname = \"mail.example.test\"\n");
  ASSERT_EQ(errors.problems.size(), 1u);
  EXPECT_EQ(errors.problems[0].key, "listener");
  EXPECT_EQ(errors.problems[0].line, 0u);
  EXPECT_EQ(errors.to_string(),
            "/etc/postamt/postamt.toml: key 'listener': at least one [[listener]] is required\n");
}

TEST(ConfigLoader, EmptyInputNeedsAListener) {
  const auto errors = parse_errors("");
  ASSERT_EQ(errors.problems.size(), 1u);
  EXPECT_EQ(errors.problems[0].key, "listener");
}

TEST(ConfigLoader, EmptyListenerArrayIsAProblem) {
  const auto errors = parse_errors("\nlistener = []\n");
  ASSERT_EQ(errors.problems.size(), 1u);
  EXPECT_EQ(errors.problems[0].key, "listener");
  EXPECT_EQ(errors.problems[0].line, 2u);
  EXPECT_EQ(errors.problems[0].message, "at least one [[listener]] is required");
}

TEST(ConfigLoader, ListenerMustBeAnArrayOfTables) {
  for (const std::string_view text :
       {"listener = \"smtp\"\n", "[listener]\nprotocol = \"smtp\"\n", "listener = [1, 2]\n"}) {
    const auto errors = parse_errors(text);
    ASSERT_EQ(errors.problems.size(), 1u) << text;
    EXPECT_EQ(errors.problems[0].key, "listener");
    EXPECT_THAT(errors.problems[0].message,
                StartsWith("expected an array of tables ([[listener]])"));
  }
}

TEST(ConfigLoader, ListenerRequiresProtocolAndAddress) {
  const auto errors = parse_errors(
      "[[listener]]\n"         // 1
      "protocol = \"smtp\"\n"  // 2
      "\n"                     // 3
      "[[listener]]\n"         // 4
      "address = \"127.0.0.1:1\"\n");
  ASSERT_EQ(errors.problems.size(), 2u);
  EXPECT_EQ(errors.problems[0].key, "listener[0].address");
  EXPECT_EQ(errors.problems[0].line, 1u);
  EXPECT_EQ(errors.problems[0].message, "missing required key");
  EXPECT_EQ(errors.problems[1].key, "listener[1].protocol");
  EXPECT_EQ(errors.problems[1].line, 4u);
}

TEST(ConfigLoader, DuplicateListenerAddressIsAProblem) {
  const auto errors = parse_errors(
      "[[listener]]\nprotocol = \"smtp\"\naddress = \"127.0.0.1:2525\"\n"        // 1-3
      "[[listener]]\nprotocol = \"submission\"\naddress = \"127.0.0.1:2525\"\n"  // 4-6
      "[[listener]]\nprotocol = \"imap\"\naddress = \"[::1]:143\"\n"             // 7-9
      "[[listener]]\nprotocol = \"imaps\"\naddress = \"[0:0::1]:143\"\n");       // 10-12
  ASSERT_EQ(errors.problems.size(), 2u);
  EXPECT_EQ(errors.problems[0].key, "listener[1].address");
  EXPECT_EQ(errors.problems[0].line, 6u);
  EXPECT_EQ(errors.problems[0].message,
            "duplicate listener address \"127.0.0.1:2525\" (also used by listener[0])");
  EXPECT_EQ(errors.problems[1].key, "listener[3].address");
  EXPECT_EQ(errors.problems[1].line, 12u);
  EXPECT_THAT(errors.problems[1].message, HasSubstr("also used by listener[2]"));
}

TEST(ConfigLoader, PortZeroAndDifferentHostsAreNotDuplicates) {
  const Config c = parse_ok(
      "[[listener]]\nprotocol = \"smtp\"\naddress = \"127.0.0.1:0\"\n"
      "[[listener]]\nprotocol = \"imap\"\naddress = \"127.0.0.1:0\"\n"
      "[[listener]]\nprotocol = \"pop3\"\naddress = \"127.0.0.1:110\"\n"
      "[[listener]]\nprotocol = \"pop3\"\naddress = \"127.0.0.2:110\"\n");
  EXPECT_EQ(c.listeners.size(), 4u);
}

// ---------------------------------------------------------------------------------------
// Unknown keys

TEST(ConfigLoader, UnknownTopLevelKey) {
  const auto errors = parse_errors(with_listener("frobnicate = 1"));
  ASSERT_EQ(errors.problems.size(), 1u);
  EXPECT_EQ(errors.problems[0].key, "frobnicate");
  EXPECT_EQ(errors.problems[0].line, 1u);
  EXPECT_EQ(errors.problems[0].column, 1u);
  EXPECT_EQ(errors.problems[0].message, "unknown key");
}

TEST(ConfigLoader, UnknownSectionGetsASuggestion) {
  const auto errors = parse_errors(with_listener("\n[sever]\nhostname = \"a.example\""));
  ASSERT_EQ(errors.problems.size(), 1u);
  EXPECT_EQ(errors.problems[0].key, "sever");
  EXPECT_EQ(errors.problems[0].line, 2u);
  EXPECT_EQ(errors.problems[0].message, "unknown key, did you mean 'server'?");
}

TEST(ConfigLoader, UnknownKeyInSectionHasItsLine) {
  const auto errors =
      parse_errors(with_listener("[server]\n"                          // 1
                                 "hostname = \"mail.example.test\"\n"  // 2
                                 "  hostnme = \"typo\"\n"));           // 3
  ASSERT_EQ(errors.problems.size(), 1u);
  EXPECT_EQ(errors.problems[0].key, "server.hostnme");
  EXPECT_EQ(errors.problems[0].line, 3u);
  EXPECT_EQ(errors.problems[0].column, 3u);
  EXPECT_EQ(errors.problems[0].message, "unknown key, did you mean 'hostname'?");
  EXPECT_EQ(errors.to_string(),
            "/etc/postamt/postamt.toml:3:3: key 'server.hostnme': unknown key, did you mean "
            "'hostname'?\n");
}

TEST(ConfigLoader, UnknownKeyInListenerEntry) {
  const auto errors = parse_errors(
      "[[listener]]\n"                // 1
      "protocol = \"smtp\"\n"         // 2
      "address = \"127.0.0.1:25\"\n"  // 3
      "\n"                            // 4
      "[[listener]]\n"                // 5
      "protocol = \"imap\"\n"         // 6
      "adress = \"127.0.0.1:143\"\n"  // 7
      "tls = true\n");                // 8
  ASSERT_EQ(errors.problems.size(), 3u);
  EXPECT_EQ(errors.problems[0].key, "listener[1].address");
  EXPECT_EQ(errors.problems[0].line, 5u);
  EXPECT_EQ(errors.problems[0].message, "missing required key");
  EXPECT_EQ(errors.problems[1].key, "listener[1].adress");
  EXPECT_EQ(errors.problems[1].line, 7u);
  EXPECT_EQ(errors.problems[1].message, "unknown key, did you mean 'address'?");
  EXPECT_EQ(errors.problems[2].key, "listener[1].tls");
  EXPECT_EQ(errors.problems[2].line, 8u);
  EXPECT_EQ(errors.problems[2].message, "unknown key");
}

TEST(ConfigLoader, UnknownNestedTableInSection) {
  const auto errors = parse_errors(with_listener("[server.extra]\nx = 1\n"));
  ASSERT_EQ(errors.problems.size(), 1u);
  EXPECT_EQ(errors.problems[0].key, "server.extra");
  EXPECT_EQ(errors.problems[0].line, 1u);
}

TEST(ConfigLoader, MisspellingsGetTheClosestKey) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"[server]\nhostanme = \"x\"", "unknown key, did you mean 'hostname'?"},
      {"[server]\nHostName = \"x\"", "unknown key, did you mean 'hostname'?"},
      {"[server]\ndatadir = \"x\"", "unknown key, did you mean 'data_dir'?"},
      {"[tls]\nself-signed = true", "unknown key, did you mean 'self_signed'?"},
      {"[limits]\nmax_connection = 5", "unknown key, did you mean 'max_connections'?"},
      {"[dns]\nserver = []", "unknown key, did you mean 'servers'?"},
      {"[log]\nlevl = \"info\"", "unknown key, did you mean 'level'?"},
      {"[server]\nxyzzy = 1", "unknown key"},
      {"[smtp]\nmax_size = 1", "unknown key"},
  };
  for (const auto& [text, message] : cases) {
    const auto errors = parse_errors(with_listener(text));
    ASSERT_EQ(errors.problems.size(), 1u) << text;
    EXPECT_EQ(errors.problems[0].message, message) << text;
  }
  const auto errors =
      parse_errors("[[listeners]]\nprotocol = \"smtp\"\naddress = \"127.0.0.1:0\"\n");
  ASSERT_EQ(errors.problems.size(), 2u);
  EXPECT_EQ(errors.problems[0].key, "listeners");
  EXPECT_EQ(errors.problems[0].message, "unknown key, did you mean 'listener'?");
  EXPECT_EQ(errors.problems[1].key, "listener");  // and the listener is still missing
}

TEST(ConfigLoader, QuotedAndControlCharacterKeysStayOnOneLine) {
  const auto errors = parse_errors(with_listener("[server]\n\"host name\" = 1\n\"a\\nb\" = 2\n"));
  ASSERT_EQ(errors.problems.size(), 2u);
  EXPECT_EQ(errors.problems[0].key, "server.\"host name\"");
  EXPECT_EQ(errors.problems[1].key, "server.\"a\\nb\"");
  const std::string text = errors.to_string();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
}

// ---------------------------------------------------------------------------------------
// Wrong types and bad values: one case per (key, mistake).

struct BadValue {
  std::string_view section;
  std::string_view assignment;  // "key = value"
  std::string_view key;         // as reported
  std::string_view message;     // expected substring of the problem message
};

void PrintTo(const BadValue& c, std::ostream* out) { *out << c.section << ' ' << c.assignment; }

class BadValueTest : public ::testing::TestWithParam<BadValue> {};

TEST_P(BadValueTest, IsReportedWithKeyLineAndExpectation) {
  const BadValue& c = GetParam();
  const std::string text =
      with_listener("[" + std::string(c.section) + "]\n" + std::string(c.assignment));
  const auto errors = parse_errors(text);
  ASSERT_EQ(errors.problems.size(), 1u) << errors.to_string();
  const ConfigProblem& p = errors.problems[0];
  EXPECT_EQ(p.key, c.key);
  EXPECT_EQ(p.line, 2u);
  EXPECT_GT(p.column, 1u);  // points at the value, not the key
  EXPECT_THAT(p.message, HasSubstr(c.message));
}

constexpr std::string_view kDnsName = "expected a DNS host name";
constexpr std::string_view kPath = "expected a non-empty path";

INSTANTIATE_TEST_SUITE_P(
    Server, BadValueTest,
    ::testing::Values(
        BadValue{"server", "hostname = 5", "server.hostname",
                 "expected a DNS host name such as \"mail.example.com\", got an integer"},
        BadValue{"server", "hostname = \"\"", "server.hostname", "got \"\""},
        BadValue{"server", "hostname = \"-bad.example\"", "server.hostname", kDnsName},
        BadValue{"server", "hostname = \"bad-.example\"", "server.hostname", kDnsName},
        BadValue{"server", "hostname = \"mail..example\"", "server.hostname", kDnsName},
        BadValue{"server", "hostname = \"mail.example.\"", "server.hostname", kDnsName},
        BadValue{"server", "hostname = \"mail_1.example\"", "server.hostname", kDnsName},
        BadValue{"server", "hostname = \"192.0.2.1\"", "server.hostname", kDnsName},
        BadValue{"server", "hostname = \"mail example\"", "server.hostname", kDnsName},
        BadValue{"server", "data_dir = 1", "server.data_dir",
                 "expected a non-empty path, got an integer"},
        BadValue{"server", "data_dir = \"\"", "server.data_dir", kPath},
        BadValue{"server", "data_dir = \"a\\u0000b\"", "server.data_dir", kPath},
        BadValue{"server", "ports_file = true", "server.ports_file", "got a boolean"},
        BadValue{"server", "ports_file = \"\"", "server.ports_file", kPath},
        BadValue{"server", "user = 0", "server.user", "expected a user name, got an integer"},
        BadValue{"server", "user = \"\"", "server.user", "expected a user name"},
        BadValue{"server", "user = \"mail user\"", "server.user", "expected a user name"},
        BadValue{"server", "io_threads = \"4\"", "server.io_threads",
                 "expected an integer from 0 to 256, got a string"},
        BadValue{"server", "io_threads = 4.0", "server.io_threads",
                 "expected an integer from 0 to 256, got a float"},
        BadValue{"server", "io_threads = 257", "server.io_threads",
                 "expected an integer from 0 to 256, got 257"},
        BadValue{"server", "io_threads = -1", "server.io_threads", "got -1"},
        BadValue{"server", "storage_threads = 0", "server.storage_threads",
                 "expected an integer from 1 to 64, got 0"},
        BadValue{"server", "storage_threads = 65", "server.storage_threads", "from 1 to 64"},
        BadValue{"server", "storage_threads = \"2\"", "server.storage_threads", "got a string"},
        BadValue{"server", "shutdown_grace_seconds = -1", "server.shutdown_grace_seconds",
                 "from 0 to 3600"},
        BadValue{"server", "shutdown_grace_seconds = 3601", "server.shutdown_grace_seconds",
                 "got 3601"},
        BadValue{"server", "shutdown_grace_seconds = 1.5", "server.shutdown_grace_seconds",
                 "got a float"}));

INSTANTIATE_TEST_SUITE_P(
    Tls, BadValueTest,
    ::testing::Values(
        BadValue{"tls", "cert = 1", "tls.cert", "expected a non-empty path, got an integer"},
        BadValue{"tls", "cert = \"\"", "tls.cert", kPath},
        BadValue{"tls", "key = []", "tls.key", "got an array"},
        BadValue{"tls", "key = \"\"", "tls.key", kPath},
        BadValue{"tls", "self_signed = \"yes\"", "tls.self_signed",
                 "expected a boolean (true or false), got a string"},
        BadValue{"tls", "self_signed = 1", "tls.self_signed", "got an integer"},
        BadValue{"tls", "min_version = 1.2", "tls.min_version",
                 "expected one of \"1.2\", \"1.3\", got a float"},
        BadValue{"tls", "min_version = \"1.1\"", "tls.min_version",
                 "expected one of \"1.2\", \"1.3\", got \"1.1\""},
        BadValue{"tls", "min_version = \"TLSv1.3\"", "tls.min_version", "got \"TLSv1.3\""},
        BadValue{"tls", "ciphers = 5", "tls.ciphers",
                 "expected a non-empty OpenSSL cipher list, got an integer"},
        BadValue{"tls", "ciphers = \"\"", "tls.ciphers", "OpenSSL cipher list"}));

INSTANTIATE_TEST_SUITE_P(
    Auth, BadValueTest,
    ::testing::Values(
        BadValue{"auth", "allow_plaintext_without_tls = \"false\"",
                 "auth.allow_plaintext_without_tls", "expected a boolean"},
        BadValue{"auth", "allow_plaintext_without_tls = 0", "auth.allow_plaintext_without_tls",
                 "got an integer"},
        BadValue{"auth", "max_failures_per_ip = 0", "auth.max_failures_per_ip",
                 "from 1 to 1000000, got 0"},
        BadValue{"auth", "max_failures_per_ip = \"10\"", "auth.max_failures_per_ip",
                 "got a string"},
        BadValue{"auth", "lockout_seconds = -5", "auth.lockout_seconds",
                 "from 0 to 604800, got -5"},
        BadValue{"auth", "lockout_seconds = 604801", "auth.lockout_seconds", "got 604801"},
        BadValue{"auth", "failure_delay_ms = 60001", "auth.failure_delay_ms",
                 "from 0 to 60000, got 60001"},
        BadValue{"auth", "failure_delay_ms = 1.0", "auth.failure_delay_ms", "got a float"}));

constexpr std::string_view kDnsServer = "expected an IP address with an optional port";

INSTANTIATE_TEST_SUITE_P(
    Dns, BadValueTest,
    ::testing::Values(
        BadValue{"dns", "servers = \"127.0.0.1\"", "dns.servers",
                 "expected an array of strings, each an IP address"},
        BadValue{"dns", "servers = [1]", "dns.servers[0]", "got an integer"},
        BadValue{"dns", "servers = [\"localhost\"]", "dns.servers[0]", kDnsServer},
        BadValue{"dns", "servers = [\"127.0.0.1\", \"ns.example\"]", "dns.servers[1]",
                 "got \"ns.example\""},
        BadValue{"dns", "servers = [\"127.0.0.1:0\"]", "dns.servers[0]", kDnsServer},
        BadValue{"dns", "servers = [\"127.0.0.1:65536\"]", "dns.servers[0]", kDnsServer},
        BadValue{"dns", "servers = [\"127.0.0.1:\"]", "dns.servers[0]", kDnsServer},
        BadValue{"dns", "servers = [\"[127.0.0.1]:53\"]", "dns.servers[0]", kDnsServer},
        BadValue{"dns", "servers = [\"[::1\"]", "dns.servers[0]", kDnsServer},
        BadValue{"dns", "servers = [\"[::1]53\"]", "dns.servers[0]", kDnsServer},
        BadValue{"dns", "servers = [\"256.0.0.1\"]", "dns.servers[0]", kDnsServer},
        BadValue{"dns", "timeout_seconds = 0", "dns.timeout_seconds", "from 1 to 300, got 0"},
        BadValue{"dns", "timeout_seconds = 301", "dns.timeout_seconds", "got 301"},
        BadValue{"dns", "timeout_seconds = \"5\"", "dns.timeout_seconds", "got a string"}));

INSTANTIATE_TEST_SUITE_P(
    Outbound, BadValueTest,
    ::testing::Values(
        BadValue{"outbound", "mx_port = 0", "outbound.mx_port", "from 1 to 65535, got 0"},
        BadValue{"outbound", "mx_port = 65536", "outbound.mx_port", "got 65536"},
        BadValue{"outbound", "mx_port = \"25\"", "outbound.mx_port", "got a string"},
        BadValue{"outbound", "relayhost = 25", "outbound.relayhost",
                 "expected \"host:port\" (or \"\" for none), got an integer"},
        BadValue{"outbound", "relayhost = \"smtp.example.test\"", "outbound.relayhost",
                 "got \"smtp.example.test\""},
        BadValue{"outbound", "relayhost = \"smtp.example.test:0\"", "outbound.relayhost",
                 "host:port"},
        BadValue{"outbound", "relayhost = \"smtp.example.test:smtp\"", "outbound.relayhost",
                 "host:port"},
        BadValue{"outbound", "relayhost = \"bad_host:25\"", "outbound.relayhost", "host:port"},
        BadValue{"outbound", "relayhost = \"[192.0.2.1]:25\"", "outbound.relayhost", "host:port"},
        BadValue{"outbound", "relayhost = \"2001:db8::1:25\"", "outbound.relayhost", "host:port"},
        BadValue{"outbound", "relayhost_tls_fingerprint = \"abcd\"", "outbound.relayhost_tls_fingerprint",
                 "64 hex digits"},
        BadValue{"outbound", "allow_private_destinations = 1", "outbound.allow_private_destinations",
                 "got an integer"}));

TEST(ConfigLoader, RelayhostTrustKeys) {
  const std::string pin =
      "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";
  const Config c = parse_ok(with_listener("[outbound]\nrelayhost_tls_fingerprint = \"" + pin +
                                          "\"\nrelayhost_ca_file = \"relay-ca.pem\"\nallow_private_destinations = true"));
  EXPECT_EQ(c.outbound.relayhost_tls_fingerprint, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
  ASSERT_TRUE(c.outbound.relayhost_ca_file);
  EXPECT_EQ(c.outbound.relayhost_ca_file->filename(), "relay-ca.pem");
  EXPECT_TRUE(c.outbound.relayhost_ca_file->is_absolute());
  EXPECT_TRUE(c.outbound.allow_private_destinations);
  EXPECT_FALSE(parse_ok(with_listener("")).outbound.allow_private_destinations);
}

constexpr std::string_view kCidr = "expected a CIDR network";

INSTANTIATE_TEST_SUITE_P(
    Smtp, BadValueTest,
    ::testing::Values(
        BadValue{"smtp", "max_message_size = 0", "smtp.max_message_size",
                 "expected an integer >= 1, got 0"},
        BadValue{"smtp", "max_message_size = -1", "smtp.max_message_size", "got -1"},
        BadValue{"smtp", "max_message_size = 1e6", "smtp.max_message_size", "got a float"},
        BadValue{"smtp", "max_message_size = \"50M\"", "smtp.max_message_size", "got a string"},
        BadValue{"smtp", "max_recipients = 0", "smtp.max_recipients", "from 1 to 1000000, got 0"},
        BadValue{"smtp", "max_recipients = 1000001", "smtp.max_recipients", "got 1000001"},
        BadValue{"smtp", "max_recipients = \"100\"", "smtp.max_recipients", "got a string"},
        BadValue{"smtp", "relay_networks = \"10.0.0.0/8\"", "smtp.relay_networks",
                 "expected an array of strings, each a CIDR network"},
        BadValue{"smtp", "relay_networks = [\"10.0.0.0/33\"]", "smtp.relay_networks[0]", kCidr},
        BadValue{"smtp", "relay_networks = [\"10.0.0.0\"]", "smtp.relay_networks[0]", kCidr},
        BadValue{"smtp", "relay_networks = [\"10.0.0.0/\"]", "smtp.relay_networks[0]", kCidr},
        BadValue{"smtp", "relay_networks = [\"10.0.0.0/-1\"]", "smtp.relay_networks[0]", kCidr},
        BadValue{"smtp", "relay_networks = [\"::/129\"]", "smtp.relay_networks[0]", kCidr},
        BadValue{"smtp", "relay_networks = [\"example.com/24\"]", "smtp.relay_networks[0]", kCidr},
        BadValue{"smtp", "relay_networks = [\"10.0.0.0/8\", 5]", "smtp.relay_networks[1]",
                 "got an integer"},
        BadValue{"smtp", "send_as = [\"example.com\"]", "smtp.send_as", "a table"},
        BadValue{"smtp", "send_as = { alice = [\"example.com\"] }", "smtp.send_as.alice",
                 "expected an account address"},
        BadValue{"smtp", "spool_memory_limit = 4095", "smtp.spool_memory_limit", "got 4095"},
        BadValue{"smtp", "command_timeout_seconds = 0", "smtp.command_timeout_seconds", "got 0"},
        BadValue{"smtp", "data_min_rate = -1", "smtp.data_min_rate", "got -1"}));

INSTANTIATE_TEST_SUITE_P(
    Limits, BadValueTest,
    ::testing::Values(
        BadValue{"limits", "max_connections = 0", "limits.max_connections",
                 "from 1 to 1000000, got 0"},
        BadValue{"limits", "max_connections = \"x\"", "limits.max_connections", "got a string"},
        BadValue{"limits", "max_connections_per_ip = 0", "limits.max_connections_per_ip", "got 0"},
        BadValue{"limits", "max_connections_per_ip = 1000001", "limits.max_connections_per_ip",
                 "got 1000001"},
        BadValue{"limits", "idle_timeout_seconds = 0", "limits.idle_timeout_seconds",
                 "from 1 to 86400, got 0"},
        BadValue{"limits", "idle_timeout_seconds = 86401", "limits.idle_timeout_seconds",
                 "got 86401"},
        BadValue{"limits", "max_line_length = 511", "limits.max_line_length",
                 "from 512 to 1048576, got 511"},
        BadValue{"limits", "max_line_length = 1048577", "limits.max_line_length", "got 1048577"},
        BadValue{"limits", "max_line_length = \"8192\"", "limits.max_line_length",
                 "got a string"}));

INSTANTIATE_TEST_SUITE_P(
    Log, BadValueTest,
    ::testing::Values(
        BadValue{
            "log", "level = \"verbose\"", "log.level",
            "expected one of \"trace\", \"debug\", \"info\", \"warn\", \"error\", got \"verbose\""},
        BadValue{"log", "level = \"INFO\"", "log.level", "got \"INFO\" (did you mean \"info\"?)"},
        BadValue{"log", "level = \"wran\"", "log.level", "(did you mean \"warn\"?)"},
        BadValue{"log", "level = 1", "log.level", "got an integer"},
        BadValue{"log", "file = 1", "log.file", "expected a non-empty path, got an integer"},
        BadValue{"log", "file = \"\"", "log.file", kPath}));

constexpr std::string_view kListenAddress = "expected \"ip:port\" with a literal IP";

struct BadListener {
  std::string_view assignment;
  std::string_view key;
  std::string_view message;
};

void PrintTo(const BadListener& c, std::ostream* out) { *out << c.assignment; }

class BadListenerTest : public ::testing::TestWithParam<BadListener> {};

TEST_P(BadListenerTest, IsReportedWithKeyAndLine) {
  const BadListener& c = GetParam();
  // The bad assignment comes last so it overrides nothing and sits on line 3.
  const bool sets_protocol = c.assignment.starts_with("protocol");
  const std::string text =
      std::string("[[listener]]\n") +
      (sets_protocol ? "address = \"127.0.0.1:0\"\n" : "protocol = \"smtp\"\n") +
      std::string(c.assignment) + "\n";
  const auto errors = parse_errors(text);
  ASSERT_EQ(errors.problems.size(), 1u) << errors.to_string();
  EXPECT_EQ(errors.problems[0].key, c.key);
  EXPECT_EQ(errors.problems[0].line, 3u);
  EXPECT_THAT(errors.problems[0].message, HasSubstr(c.message));
}

INSTANTIATE_TEST_SUITE_P(
    Listener, BadListenerTest,
    ::testing::Values(
        BadListener{"protocol = \"smpt\"", "listener[0].protocol",
                    "got \"smpt\" (did you mean \"smtp\"?)"},
        BadListener{"protocol = \"lmtp\"", "listener[0].protocol",
                    "expected one of \"smtp\", \"submission\", \"submissions\", \"imap\", "
                    "\"imaps\", \"pop3\", \"pop3s\", \"http\""},
        BadListener{"protocol = 25", "listener[0].protocol", "got an integer"},
        BadListener{"address = 25", "listener[0].address", "got an integer"},
        BadListener{"address = \"localhost:25\"", "listener[0].address", kListenAddress},
        BadListener{"address = \"127.0.0.1\"", "listener[0].address", kListenAddress},
        BadListener{"address = \"127.0.0.1:\"", "listener[0].address", kListenAddress},
        BadListener{"address = \"::1:143\"", "listener[0].address", kListenAddress},
        BadListener{"address = \"[::1]\"", "listener[0].address", kListenAddress},
        BadListener{"address = \"[127.0.0.1]:25\"", "listener[0].address", kListenAddress},
        BadListener{"address = \"127.0.0.1:65536\"", "listener[0].address", kListenAddress},
        BadListener{"address = \"127.0.0.1:-1\"", "listener[0].address", kListenAddress},
        BadListener{"address = \"127.0.0.1:+25\"", "listener[0].address", kListenAddress},
        BadListener{"address = \"[fe80::1%eth0]:25\"", "listener[0].address", kListenAddress},
        BadListener{"address = \"\"", "listener[0].address", kListenAddress}));

TEST(ConfigLoader, SectionThatIsNotATable) {
  const auto errors = parse_errors(with_listener("server = 5\ntls = \"x\"\n"));
  ASSERT_EQ(errors.problems.size(), 2u);
  EXPECT_EQ(errors.problems[0].key, "server");
  EXPECT_EQ(errors.problems[0].message, "expected a table ([server]), got an integer");
  EXPECT_EQ(errors.problems[1].key, "tls");
  EXPECT_EQ(errors.problems[1].line, 2u);
}

TEST(ConfigLoader, ValueColumnPointsAtTheValue) {
  const auto errors = parse_errors(with_listener("[server]\nio_threads = 999\n"));
  ASSERT_EQ(errors.problems.size(), 1u);
  EXPECT_EQ(errors.problems[0].line, 2u);
  EXPECT_EQ(errors.problems[0].column, 14u);
}

TEST(ConfigLoader, LongBadValuesAreShortenedInMessages) {
  const std::string long_name(300, 'x');
  const auto errors = parse_errors(with_listener("[log]\nlevel = \"" + long_name + "\"\n"));
  ASSERT_EQ(errors.problems.size(), 1u);
  EXPECT_LT(errors.problems[0].message.size(), 250u);
  EXPECT_THAT(errors.problems[0].message, HasSubstr("xxx\"..."));
}

// ---------------------------------------------------------------------------------------
// Several problems, syntax errors, files

TEST(ConfigLoader, AllProblemsAreReportedInFileOrder) {
  // Alphabetical order of the sections (auth, listener, server, tls) differs from file order.
  const auto errors = parse_errors(
      "[tls]\n"                          // 1
      "min_version = \"1.0\"\n"          // 2
      "[server]\n"                       // 3
      "io_threads = 1000\n"              // 4
      "storage_threads = 0\n"            // 5
      "hostname = \"\"\n"                // 6
      "[auth]\n"                         // 7
      "max_failures_per_ip = -1\n"       // 8
      "[[listener]]\n"                   // 9
      "protocol = \"pop\"\n"             // 10
      "address = \"127.0.0.1:110\"\n");  // 11
  std::vector<std::pair<std::string, unsigned>> seen;
  for (const auto& p : errors.problems) {
    seen.emplace_back(p.key, p.line);
  }
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, unsigned>>{{"tls.min_version", 2},
                                                                 {"server.io_threads", 4},
                                                                 {"server.storage_threads", 5},
                                                                 {"server.hostname", 6},
                                                                 {"auth.max_failures_per_ip", 8},
                                                                 {"listener[0].protocol", 10}}));
}

TEST(ConfigLoader, InvalidSampleFileReportsEverything) {
  const fs::path path = kDataDir / "invalid.toml";
  const auto loaded = load_config_file(path);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().source, path);
  const std::string file = path.string();
  EXPECT_EQ(
      loaded.error().to_string(),
      file + ":3:1: key 'server.hostnme': unknown key, did you mean 'hostname'?\n" + file +
          ":4:14: key 'server.io_threads': expected an integer from 0 to 256, got a string\n" +
          file + ":7:15: key 'tls.min_version': expected one of \"1.2\", \"1.3\", got a float\n" +
          file +
          ":10:12: key 'listener[0].protocol': expected one of \"smtp\", \"submission\", "
          "\"submissions\", \"imap\", \"imaps\", \"pop3\", \"pop3s\", \"http\", got \"smpt\" "
          "(did you mean \"smtp\"?)\n" +
          file +
          ":11:11: key 'listener[0].address': expected \"ip:port\" with a literal IP, IPv6 "
          "as \"[::1]:143\", got \"localhost:25\"\n" +
          file + ":16:1: key 'listener[1].port': unknown key\n");
}

TEST(ConfigLoader, SyntaxErrorHasLineAndColumn) {
  const auto errors = parse_errors(
      "[server]\n"
      "hostname = \"mail.example.test\"\n"
      "io_threads = \n");
  ASSERT_EQ(errors.problems.size(), 1u);
  EXPECT_EQ(errors.problems[0].key, "");
  EXPECT_EQ(errors.problems[0].line, 3u);
  EXPECT_GT(errors.problems[0].column, 0u);
  EXPECT_THAT(errors.problems[0].message, StartsWith("syntax error: "));
  EXPECT_THAT(errors.to_string(), StartsWith("/etc/postamt/postamt.toml:3:"));
  EXPECT_EQ(errors.to_string().find("key '"), std::string::npos);
}

TEST(ConfigLoader, DuplicateKeyIsASyntaxError) {
  const auto errors =
      parse_errors("[server]\nhostname = \"a.example\"\nhostname = \"b.example\"\n");
  ASSERT_EQ(errors.problems.size(), 1u);
  EXPECT_EQ(errors.problems[0].line, 3u);
  EXPECT_THAT(errors.problems[0].message, StartsWith("syntax error: "));
}

TEST(ConfigLoader, UnterminatedTableHeaderIsASyntaxError) {
  const auto errors = parse_errors("\n\n[server\nhostname = \"x\"\n");
  ASSERT_EQ(errors.problems.size(), 1u);
  EXPECT_EQ(errors.problems[0].line, 3u);
}

TEST(ConfigLoader, MissingFileIsOneProblemWithoutALine) {
  const fs::path path = "/nonexistent/postamt/postamt.toml";
  const auto loaded = load_config_file(path);
  ASSERT_FALSE(loaded);
  ASSERT_EQ(loaded.error().problems.size(), 1u);
  EXPECT_EQ(loaded.error().problems[0].line, 0u);
  EXPECT_EQ(loaded.error().source, path);
  EXPECT_THAT(loaded.error().to_string(),
              StartsWith("/nonexistent/postamt/postamt.toml: cannot read config file: "));
  EXPECT_THAT(loaded.error().to_string(), HasSubstr("No such file or directory"));
}

TEST(ConfigLoader, DirectoryIsNotAConfigFile) {
  const auto loaded = load_config_file(kDataDir);
  ASSERT_FALSE(loaded);
  ASSERT_EQ(loaded.error().problems.size(), 1u);
  EXPECT_THAT(loaded.error().problems[0].message, HasSubstr("directory"));
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "postamt-config-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(std::string_view name, std::string_view text) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  fs::path dir_;
};

TEST_F(TempDir, HugeFileIsRefused) {
  const fs::path path = write("huge.toml", std::string(2 * 1024 * 1024, '#'));
  const auto loaded = load_config_file(path);
  ASSERT_FALSE(loaded);
  EXPECT_THAT(loaded.error().problems.at(0).message, HasSubstr("larger than"));
}

TEST_F(TempDir, PathThroughAFileIsOneProblem) {
  const fs::path file = write("plain", "x");
  const auto loaded = load_config_file(file / "postamt.toml");
  ASSERT_FALSE(loaded);
  ASSERT_EQ(loaded.error().problems.size(), 1u);
  EXPECT_EQ(loaded.error().problems[0].line, 0u);
  EXPECT_THAT(loaded.error().problems[0].message, HasSubstr("Not a directory"));
}

TEST_F(TempDir, LoadedFileAnchorsPathsAtItsDirectory) {
  const fs::path path = write("postamt.toml", with_listener("[server]\ndata_dir = \"store\"\n"));
  const auto loaded = load_config_file(path);
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->source, path);
  EXPECT_EQ(loaded->server.data_dir, dir_ / "store");
}

TEST(ConfigErrorsFormat, LineAndColumnAreOmittedWhenUnknown) {
  const ConfigErrors errors{"c.toml",
                            {ConfigProblem{"a.b", 3, 0, "m1"}, ConfigProblem{"", 4, 2, "m2"},
                             ConfigProblem{"", 0, 0, "m3\nsecond line"}}};
  EXPECT_EQ(errors.to_string(),
            "c.toml:3: key 'a.b': m1\nc.toml:4:2: m2\nc.toml: m3\\nsecond line\n");
}

}  // namespace
}  // namespace postamt::config

// docs/CONFIGURATION.md stays true: its example parses and its error sample is exact.
namespace postamt::config {
namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The body of the index-th fenced code block after heading in markdown.
std::string fenced_block(const std::string& markdown, std::string_view heading, int index) {
  std::size_t at = markdown.find(heading);
  EXPECT_NE(at, std::string::npos) << heading;
  for (int i = 0; at != std::string::npos; ++i) {
    const std::size_t open = markdown.find("```", at);
    const std::size_t body = markdown.find('\n', open);
    const std::size_t close = body == std::string::npos ? body : markdown.find("```", body);
    if (close == std::string::npos) {
      break;
    }
    if (i == index) {
      return markdown.substr(body + 1, close - body - 1);
    }
    at = close + 3;
  }
  return "";
}

const fs::path kDocs = fs::path(POSTAMT_TEST_DATA_DIR) / ".." / ".." / "docs" / "CONFIGURATION.md";

TEST(ConfigurationDoc, ExampleParses) {
  const std::string doc = read_text(kDocs);
  ASSERT_FALSE(doc.empty()) << kDocs;
  const std::string example = fenced_block(doc, "## Example", 0);
  ASSERT_FALSE(example.empty());
  const Config c = parse_ok(example, "/srv/mail/postamt.toml");
  EXPECT_EQ(c.server.data_dir, fs::path("/srv/mail/var/data"));
  EXPECT_EQ(c.listeners.size(), 4u);
  ASSERT_EQ(c.filter.milters.size(), 1u);
  EXPECT_EQ(c.filter.milters[0].address, "unix:/run/clamav/clamav-milter.ctl");
  EXPECT_EQ(c.filter.rspamd.url, "http://127.0.0.1:11333");
  EXPECT_EQ(c.security.trusted_networks.size(), 1u);
}

TEST(ConfigurationDoc, ErrorSampleIsExact) {
  const std::string doc = read_text(kDocs);
  const std::string config = fenced_block(doc, "For example, this file", 0);
  const std::string expected = fenced_block(doc, "For example, this file", 1);
  ASSERT_FALSE(config.empty());
  const auto errors = parse_errors(config, "postamt.toml");
  EXPECT_EQ(errors.to_string(), expected);
}

}  // namespace
}  // namespace postamt::config

namespace postamt::config {
namespace {

TEST(ConfigLoader, SmtpMessagePolicyKeys) {
  auto result = parse_config(
      "[smtp]\nmax_line_length = 2000\nenforce_sender = false\nnormalize_bare_line_endings = true\n"
      "[[listener]]\nprotocol = \"smtp\"\naddress = \"127.0.0.1:0\"\n",
      "/etc/postamt/postamt.toml");
  ASSERT_TRUE(result) << result.error().to_string();
  EXPECT_EQ(result->smtp.max_text_line, 2000u);
  EXPECT_FALSE(result->smtp.enforce_sender);
  EXPECT_TRUE(result->smtp.normalize_bare_line_endings);

  Config defaults;
  EXPECT_EQ(defaults.smtp.max_text_line, 1000u);
  EXPECT_TRUE(defaults.smtp.enforce_sender);
  EXPECT_FALSE(defaults.smtp.normalize_bare_line_endings);

  auto bad = parse_config(
      "[smtp]\nmax_line_length = 999\nenforce_sender = \"yes\"\n"
      "[[listener]]\nprotocol = \"smtp\"\naddress = \"127.0.0.1:0\"\n",
      "/etc/postamt/postamt.toml");
  ASSERT_FALSE(bad);
  ASSERT_EQ(bad.error().problems.size(), 2u);
  EXPECT_EQ(bad.error().problems[0].key, "smtp.max_line_length");
  EXPECT_EQ(bad.error().problems[0].line, 2u);
  EXPECT_EQ(bad.error().problems[1].key, "smtp.enforce_sender");
  EXPECT_EQ(bad.error().problems[1].line, 3u);
}

}  // namespace
}  // namespace postamt::config
