#pragma once
// The validated server configuration as plain values. Parsing and validation of the TOML
// file live in server/config/config_loader.*; nothing here knows about TOML.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace postamt {

enum class Protocol { smtp, submission, submissions, imap, imaps, pop3, pop3s, http };

// "smtp", "submission", ... as written in the config file and the ports file.
std::string_view protocol_name(Protocol protocol);
std::optional<Protocol> protocol_from_name(std::string_view name);
// Whether the listener starts TLS right after accept (submissions, imaps, pop3s).
bool protocol_uses_implicit_tls(Protocol protocol);

enum class LogLevel { trace, debug, info, warn, error };

struct ListenerConfig {
  Protocol protocol = Protocol::smtp;
  std::string host;            // literal IPv4 or IPv6 address (without brackets)
  std::uint16_t port = 0;      // 0: pick any free port
  std::string address() const; // "host:port", IPv6 in brackets
};

struct ServerConfig {
  std::string hostname = "localhost";
  std::filesystem::path data_dir = "data";
  std::optional<std::filesystem::path> ports_file;
  std::optional<std::string> user;  // drop to this user after binding, when started as root
  unsigned io_threads = 0;          // 0: one per core
  unsigned storage_threads = 2;     // blocking pool for SQLite and password hashing
  std::chrono::seconds shutdown_grace{5};
};

struct TlsConfig {
  std::filesystem::path cert = "tls/cert.pem";
  std::filesystem::path key = "tls/key.pem";
  bool self_signed = false;
  std::string min_version = "1.2";  // "1.2" or "1.3"
  // OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are OpenSSL's defaults).
  std::string ciphers =
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
};

struct AuthConfig {
  bool allow_plaintext_without_tls = false;
  // Distinct failed passwords from one IPv4 address or IPv6 network (ipv6_prefix bits)
  // within `lockout`, then it is refused for `lockout`. Trusted networks never are.
  unsigned max_failures_per_ip = 10;
  std::chrono::seconds lockout{300};
  unsigned ipv6_prefix = 64;
  std::vector<std::string> trusted_networks;  // CIDR
  std::chrono::milliseconds failure_delay{1000};
  // An account with this many distinct failures within `lockout` makes every attempt on it
  // wait, from account_delay doubling up to max_account_delay (never a lock).
  unsigned account_delay_after = 3;
  std::chrono::milliseconds account_delay{1000};
  std::chrono::milliseconds max_account_delay{15000};
  // Verified-credential cache (a password checked against the same stored hash).
  std::chrono::seconds cache_ttl{300};  // 0: no cache
  unsigned cache_size = 10000;
  // Password hashing pool: threads, and logins hashing or queued beyond which a login
  // fails temporarily.
  unsigned hash_threads = 2;
  unsigned hash_queue = 64;
};

struct DnsConfig {
  std::vector<std::string> servers;  // "ip" or "ip:port"; empty: the system resolver
  std::chrono::seconds timeout{5};
};

// STARTTLS use when delivering to other servers (RFC 3207; RFC 7435 opportunistic).
enum class OutboundTls { none, opportunistic, required };

struct OutboundConfig {
  std::uint16_t mx_port = 25;
  std::string relayhost;  // "host:port" or empty
  std::string relayhost_user;      // AUTH PLAIN to the relay host when set
  std::string relayhost_password;
  // The relay host's certificate is verified (its name, against the system CA store or
  // this file, or the pinned SHA-256 fingerprint: 64 lower-case hex digits) whenever
  // credentials are set or either of these is; credentials never go out otherwise.
  std::optional<std::filesystem::path> relayhost_ca_file;
  std::string relayhost_tls_fingerprint;
  // MX addresses that are loopback, private, link-local... are refused unless this is set.
  bool allow_private_destinations = false;
  // Retries: the first after retry_initial, each later one twice as long, at most
  // retry_max; after max_queue_lifetime a recipient is bounced.
  std::chrono::seconds retry_initial{60};
  std::chrono::seconds retry_max{4 * 3600};
  std::chrono::seconds max_queue_lifetime{5 * 24 * 3600};
  // How often the scheduler rereads the queue (operator changes, retries that fell due).
  std::chrono::seconds queue_scan_interval{5};
  std::chrono::seconds connect_timeout{30};
  std::chrono::seconds command_timeout{300};  // RFC 5321 §4.5.3.2: 5 minutes per reply
  unsigned max_connections = 100;
  unsigned max_connections_per_domain = 10;
  unsigned max_messages_per_connection = 100;
  OutboundTls tls = OutboundTls::opportunistic;
  std::map<std::string, OutboundTls> tls_policy;  // per recipient domain (lower case)
};

