#include "filter/client_checks.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include <asio/this_coro.hpp>

#include "mailauth/resolver_record_lookup.hpp"
#include "mailauth/spf_check.hpp"

namespace postamt::filter {
namespace {

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// RFC 5321 §4.1.2 Domain: dot-separated labels of letters, digits and hyphens; at least
// two labels (a bare "localhost" or "PC123" is not a domain a server on the Internet has).
bool is_fqdn(std::string_view name) {
  if (name.ends_with('.')) name.remove_suffix(1);
  if (name.empty() || name.size() > 253 || name.find('.') == std::string_view::npos) return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t dot = std::min(name.find('.', start), name.size());
    const std::string_view label = name.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (const char c : label) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) return false;
    }
    start = dot + 1;
  }
  return true;
}

// Canonical text of an address, "" when not one.
std::string canonical_ip(std::string_view text) {
  const std::string in(text);
  std::array<unsigned char, 16> bytes{};
  std::array<char, INET6_ADDRSTRLEN> out{};
  if (inet_pton(AF_INET, in.c_str(), bytes.data()) == 1) return inet_ntop(AF_INET, bytes.data(), out.data(), out.size());
  if (inet_pton(AF_INET6, in.c_str(), bytes.data()) == 1) {
    return inet_ntop(AF_INET6, bytes.data(), out.data(), out.size());
  }
  return {};
}

// The PTR question for an address (RFC 1035 §3.5, RFC 3596 §2.5).
std::string reverse_name(std::string_view ip) {
  const std::string in(ip);
  std::array<unsigned char, 16> bytes{};
  if (inet_pton(AF_INET, in.c_str(), bytes.data()) == 1) {
    return fmt::format("{}.{}.{}.{}.in-addr.arpa", bytes[3], bytes[2], bytes[1], bytes[0]);
  }
  if (inet_pton(AF_INET6, in.c_str(), bytes.data()) != 1) return {};
  std::string name;
  constexpr std::string_view kHex = "0123456789abcdef";
  for (std::size_t i = bytes.size(); i-- > 0;) {
    name += kHex[bytes[i] & 0x0f];
    name += '.';
    name += kHex[bytes[i] >> 4];
    name += '.';
  }
  return name + "ip6.arpa";
}

}  // namespace

HeloProblem check_helo(std::string_view helo, std::string_view client_ip, const std::vector<std::string>& our_names) {
  if (helo.size() >= 2 && helo.front() == '[' && helo.back() == ']') {
    std::string_view literal = helo.substr(1, helo.size() - 2);
    if (literal.starts_with("IPv6:") || literal.starts_with("ipv6:")) literal.remove_prefix(5);
    const std::string address = canonical_ip(literal);
    if (address.empty()) return HeloProblem::not_a_name;
    return address == canonical_ip(client_ip) ? HeloProblem::none : HeloProblem::literal_not_the_client;
  }
  if (!is_fqdn(helo)) return HeloProblem::not_a_name;
  std::string name = lowered(helo);
  if (name.ends_with('.')) name.pop_back();
  if (std::ranges::find(our_names, name) != our_names.end()) return HeloProblem::claims_to_be_us;
  return HeloProblem::none;
}

std::string_view helo_problem_text(HeloProblem problem) {
  switch (problem) {
    case HeloProblem::none: return "";
    case HeloProblem::not_a_name: return "HELO_NOT_FQDN";
    case HeloProblem::claims_to_be_us: return "HELO_IS_US";
    case HeloProblem::literal_not_the_client: return "HELO_LITERAL_MISMATCH";
  }
  return "";
}

namespace {

class ClientCheckFilter final : public Filter {
 public:
  ClientCheckFilter(ClientCheckOptions options, mailauth::RecordLookupPool* lookups)
      : options_(std::move(options)), lookups_(lookups) {}

  std::string name() const override { return "client"; }
  bool reads_content() const override { return false; }

