// postamt: the command line. Every subcommand is a thin shell over a function in server/.
#include <CLI/CLI.hpp>
#include <sys/stat.h>

#include <cstdlib>
#include <iostream>

#include "base/build_info.hpp"
#include "base/log.hpp"
#include "server/admin_commands.hpp"
#include "server/arc_commands.hpp"
#include "server/config/config_loader.hpp"
#include "server/classifier_commands.hpp"
#include "server/dkim_commands.hpp"
#include "server/mailauth_commands.hpp"
#include "server/privileges.hpp"
#include "server/dmarc_commands.hpp"
#include "server/filter_commands.hpp"
#include "server/hold_commands.hpp"
#include "server/queue_commands.hpp"
#include "server/quickstart.hpp"
#include "server/security_commands.hpp"
#include "server/security_event_commands.hpp"
#include "server/serve.hpp"

namespace {

constexpr int kConfigInvalid = 2;

struct ConfigLoad {
  std::optional<postamt::Config> config;
  int status = 0;
};

ConfigLoad load(const std::string& path) {
  std::string chosen = path;
  if (chosen.empty()) {
    const char* from_env = std::getenv("POSTAMT_CONFIG");
    if (!from_env || !*from_env) {
      std::cerr << "postamt: error: no configuration: pass --config FILE or set POSTAMT_CONFIG\n";
      return {std::nullopt, kConfigInvalid};
    }
    chosen = from_env;
  }
  auto loaded = postamt::config::load_config_file(chosen);
  if (!loaded) {
    std::cerr << loaded.error().to_string();
    if (!loaded.error().to_string().ends_with('\n')) std::cerr << "\n";
    return {std::nullopt, kConfigInvalid};
  }
  return {std::move(*loaded), 0};
}

}  // namespace

