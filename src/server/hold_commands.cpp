#include "server/hold_commands.hpp"

#include <CLI/CLI.hpp>

#include <ctime>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/utc_time.hpp"
#include "auth/address.hpp"
#include "storage/sqlite/sqlite_mail_store.hpp"

namespace postamt::server {
namespace {

std::string utc(storage::UnixTime when) { return utc_time_text(when); }

int fail(const std::string& message) {
  std::cerr << "postamt: error: " << message << "\n";
  return 1;
}

}  // namespace

int security_holds(const Config& config, bool json) {
  auto store = storage::open_sqlite_store(config.server.data_dir);
  auto holds = store->list_account_holds();
  if (!holds) return fail(holds.error().message);
  if (json) {
    auto list = nlohmann::json::array();
    for (const auto& hold : *holds) {
      list.push_back({{"account", hold.account},
                      {"since", utc(hold.held_at)},
                      {"reason", hold.reason},
                      {"detail", hold.detail},
                      {"waiting_recipients", hold.held_recipients}});
    }
    std::cout << list.dump(2) << "\n";
    return 0;
  }
  if (holds->empty()) {
    std::cout << "no account is on hold\n";
    return 0;
  }
  for (const auto& hold : *holds) {
    std::cout << hold.account << "\tsince " << utc(hold.held_at) << "\treason=" << hold.reason
              << "\twaiting=" << hold.held_recipients << "\t" << hold.detail << "\n";
  }
  return 0;
}

int security_release(const Config& config, const std::string& account) {
  auto address = auth::normalize_address(account);
  if (!address) {
    std::cerr << "postamt: error: give the account's address (user@example.com)\n";
    return 2;
  }
  auto store = storage::open_sqlite_store(config.server.data_dir);
  auto released = store->release_account_hold(*address, static_cast<storage::UnixTime>(std::time(nullptr)));
  if (!released) {
    if (released.error().code == storage::StorageError::Code::not_found) {
      std::cerr << "postamt: error: " << *address << " is not on hold\n";
      return 1;
    }
    return fail(released.error().message);
  }
  std::cout << "released " << released->account << " (held since " << utc(released->held_at) << ": "
            << released->reason << "); " << released->held_recipients
            << " waiting recipients go out now, and submissions are accepted again\n";
  return 0;
}

void add_hold_commands(CLI::App& security, std::function<std::function<void()>(HoldConfigAction)> with_config) {
  auto json = std::make_shared<bool>(false);
  auto account = std::make_shared<std::string>();
  auto* holds = security.add_subcommand("holds", "List accounts whose outbound mail is on hold");
  holds->add_flag("--json", *json, "JSON instead of lines");
  holds->callback(with_config([json](const Config& c) { return security_holds(c, *json); }));
  auto* release = security.add_subcommand("release", "Lift an account's hold: its waiting mail goes out");
  release->add_option("account", *account, "The held account (user@example.com)")->required();
  release->callback(with_config([account](const Config& c) { return security_release(c, *account); }));
}

}  // namespace postamt::server
