#include "server/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace postamt::server {

Result<void> drop_privileges(const std::string& user, const std::filesystem::path& data_dir) {
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

  if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) {
    return permanent_error("cannot drop privileges to " + user + ": " + std::strerror(errno));
  }
  if (::setuid(0) == 0) return permanent_error("privileges were not dropped: setuid(0) still works");
  return {};
}

}  // namespace postamt::server
