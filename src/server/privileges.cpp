#include "server/privileges.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>

#include "base/log.hpp"

namespace postamt::server {

namespace {

namespace fs = std::filesystem;

// Warnings per start about the data directory: enough to name the problem, not a flood
// for a store with thousands of blob directories.
constexpr int kMaxModeWarnings = 20;

struct ServiceUser {
  uid_t uid;
  gid_t gid;
};

Result<ServiceUser> look_up(const std::string& user) {
  errno = 0;
  const passwd* entry = ::getpwnam(user.c_str());
  if (!entry) return permanent_error("server.user: no such user '" + user + "'");
  return ServiceUser{entry->pw_uid, entry->pw_gid};
}

std::string octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// Gives `gid` read access to a root-owned file the service user must re-read later
// (SIGHUP reloads the certificate after the drop). Files the user can read already are
// left alone.
Result<void> make_group_readable(const fs::path& path, uid_t uid, gid_t gid) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return {};  // absent: the reload reports it
  const bool readable = (info.st_uid == uid && (info.st_mode & S_IRUSR)) ||
                        (info.st_gid == gid && (info.st_mode & S_IRGRP)) || (info.st_mode & S_IROTH);
  if (readable) return {};
  if (::chown(path.c_str(), static_cast<uid_t>(-1), gid) != 0 ||
      ::chmod(path.c_str(), (info.st_mode & 07777) | S_IRGRP) != 0) {
    return permanent_error("cannot make " + path.string() + " readable for the service user: " +
                           std::strerror(errno));
  }
  log::info("privileges.file_group_readable", {{"path", path.string()}, {"gid", static_cast<long>(gid)}});
  return {};
}

// One entry of the data directory, judged without following links.
class ModeAudit {
 public:
  explicit ModeAudit(std::optional<uid_t> owner) : owner_(owner) {}

  void check(const fs::path& path) {
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0) return;  // gone meanwhile
    if (S_ISLNK(info.st_mode)) {
      warn("privileges.link_in_data_dir", {{"path", path.string()}, {"effect", "not followed"}});
      return;
    }
    const bool directory = S_ISDIR(info.st_mode);
    if (info.st_mode & (S_IRWXG | S_IRWXO)) {
      warn("privileges.mode_too_wide", {{"path", path.string()},
                                        {"mode", octal(info.st_mode)},
                                        {"expected", directory ? "0700" : "0600"}});
    }
    if (owner_ && info.st_uid != *owner_) {
      warn("privileges.foreign_owner", {{"path", path.string()},
                                        {"uid", static_cast<long>(info.st_uid)},
                                        {"expected_uid", static_cast<long>(*owner_)}});
    }
  }

  void finish() const {
    if (suppressed_ > 0) log::warn("privileges.more_warnings", {{"suppressed", suppressed_}});
  }

 private:
  void warn(std::string_view event, std::initializer_list<log::Field> fields) {
    if (warnings_ >= kMaxModeWarnings) {
      ++suppressed_;
      return;
    }
    ++warnings_;
    log::warn(event, fields);
  }

  std::optional<uid_t> owner_;
  int warnings_ = 0;
  long suppressed_ = 0;
};

// The data directory, its entries (database, WAL, lock, blobs/) and their entries (the
// blob fan-out directories): two levels, never the blob files themselves.
void audit_modes(const fs::path& data_dir, std::optional<uid_t> owner) {
  ModeAudit audit(owner);
  audit.check(data_dir);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(data_dir, ec)) {
    audit.check(entry.path());
    if (!entry.is_directory(ec) || entry.is_symlink(ec)) continue;
    std::error_code inner;
    for (const auto& child : fs::directory_iterator(entry.path(), inner)) {
      if (child.is_directory(inner) && !child.is_symlink(inner)) audit.check(child.path());
    }
  }
  audit.finish();
}

}  // namespace