struct SmtpConfig {
  std::uint64_t max_message_size = 50ull * 1024 * 1024;
  unsigned max_recipients = 100;
  std::vector<std::string> relay_networks;  // CIDR, e.g. "127.0.0.0/8"
  std::size_t max_text_line = 1000;  // message line limit incl. CRLF (RFC 5322 §2.1.1: 998 + 2)
  // Submission: MAIL FROM must be the authenticated account or an alias delivering to it.
  bool enforce_sender = true;
  // Take a bare CR or LF in message data as CRLF instead of refusing the message.
  bool normalize_bare_line_endings = false;
  // Submission: every From header address must be the account's (as for MAIL FROM).
  bool enforce_from_header = true;
  // Submission: MAIL FROM:<> (a bounce) from an authenticated client.
  bool allow_null_sender_submission = false;
  // [smtp.send_as]: account = ["domain", ...] it may send as any address of.
  std::map<std::string, std::vector<std::string>> send_as;
  // Message octets a session keeps in memory before it streams them to a spool file.
  std::size_t spool_memory_limit = 256 * 1024;
  // Slow clients: a command line must be complete this long after its first octet...
  std::chrono::seconds command_timeout{60};
  // ...and a message's data within data_timeout, at most command_timeout plus one second
  // per data_min_rate octets received (octets/second; 0: only data_timeout).
  std::chrono::seconds data_timeout{1800};
  std::uint64_t data_min_rate = 1024;
};

// [mailauth]: sender authentication of mail that other servers send (issue 14): SPF,
// DKIM, DMARC, the Authentication-Results field, and what a failure leads to.
enum class DmarcMode { rfc9989, rfc7489 };

struct MailauthDomainPolicy {  // [mailauth.domain."example.com"]: for that local domain's recipients
  bool dmarc_reject = true;
  bool dmarc_quarantine = true;
  bool spf_fail_reject = false;
};

struct MailauthConfig {
  // Check mail arriving on the `smtp` listener. Submission, relay_networks and
  // authenticated clients are not checked (their mail is ours to sign).
  bool verify = true;
  // The defaults of MailauthDomainPolicy, for recipients without a table of their own:
  // DMARC p=reject failures refused (550 5.7.1; false: delivered to Junk), p=quarantine
  // failures delivered to Junk (false: to the inbox), and an SPF "fail" without a DKIM pass
  // refused (550 5.7.23) only when asked.
  MailauthDomainPolicy policy;
  std::map<std::string, MailauthDomainPolicy> domains;
  DmarcMode dmarc_mode = DmarcMode::rfc9989;
  // Never refused or moved to Junk by these checks: client networks (CIDR) and sender
  // domains (the From domain, or the MAIL FROM domain); the results are still recorded.
  std::vector<std::string> allow_networks;
  std::vector<std::string> allow_domains;
  // ARC sealers (d= of an ARC-Seal) whose valid chain may override a DMARC failure.
  std::vector<std::string> trusted_arc_sealers;
  // DMARC aggregate reports (RFC 7489 §7.2): sent once a day, at report_hour (UTC), to the
  // rua of every domain whose mail was evaluated; from report_from ("": postmaster@ the
  // server's hostname), which is also report_metadata/email.
  bool send_reports = true;
  int report_hour = 1;
  std::string report_from;
};

