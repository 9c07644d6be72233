#include "delivery/trace_headers.hpp"

#include <gtest/gtest.h>

namespace postamt::delivery {
namespace {

TraceInfo base() {
  TraceInfo info;
  info.reverse_path = "alice@example.test";
  info.helo = "client.example.test";
  info.client_ip = "192.0.2.7";
  info.hostname = "mx.example.test";
  info.id = "abc123";
  info.recipients = {"bob@example.test"};
  info.when = 1'795'759'007;  // Fri, 27 Nov 2026 05:56:47 +0000
  return info;
}

TEST(TraceHeaders, ReturnPathAndReceivedForOneRecipient) {
  EXPECT_EQ(trace_headers(base()),
            "Return-Path: <alice@example.test>\r\n"
            "Received: from client.example.test ([192.0.2.7])\r\n"
            "\tby mx.example.test (Postamt) with ESMTP id abc123\r\n"
            "\tfor <bob@example.test>;\r\n"
            "\tFri, 27 Nov 2026 05:56:47 +0000\r\n");
}

TEST(TraceHeaders, TlsAuthAndSeveralRecipients) {
  auto info = base();
  info.reverse_path = "";
  info.tls_version = "TLSv1.3";
  info.tls_cipher = "TLS_AES_256_GCM_SHA384";
  info.auth_user = "alice@example.test";
  info.recipients = {"bob@example.test", "carol@example.test"};
  EXPECT_EQ(trace_headers(info),
            "Return-Path: <>\r\n"
            "Received: from client.example.test ([192.0.2.7])\r\n"
            "\tby mx.example.test (Postamt) with ESMTPSA id abc123\r\n"
            "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n"
            "\t(authenticated as alice@example.test);\r\n"
            "\tFri, 27 Nov 2026 05:56:47 +0000\r\n");
}

TEST(TraceHeaders, ProtocolKeywords) {  // RFC 3848, RFC 6531 §3.7.3
  auto info = base();
  EXPECT_EQ(received_protocol(info), "ESMTP");
  info.tls_version = "TLSv1.2";
  EXPECT_EQ(received_protocol(info), "ESMTPS");
  info.auth_user = "a@b";
  EXPECT_EQ(received_protocol(info), "ESMTPSA");
  info.smtputf8 = true;
  EXPECT_EQ(received_protocol(info), "UTF8SMTPSA");
  info.extended = false;
  EXPECT_EQ(received_protocol(info), "SMTP");
}

TEST(TraceHeaders, HostileHeloCannotForgeHeaders) {
  auto info = base();
  info.helo = "evil\r\nX-Injected: yes (comment)";
  const std::string headers = trace_headers(info);
  EXPECT_EQ(headers.find("X-Injected: yes"), std::string::npos);
  EXPECT_NE(headers.find("from evil??X-Injected:?yes??comment? ("), std::string::npos) << headers;
}

TEST(CountReceivedFields, CountsOnlyHeaderFieldsInAnyCase) {  // RFC 5321 §6.3
  EXPECT_EQ(count_received_fields("Received: a\r\nRECEIVED: b\r\n\tfolded\r\nSubject: x\r\n\r\nReceived: body\r\n"), 2u);
  EXPECT_EQ(count_received_fields("Subject: no trace\r\n\r\n"), 0u);
  EXPECT_EQ(count_received_fields("X-Received: not one\r\nReceived-SPF: neither\r\n\r\n"), 0u);
  EXPECT_EQ(count_received_fields("Received: unterminated"), 1u);
  std::string many;
  for (int i = 0; i < 500; ++i) many += "Received: hop\r\n";
  EXPECT_EQ(count_received_fields(many + "\r\n"), kMaxHops + 1) << "counting stops past the limit";
}

}  // namespace
}  // namespace postamt::delivery
