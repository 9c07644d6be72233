// The POP3 server engine, driven by transcripts fed whole, byte by byte and in pieces;
// a scripted driver answers its events (login, retrieval, STLS, UPDATE).
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proto/pop3/dot_stuffer.hpp"
#include "proto/pop3/server_engine.hpp"

namespace postamt::proto::pop3 {
namespace {

struct Driver {
  std::vector<std::string> messages{"Subject: one\r\n\r\nbody 1\r\n.dot line\r\n",
                                    "Subject: two\r\nX: y\r\n\r\na\r\nb\r\nc\r\n",
                                    "Subject: three\r\n\r\n..\r\n.\r\n"};
  std::string password = "secret";
  bool in_use = false;
  std::size_t piece = 5;  // the driver hands message bytes in pieces of this size
};

struct Transcript {
  std::string output;
  std::vector<std::string> events;
  bool closed = false;
  bool operator==(const Transcript&) const = default;
};

class Session {
 public:
  explicit Session(Driver driver = {}, ServerOptions options = default_options())
      : driver_(std::move(driver)), engine_(std::move(options)) {
    engine_.start();
  }

  static ServerOptions default_options() {
    ServerOptions options;
    options.auth_allowed = true;
    options.starttls_available = true;
    return options;
  }

  void feed(std::string_view bytes) {
    engine_.receive(bytes);
    drain();
  }

  Transcript run(std::string_view input, std::size_t split) {
    drain();
    for (std::size_t i = 0; i < input.size(); i += split) feed(input.substr(i, split));
    Transcript t;
    t.output = take_output();
    t.events = events_;
    t.closed = engine_.wants_close();
    return t;
  }

  std::string take_output() {
    std::string out(engine_.pending_output());
    engine_.consume_output(out.size());
    output_ += out;
    std::string all = std::move(output_);
    output_.clear();
    return all;
  }

  ServerEngine& engine() { return engine_; }

 private:
  void drain() {
    while (auto event = engine_.next_event()) {
      std::visit([this](auto& e) { handle(e); }, *event);
    }
    output_ += std::string(engine_.pending_output());
    engine_.consume_output(engine_.pending_output().size());
  }

  std::vector<MaildropEntry> maildrop() const {
    std::vector<MaildropEntry> out;
    for (std::size_t i = 0; i < driver_.messages.size(); ++i) {
      out.push_back({driver_.messages[i].size(), "1." + std::to_string(i + 1)});
    }
    return out;
  }

  void login(const std::string& password) {
    if (driver_.in_use) {
      engine_.login_failed("[IN-USE] Maildrop is locked");
    } else if (password == driver_.password) {
      engine_.login_succeeded(maildrop());
    } else {
      engine_.login_failed("[AUTH] Authentication failed");
    }
  }

  void handle(Login& e) {
    events_.push_back("login " + e.user + " " + e.password);
    login(e.password);
  }
  void handle(AuthBegin& e) {
    events_.push_back("auth " + e.mechanism + " " + e.initial_response.value_or("-"));
    if (e.initial_response) {
      login(*e.initial_response == "c2VjcmV0" ? "secret" : "bad");
    } else {
      engine_.auth_challenge("");
    }
  }
  void handle(AuthResponse& e) {
    events_.push_back("auth-response " + e.response);
    login(e.response == "c2VjcmV0" ? "secret" : "bad");
  }
  void handle(AuthCancelled&) { events_.push_back("auth-cancelled"); }
  void handle(Retrieve& e) {
    events_.push_back("retrieve " + std::to_string(e.index) +
                      (e.top_lines ? " top " + std::to_string(*e.top_lines) : ""));
    const std::string& content = driver_.messages.at(e.index);
    engine_.begin_message();
    for (std::size_t i = 0; i < content.size() && !engine_.message_complete(); i += driver_.piece) {
      engine_.message_data(std::string_view(content).substr(i, driver_.piece));
    }
    engine_.end_message();
  }
  void handle(StartTls&) {
    events_.push_back("starttls");
    engine_.tls_started(true);
  }
  void handle(Update& e) {
    std::string text = "update";
    for (auto i : e.deleted) text += " " + std::to_string(i);
    events_.push_back(text);
    engine_.update_done();
  }
  void handle(Quit&) { events_.push_back("quit"); }

