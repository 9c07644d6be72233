#include "server/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/log.hpp"

namespace postamt::server {

namespace {

// Gives `gid` read access to a root-owned file the service user must re-read later
// (SIGHUP reloads the certificate after the drop). Files the user can read already are
// left alone.
Result<void> make_group_readable(const std::filesystem::path& path, uid_t uid, gid_t gid) {
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

}  // namespace

Result<void> drop_privileges(const std::string& user, const std::filesystem::path& data_dir,
                             const std::vector<std::filesystem::path>& reread_files) {
  if (::geteuid() != 0) return {};
  errno = 0;
  const passwd* entry = ::getpwnam(user.c_str());
  if (!entry) return permanent_error("server.user: no such user '" + user + "'");
  const uid_t uid = entry->pw_uid;
  const gid_t gid = entry->pw_gid;

  std::error_code ec;
  if (::chown(data_dir.c_str(), uid, gid) != 0) {
    return permanent_error("cannot hand " + data_dir.string() + " to " + user + ": " + std::strerror(errno));
  }
  for (auto it = std::filesystem::recursive_directory_iterator(data_dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (::lchown(it->path().c_str(), uid, gid) != 0) {
      return permanent_error("cannot hand " + it->path().string() + " to " + user + ": " +
                             std::strerror(errno));
    }
  }
  if (ec) return permanent_error("cannot walk " + data_dir.string() + ": " + ec.message());

  for (const auto& path : reread_files) {
    if (auto ok = make_group_readable(path, uid, gid); !ok) return ok;
  }

  if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) {
    return permanent_error("cannot drop privileges to " + user + ": " + std::strerror(errno));
  }
  if (::setuid(0) == 0) return permanent_error("privileges were not dropped: setuid(0) still works");
  return {};
}

}  // namespace postamt::server