  asio::awaitable<Verdict> check(const MessageFacts& facts, std::shared_ptr<const MessageContent>) override {
    Verdict verdict;
    verdict.filter = "client";
    if (options_.helo != CheckMode::off) {
      const HeloProblem problem = check_helo(facts.helo, facts.client_ip, options_.our_names);
      if (problem != HeloProblem::none) {
        verdict.symbols.emplace_back(helo_problem_text(problem));
        // §4.1.4: only a false claim to be us may be refused.
        const bool refuse = options_.helo == CheckMode::reject && problem == HeloProblem::claims_to_be_us;
        if (refuse) {
          verdict.action = Action::reject;
          verdict.reply = proto::smtp::make_reply(550, "5.7.1", fmt::format("HELO {} is my own name", facts.helo));
          co_return verdict;
        }
        verdict.action = Action::junk;
      }
    }
    if (options_.reverse_dns != CheckMode::off && lookups_ != nullptr) {
      const Confirmation confirmed = co_await confirm_reverse_dns(facts.client_ip);
      if (confirmed.temporary && options_.reverse_dns == CheckMode::reject) {
        verdict.action = Action::defer;
        verdict.reply = proto::smtp::make_reply(451, "4.7.25", "Reverse DNS of your address cannot be checked now");
        verdict.note = "reverse DNS lookup failed";
      } else if (!confirmed.temporary && confirmed.name.empty()) {
        verdict.symbols.emplace_back(confirmed.ptr_found ? "RDNS_NOT_CONFIRMED" : "RDNS_NONE");
        if (options_.reverse_dns == CheckMode::reject) {
          verdict.action = Action::reject;
          verdict.reply = proto::smtp::make_reply(
              550, "5.7.25", fmt::format("Reverse DNS of [{}] does not resolve back to it", facts.client_ip));
        } else {
          verdict.action = std::max(verdict.action, Action::junk);
        }
      } else if (!confirmed.name.empty()) {
        verdict.note = "rdns=" + confirmed.name;
      }
    }
    co_return verdict;
  }

 private:
  struct Confirmation {
    std::string name;  // the confirmed name, "" when none
    bool ptr_found = false;
    bool temporary = false;
  };

  // FCrDNS: the PTR names (at most 10), then their addresses; one matching confirms.
  asio::awaitable<Confirmation> confirm_reverse_dns(const std::string& client_ip) {
    Confirmation out;
    const std::string question = reverse_name(client_ip);
    if (question.empty()) co_return out;
    auto& lookup = lookups_->for_executor(co_await asio::this_coro::executor);
    const bool v6 = client_ip.find(':') != std::string::npos;
    std::vector<mailauth::DnsQuestion> ptr{{question, mailauth::RecordType::ptr}};
    const std::vector<mailauth::DnsAnswer> names = co_await mailauth::ask_all(lookup, std::move(ptr));
    if (names.front().temporary()) {
      out.temporary = true;
      co_return out;
    }
    std::vector<mailauth::DnsQuestion> forward;
    for (const auto& name : names.front().records) {
      if (forward.size() == 10) break;
      forward.push_back({name, v6 ? mailauth::RecordType::aaaa : mailauth::RecordType::a});
    }
    out.ptr_found = !forward.empty();
    if (forward.empty()) co_return out;
    const std::vector<mailauth::DnsAnswer> addresses = co_await mailauth::ask_all(lookup, forward);
    const std::string client = canonical_ip(client_ip);
    bool any_temporary = false;
    for (std::size_t i = 0; i < addresses.size(); ++i) {
      any_temporary = any_temporary || addresses[i].temporary();
      for (const auto& address : addresses[i].records) {
        if (canonical_ip(address) == client) {
          out.name = lowered(forward[i].name);
          co_return out;
        }
      }
    }
    out.temporary = any_temporary;
    co_return out;
  }

  ClientCheckOptions options_;
  mailauth::RecordLookupPool* lookups_;
};

}  // namespace

std::unique_ptr<Filter> make_client_check_filter(ClientCheckOptions options, mailauth::RecordLookupPool* lookups) {
  return std::make_unique<ClientCheckFilter>(std::move(options), lookups);
}

}  // namespace postamt::filter