// [filter.rspamd]: rspamd over its HTTP protocol (issue 15 §2).
struct RspamdConfig {
  std::string url;             // "http://127.0.0.1:11333"; empty: not used
  std::string controller_url;  // for learning from Junk moves; empty: url's host, port 11334
  std::string password;        // the controller's password, when it has one
  std::chrono::seconds timeout{10};
  bool fail_closed = false;    // unreachable or timed out: 451 instead of delivering unchecked
};

// [[filter.milter]]: one Sendmail milter (issue 15 §3); they run in the order given.
struct MilterConfig {
  std::string name;
  std::string address;  // "inet:127.0.0.1:8891", "inet6:[::1]:8891" or "unix:/run/milter.sock"
  std::chrono::seconds timeout{30};
  bool fail_closed = false;
};

// One DNS block list or allow list zone (issue 15 §4).
struct DnsListConfig {
  std::string zone;
  double weight = 1.0;  // block lists: + (default 1), allow lists: - (default -10)
  // The A answers that count ("127.0.0.2"); empty: any 127.0.0.0/8 answer except the
  // 127.255.255.x a list uses to say it refuses the query.
  std::vector<std::string> answers;
};

// What a built-in check's failure leads to.
enum class CheckMode { off, junk, reject };

// [filter]: the SMTP-time checks of mail arriving on the `smtp` listener (not submission,
// relay_networks or authenticated clients).
struct FilterConfig {
  std::size_t max_message_size = 10 * 1024 * 1024;  // larger messages skip rspamd and milters
  RspamdConfig rspamd;
  std::vector<MilterConfig> milters;
  std::vector<DnsListConfig> dnsbl;
  std::vector<DnsListConfig> dnswl;
  // The listed zones' weights add up: at dnsbl_reject_score or more the message is
  // refused (550 5.7.1 naming the lists), above 0 and below it it goes to Junk.
  double dnsbl_reject_score = 1.0;
  // A client without forward-confirmed reverse DNS: Junk, or refused (550 5.7.25; a DNS
  // failure 451 4.7.25).
  CheckMode reverse_dns = CheckMode::off;
  // A HELO name that is not a domain or address literal, or names another address: Junk;
  // one that claims to be this server: Junk, or refused with "reject".
  CheckMode helo = CheckMode::off;
  // Greylisting (RFC 6647): off by default.
  bool greylist = false;
  std::chrono::seconds greylist_delay{300};
  // Messages one client address may hand in per hour on port 25 (0: no limit); beyond it
  // 451 4.7.1 until the hour has passed.
  unsigned max_messages_per_ip_per_hour = 0;
  // The greeting on port 25 waits this long; a client that sends anything meanwhile is
  // refused (554) and disconnected (0: greet at once).
  std::chrono::milliseconds greet_pause{0};
  // The built-in classifier: learns from messages moved into and out of Junk and, once
  // trained, sends what looks like the account's spam to Junk (never refuses).
  bool classifier = true;
};

struct LimitsConfig {
  unsigned max_connections = 10000;
  unsigned max_connections_per_ip = 100;
  std::chrono::seconds idle_timeout{300};
  std::size_t max_line_length = 8192;  // protocol command lines; protocols may lower it
  // Free space on the data directory's file system below which new mail is refused
  // (SMTP 452 4.3.1, APPEND NO [OVERQUOTA]); 0 turns the check off.
  std::uint64_t min_free_disk_mb = 512;
  // Slow clients (net::Connection's command clock): a command, literal or message body
  // must arrive within command_timeout of its first byte, plus one second per
  // min_transfer_rate bytes received meanwhile (0: no allowance).
  std::chrono::seconds command_timeout{60};
  std::size_t min_transfer_rate = 1024;
  // IMAP and POP3 close a connection not logged in this long after it opened.
  std::chrono::seconds login_timeout{180};
  // Connections not (yet) authenticated have caps of their own, so idle strangers cannot
  // fill max_connections (SMTP on port 25 never authenticates and counts here).
  unsigned max_unauthenticated_connections = 5000;
  unsigned max_unauthenticated_per_ip = 20;
  // New connections one client address (IPv6: /64) may open per minute, in a burst or
  // spread out (issue 15 §4); trusted networks are exempt. 0: no limit.
  unsigned max_connections_per_ip_per_minute = 0;
};

