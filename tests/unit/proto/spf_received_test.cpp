#include "proto/mailauth/spf_received.hpp"

#include <gtest/gtest.h>

namespace postamt::mailauth {
namespace {

SpfInputs inputs(std::string helo, std::string mail_from) {
  SpfInputs in;
  in.ip = *IpAddress::parse("192.0.2.1");
  in.helo = std::move(helo);
  in.mail_from = std::move(mail_from);
  return in;
}

TEST(ReceivedSpf, KeyValuePairsAsRfc7208Section91) {
  SpfVerdict verdict;
  verdict.result = SpfResult::softfail;
  verdict.sender = "alice@example.com";
  verdict.domain = "example.com";
  verdict.mechanism = "~all";
  EXPECT_EQ(received_spf_value(verdict, inputs("mx.example.com", "alice@example.com"), "mail.example.org"),
            "softfail (mail.example.org: domain of transitioning alice@example.com does not designate 192.0.2.1 "
            "as permitted sender) client-ip=192.0.2.1; envelope-from=\"alice@example.com\"; helo=mx.example.com; "
            "receiver=mail.example.org; identity=mailfrom; mechanism=~all");
}

TEST(ReceivedSpf, PeerTextCannotBreakOutOfItsValue) {
  SpfVerdict verdict;
  verdict.result = SpfResult::permerror;
  verdict.identity = SpfIdentity::helo;
  verdict.sender = "postmaster@evil (x)";
  verdict.problem = "bad \"record\"";
  std::string value =
      received_spf_value(verdict, inputs("evil\r\nX-Injected: yes", "a b;c=d\"@x"), "mail.example.org");
  EXPECT_EQ(value.find('\r'), std::string::npos);
  EXPECT_EQ(value.find('\n'), std::string::npos);
  EXPECT_NE(value.find("helo=\"evil??X-Injected: yes\""), std::string::npos) << value;
  EXPECT_NE(value.find("envelope-from=\"a b;c=d\\\"@x\""), std::string::npos) << value;
  EXPECT_NE(value.find("evil \\(x\\)"), std::string::npos) << value;  // comment parentheses escaped
  EXPECT_NE(value.find("identity=helo"), std::string::npos);
  EXPECT_NE(value.find("problem=\"bad \\\"record\\\"\""), std::string::npos) << value;
}

}  // namespace
}  // namespace postamt::mailauth
