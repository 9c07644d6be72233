#include "mailauth/dkim_key_store.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <sstream>

#include "base/atomic_file.hpp"

namespace postamt::mailauth {
namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 253 || name.front() == '.' || name.back() == '.' || name.front() == '-') return false;
  if (name.find("..") != std::string_view::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

std::string date_base(std::uint64_t now) {
  const std::time_t when = static_cast<std::time_t>(now);
  std::tm utc{};
  gmtime_r(&when, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "pa%Y%m%d", &utc);
  return buffer;
}

char type_suffix(DkimKeyType type) { return type == DkimKeyType::rsa ? 'r' : 'e'; }

}  // namespace

std::string_view key_type_name(DkimKeyType type) { return type == DkimKeyType::rsa ? "rsa" : "ed25519"; }
std::string_view key_state_name(DkimKeyState state) { return state == DkimKeyState::active ? "active" : "retiring"; }

bool valid_key_domain(std::string_view domain) { return valid_name(domain) && domain.find('.') != std::string_view::npos; }
bool valid_selector(std::string_view selector) { return valid_name(selector); }

std::filesystem::path DkimKeyStore::key_path(const DkimKeyEntry& entry) const {
  return root_ / entry.domain / (entry.selector + ".pem");
}

Result<std::vector<DkimKeyEntry>> DkimKeyStore::list(const std::string& domain) const {
  std::vector<std::string> domains;
  std::error_code ec;
  if (!domain.empty()) {
    domains.push_back(domain);
  } else if (std::filesystem::is_directory(root_, ec)) {
    for (const auto& dir : std::filesystem::directory_iterator(root_, ec)) {
      const std::string name = dir.path().filename().string();
      if (dir.is_directory() && !dir.is_symlink() && valid_key_domain(name)) domains.push_back(name);
    }
    if (ec) return permanent_error("cannot read " + root_.string() + ": " + ec.message());
  }
  std::sort(domains.begin(), domains.end());
  std::vector<DkimKeyEntry> entries;
  for (const auto& name : domains) {
    std::ifstream in(root_ / name / "keys");
    if (!in) continue;  // no keys for this domain
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line.front() == '#') continue;
      std::istringstream fields(line);
      DkimKeyEntry entry;
      std::string type, state;
      if (!(fields >> entry.selector >> type >> state >> entry.created) || !valid_selector(entry.selector) ||
          (type != "rsa" && type != "ed25519") || (state != "active" && state != "retiring")) {
        return permanent_error("bad line in " + (root_ / name / "keys").string() + ": " + line);
      }
      entry.domain = name;
      entry.type = type == "rsa" ? DkimKeyType::rsa : DkimKeyType::ed25519;
      entry.state = state == "active" ? DkimKeyState::active : DkimKeyState::retiring;
      entries.push_back(std::move(entry));
    }
  }
  std::stable_sort(entries.begin(), entries.end(), [](const DkimKeyEntry& a, const DkimKeyEntry& b) {
    return a.domain != b.domain ? a.domain < b.domain : a.created < b.created;
  });
  return entries;
}

Result<void> DkimKeyStore::write_entries(const std::string& domain, const std::vector<DkimKeyEntry>& entries) const {
  std::string text = "# selector algorithm state created (written by postamt dkim)\n";
  for (const auto& entry : entries) {
    if (entry.domain != domain) continue;
    text += entry.selector + " " + std::string(key_type_name(entry.type)) + " " +
            std::string(key_state_name(entry.state)) + " " + std::to_string(entry.created) + "\n";
  }
  return write_file_atomically(root_ / domain / "keys", text, 0600);
}