struct LogConfig {
  LogLevel level = LogLevel::info;
  std::optional<std::filesystem::path> file;  // default: standard error
};

// [outbound_limits] (issue 15 §6): what an authenticated account may send, the signals of
// a stolen account, and the hold that follows a breach. Counts are per account.
struct OutboundAccountLimits {  // [outbound_limits.account."user@example.com"]
  unsigned messages_per_hour = 200;
  unsigned messages_per_day = 1000;
  unsigned recipients_per_day = 2000;
  unsigned new_recipients_per_day = 300;  // addresses the account never wrote to before
};

struct OutboundLimitsConfig {
  bool enabled = true;
  // true: a breach holds the account (queue kept, submissions refused, notices sent);
  // false: only the submission over the limit is refused with 451.
  bool hold_on_breach = true;
  std::string notify;  // postmaster address for hold notices; "": postmaster@server.hostname
  OutboundAccountLimits limits;
  std::map<std::string, OutboundAccountLimits> accounts;  // overrides, by lower-case address
  // Burst: the last hour's messages above max(burst_factor x the account's typical busy
  // hour over the past week, burst_floor).
  unsigned burst_factor = 10;
  unsigned burst_floor = 50;
  // Bounces: in the last 24 hours at least bounce_min recipients bounced and they are at
  // least bounce_percent of the finished ones (0: off).
  unsigned bounce_min = 20;
  unsigned bounce_percent = 30;
  // Logins: successful logins from more than login_networks distinct networks (IPv4 /
  // login_prefix_v4, IPv6 / login_prefix_v6) within login_window (0: off).
  unsigned login_networks = 5;
  std::chrono::seconds login_window{3600};
  unsigned login_prefix_v4 = 24;
  unsigned login_prefix_v6 = 48;
  unsigned known_recipients = 5000;  // correspondents remembered per account (oldest go first)
};

// [security] (issue 15 §7, §8): bans at connect time and the security event stream.
// A threshold of 0 turns that ban reason off.
struct SecurityConfig {
  bool bans = true;
  unsigned ban_auth_failures = 20;     // failed logins (distinct passwords) within window
  unsigned ban_recipient_probes = 20;  // unknown local recipients at RCPT within window
  unsigned ban_protocol_errors = 3;    // sessions closed for too many bad commands within window
  std::chrono::seconds window{600};
  std::chrono::seconds ban_duration{3600};        // the first ban; each repeat doubles it
  std::chrono::seconds max_ban_duration{604800};  // up to this
  unsigned prefix_v4 = 24;  // a network of this size is banned after prefix_factor x a threshold
  unsigned prefix_v6 = 64;  // IPv6 is counted and banned per network of this size
  unsigned prefix_factor = 4;  // 0: no network bans (IPv4)
  std::vector<std::string> trusted_networks;  // CIDR, never banned (nor are auth.trusted_networks)
  unsigned events_retention_days = 30;
  unsigned events_max_rows = 1'000'000;
};

struct Config {
  std::filesystem::path source;  // the file this was read from (absolute)
  ServerConfig server;
  TlsConfig tls;
  AuthConfig auth;
  DnsConfig dns;
  OutboundConfig outbound;
  SmtpConfig smtp;
  MailauthConfig mailauth;
  FilterConfig filter;
  OutboundLimitsConfig outbound_limits;
  SecurityConfig security;
  LimitsConfig limits;
  LogConfig log;
  std::vector<ListenerConfig> listeners;
};

}  // namespace postamt
