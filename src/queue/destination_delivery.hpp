#pragma once
// One delivery attempt for one destination (RFC 5321 §5.1): find the hosts (the MX hosts
// of the recipient domain in preference order, or the relay host), try their addresses
// in turn (IPv6 first), and carry the messages over the first connection that works. A
// host that cannot be reached or breaks off leaves its messages to the next one; what no
// host took is a temporary failure, retried later.
#include <asio/awaitable.hpp>
#include <asio/ssl/context.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dns/resolver.hpp"
#include "queue/attempt_outcome.hpp"
#include "queue/destination.hpp"
#include "queue/smtp_transfer.hpp"

namespace postamt::queue {

struct RelayHost {
  std::string host;  // DNS name or IP literal (without brackets)
  std::uint16_t port = 25;
};

// RFC 5321 §5.1: when our own host name is among the MX hosts, it and every less
// preferred host are dropped (we are the best route left). Empty: the mail would loop.
std::vector<dns::MxHost> hosts_beyond_self(std::vector<dns::MxHost> hosts, std::string_view own_hostname);

// "host:port", "[v6]:port", "host" (port 25). Empty on a malformed value.
std::optional<RelayHost> parse_relayhost(std::string_view text);

struct DestinationSettings {
  proto::smtp::ClientOptions client;  // TLS policy and credentials for this destination;
                                      // client.hostname is ours (RFC 5321 §5.1 self-MX check)
  std::uint16_t mx_port = 25;
  std::optional<RelayHost> relayhost;
  std::chrono::seconds connect_timeout{30};
  std::chrono::seconds reply_timeout{300};
  std::size_t max_messages_per_connection = 100;
  std::shared_ptr<asio::ssl::context> tls_client;  // for STARTTLS
  // Said after a failed STARTTLS handshake, e.g. that the relay host's certificate was
  // not trusted and the credentials were kept.
  std::string tls_failure_note;
  // MX addresses that are not public (destination_address.hpp) are refused unless set.
  bool allow_private_destinations = false;
  MoreMessages more_messages;  // connection reuse; may be empty
  OutcomeSink record;          // outcomes of finished messages, early; may be empty
};

// Outcomes for every recipient of every message in the job (and of the messages
// more_messages added) that were not handed to settings.record already.
asio::awaitable<std::vector<RecipientOutcome>> deliver_to_destination(dns::Resolver& resolver,
                                                                      const DestinationSettings& settings,
                                                                      DeliveryJob job,
                                                                      const ContentLoader& load_content);

}  // namespace postamt::queue