Result<void> check_data_dir(const Config& config) {
  const fs::path& data_dir = config.server.data_dir;
  const bool root = ::geteuid() == 0;
  if (root && !config.server.user) {
    log::warn("privileges.running_as_root",
              {{"effect", "every session runs as root"},
               {"hint", "set server.user to an unprivileged system user (docs/OPERATIONS.md)"}});
  }
  std::optional<uid_t> owner;
  if (root && config.server.user) {
    auto user = look_up(*config.server.user);
    if (!user) return std::unexpected(user.error());
    owner = user->uid;
    struct stat info {};
    if (::lstat(data_dir.c_str(), &info) != 0) {
      if (errno != ENOENT) {
        return permanent_error("cannot stat " + data_dir.string() + ": " + std::strerror(errno));
      }
      // A fresh data directory is created for the service user: the one time serve sets
      // an owner.
      // Missing parents are made 0755 (the umask would lock the service user out of them).
      std::vector<fs::path> missing;
      std::error_code ec;
      for (fs::path parent = data_dir.parent_path(); !parent.empty() && !fs::exists(parent, ec);
           parent = parent.parent_path()) {
        missing.push_back(parent);
      }
      for (auto parent = missing.rbegin(); parent != missing.rend(); ++parent) {
        if (::mkdir(parent->c_str(), 0755) == 0) ::chmod(parent->c_str(), 0755);
      }
      if (::mkdir(data_dir.c_str(), 0700) != 0 || ::lchown(data_dir.c_str(), user->uid, user->gid) != 0) {
        return permanent_error("cannot create " + data_dir.string() + " for " + *config.server.user + ": " +
                               std::strerror(errno));
      }
      log::info("privileges.data_dir_created", {{"path", data_dir.string()}, {"user", *config.server.user}});
    } else if (S_ISLNK(info.st_mode) || !S_ISDIR(info.st_mode)) {
      return permanent_error("data directory " + data_dir.string() + " is not a directory (links are not followed)");
    } else if (info.st_uid != user->uid) {
      return permanent_error("data directory " + data_dir.string() + " belongs to uid " +
                             std::to_string(info.st_uid) + ", not to server.user " + *config.server.user +
                             ": run `postamt setup-permissions` once as root, with the server stopped");
    }
  } else if (!root) {
    owner = ::geteuid();
  }
  audit_modes(data_dir, owner);
  return {};
}

Result<void> drop_privileges(const std::string& user, const std::vector<fs::path>& reread_files) {
  if (::geteuid() != 0) return {};
  auto account = look_up(user);
  if (!account) return std::unexpected(account.error());
  for (const auto& path : reread_files) {
    if (auto ok = make_group_readable(path, account->uid, account->gid); !ok) return ok;
  }
  if (::setgroups(0, nullptr) != 0 || ::setgid(account->gid) != 0 || ::setuid(account->uid) != 0) {
    return permanent_error("cannot drop privileges to " + user + ": " + std::strerror(errno));
  }
  if (::setuid(0) == 0) return permanent_error("privileges were not dropped: setuid(0) still works");
  return {};
}

namespace {

// Hands one entry to `user` and sets `mode`, through a descriptor opened without
// following a link, so a link swapped in after the walk saw the name is not followed.
// Returns what was skipped and why, or "".
std::string secure_entry(const fs::path& path, bool directory, const std::optional<ServiceUser>& user) {
  const int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (directory ? O_DIRECTORY : 0);
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return errno == ELOOP ? "a symbolic link" : std::strerror(errno);
  struct stat info {};
  std::string skipped;
  if (::fstat(fd, &info) != 0) {
    skipped = std::strerror(errno);
  } else if (!directory && !S_ISREG(info.st_mode)) {
    skipped = "not a regular file";
  } else if (!directory && info.st_nlink > 1) {
    skipped = "a file with " + std::to_string(info.st_nlink) + " hard links";
  } else if (user && ::fchown(fd, user->uid, user->gid) != 0) {
    skipped = std::string("chown: ") + std::strerror(errno);
  } else if (::fchmod(fd, directory ? 0700 : 0600) != 0) {
    skipped = std::string("chmod: ") + std::strerror(errno);
  }
  ::close(fd);
  return skipped;
}

}  // namespace

int setup_permissions(const Config& config) {
  const fs::path& data_dir = config.server.data_dir;
  std::optional<ServiceUser> user;
  if (config.server.user) {
    if (::geteuid() != 0) {
      std::cerr << "postamt: error: setup-permissions hands the data directory to server.user "
                << *config.server.user << ": run it as root\n";
      return 1;
    }
    auto found = look_up(*config.server.user);
    if (!found) {
      std::cerr << "postamt: error: " << found.error().message << "\n";
      return 1;
    }
    user = *found;
  }
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) {
    std::cerr << "postamt: error: cannot create " << data_dir.string() << ": " << ec.message() << "\n";
    return 1;
  }
  long secured = 0;
  long skipped = 0;
  const auto secure = [&](const fs::path& path, bool directory) {
    const std::string why = secure_entry(path, directory, user);
    if (why.empty()) {
      ++secured;
    } else {
      ++skipped;
      std::cerr << "postamt: warning: left " << path.string() << " alone: " << why << "\n";
    }
  };
  secure(data_dir, true);
  // The iterator does not descend into linked directories (directory_options::none).
  for (auto it = fs::recursive_directory_iterator(data_dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code kind;
    const bool link = it->is_symlink(kind);
    secure(it->path(), !link && it->is_directory(kind));
  }
  if (ec) {
    std::cerr << "postamt: error: cannot walk " << data_dir.string() << ": " << ec.message() << "\n";
    return 1;
  }
  std::cout << data_dir.string() << ": " << secured << " entries now 0700/0600"
            << (user ? " and owned by " + *config.server.user : std::string()) << ", " << skipped << " left alone\n";
  return skipped == 0 ? 0 : 1;
}

}  // namespace postamt::server
