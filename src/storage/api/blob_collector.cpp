#include "storage/api/blob_collector.hpp"

#include <openssl/evp.h>

#include <map>
#include <memory>
#include <set>

namespace postamt::storage {
namespace {

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

}  // namespace

StoreResult<CollectResult> collect_blobs(MailStore& store, BlobStore& blobs) {
  CollectResult result;
  auto unreferenced = store.unreferenced_blobs();
  if (!unreferenced) return std::unexpected(unreferenced.error());
  std::vector<std::string> forgotten;
  for (const auto& id : *unreferenced) {
    auto removed = blobs.remove(id);
    if (!removed && removed.error().code != StorageError::Code::not_found) return std::unexpected(removed.error());
    forgotten.push_back(id);
    ++result.removed_unreferenced;
  }
  if (!forgotten.empty()) {
    if (auto ok = store.forget_blobs(forgotten); !ok) return std::unexpected(ok.error());
  }
  auto files = blobs.list();
  if (!files) return std::unexpected(files.error());
  for (const auto& id : *files) {
    auto known = store.blob_known(id);
    if (!known) return std::unexpected(known.error());
    if (*known) continue;
    if (auto removed = blobs.remove(id); !removed) return std::unexpected(removed.error());
    ++result.removed_orphans;
  }
  return result;
}

StoreResult<ConsistencyReport> check_consistency(MailStore& store, BlobStore& blobs) {
  ConsistencyReport report;
  std::map<std::string, std::uint64_t> referenced;  // blob id -> recorded size
  auto note = [&](const std::string& id, std::uint64_t size, const std::string& where) {
    auto [it, inserted] = referenced.emplace(id, size);
    if (!inserted && it->second != size) {
      report.problems.push_back(where + " records size " + std::to_string(size) + " for blob " + id +
                                " but another row records " + std::to_string(it->second));
    }
  };

  auto accounts = store.list_accounts();
  if (!accounts) return std::unexpected(accounts.error());
  for (const auto& account : *accounts) {
    auto mailboxes = store.list_mailboxes(account.id);
    if (!mailboxes) return std::unexpected(mailboxes.error());
    for (const auto& mailbox : *mailboxes) {
      auto messages = store.list_messages(mailbox.id);
      if (!messages) return std::unexpected(messages.error());
      for (const auto& message : *messages) {
        ++report.messages;
        note(message.blob_id, message.size,
             account.address + "/" + mailbox.name + " UID " + std::to_string(message.uid));
      }
    }
  }
  auto queue = store.list_queue();
  if (!queue) return std::unexpected(queue.error());
  for (const auto& message : *queue) {
    ++report.queued;
    note(message.blob_id, message.size, "queue entry " + std::to_string(message.id));
  }

  for (const auto& [id, size] : referenced) {
    auto content = blobs.read(id);
    if (!content) {
      report.problems.push_back("blob " + id + " is referenced but cannot be read: " + content.error().message);
      continue;
    }
    if (content->size() != size) {
      report.problems.push_back("blob " + id + " holds " + std::to_string(content->size()) +
                                " octets, the index says " + std::to_string(size));
    }
    if (sha256_hex(*content) != id) report.problems.push_back("blob " + id + " does not match its hash");
  }
  auto files = blobs.list();
  if (!files) return std::unexpected(files.error());
  report.blob_files = files->size();
  for (const auto& id : *files) {
    if (!referenced.contains(id)) report.problems.push_back("blob file " + id + " is not referenced");
  }
  return report;
}

}  // namespace postamt::storage
