#include "queue/destination_delivery.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <charconv>

#include "queue/deadline.hpp"
#include "queue/destination_address.hpp"

namespace postamt::queue {
namespace {

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);
// A server that keeps closing the connection after a few messages cannot make one
// attempt loop forever.
constexpr int kMaxConnectionsPerHost = 16;

struct Host {
  std::string name;
  std::uint16_t port = 25;
};

void settle(std::vector<RecipientOutcome>& out, const std::vector<storage::QueueMessage>& messages,
            Verdict verdict, const std::string& diagnostic, const std::string& status) {
  for (const auto& message : messages) {
    for (const auto& recipient : message.recipients) {
      RecipientOutcome outcome;
      outcome.message_id = message.id;
      outcome.recipient_id = recipient.id;
      outcome.verdict = verdict;
      outcome.diagnostic = diagnostic;
      outcome.status = status;
      out.push_back(std::move(outcome));
    }
  }
}

std::string endpoint_text(const asio::ip::address& address, std::uint16_t port) {
  return address.is_v6() ? "[" + address.to_string() + "]:" + std::to_string(port)
                         : address.to_string() + ":" + std::to_string(port);
}

// RFC 3463 / RFC 7505 status for a DNS failure.
std::string dns_status(const dns::DnsError& error) {
  switch (error.failure) {
    case dns::DnsFailure::null_mx: return "5.1.10";       // RFC 7505 §4.2
    case dns::DnsFailure::no_such_domain:
    case dns::DnsFailure::bad_name: return "5.1.2";       // bad destination system address
    default: return "4.4.3";                              // directory server failure
  }
}

}  // namespace

std::vector<dns::MxHost> hosts_beyond_self(std::vector<dns::MxHost> hosts, std::string_view own_hostname) {
  const std::string own = dns::normalize_host_name(own_hostname);
  const auto self = std::ranges::find(hosts, own, &dns::MxHost::host);
  if (self == hosts.end() || own.empty()) return hosts;
  const std::uint16_t own_preference = self->preference;
  std::erase_if(hosts, [&](const dns::MxHost& host) { return host.preference >= own_preference; });
  return hosts;
}

std::optional<RelayHost> parse_relayhost(std::string_view text) {
  RelayHost relay;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    relay.host = std::string(text.substr(1, close - 1));
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) return std::nullopt;
      port_text = rest.substr(1);
    }
  } else {
    const auto colon = text.rfind(':');
    relay.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) port_text = text.substr(colon + 1);
  }
  if (relay.host.empty()) return std::nullopt;
  if (!port_text.empty()) {
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
      return std::nullopt;
    }
    relay.port = static_cast<std::uint16_t>(port);
  }
  return relay;
}

