#pragma once
// ImapSession: one IMAP connection (RFC 9051 with IMAP4rev1 behaviour for clients that do
// not ENABLE IMAP4rev2). Internal to imap/: the class is split over session_*.cpp files by
// topic — the command loop and authentication (session.cpp), mailbox commands
// (session_mailboxes.cpp), message commands of the selected state (session_messages.cpp),
// SORT and THREAD (session_sort.cpp) and IDLE (session_idle.cpp).
//
// The wire is framed by proto::imap::CommandReader and parsed by proto::imap::parse_command
// (sans-I/O); this class decides, talks to the store on the blocking pool, and writes.
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "imap/append_spool.hpp"
#include "imap/change_signal.hpp"
#include "imap/message/fetch_renderer.hpp"
#include "imap/imap_service_state.hpp"
#include "imap/selected_mailbox.hpp"
#include "proto/imap/command_reader.hpp"
#include "proto/imap/commands.hpp"
#include "proto/sasl/server_exchange.hpp"

namespace postamt::net {
class Connection;
}

namespace postamt::imap {

asio::awaitable<void> run_imap_session(std::shared_ptr<net::Connection> connection,
                                       std::shared_ptr<ImapServiceState> state, bool tls_available);

class ImapSession {
 public:
  ImapSession(std::shared_ptr<net::Connection> connection, std::shared_ptr<ImapServiceState> state,
              bool tls_available);
  ~ImapSession();
  ImapSession(const ImapSession&) = delete;
  ImapSession& operator=(const ImapSession&) = delete;

  asio::awaitable<void> run();

 private:
  enum class State { not_authenticated, authenticated, selected, logout };
  using Tag = std::string;

  // --- session.cpp: loop, replies, authentication, simple commands
  asio::awaitable<void> on_command(proto::imap::Command&& framed);
  asio::awaitable<void> run_command(proto::imap::Command&& framed);
  void spool_literal(std::string_view bytes);
  // Forgets the spilled literal of the current command (it ended or was refused).
  void drop_spooled_literal();
  proto::imap::ReaderLimits reader_limits(bool authenticated) const;
  asio::awaitable<void> dispatch(const Tag& tag, proto::imap::AnyCommand& command);
  bool on_continuation_request(const proto::imap::NeedContinuation& need);
  asio::awaitable<void> on_reader_error(const proto::imap::ReaderError& error);
  void report_highest_modseq(const Tag& tag);
  asio::awaitable<bool> flush();
  void ok(const Tag& tag, std::string_view text);
  void no(const Tag& tag, std::string_view text);
  void bad(const Tag& tag, std::string_view text);
  void untagged(std::string_view text);
  std::string capabilities() const;
  bool utf8_names() const { return utf8_accept_ || imap4rev2_; }
  ViewOptions view_options() const;
  std::uint64_t sid() const;

  asio::awaitable<void> handle(const Tag& tag, proto::imap::CapabilityCommand&);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::NoopCommand&);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::CheckCommand&);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::LogoutCommand&);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::StartTlsCommand&);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::LoginCommand& command);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::AuthenticateCommand& command);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::EnableCommand& command);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::IdCommand& command);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::CompressCommand& command);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::NamespaceCommand&);
  asio::awaitable<void> check_credentials(const Tag& tag, const std::string& authzid,
                                          const std::string& authcid, const std::string& password);
  asio::awaitable<std::optional<std::string>> read_sasl_line();

  // --- session_mailboxes.cpp
  asio::awaitable<void> handle(const Tag& tag, proto::imap::SelectCommand& command);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::CreateCommand& command);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::DeleteCommand& command);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::RenameCommand& command);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::SubscribeCommand& command);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::ListCommand& command);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::StatusCommand& command);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::AppendCommand& command);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::GetQuotaCommand& command);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::GetQuotaRootCommand& command);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::SetQuotaCommand& command);
  // The client's mailbox name in the store's form (UTF-8), or a reason for NO/BAD.
  std::expected<std::string, std::string> mailbox_from_client(const std::string& raw) const;
  void append_mailbox_name(std::string& out, const std::string& name) const;
  void append_status(std::string& out, const storage::MailboxStatus& status,
                     const std::vector<proto::imap::StatusItem>& items) const;
  void store_failure(const Tag& tag, const storage::StorageError& error, std::string_view what);
  void deselect();

  // --- session_messages.cpp
  asio::awaitable<void> handle(const Tag& tag, proto::imap::FetchCommand& command);
  asio::awaitable<std::expected<void, FetchError>> write_fetch_response(
      const FetchSource& source, std::span<const proto::imap::FetchAttribute> attributes,
      const FetchOptions& options);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::StoreCommand& command);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::SearchCommand& command);
  struct SearchHits {
    std::vector<std::uint32_t> sequence_numbers;  // ascending
    std::uint64_t highest_modseq = 0;             // among them
  };
  asio::awaitable<std::optional<SearchHits>> search_hits(const Tag& tag,
                                                         const proto::imap::SearchKey& key,
                                                         std::string_view verb);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::CopyCommand& command);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::ExpungeCommand&);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::UidExpungeCommand& command);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::CloseCommand&);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::UnselectCommand&);
  // Expunges the \Deleted messages among `candidates` (sequence numbers); announces them
  // unless `silent` (CLOSE). False when the store failed (reply already queued).
  asio::awaitable<bool> expunge_deleted(const Tag& tag, const std::vector<std::uint32_t>& candidates,
                                        bool silent);
  // Reads other sessions' changes from the store and announces them (RFC 9051 §7.5.1:
  // only where EXPUNGE may be sent).
  asio::awaitable<void> synchronize(bool force);

  // --- session_idle.cpp
  asio::awaitable<void> handle(const Tag& tag, proto::imap::IdleCommand&);

  // --- session_sort.cpp: SORT and THREAD (RFC 5256, ESORT RFC 5267, RFC 5957)
  asio::awaitable<void> handle(const Tag& tag, proto::imap::SortCommand& command);
  asio::awaitable<void> handle(const Tag& tag, proto::imap::ThreadCommand& command);
  asio::awaitable<void> idle_notifier(bool* running);

  std::shared_ptr<net::Connection> connection_;
  std::shared_ptr<ImapServiceState> state_;
  bool tls_available_;
  proto::imap::CommandReader reader_;
  std::optional<AppendSpool> spool_;  // the big APPEND literal of the command being read
  std::string spool_error_;           // why it could not be spooled
  State state_kind_ = State::not_authenticated;
  std::string out_;
  std::string tagged_;  // the tagged reply of the command in progress, sent after updates
  int errors_in_a_row_ = 0;
  bool broken_ = false;

  std::optional<storage::AccountRecord> account_;
  bool imap4rev2_ = false;
  bool condstore_ = false;
  bool qresync_ = false;
  bool utf8_accept_ = false;

  std::optional<SelectedMailbox> selected_;
  std::shared_ptr<ChangeSignal> signal_;
  std::optional<std::vector<std::uint32_t>> saved_search_;  // SEARCHRES "$", UIDs ascending
  bool idle_notifier_running_ = false;
  std::unique_ptr<asio::steady_timer> idle_notifier_done_;
};

}  // namespace postamt::imap
