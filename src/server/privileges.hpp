#pragma once
// Least privilege for the data directory and the process (docs/OPERATIONS.md, "Security
// model"). The data directory holds every password hash and every message: it is 0700,
// its files 0600 (main() sets umask 077), and it belongs to the service user.
//
// Ownership is set once, at set-up (setup_permissions, `postamt setup-permissions`), or
// when serve creates the data directory itself. At every start the server only checks:
// it never walks the tree changing owners, since a compromised service user could plant
// a link there and be handed root's files.
#include <filesystem>
#include <string>
#include <vector>

#include "base/config.hpp"
#include "base/result.hpp"

namespace postamt::server {

// At start, before the store is opened (as root when started as root):
//  - warns when running as root without server.user;
//  - as root with server.user: creates an absent data directory 0700 owned by that user,
//    and refuses a data directory that is a link or belongs to someone else;
//  - warns, naming each, about entries wider than 0700/0600 or owned by another user
//    (the data directory, its top level, the blob fan-out directories). Links are never
//    followed.
Result<void> check_data_dir(const Config& config);

// When running as root: makes each of `reread_files` (the TLS pair, re-read on SIGHUP)
// group-readable by the user's group when the user could not read it, then drops to that
// user and its primary group with supplementary groups cleared. Not root: nothing to do.
Result<void> drop_privileges(const std::string& user, const std::vector<std::filesystem::path>& reread_files);

// `postamt setup-permissions` (as root, with the server stopped): hands the data
// directory tree to server.user and tightens modes to 0700/0600. Links are not followed
// and not changed; a regular file with more than one hard link is reported and left
// alone (it may be a link to a file outside the tree). Prints what it did; 0 on success.
int setup_permissions(const Config& config);

}  // namespace postamt::server