asio::awaitable<std::vector<RecipientOutcome>> deliver_to_destination(dns::Resolver& resolver,
                                                                      const DestinationSettings& settings,
                                                                      DeliveryJob job,
                                                                      const ContentLoader& load_content) {
  std::vector<RecipientOutcome> outcomes;
  std::vector<Host> hosts;
  if (settings.relayhost) {
    hosts.push_back({settings.relayhost->host, settings.relayhost->port});
  } else {
    auto mx = co_await resolver.lookup_mx(job.domain);
    if (!mx) {
      settle(outcomes, job.messages, mx.error().permanent() ? Verdict::permanent : Verdict::temporary,
             mx.error().message, dns_status(mx.error()));
      co_return outcomes;
    }
    const std::vector<dns::MxHost> beyond_self = hosts_beyond_self(std::move(*mx), settings.client.hostname);
    if (beyond_self.empty()) {
      // RFC 5321 §5.1 / RFC 3463 X.4.6: the best route for this domain is this server,
      // which does not take mail for it: a routing loop.
      settle(outcomes, job.messages, Verdict::permanent,
             "mail for " + job.domain + " loops back to myself (" + settings.client.hostname + " is its MX)",
             "5.4.6");
      co_return outcomes;
    }
    for (const auto& host : beyond_self) hosts.push_back({host.host, settings.mx_port});
  }

  auto executor = co_await asio::this_coro::executor;
  std::vector<storage::QueueMessage> pending = std::move(job.messages);
  std::string last_failure = "no mail exchanger could be reached";
  std::string last_status = "4.4.1";  // no answer from host
  // RFC 5321 §5.1: when no host has an address (their names do not exist, or exist
  // without A/AAAA records), the domain cannot be reached now or later: that is an
  // error to report, not to retry. One temporary DNS failure keeps it temporary, and so
  // does a relay host that does not resolve (a local configuration fault).
  bool every_host_unroutable = true;
  for (const Host& host : hosts) {
    std::vector<asio::ip::address> addresses;
    asio::error_code not_literal;
    const auto literal = asio::ip::make_address(host.name, not_literal);
    if (!not_literal) {
      addresses.push_back(literal);
    } else {
      auto found = co_await resolver.lookup_addresses(host.name);
      if (!found) {
        last_failure = found.error().message;
        last_status = "4.4.3";
        if (found.error().temporary()) every_host_unroutable = false;
        continue;
      }
      if (found->empty()) {
        last_failure = host.name + ": no address records";
        last_status = "4.4.3";
        continue;
      }
      addresses = std::move(*found);
    }
    every_host_unroutable = false;
    if (!settings.relayhost && !settings.allow_private_destinations) {
      // A domain's MX must lead to the Internet, not back into this host or its network.
      std::erase_if(addresses, [&](const asio::ip::address& address) {
        const auto kind = non_public_kind(address);
        if (!kind) return false;
        last_failure = host.name + "[" + address.to_string() + "] is a " + std::string(*kind) +
                       " address, not a public destination (outbound.allow_private_destinations is off)";
        last_status = "4.4.4";  // unable to route; the DNS may change
        return true;
      });
    }

    for (const auto& address : addresses) {
      const asio::ip::tcp::endpoint endpoint(address, host.port);
      proto::smtp::TlsPolicy tls = settings.client.tls;
      for (int connection = 0; connection < kMaxConnectionsPerHost && !pending.empty(); ++connection) {
        asio::ip::tcp::socket socket(executor);
        Deadline deadline(executor, [&socket] {
          asio::error_code ignored;  // closing aborts the connect; its error is what counts
          socket.close(ignored);
        });
        deadline.arm(settings.connect_timeout);
        auto [ec] = co_await socket.async_connect(endpoint, kUseTuple);
        deadline.disarm();
        if (ec) {
          last_failure = "connect to " + host.name + "[" + endpoint_text(address, host.port) + "]: " +
                         (deadline.expired() ? std::string("timed out") : ec.message());
          last_status = "4.4.1";
          break;  // next address
        }
        net::Stream stream(std::move(socket), settings.tls_client);
        TransferSettings transfer;
        transfer.client = settings.client;
        transfer.client.tls = tls;
        transfer.server_name = host.name;
        transfer.tls_failure_note = settings.tls_failure_note;
        transfer.reply_timeout = settings.reply_timeout;
        transfer.max_messages = settings.max_messages_per_connection;
        transfer.more_messages = settings.more_messages;
        transfer.record = settings.record;
        TransferResult result = co_await transfer_messages(stream, transfer, std::move(pending), load_content);
        for (auto& outcome : result.outcomes) outcomes.push_back(std::move(outcome));
        pending = std::move(result.unfinished);
        if (result.tls_handshake_failed && tls == proto::smtp::TlsPolicy::opportunistic) {
          // RFC 7435 §3: opportunistic TLS that fails falls back to the clear rather than
          // not delivering at all; the same host is asked again without STARTTLS.
          last_failure = result.failure;
          tls = proto::smtp::TlsPolicy::none;
          continue;
        }
        if (!result.failure.empty()) {
          last_failure = result.failure;
          last_status = "4.4.2";  // bad connection
          break;  // the next address or host may do better
        }
        // Ended with QUIT but messages left: the per-connection limit; connect again.
      }
      if (pending.empty()) co_return outcomes;
    }
  }
  if (every_host_unroutable && !hosts.empty() && !settings.relayhost) {
    settle(outcomes, pending, Verdict::permanent, "no address for any mail exchanger: " + last_failure, "5.4.4");
    co_return outcomes;
  }
  settle(outcomes, pending, Verdict::temporary, last_failure, last_status);
  co_return outcomes;
}

}  // namespace postamt::queue