  Driver driver_;
  ServerEngine engine_;
  std::vector<std::string> events_;
  std::string output_;
};

// Runs the transcript whole, byte by byte and in 7-byte pieces; all must agree.
Transcript replay(std::string_view input, Driver driver = {}, ServerOptions options = Session::default_options()) {
  Session whole(driver, options);
  Transcript expected = whole.run(input, input.size() ? input.size() : 1);
  for (std::size_t split : {std::size_t{1}, std::size_t{7}}) {
    Session pieces(driver, options);
    EXPECT_EQ(pieces.run(input, split), expected) << "split " << split;
  }
  return expected;
}

TEST(Pop3Server, GreetsAndQuitsInAuthorization) {
  auto t = replay("NOOP\r\nQUIT\r\n");
  EXPECT_EQ(t.output, "+OK Postamt ready\r\n+OK\r\n+OK Bye\r\n");
  EXPECT_TRUE(t.closed);
  EXPECT_EQ(t.events, std::vector<std::string>{"quit"});
}

TEST(Pop3Server, FullSessionPipelined) {
  auto t = replay(
      "USER alice\r\nPASS secret\r\nSTAT\r\nLIST\r\nLIST 2\r\nUIDL\r\nUIDL 3\r\nRETR 1\r\n"
      "TOP 2 1\r\nDELE 2\r\nLIST 2\r\nSTAT\r\nRSET\r\nDELE 1\r\nNOOP\r\nQUIT\r\n");
  const std::string expected =
      "+OK Postamt ready\r\n"
      "+OK Send your password\r\n"
      "+OK Logged in, 3 messages (91 octets)\r\n"
      "+OK 3 91\r\n"
      "+OK 3 messages (91 octets)\r\n1 35\r\n2 31\r\n3 25\r\n.\r\n"
      "+OK 2 31\r\n"
      "+OK Unique-ID listing follows\r\n1 1.1\r\n2 1.2\r\n3 1.3\r\n.\r\n"
      "+OK 3 1.3\r\n"
      "+OK 35 octets\r\nSubject: one\r\n\r\nbody 1\r\n..dot line\r\n.\r\n"
      "+OK 31 octets\r\nSubject: two\r\nX: y\r\n\r\na\r\n.\r\n"
      "+OK Message 2 deleted\r\n"
      "-ERR Message 2 already deleted\r\n"
      "+OK 2 60\r\n"
      "+OK Maildrop has 3 messages (91 octets)\r\n"
      "+OK Message 1 deleted\r\n"
      "+OK\r\n"
      "+OK Bye (1 messages deleted, 2 left)\r\n";
  EXPECT_EQ(t.output, expected);
  EXPECT_TRUE(t.closed);
  EXPECT_EQ(t.events.back(), "quit");
  EXPECT_EQ(t.events[t.events.size() - 2], "update 0");
}

TEST(Pop3Server, RetrStuffsDotsAndSizeIsUnstuffed) {
  auto t = replay("USER a\r\nPASS secret\r\nRETR 3\r\nTOP 3 0\r\nQUIT\r\n");
  EXPECT_NE(t.output.find("+OK 25 octets\r\nSubject: three\r\n\r\n...\r\n..\r\n.\r\n"), std::string::npos)
      << t.output;
  EXPECT_NE(t.output.find("+OK 25 octets\r\nSubject: three\r\n\r\n.\r\n+OK Bye"), std::string::npos)
      << t.output;
}

TEST(Pop3Server, CapaDependsOnStateAndTls) {
  auto t = replay("CAPA\r\n");
  EXPECT_EQ(t.output,
            "+OK Postamt ready\r\n+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\n"
            "AUTH-RESP-CODE\r\nPIPELINING\r\nEXPIRE NEVER\r\nUSER\r\nSASL PLAIN LOGIN\r\nSTLS\r\nIMPLEMENTATION Postamt\r\n.\r\n");
  ServerOptions no_auth = Session::default_options();
  no_auth.auth_allowed = false;
  auto u = replay("CAPA\r\nUSER a\r\nPASS x\r\nAUTH PLAIN AGEAYg==\r\n", {}, no_auth);
  EXPECT_EQ(u.output.find("USER\r\n"), std::string::npos);
  EXPECT_EQ(u.output.find("SASL"), std::string::npos);
  EXPECT_NE(u.output.find("-ERR [AUTH] Plaintext authentication is not allowed without TLS"), std::string::npos);
  EXPECT_TRUE(u.events.empty());
}

TEST(Pop3Server, StlsDiscardsPipelinedInputAndEnablesAuth) {
  ServerOptions no_auth = Session::default_options();
  no_auth.auth_allowed = false;
  Session s({}, no_auth);
  s.feed("STLS\r\nUSER evil\r\nPASS secret\r\n");
  std::string out = s.take_output();
  EXPECT_EQ(out, "+OK Postamt ready\r\n+OK Begin TLS negotiation\r\n");
  s.feed("CAPA\r\n");
  out = s.take_output();
  EXPECT_EQ(out.find("STLS"), std::string::npos);
  EXPECT_NE(out.find("USER\r\n"), std::string::npos);
  s.feed("STLS\r\nUSER a\r\nPASS secret\r\n");
  out = s.take_output();
  EXPECT_EQ(out, "-ERR Already using TLS\r\n+OK Send your password\r\n+OK Logged in, 3 messages (91 octets)\r\n");
}

TEST(Pop3Server, AuthPlainAndLogin) {
  auto t = replay("AUTH PLAIN c2VjcmV0\r\nQUIT\r\n");
  EXPECT_EQ(t.output, "+OK Postamt ready\r\n+OK Logged in, 3 messages (91 octets)\r\n"
                      "+OK Bye (0 messages deleted, 3 left)\r\n");
  auto u = replay("AUTH LOGIN\r\nc2VjcmV0\r\nSTAT\r\n");
  EXPECT_EQ(u.output, "+OK Postamt ready\r\n+ \r\n+OK Logged in, 3 messages (91 octets)\r\n+OK 3 91\r\n");
  auto c = replay("AUTH PLAIN\r\n*\r\nSTAT\r\n");
  EXPECT_EQ(c.output, "+OK Postamt ready\r\n+ \r\n-ERR Authentication cancelled\r\n"
                      "-ERR Not logged in; command not valid in the AUTHORIZATION state\r\n");
  auto b = replay("AUTH PLAIN Ym9ndXM=\r\nAUTH XOAUTH\r\n");
  EXPECT_EQ(b.output, "+OK Postamt ready\r\n-ERR [AUTH] Authentication failed\r\n"
                      "-ERR Unsupported authentication mechanism\r\n");
}

TEST(Pop3Server, InUseAndBadPassword) {
  Driver busy;
  busy.in_use = true;
  auto t = replay("USER a\r\nPASS secret\r\n", busy);
  EXPECT_EQ(t.output, "+OK Postamt ready\r\n+OK Send your password\r\n-ERR [IN-USE] Maildrop is locked\r\n");
  auto u = replay("USER a\r\nPASS nope\r\nPASS secret\r\n");
  EXPECT_EQ(u.output, "+OK Postamt ready\r\n+OK Send your password\r\n-ERR [AUTH] Authentication failed\r\n"
                      "-ERR USER first\r\n");
}

TEST(Pop3Server, WrongStateAndSyntax) {
  auto t = replay("STAT\r\nRETR 1\r\nBOGUS\r\nUSER a\r\nPASS secret\r\nUSER b\r\nRETR 0\r\nRETR 9\r\n"
                  "RETR x\r\nTOP 1\r\nTOP 1 -1\r\nLIST 1 2\r\nSTAT now\r\n");
  const std::string expected =
      "+OK Postamt ready\r\n"
      "-ERR Not logged in; command not valid in the AUTHORIZATION state\r\n"
      "-ERR Not logged in; command not valid in the AUTHORIZATION state\r\n"
      "-ERR Unknown command\r\n"
      "+OK Send your password\r\n"
      "+OK Logged in, 3 messages (91 octets)\r\n"
      "-ERR Already logged in; command not valid in the TRANSACTION state\r\n"
      "-ERR No such message\r\n"
      "-ERR No such message\r\n"
      "-ERR Invalid message number\r\n"
      "-ERR Usage: TOP msg n\r\n"
      "-ERR Invalid line count\r\n"
      "-ERR Too many arguments\r\n"
      "-ERR STAT takes no argument\r\n";
  EXPECT_EQ(t.output, expected);
  EXPECT_FALSE(t.closed);
}

TEST(Pop3Server, TooManyErrorsCloses) {
  std::string input;
  for (int i = 0; i < 15; ++i) input += "BOGUS\r\n";
  auto t = replay(input);
  std::size_t lines = 0;
  for (char c : t.output) lines += c == '\n';
  EXPECT_EQ(lines, 12u);  // greeting, 10 errors, the closing line
  EXPECT_TRUE(t.output.ends_with("-ERR Unknown command\r\n-ERR Too many errors, closing\r\n"));
  EXPECT_TRUE(t.closed);
}

TEST(Pop3Server, LongLinesAreRefusedWithoutBuffering) {
  std::string long_command = "USER " + std::string(260, 'a') + "\r\nSTAT\r\n";
  auto t = replay(long_command);
  EXPECT_EQ(t.output, "+OK Postamt ready\r\n-ERR Line too long\r\n-ERR Not logged in; command not valid in "
                      "the AUTHORIZATION state\r\n");
  Session s;
  s.feed(std::string(100000, 'x'));
  EXPECT_LE(s.engine().buffered_input(), 8192u + 100000u);
  s.feed(std::string(100000, 'x'));
  EXPECT_LE(s.engine().buffered_input(), 8192u);
  s.feed("\r\n");
  EXPECT_EQ(s.take_output(), "+OK Postamt ready\r\n-ERR Line too long\r\n");
  // An AUTH initial response may be longer than 255 octets (RFC 5034 §4).
  auto a = replay("AUTH PLAIN " + std::string(400, 'A') + "\r\n");
  EXPECT_EQ(a.output, "+OK Postamt ready\r\n-ERR [AUTH] Authentication failed\r\n");
}

TEST(Pop3Server, ShutdownSaysErr) {
  Session s;
  s.feed("USER a\r\n");
  s.engine().shutdown("Server shutting down");
  EXPECT_TRUE(s.take_output().ends_with("-ERR Server shutting down\r\n"));
  EXPECT_TRUE(s.engine().wants_close());
  s.feed("PASS secret\r\n");
  EXPECT_FALSE(s.engine().next_event());
}

TEST(Pop3DotStuffer, TopCountsBodyLinesAcrossPieces) {
  const std::string message = "A: b\r\n.C: d\r\n\r\nl1\r\n.l2\r\nl3\r\nl4";
  for (std::size_t piece = 1; piece <= message.size(); ++piece) {
    DotStuffer all;
    DotStuffer top(2);
    std::string out_all, out_top;
    for (std::size_t i = 0; i < message.size(); i += piece) {
      all.feed(std::string_view(message).substr(i, piece), out_all);
      top.feed(std::string_view(message).substr(i, piece), out_top);
    }
    all.finish(out_all);
    top.finish(out_top);
    EXPECT_EQ(out_all, "A: b\r\n..C: d\r\n\r\nl1\r\n..l2\r\nl3\r\nl4\r\n.\r\n") << piece;
    EXPECT_EQ(out_top, "A: b\r\n..C: d\r\n\r\nl1\r\n..l2\r\n.\r\n") << piece;
    EXPECT_TRUE(top.done());
  }
}

}  // namespace
}  // namespace postamt::proto::pop3