int main(int argc, char** argv) {
  // The store holds every password hash and every message: whatever the server or a CLI
  // command creates (database, WAL, blobs, logs, keys) is for the owner alone.
  ::umask(077);
  CLI::App app{"Postamt: SMTP, IMAP and POP3 in one mail server", "postamt"};
  app.set_version_flag("--version", "postamt " + std::string(postamt::build_info::version()) + " (commit " +
                                        std::string(postamt::build_info::commit()) + ")");
  app.require_subcommand(1);
  app.fallthrough();
  std::string config_path;
  app.add_option("-c,--config", config_path, "Configuration file (default: $POSTAMT_CONFIG)");

  int status = 0;
  auto with_config = [&](auto&& action) {
    return [&, action] {
      auto loaded = load(config_path);
      if (!loaded.config) {
        status = loaded.status;
        return;
      }
      status = action(*loaded.config);
    };
  };

  auto* serve = app.add_subcommand("serve", "Run the server in the foreground");
  serve->callback(with_config([](const postamt::Config& config) {
    postamt::log::init(config.log.level, config.log.file);
    return postamt::server::serve(config);
  }));

  auto* check = app.add_subcommand("check-config", "Validate the configuration file and exit");
  check->callback(with_config([&](const postamt::Config& config) {
    std::cout << "configuration " << config.source.string() << " is valid ("
              << config.listeners.size() << " listeners)\n";
    return 0;
  }));

  auto* setup_permissions = app.add_subcommand(
      "setup-permissions", "Once, as root, with the server stopped: hand the data directory to server.user, 0700/0600");
  setup_permissions->callback(with_config([](const postamt::Config& config) {
    return postamt::server::setup_permissions(config);
  }));

  postamt::server::QuickstartOptions quick;
  auto* quickstart = app.add_subcommand("quickstart", "Write a working configuration, TLS and DKIM keys");
  quickstart->add_option("--hostname", quick.hostname, "This server's host name")->required();
  quickstart->add_option("--domain", quick.domain, "The first mail domain")->required();
  quickstart->add_option("--dir", quick.dir, "Directory for config, keys and data")->required();
  quickstart->add_flag("--dev-ports", quick.dev_ports, "Use development ports on 127.0.0.1 (2525, 2143, ...)");
  quickstart->add_option("--account", quick.account, "Create this account with a generated password");
  quickstart->add_flag("--force", quick.force, "Overwrite an existing postamt.toml");
  quickstart->add_option("--service-user", quick.service_user,
                         "Production, as root: the system user to run as (created when missing)")
      ->capture_default_str();
  quickstart->callback([&] { status = postamt::server::quickstart(quick); });

  // domain add|list|del
  std::string name;
  auto* domain = app.add_subcommand("domain", "Manage mail domains")->require_subcommand(1);
  domain->add_subcommand("add", "Add a domain")->callback(with_config([&](const auto& c) {
    return postamt::server::domain_add(c, name);
  }))->add_option("name", name)->required();
  domain->add_subcommand("list", "List domains")->callback(with_config([](const auto& c) {
    return postamt::server::domain_list(c);
  }));
  domain->add_subcommand("del", "Delete a domain without accounts or aliases")
      ->callback(with_config([&](const auto& c) { return postamt::server::domain_del(c, name); }))
      ->add_option("name", name)->required();

  // user add|list|del|passwd
  std::string address;
  std::string filter;
  std::optional<std::string> password;
  std::optional<std::uint64_t> quota;
  auto* user = app.add_subcommand("user", "Manage accounts")->require_subcommand(1);
  auto* user_add = user->add_subcommand("add", "Add an account (password from stdin or --password)");
  user_add->add_option("address", address)->required();
  user_add->add_option("--password", password, "Password (default: read from standard input)");
  user_add->add_option("--quota", quota, "Storage quota in bytes (0: unlimited)");
  user_add->callback(with_config([&](const auto& c) {
    return postamt::server::user_add(c, address, password, quota);
  }));
  auto* user_list = user->add_subcommand("list", "List accounts");
  user_list->add_option("domain", filter, "Only this domain");
  user_list->callback(with_config([&](const auto& c) { return postamt::server::user_list(c, filter); }));
  user->add_subcommand("del", "Delete an account and its mail")
      ->callback(with_config([&](const auto& c) { return postamt::server::user_del(c, address); }))
      ->add_option("address", address)->required();
  auto* user_passwd = user->add_subcommand("passwd", "Set an account's password");
  user_passwd->add_option("address", address)->required();
  user_passwd->add_option("--password", password, "Password (default: read from standard input)");
  user_passwd->callback(with_config([&](const auto& c) {
    return postamt::server::user_passwd(c, address, password);
  }));

  std::uint64_t quota_bytes = 0;
  auto* user_quota = user->add_subcommand("quota", "Set an account's storage quota");
  user_quota->add_option("address", address)->required();
  user_quota->add_option("bytes", quota_bytes, "Quota in bytes (0: unlimited)")->required();
  user_quota->callback(with_config([&](const auto& c) {
    return postamt::server::user_quota(c, address, quota_bytes);
  }));

  // alias add|list|del
  std::string source;
  std::vector<std::string> destinations;
  std::string destination;
  auto* alias = app.add_subcommand("alias", "Manage aliases (SOURCE is an address or @domain)")
                    ->require_subcommand(1);
  auto* alias_add = alias->add_subcommand("add", "Add an alias to one or more destinations");
  alias_add->add_option("source", source)->required();
  alias_add->add_option("destinations", destinations)->required();
  alias_add->callback(with_config([&](const auto& c) {
    return postamt::server::alias_add(c, source, destinations);
  }));
  auto* alias_list = alias->add_subcommand("list", "List aliases");
  alias_list->add_option("domain", filter, "Only this domain");
  alias_list->callback(with_config([&](const auto& c) { return postamt::server::alias_list(c, filter); }));
  auto* alias_del = alias->add_subcommand("del", "Delete an alias (all destinations, or one)");
  alias_del->add_option("source", source)->required();
  alias_del->add_option("destination", destination);
  alias_del->callback(with_config([&](const auto& c) {
    return postamt::server::alias_del(c, source, destination);
  }));

  // queue list|show|flush|delete|hold|release: the outbound queue
  bool json = false;
  postamt::storage::Id queue_id = 0;
  std::optional<postamt::storage::Id> flush_id;
  auto* queue = app.add_subcommand("queue", "Inspect and steer the outbound queue")
                    ->require_subcommand(1);
  auto* queue_list = queue->add_subcommand("list", "List queued messages and their recipients");
  queue_list->add_flag("--json", json, "Print a JSON array");
  queue_list->callback(with_config([&](const auto& c) { return postamt::server::queue_list(c, json); }));
  auto* queue_show = queue->add_subcommand("show", "Show one queued message with its headers");
  queue_show->add_option("id", queue_id, "Queue message id")->required();
  queue_show->add_flag("--json", json, "Print a JSON object");
  queue_show->callback(with_config([&](const auto& c) {
    return postamt::server::queue_show(c, queue_id, json);
  }));
  auto* queue_flush = queue->add_subcommand("flush", "Retry now (one message, or all)");
  queue_flush->add_option("id", flush_id, "Queue message id (default: every message)");
  queue_flush->callback(with_config([&](const auto& c) {
    return postamt::server::queue_flush(c, flush_id);
  }));
  queue->add_subcommand("delete", "Remove a message from the queue without a bounce")
      ->callback(with_config([&](const auto& c) { return postamt::server::queue_delete(c, queue_id); }))
      ->add_option("id", queue_id, "Queue message id")->required();
  queue->add_subcommand("hold", "Stop delivery attempts for a message until released")
      ->callback(with_config([&](const auto& c) { return postamt::server::queue_hold(c, queue_id); }))
      ->add_option("id", queue_id, "Queue message id")->required();
  queue->add_subcommand("release", "Release a held message; it is retried now")
      ->callback(with_config([&](const auto& c) { return postamt::server::queue_release(c, queue_id); }))
      ->add_option("id", queue_id, "Queue message id")->required();

  // security locks|unlock: the running server's login throttle
  std::string unlock_target;
  auto* security = app.add_subcommand("security", "Login locks, holds, bans and security events")->require_subcommand(1);
  security->add_subcommand("locks", "List locked addresses and slowed accounts")
      ->callback(with_config([](const auto& c) { return postamt::server::security_locks(c); }));
  security->add_subcommand("unlock", "Lift the lock on an address (or network) or the delay on an account")
      ->callback(with_config([&](const auto& c) { return postamt::server::security_unlock(c, unlock_target); }))
      ->add_option("target", unlock_target, "IP address, network as listed, or account")->required();
  // security holds|release: accounts on outbound hold (issue 15 §6)
  postamt::server::add_hold_commands(*security, [&](postamt::server::HoldConfigAction action) {
    return std::function<void()>(with_config(std::move(action)));
  });
  // security events|bans|unban (issue 15 §7, §8)
  postamt::server::add_security_event_commands(*security, [&](postamt::server::SecurityConfigAction action) {
    return std::function<void()>(with_config(std::move(action)));
  });

  // filter learn --spam|--ham FILE: a lesson for rspamd's controller (issue 15 §5)
  postamt::server::add_filter_commands(app, [&](postamt::server::FilterConfigAction action) {
    return std::function<void()>(with_config(std::move(action)));
  });

  // dkim add|list|rotate|retire, dns records: signing keys and the records to publish
  std::string dkim_domain;
  std::string dkim_selector_name;
  std::optional<std::string> dkim_selector;
  std::string dkim_algorithm = "both";
  auto* dkim = app.add_subcommand("dkim", "Manage DKIM signing keys")->require_subcommand(1);
  auto* dkim_add = dkim->add_subcommand("add", "Create signing keys for a domain");
  dkim_add->add_option("domain", dkim_domain)->required();
  dkim_add->add_option("--selector", dkim_selector,
                       "Selector (with both algorithms: the base, suffixed r/e; default pa<date>)");
  dkim_add->add_option("--algorithm", dkim_algorithm, "rsa, ed25519 or both")
      ->check(CLI::IsMember({"rsa", "ed25519", "both"}))
      ->capture_default_str();
  dkim_add->callback(with_config([&](const auto& c) {
    return postamt::server::dkim_add(c, dkim_domain, dkim_selector, dkim_algorithm);
  }));
  dkim->add_subcommand("list", "List the keys: domain selector algorithm state created")
      ->callback(with_config([](const auto& c) { return postamt::server::dkim_list(c); }));
  dkim->add_subcommand("rotate", "New keys for a domain; the active ones start retiring")
      ->callback(with_config([&](const auto& c) { return postamt::server::dkim_rotate(c, dkim_domain); }))
      ->add_option("domain", dkim_domain)->required();
  auto* dkim_retire = dkim->add_subcommand("retire", "Remove a key (after rotate, once its mail is delivered)");
  dkim_retire->add_option("domain", dkim_domain)->required();
  dkim_retire->add_option("selector", dkim_selector_name)->required();
  dkim_retire->callback(with_config([&](const auto& c) {
    return postamt::server::dkim_retire(c, dkim_domain, dkim_selector_name);
  }));
  auto* dns = app.add_subcommand("dns", "DNS records to publish")->require_subcommand(1);
  dns->add_subcommand("records", "Print a domain's MX, SPF, DKIM and DMARC records as zone-file lines")
      ->callback(with_config([&](const auto& c) { return postamt::server::dns_records(c, dkim_domain); }))
      ->add_option("domain", dkim_domain)->required();

  // arc verify|seal: ARC chains (no configuration read)
  postamt::server::add_arc_commands(app, status);
  // dmarc reports|send-reports|evaluations|record-evaluation: DMARC aggregate reports
  postamt::server::add_dmarc_commands(app, [&](postamt::server::ConfigAction action) {
    return std::function<void()>(with_config(std::move(action)));
  });

  // classifier stats|train: the built-in spam classifier (issue 15 §5)
  postamt::server::add_classifier_commands(app, [&](auto action) { return std::function<void()>(with_config(std::move(action))); });

  // debug mailbox|message: inspection of stored mail
  std::string mailbox_name = "INBOX";
  std::uint32_t uid = 0;
  auto* debug = app.add_subcommand("debug", "Inspect stored mail")->require_subcommand(1);
  auto* debug_mailbox = debug->add_subcommand("mailbox", "List a mailbox's messages: UID SIZE FLAGS BLOB");
  debug_mailbox->add_option("address", address)->required();
  debug_mailbox->add_option("--mailbox", mailbox_name, "Mailbox name (default INBOX)");
  debug_mailbox->callback(with_config([&](const auto& c) {
    return postamt::server::debug_mailbox(c, address, mailbox_name);
  }));
  auto* debug_message = debug->add_subcommand("message", "Print one stored message");
  debug_message->add_option("address", address)->required();
  debug_message->add_option("uid", uid)->required();
  debug_message->add_option("--mailbox", mailbox_name, "Mailbox name (default INBOX)");
  debug_message->callback(with_config([&](const auto& c) {
    return postamt::server::debug_message(c, address, mailbox_name, uid);
  }));

  debug->add_subcommand("check-store", "Check that index rows and blob files agree")
      ->callback(with_config([](const auto& c) { return postamt::server::debug_check_store(c); }));

  // check spf: sender authentication as the server would judge it, against live DNS
  postamt::server::SpfCheckOptions spf_check;
  auto* check_group = app.add_subcommand("check", "Check sender authentication against live DNS")
                          ->require_subcommand(1);
  auto* check_spf = check_group->add_subcommand("spf", "Evaluate SPF (RFC 7208) for a client IP, HELO and MAIL FROM");
  check_spf->add_option("--ip", spf_check.ip, "The SMTP client's IP address");
  check_spf->add_option("--helo", spf_check.helo, "The client's EHLO/HELO name");
  check_spf->add_option("--mail-from", spf_check.mail_from, "The MAIL FROM address (default: null sender, HELO checked)");
  check_spf->add_option("--identity", spf_check.identity, "mailfrom (default) or helo");
  check_spf->add_option("--receiver", spf_check.receiver, "Our host name for %{r} (default: server.hostname)");
  check_spf->add_option("--dns-server", spf_check.dns_server, "DNS server IP:PORT instead of the config's [dns] servers");
  check_spf->add_option("--dns-timeout-ms", spf_check.dns_timeout_ms, "Per-attempt DNS timeout in milliseconds");
  check_spf->add_option("--batch", spf_check.batch, "JSON lines in (FILE or -), JSON lines out: one check per line");
  check_spf->add_flag("--json", spf_check.json, "Print one JSON object");
  check_spf->callback([&] {
    // The configuration is optional here: without one, the system resolver (or --dns-server).
    std::optional<postamt::Config> config;
    const char* from_env = std::getenv("POSTAMT_CONFIG");
    if (!config_path.empty() || (from_env != nullptr && *from_env != '\0')) {
      auto loaded = load(config_path);
      if (!loaded.config) {
        status = loaded.status;
        return;
      }
      config = std::move(loaded.config);
    }
    status = postamt::server::check_spf_command(config ? &*config : nullptr, spf_check);
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "postamt: error: " << e.what() << " (see postamt --help)\n";
    return e.get_exit_code() ? e.get_exit_code() : 1;
  } catch (const std::exception& e) {
    std::cerr << "postamt: error: " << e.what() << "\n";
    return 1;
  }
  return status;
}
