#include "mailauth/arc_sealer_keys.hpp"

namespace postamt::mailauth {

Result<std::optional<ArcSealer>> load_arc_sealer(const DkimKeyStore& store, const std::string& domain) {
  auto entries = store.list(domain);
  if (!entries) return std::unexpected(entries.error());
  const DkimKeyEntry* chosen = nullptr;
  auto better = [&](const DkimKeyEntry& entry) {
    if (!chosen) return true;
    if ((entry.type == DkimKeyType::rsa) != (chosen->type == DkimKeyType::rsa)) return entry.type == DkimKeyType::rsa;
    return entry.created >= chosen->created;  // the list is sorted by creation: the newest wins
  };
  for (const DkimKeyEntry& entry : *entries) {
    if (entry.domain == domain && entry.state == DkimKeyState::active && better(entry)) chosen = &entry;
  }
  if (!chosen) return std::optional<ArcSealer>{};
  auto key = store.load_key(*chosen);
  if (!key) return std::unexpected(key.error());
  return std::optional<ArcSealer>(ArcSealer(chosen->domain, chosen->selector, std::move(*key)));
}

}  // namespace postamt::mailauth
