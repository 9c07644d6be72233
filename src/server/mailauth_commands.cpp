#include "server/mailauth_commands.hpp"

#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "dns/resolver.hpp"
#include "mailauth/resolver_record_lookup.hpp"
#include "mailauth/spf_check.hpp"

namespace postamt::server {
namespace {

using nlohmann::json;

std::string this_host() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

std::optional<mailauth::SpfIdentity> identity_named(const std::string& name) {
  if (name == "mailfrom" || name == "mail_from" || name.empty()) return mailauth::SpfIdentity::mail_from;
  if (name == "helo") return mailauth::SpfIdentity::helo;
  return std::nullopt;
}

json to_json(const mailauth::SpfOutcome& outcome) {
  return json{{"result", std::string(mailauth::spf_result_name(outcome.result))},
              {"identity", std::string(mailauth::spf_identity_name(outcome.identity))},
              {"domain", outcome.domain},
              {"sender", outcome.sender},
              {"mechanism", outcome.mechanism},
              {"explanation", outcome.explanation},
              {"explanation_from_record", outcome.explanation_from_record},
              {"problem", outcome.problem},
              {"received_spf", outcome.received_spf},
              {"dns_questions", outcome.dns_questions}};
}

// Strings from JSON may hold any octets (json::dump escapes them on the way out).
std::string text_field(const json& object, const char* key) {
  auto found = object.find(key);
  if (found == object.end() || !found->is_string()) return {};
  return found->get<std::string>();
}

struct Case {
  json id;
  mailauth::SpfRequest request;
  std::string error;
  json result;
};

int run_batch(dns::Resolver& resolver, asio::io_context& io, const SpfCheckOptions& options,
              const std::string& receiver) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (options.batch != "-") {
    file.open(options.batch);
    if (!file) {
      std::cerr << "postamt: error: cannot read " << options.batch << "\n";
      return 1;
    }
    in = &file;
  }
  std::vector<Case> cases;
  std::string line;
  while (std::getline(*in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Case c;
    json input = json::parse(line, nullptr, false, true);
    if (input.is_discarded() || !input.is_object()) {
      c.error = "not a JSON object";
      cases.push_back(std::move(c));
      continue;
    }
    c.id = input.value("id", json());
    c.request.client_ip = text_field(input, "ip");
    c.request.helo = text_field(input, "helo");
    c.request.mail_from = text_field(input, "mail_from");
    auto identity = identity_named(text_field(input, "identity"));
    if (!identity) c.error = "identity must be \"mailfrom\" or \"helo\"";
    else c.request.identity = *identity;
    std::string own = text_field(input, "receiver");
    c.request.receiver = own.empty() ? receiver : own;
    if (auto t = input.find("timestamp"); t != input.end() && t->is_number_unsigned())
      c.request.timestamp = t->get<std::uint64_t>();
    cases.push_back(std::move(c));
  }
  // Every case at once, each with a cache of its own: cases are independent of each other.
  for (Case& c : cases) {
    if (!c.error.empty()) continue;
    asio::co_spawn(
        io,
        [&resolver, &c]() -> asio::awaitable<void> {
          mailauth::ResolverRecordLookup lookup(resolver, std::make_shared<mailauth::DnsCache>());
          mailauth::SpfOutcome outcome = co_await mailauth::check_spf(lookup, c.request);
          c.result = to_json(outcome);
        },
        asio::detached);
  }
  io.run();
  for (Case& c : cases) {
    json out = c.error.empty() ? c.result : json{{"error", c.error}};
    out["id"] = c.id;
    std::cout << out.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  }
  return 0;
}

int run_one(dns::Resolver& resolver, asio::io_context& io, const SpfCheckOptions& options,
            const std::string& receiver) {
  auto identity = identity_named(options.identity);
  if (!identity) {
    std::cerr << "postamt: error: --identity must be mailfrom or helo\n";
    return 1;
  }
  mailauth::SpfRequest request;
  request.client_ip = options.ip;
  request.helo = options.helo;
  request.mail_from = options.mail_from;
  request.identity = *identity;
  request.receiver = receiver;
  std::optional<mailauth::SpfOutcome> outcome;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        mailauth::ResolverRecordLookup lookup(resolver, std::make_shared<mailauth::DnsCache>());
        outcome = co_await mailauth::check_spf(lookup, request);
      },
      asio::detached);
  io.run();
  if (!outcome) return 1;
  if (options.json) {
    std::cout << to_json(*outcome).dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    return 0;
  }
  std::cout << "result: " << mailauth::spf_result_name(outcome->result) << "\n"
            << "identity: " << mailauth::spf_identity_name(outcome->identity) << " (" << outcome->sender << ")\n"
            << "domain: " << outcome->domain << "\n";
  if (!outcome->mechanism.empty()) std::cout << "mechanism: " << outcome->mechanism << "\n";
  if (!outcome->explanation.empty())
    std::cout << "explanation: " << outcome->explanation
              << (outcome->explanation_from_record ? "" : " (default; the record has no usable exp=)") << "\n";
  if (!outcome->problem.empty()) std::cout << "problem: " << outcome->problem << "\n";
  std::cout << "Received-SPF: " << outcome->received_spf << "\n";
  return 0;
}

}  // namespace

int check_spf_command(const Config* config, const SpfCheckOptions& options) {
  if (options.batch.empty() && (options.ip.empty() || options.helo.empty())) {
    std::cerr << "postamt: error: check spf needs --ip and --helo (or --batch FILE)\n";
    return 1;
  }
  dns::ResolverOptions resolver_options;
  if (!options.dns_server.empty()) resolver_options.servers = {options.dns_server};
  else if (config != nullptr) resolver_options.servers = config->dns.servers;
  std::chrono::milliseconds attempt{2000};
  if (options.dns_timeout_ms > 0) attempt = std::chrono::milliseconds(options.dns_timeout_ms);
  else if (config != nullptr) attempt = std::chrono::duration_cast<std::chrono::milliseconds>(config->dns.timeout);
  resolver_options.attempt_timeout = attempt;
  resolver_options.lookup_deadline = 3 * attempt;  // c-ares doubles the timeout on its second round
  asio::io_context io;
  auto resolver = dns::Resolver::create(io.get_executor(), std::move(resolver_options));
  if (!resolver) {
    std::cerr << "postamt: error: " << resolver.error().message << "\n";
    return 1;
  }
  std::string receiver = options.receiver;
  if (receiver.empty()) receiver = config != nullptr ? config->server.hostname : this_host();
  return options.batch.empty() ? run_one(*resolver, io, options, receiver)
                               : run_batch(*resolver, io, options, receiver);
}

}  // namespace postamt::server
