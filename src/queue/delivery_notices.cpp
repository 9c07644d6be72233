#include "queue/delivery_notices.hpp"

#include "auth/address.hpp"
#include "base/log.hpp"
#include "delivery/message_preparer.hpp"
#include "delivery/recipient_resolver.hpp"
#include "delivery/trace_headers.hpp"
#include "mailauth/dkim_signing_service.hpp"
#include "queue/notice_report.hpp"

namespace postamt::queue {

bool notice_wanted(const storage::QueueRecipient& recipient, NoticeAction action) {
  const std::string_view notify = recipient.notify;
  // RFC 3461 §4.1: without NOTIFY, a failure is reported and a success is not.
  if (notify.empty()) return action == NoticeAction::failed;
  if (notify.find("NEVER") != std::string_view::npos) return false;
  return notify.find(action == NoticeAction::failed ? "FAILURE" : "SUCCESS") != std::string_view::npos;
}

DeliveryNotices::DeliveryNotices(std::string hostname, storage::MailStore& store, storage::BlobStore& blobs,
                                 delivery::GroupCommitter& committer, std::uint64_t max_returned_size,
                                 const mailauth::DkimSigningService* dkim)
    : hostname_(std::move(hostname)),
      store_(store),
      blobs_(blobs),
      committer_(committer),
      max_returned_size_(max_returned_size),
      dkim_(dkim) {}

storage::StoreResult<void> DeliveryNotices::send(const storage::QueueMessage& message,
                                                 std::span<const NoticeEntry> entries, storage::UnixTime now) {
  // RFC 5321 §6.1 / RFC 3461 §6.2: never a notice about a notice.
  if (message.sender.empty() || entries.empty()) return {};

  auto original = blobs_.read(message.blob_id);
  if (!original) {
    // The notice still goes out, without the original it cannot quote.
    log::warn("queue.notice_without_original", {{"queue_id", message.id}, {"error", original.error().message}});
  }
  const std::string report =
      compose_notice(NoticeInput{hostname_, message, entries, original ? std::string_view(*original) : std::string_view(),
                                 max_returned_size_, now});

  auto sender = auth::normalize_address(message.sender);
  if (!sender) {
    log::warn("queue.notice_undeliverable", {{"queue_id", message.id}, {"sender", message.sender}, {"why", sender.error()}});
    return {};
  }
  delivery::RecipientResolver resolver(store_);
  auto resolution = resolver.resolve(*sender);
  if (!resolution) return std::unexpected(resolution.error());
  using Kind = delivery::Resolution::Kind;
  if (resolution->kind == Kind::unknown_user || resolution->kind == Kind::loop) {
    // A forged or deleted local sender: nobody can receive the notice. Dropping it is
    // what RFC 5321 §6.2 leaves as the only choice for undeliverable notices.
    log::warn("queue.notice_undeliverable", {{"queue_id", message.id}, {"sender", *sender}, {"why", "no such local user"}});
    return {};
  }

  delivery::IncomingMessage notice;
  notice.reverse_path = "";  // the null sender: a notice is never answered by a notice
  notice.received_at = static_cast<std::time_t>(now);
  // Trace fields of the final delivery (RFC 5321 §4.4): the notice was made here, so the
  // Received field has only "by".
  notice.content = "Return-Path: <>\r\nReceived: by " + hostname_ + " (Postamt) id notice-" +
                   std::to_string(message.id) + ";\r\n\t" + delivery::rfc5322_date(static_cast<std::time_t>(now)) +
                   "\r\n";
  // Issue 14 §1: mail Postamt originates is signed too (From MAILER-DAEMON@hostname:
  // the keys of the hostname's domain or its nearest parent with keys).
  if (dkim_) notice.content += dkim_->sign(report, hostname_);
  notice.content += report;
  notice.recipients.push_back(delivery::IncomingRecipient{*sender, std::move(*resolution), "", ""});
  delivery::MessagePreparer preparer(store_, blobs_, committer_.blob_durability());
  auto item = preparer.prepare(notice);
  if (!item) return std::unexpected(item.error());
  auto committed = committer_.commit_blocking(std::move(*item));
  if (!committed) return std::unexpected(committed.error());
  log::info("queue.notice_sent", {{"queue_id", message.id}, {"to", *sender}, {"recipients", entries.size()}});
  return {};
}

}  // namespace postamt::queue
