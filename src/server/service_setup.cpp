#include "server/service_setup.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <sstream>
#include <vector>

namespace postamt::server {
namespace {

std::optional<ServiceAccount> look_up(const std::string& name) {
  const passwd* entry = ::getpwnam(name.c_str());
  if (!entry) return std::nullopt;
  return ServiceAccount{name, entry->pw_uid, entry->pw_gid, false};
}

// Runs a program without a shell (the name is checked by the caller, but no quoting
// question arises at all this way) and returns its exit status.
int run_program(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t child = ::fork();
  if (child < 0) return -1;
  if (child == 0) {
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  if (::waitpid(child, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool is_safe_user_name(const std::string& name) {
  if (name.empty() || name.size() > 32 || name[0] == '-') return false;
  for (const char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

}  // namespace

Result<ServiceAccount> ensure_service_account(const std::string& name, const std::filesystem::path& home) {
  if (!is_safe_user_name(name)) {
    return permanent_error("service user '" + name + "': use lower-case letters, digits, '-' and '_'");
  }
  if (auto found = look_up(name)) return *found;
  if (::geteuid() != 0) return permanent_error("service user '" + name + "' does not exist and only root can create it");
  // --user-group: its own group, so group-readable files stay its own.
  const int status = run_program({"useradd", "--system", "--user-group", "--home-dir", home.string(),
                                  "--no-create-home", "--shell", "/usr/sbin/nologin",
                                  "--comment", "Postamt mail server", name});
  if (status != 0) return permanent_error("useradd " + name + " failed (exit status " + std::to_string(status) + ")");
  auto created = look_up(name);
  if (!created) return permanent_error("useradd " + name + " succeeded but the user cannot be found");
  created->created = true;
  return *created;
}

Result<void> hand_over(const std::filesystem::path& path, const ServiceAccount& account) {
  if (::lchown(path.c_str(), account.uid, account.gid) != 0) {
    return permanent_error("cannot hand " + path.string() + " to " + account.name + ": " + std::strerror(errno));
  }
  return {};
}

std::string systemd_unit_text(const std::filesystem::path& binary, const std::filesystem::path& config,
                              const std::filesystem::path& writable_dir, const ServiceAccount& account) {
  std::ostringstream unit;
  unit << "# Written by `postamt quickstart`. Install: cp postamt.service /etc/systemd/system/ &&\n"
       << "# systemctl daemon-reload && systemctl enable --now postamt\n"
       << "[Unit]\n"
       << "Description=Postamt mail server (SMTP, IMAP, POP3)\n"
       << "After=network-online.target\n"
       << "Wants=network-online.target\n\n"
       << "[Service]\n"
       << "# Ready only once every listener is bound and the store is open (sd_notify READY=1);\n"
       << "# reload is SIGHUP (certificates, DKIM keys, log level), announced with RELOADING=1.\n"
       << "Type=notify\n"
       << "ExecStart=" << binary.string() << " serve --config " << config.string() << "\n"
       << "ExecReload=/bin/kill -HUP $MAINPID\n"
       << "# The server runs as " << account.name << " from the start: root is never needed, only\n"
       << "# the right to bind ports below 1024.\n"
       << "User=" << account.name << "\n"
       << "Group=" << account.name << "\n"
       << "AmbientCapabilities=CAP_NET_BIND_SERVICE\n"
       << "CapabilityBoundingSet=CAP_NET_BIND_SERVICE\n"
       << "NoNewPrivileges=yes\n"
       << "UMask=0077\n"
       << "ProtectSystem=strict\n"
       << "ProtectHome=yes\n"
       << "PrivateTmp=yes\n"
       << "PrivateDevices=yes\n"
       << "ReadWritePaths=" << writable_dir.string() << "\n"
       << "LimitNOFILE=65536\n"
       << "Restart=on-failure\n"
       << "KillSignal=SIGTERM\n"
       << "TimeoutStopSec=30\n\n"
       << "[Install]\n"
       << "WantedBy=multi-user.target\n";
  return unit.str();
}

}  // namespace postamt::server