Result<std::vector<DkimKeyEntry>> DkimKeyStore::add(const std::string& domain, const std::optional<std::string>& selector,
                                                    const std::vector<DkimKeyType>& types, std::uint64_t now) {
  if (!valid_key_domain(domain)) return permanent_error("not a domain name: " + domain);
  if (types.empty()) return permanent_error("no key type");
  auto existing = list(domain);
  if (!existing) return std::unexpected(existing.error());
  auto taken = [&](const std::string& name) {
    return std::any_of(existing->begin(), existing->end(), [&](const DkimKeyEntry& e) { return e.selector == name; });
  };
  auto name_for = [&](const std::string& base, DkimKeyType type) {
    return types.size() == 1 && selector ? base : base + type_suffix(type);
  };
  std::string base;
  if (selector) {
    if (!valid_selector(*selector)) return permanent_error("not a valid selector: " + *selector);
    base = *selector;
    for (auto type : types) {
      if (taken(name_for(base, type))) return permanent_error("selector " + name_for(base, type) + " exists already");
    }
  } else {
    const std::string date = date_base(now);
    for (char letter = 'a'; letter <= 'z' && base.empty(); ++letter) {
      const std::string candidate = letter == 'a' ? date : date + letter;
      if (std::none_of(types.begin(), types.end(), [&](DkimKeyType t) { return taken(name_for(candidate, t)); })) {
        base = candidate;
      }
    }
    if (base.empty()) return permanent_error("no free selector for today");
  }
  std::error_code ec;
  std::filesystem::create_directories(root_ / domain, ec);
  if (ec) return permanent_error("cannot create " + (root_ / domain).string() + ": " + ec.message());
  ::chmod(root_.c_str(), 0700);
  ::chmod((root_ / domain).c_str(), 0700);
  std::vector<DkimKeyEntry> added;
  for (auto type : types) {
    auto key = DkimPrivateKey::generate(type);
    if (!key) return std::unexpected(key.error());
    DkimKeyEntry entry{domain, name_for(base, type), type, DkimKeyState::active, now};
    if (auto written = write_file_atomically(key_path(entry), key->private_pem(), 0600); !written) {
      return std::unexpected(written.error());
    }
    existing->push_back(entry);
    added.push_back(std::move(entry));
  }
  if (auto written = write_entries(domain, *existing); !written) return std::unexpected(written.error());
  return added;
}

Result<std::vector<DkimKeyEntry>> DkimKeyStore::rotate(const std::string& domain, std::uint64_t now) {
  auto existing = list(domain);
  if (!existing) return std::unexpected(existing.error());
  std::vector<DkimKeyType> types;
  for (const auto& entry : *existing) {
    if (entry.state == DkimKeyState::active && std::find(types.begin(), types.end(), entry.type) == types.end()) {
      types.push_back(entry.type);
    }
  }
  if (types.empty()) types = {DkimKeyType::rsa, DkimKeyType::ed25519};
  std::sort(types.begin(), types.end());
  auto added = add(domain, std::nullopt, types, now);
  if (!added) return added;
  auto all = list(domain);
  if (!all) return std::unexpected(all.error());
  for (auto& entry : *all) {
    const bool is_new = std::any_of(added->begin(), added->end(), [&](const DkimKeyEntry& a) { return a.selector == entry.selector; });
    if (!is_new) entry.state = DkimKeyState::retiring;
  }
  if (auto written = write_entries(domain, *all); !written) return std::unexpected(written.error());
  return added;
}

Result<void> DkimKeyStore::retire(const std::string& domain, const std::string& selector) {
  auto existing = list(domain);
  if (!existing) return std::unexpected(existing.error());
  const auto found = std::find_if(existing->begin(), existing->end(),
                                  [&](const DkimKeyEntry& e) { return e.selector == selector; });
  if (found == existing->end()) return permanent_error("no key " + selector + " for " + domain);
  const auto path = key_path(*found);
  existing->erase(found);
  if (auto written = write_entries(domain, *existing); !written) return written;
  std::error_code ec;
  std::filesystem::remove(path, ec);
  if (ec) return permanent_error("cannot remove " + path.string() + ": " + ec.message());
  return {};
}

Result<DkimPrivateKey> DkimKeyStore::load_key(const DkimKeyEntry& entry) const {
  const auto path = key_path(entry);
  std::ifstream in(path, std::ios::binary);
  if (!in) return permanent_error("cannot read " + path.string());
  std::ostringstream pem;
  pem << in.rdbuf();
  auto key = DkimPrivateKey::from_pem(pem.str());
  if (!key) return permanent_error(path.string() + ": " + key.error().message);
  if (key->type() != entry.type) return permanent_error(path.string() + ": not a " + std::string(key_type_name(entry.type)) + " key");
  return key;
}

Result<DkimSigner> DkimKeyStore::load_signer() const {
  DkimSigner signer;
  auto entries = list();
  if (!entries) return std::unexpected(entries.error());
  for (const auto& entry : *entries) {
    if (entry.state != DkimKeyState::active) continue;
    auto key = load_key(entry);
    if (!key) return std::unexpected(key.error());
    signer.add_key(entry.domain, entry.selector, std::move(*key));
  }
  return signer;
}

}  // namespace postamt::mailauth
