#pragma once
// check_spf: RFC 7208 check_host() for one SMTP client, driven over a RecordLookup. Each
// step's questions (proto/mailauth/spf_evaluator.hpp) are asked at once; the check ends
// with the verdict, the explanation and the Received-SPF field.
//
//   mailauth::SpfRequest request;
//   request.client_ip = "192.0.2.1";  request.helo = "mx.example.com";
//   request.mail_from = "alice@example.com";  request.receiver = config.server.hostname;
//   mailauth::SpfOutcome spf = co_await mailauth::check_spf(lookups.for_executor(ex), request);
//   if (spf.result == mailauth::SpfResult::fail) ... "550 5.7.23 " + spf.explanation
//
// Run it on the io_context the lookup belongs to (resolver_record_lookup.hpp).
#include <asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mailauth/record_lookup.hpp"
#include "proto/mailauth/spf_evaluator.hpp"
#include "proto/mailauth/spf_result.hpp"

namespace postamt::mailauth {

struct SpfRequest {
  std::string client_ip;  // "192.0.2.1", "2001:db8::1" (IPv4-mapped IPv6 is taken as IPv4)
  std::string helo;       // the EHLO/HELO argument as the client sent it
  std::string mail_from;  // the reverse-path without <>; empty for the null sender
  // mail_from checks the MAIL FROM identity (with an empty reverse-path: postmaster@HELO,
  // §2.4); helo checks the HELO identity alone (§2.3).
  SpfIdentity identity = SpfIdentity::mail_from;
  std::string receiver;   // our host name: %{r}, and receiver= in Received-SPF
  std::optional<std::uint64_t> timestamp;  // %{t}; default: now
  // The whole check's time (§4.6.4: at least 20 s); past it the result is temperror. Each
  // lookup is bounded by the resolver's own deadline as well.
  std::chrono::milliseconds deadline{20'000};
};

struct SpfOutcome {
  SpfResult result = SpfResult::none;
  SpfIdentity identity = SpfIdentity::mail_from;  // the identity checked
  std::string domain;       // the domain whose policy was checked
  std::string sender;       // <sender> as checked: local-part@domain
  std::string mechanism;    // the term that decided; "default" when none matched
  std::string explanation;  // fail: exp= text (RFC 7208 §6.2) or a default text; else empty
  bool explanation_from_record = false;
  std::string problem;      // temperror/permerror (and none): why, for logs and A-R comments
  std::string received_spf; // the Received-SPF field value (§9.1), one line, no name
  std::size_t dns_questions = 0;  // distinct questions asked (cached ones included)
};

asio::awaitable<SpfOutcome> check_spf(RecordLookup& lookup, SpfRequest request);

// Asks every question at once (concurrent coroutines on the current executor); the answers
// in question order.
asio::awaitable<std::vector<DnsAnswer>> ask_all(RecordLookup& lookup, std::vector<DnsQuestion> questions);

}  // namespace postamt::mailauth
