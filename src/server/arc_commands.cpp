#include "server/arc_commands.hpp"

#include <CLI/CLI.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>

#include "mailauth/arc_lookup.hpp"
#include "mailauth/arc_sealer.hpp"
#include "mailauth/arc_verifier.hpp"
#include "mailauth/dkim_crypto.hpp"
#include "mailauth/record_lookup.hpp"
#include "proto/mailauth/arc_set_builder.hpp"
#include "proto/mailauth/message_head.hpp"
#include "proto/mailauth/tag_list.hpp"

namespace postamt::server {
namespace {

using namespace postamt::mailauth;

constexpr int kBadInput = 2;

// TXT records given on the command line; every other name is NXDOMAIN.
class GivenRecords final : public RecordLookup {
 public:
  std::map<std::string, std::vector<std::string>> records;
  asio::awaitable<DnsAnswer> lookup(DnsQuestion question) override {
    const auto found = question.type == RecordType::txt ? records.find(to_lower_ascii(question.name)) : records.end();
    co_return found == records.end() ? DnsAnswer::nx_domain() : DnsAnswer::with(found->second);
  }
};

struct ArcCliOptions {
  std::vector<std::string> txt;
  std::string txt_file;
  std::string key_file;
  std::string domain;
  std::string selector;
  std::string authserv_id;
  std::optional<std::uint64_t> time;
  std::string headers;
  bool set_only = false;
};

bool load_records(const ArcCliOptions& options, GivenRecords& lookup) {
  auto add = [&](std::string_view name, std::string_view record) {
    std::string key = to_lower_ascii(trim_fws(name));
    while (key.ends_with('.')) key.pop_back();
    lookup.records[key].emplace_back(trim_fws(record));
  };
  for (const auto& given : options.txt) {
    const std::size_t equals = given.find('=');
    if (equals == std::string::npos) {
      std::cerr << "postamt: error: --txt wants NAME=RECORD\n";
      return false;
    }
    add(std::string_view(given).substr(0, equals), std::string_view(given).substr(equals + 1));
  }
  if (!options.txt_file.empty()) {
    std::ifstream in(options.txt_file);
    if (!in) {
      std::cerr << "postamt: error: cannot read " << options.txt_file << "\n";
      return false;
    }
    for (std::string line; std::getline(in, line);) {
      const std::string_view text = trim_fws(line);
      if (text.empty() || text.front() == '#') continue;
      const std::size_t space = text.find_first_of(" \t");
      if (space == std::string_view::npos) continue;
      add(text.substr(0, space), text.substr(space + 1));
    }
  }
  return true;
}

std::string read_stdin() {
  std::ostringstream out;
  out << std::cin.rdbuf();
  return out.str();
}

ArcVerdict verify_message(const std::string& message, GivenRecords& lookup) {
  ArcVerifier verifier;
  verifier.feed(message);
  verifier.finish();
  asio::io_context io;
  auto future = asio::co_spawn(io, verify_arc(verifier, lookup), asio::use_future);
  io.run();
  return future.get();
}

std::string with_crlf(const std::string& text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

// A message read from a file may end its lines in LF alone: the new fields follow it.
std::string in_line_ends_of(const std::string& message, std::string text) {
  if (message.find("\r\n") != std::string::npos) return text;
  std::string out;
  for (char c : text) {
    if (c != '\r') out += c;
  }
  return out;
}

int run_verify(const ArcCliOptions& options) {
  GivenRecords lookup;
  if (!load_records(options, lookup)) return kBadInput;
  const ArcVerdict verdict = verify_message(read_stdin(), lookup);
  std::string sealers;
  for (const auto& domain : verdict.sealer_domains) sealers += (sealers.empty() ? "" : ",") + domain;
  std::cout << "cv=" << arc_status_name(verdict.status) << " instances=" << verdict.instance_count
            << " oldest-pass=" << verdict.oldest_pass << " sealers=" << sealers
            << (verdict.temporary ? " temporary" : "") << " reason=" << verdict.reason << "\n";
  return verdict.status == ArcChainStatus::fail ? 1 : 0;
}

int run_seal(const ArcCliOptions& options) {
  GivenRecords lookup;
  if (!load_records(options, lookup)) return kBadInput;
  std::ifstream key_in(options.key_file, std::ios::binary);
  if (!key_in) {
    std::cerr << "postamt: error: cannot read " << options.key_file << "\n";
    return kBadInput;
  }
  const std::string pem((std::istreambuf_iterator<char>(key_in)), std::istreambuf_iterator<char>());
  auto key = DkimPrivateKey::from_pem(pem);
  if (!key) {
    std::cerr << "postamt: error: " << options.key_file << ": " << key.error().message << "\n";
    return kBadInput;
  }
  // A message from a file may end its lines in LF alone: sealed as CRLF, given back as LF.
  const std::string given = read_stdin();
  const bool lf_only = given.find("\r\n") == std::string::npos;
  const std::string message = lf_only ? with_crlf(given) : given;
  const ArcVerdict verdict = verify_message(message, lookup);  // verify first (ANCHORS §1)

  std::string payload = merged_auth_results(split_message_head(message).fields, options.authserv_id);
  if (payload.empty()) payload = options.authserv_id + "; arc=" + std::string(arc_status_name(verdict.status));
  ArcSealInput input;
  input.message = message;
  input.auth_results_payload = payload;
  input.chain = &verdict;
  input.now = options.time.value_or(static_cast<std::uint64_t>(std::time(nullptr)));
  for (auto name : split_trimmed(options.headers, ':')) {
    if (!name.empty()) input.signed_headers.emplace_back(name);
  }
  const ArcSealer sealer(options.domain, options.selector, std::move(*key));
  auto sealed = sealer.seal(input);
  if (!sealed) {
    std::cerr << "postamt: error: " << sealed.error().message << "\n";
    return kBadInput;
  }
  if (!sealed->has_value()) {
    std::cerr << "postamt: the chain has ended (cv=fail) or is full: no ARC set added\n";
    if (!options.set_only) std::cout << given;
    return 1;
  }
  std::cout << in_line_ends_of(given, (*sealed)->header_text());
  if (!options.set_only) std::cout << given;
  std::cerr << "postamt: sealed i=" << (*sealed)->instance << " cv=" << arc_status_name((*sealed)->chain_status)
            << "\n";
  return 0;
}

void add_record_options(CLI::App* command, ArcCliOptions& options) {
  command->add_option("--txt", options.txt, "A key record: NAME=RECORD (repeatable)");
  command->add_option("--txt-file", options.txt_file, "Key records, one \"NAME RECORD\" a line");
}

}  // namespace

void add_arc_commands(CLI::App& app, int& status) {
  auto options = std::make_shared<ArcCliOptions>();
  auto* arc = app.add_subcommand("arc", "ARC (RFC 8617): verify a chain, seal a message")->require_subcommand(1);

  auto* verify = arc->add_subcommand("verify", "Validate the ARC chain of the message on stdin");
  add_record_options(verify, *options);
  verify->callback([options, &status] { status = run_verify(*options); });

  auto* seal = arc->add_subcommand("seal", "Verify, then add an ARC set to the message on stdin");
  seal->add_option("--key", options->key_file, "Private key (PEM, RSA or Ed25519)")->required();
  seal->add_option("--domain", options->domain, "d= of the new set")->required();
  seal->add_option("--selector", options->selector, "s= of the new set")->required();
  seal->add_option("--authserv-id", options->authserv_id, "Our authserv-id (Authentication-Results)")->required();
  seal->add_option("--time", options->time, "t= (default: now)");
  seal->add_option("--headers", options->headers, "h= of the AMS, colon-separated (default: the usual ones present)");
  seal->add_flag("--set-only", options->set_only, "Print only the three new fields");
  add_record_options(seal, *options);
  seal->callback([options, &status] { status = run_seal(*options); });
}

}  // namespace postamt::server
