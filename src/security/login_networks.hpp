#pragma once
// LoginNetworks: the "logged in from many places at once" signal of a stolen account
// (issue 15 §6). Remembers, per account, the distinct networks (IPv4 /prefix_v4, IPv6
// /prefix_v6) of its successful logins within a window, and says when they exceed the
// allowed number. Pure and bounded: at most kMaxAccounts accounts (the least recently seen
// is forgotten) and max_networks + 1 networks each. Not thread-safe: the caller locks.
#include <chrono>
#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace postamt::security {

// The network an address belongs to at the given prefix lengths, as text ("192.0.2.0/24",
// "2001:db8::/48"); nullopt for text that is no IP address. IPv4-mapped IPv6 counts as IPv4.
std::optional<std::string> network_of(std::string_view ip, unsigned prefix_v4, unsigned prefix_v6);

class LoginNetworks {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kMaxAccounts = 100'000;

  struct Options {
    unsigned max_networks = 5;  // more distinct networks than this within the window: a signal
    Clock::duration window = std::chrono::hours(1);
    unsigned prefix_v4 = 24;
    unsigned prefix_v6 = 48;
  };

  explicit LoginNetworks(Options options) : options_(options) {}

  // Records a successful login. Returns the distinct networks seen within the window (this
  // one included) when there are more than max_networks, else nullopt.
  std::optional<std::vector<std::string>> record(std::string_view account, std::string_view ip, Clock::time_point now);
  // Forgets the account (after a hold is released, so the old logins do not count again).
  void forget(std::string_view account);
  std::size_t accounts() const { return by_account_.size(); }

 private:
  struct Seen {
    std::string network;
    Clock::time_point at;
  };
  struct Entry {
    std::vector<Seen> networks;  // distinct, each with its latest login
    std::list<std::string>::iterator age;
  };

  Options options_;
  std::unordered_map<std::string, Entry> by_account_;
  std::list<std::string> recency_;  // most recently seen account first
};

}  // namespace postamt::security
