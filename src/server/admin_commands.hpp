#pragma once
// The operator's commands on accounts, domains and aliases. They open the store named by
// the config directly (SQLite in WAL mode lets them run beside a live server) and return
// the process exit status; errors are one line on stderr.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/config.hpp"

namespace postamt::server {

int domain_add(const Config& config, const std::string& name);
int domain_list(const Config& config);
int domain_del(const Config& config, const std::string& name);

// password: from --password, else one line from standard input.
int user_add(const Config& config, const std::string& address, std::optional<std::string> password,
             std::optional<std::uint64_t> quota_bytes);
int user_list(const Config& config, const std::string& domain);
int user_del(const Config& config, const std::string& address);
int user_passwd(const Config& config, const std::string& address, std::optional<std::string> password);
// Sets the storage quota (0: unlimited); APPEND, COPY/MOVE and delivery enforce it.
int user_quota(const Config& config, const std::string& address, std::uint64_t quota_bytes);

int alias_add(const Config& config, const std::string& source,
              const std::vector<std::string>& destinations);
int alias_list(const Config& config, const std::string& domain);
int alias_del(const Config& config, const std::string& source, const std::string& destination);

// Inspection for operators and tests: the messages of one mailbox ("UID SIZE FLAGS BLOB"
// lines), and one message's stored bytes on standard output.
int debug_mailbox(const Config& config, const std::string& address, const std::string& mailbox);
int debug_message(const Config& config, const std::string& address, const std::string& mailbox,
                  std::uint32_t uid);

// Checks that every message and queue entry has its blob (size and hash) and every blob
// file is referenced; prints the problems, exit status 1 when there are any.
int debug_check_store(const Config& config);

// Reads a password: prompts without echo on a terminal, else takes the first line of stdin.
std::optional<std::string> read_password_from_stdin();

}  // namespace postamt::server
