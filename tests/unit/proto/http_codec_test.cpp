// proto/http: the request encoder, the incremental response parser and the URL parser.
#include <gtest/gtest.h>

#include <string>

#include "proto/http/message.hpp"
#include "proto/http/response_parser.hpp"
#include "proto/http/url.hpp"

namespace postamt::proto::http {
namespace {

TEST(HttpRequest, EncodesRequestLineHostFieldsAndLength) {
  Request request;
  request.method = "POST";
  request.target = "/checkv2";
  request.host = "127.0.0.1:11333";
  request.headers = {{"Rcpt", "a@example.org"}, {"Rcpt", "b@example.org"}, {"Content-Length", "999"}};
  request.body = "Subject: x\r\n\r\nhi\r\n";
  auto wire = encode_request(request);
  ASSERT_TRUE(wire) << wire.error().message;
  EXPECT_EQ(*wire,
            "POST /checkv2 HTTP/1.1\r\nHost: 127.0.0.1:11333\r\nRcpt: a@example.org\r\nRcpt: b@example.org\r\n"
            "Content-Length: 18\r\nConnection: close\r\n\r\nSubject: x\r\n\r\nhi\r\n");
}

TEST(HttpRequest, RefusesLineBreaksInFields) {
  Request request;
  request.host = "h";
  request.headers = {{"From", "a@b\r\nX-Evil: 1"}};
  EXPECT_FALSE(encode_request(request));
  request.headers = {{"Bad Name", "v"}};
  EXPECT_FALSE(encode_request(request));
  request.headers = {};
  request.target = "/a b";
  EXPECT_FALSE(encode_request(request));
}

Response parse_whole(std::string_view wire, std::size_t max_body = 1 << 20) {
  ResponseParser parser(max_body);
  auto done = parser.feed(wire);
  EXPECT_TRUE(done) << (done ? "" : done.error().message);
  EXPECT_TRUE(done && *done);
  return parser.take();
}

TEST(HttpResponse, ContentLengthBody) {
  const Response r = parse_whole("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}extra");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.reason, "OK");
  EXPECT_EQ(r.body, "{}");
  EXPECT_EQ(r.header("content-type").value_or(""), "application/json");
  EXPECT_FALSE(r.header("X-None"));
}

TEST(HttpResponse, ByteByByte) {
  const std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-T: 1\r\n\r\n";
  ResponseParser parser(100);
  for (std::size_t i = 0; i < wire.size(); ++i) {
    auto done = parser.feed(wire.substr(i, 1));
    ASSERT_TRUE(done) << done.error().message;
    EXPECT_EQ(*done, i + 1 == wire.size()) << i;
  }
  EXPECT_EQ(parser.response().body, "Wikipedia");
}

TEST(HttpResponse, BodyUntilClose) {
  ResponseParser parser(100);
  auto done = parser.feed("HTTP/1.0 200 OK\nServer: x\n\nhello ");
  ASSERT_TRUE(done);
  EXPECT_FALSE(*done);
  ASSERT_TRUE(parser.feed("world"));
  ASSERT_TRUE(parser.finish());
  EXPECT_TRUE(parser.complete());
  EXPECT_EQ(parser.response().body, "hello world");
}

TEST(HttpResponse, SkipsInterimResponsesAndNoBodyStatuses) {
  const Response r = parse_whole("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
}

TEST(HttpResponse, Errors) {
  for (const std::string_view bad : {
           "SMTP/1.1 200 OK\r\n\r\n",
           "HTTP/1.1 2x0 OK\r\n\r\n",
           "HTTP/1.1 200 OK\r\n folded\r\n\r\n",
           "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
           "HTTP/1.1 200 OK\r\nName : v\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
       }) {
    ResponseParser parser(100);
    EXPECT_FALSE(parser.feed(bad)) << bad;
    EXPECT_FALSE(parser.feed("more")) << "errors stick";
  }
}

TEST(HttpResponse, Bounds) {
  {
    ResponseParser parser(4);
    EXPECT_FALSE(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"));
  }
  {
    ResponseParser parser(4);
    EXPECT_FALSE(parser.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\n"));
  }
  {
    ResponseParser parser(4);
    ASSERT_TRUE(parser.feed("HTTP/1.1 200 OK\r\n\r\nabcd"));
    EXPECT_FALSE(parser.feed("e"));
  }
  {
    ResponseParser parser(4);
    ASSERT_TRUE(parser.feed("HTTP/1.1 200 OK\r\n"));
    const std::string big = "X: " + std::string(ResponseParser::kMaxHeaderSize, 'a');
    EXPECT_FALSE(parser.feed(big));
  }
}

TEST(HttpResponse, TruncatedIsAnError) {
  ResponseParser parser(100);
  ASSERT_TRUE(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"));
  EXPECT_FALSE(parser.finish());
  ResponseParser empty(100);
  auto nothing = empty.finish();
  ASSERT_FALSE(nothing);
  EXPECT_NE(nothing.error().message.find("before a response"), std::string::npos);
}

TEST(HttpUrl, Parses) {
  auto url = parse_url("http://127.0.0.1:11333");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 11333);
  EXPECT_EQ(url->path, "/");
  EXPECT_EQ(url->authority(), "127.0.0.1:11333");

  url = parse_url("HTTP://rspamd.example/base/");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "rspamd.example");
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->path, "/base/");
  EXPECT_EQ(url->authority(), "rspamd.example");

  url = parse_url("http://[::1]:11334/x");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_TRUE(url->ipv6_literal);
  EXPECT_EQ(url->authority(), "[::1]:11334");
  EXPECT_EQ(url->with(11335, "/"), "http://[::1]:11335/");
}

TEST(HttpUrl, Refuses) {
  auto https = parse_url("https://127.0.0.1:11333");
  ASSERT_FALSE(https);
  EXPECT_NE(https.error().message.find("https is not supported"), std::string::npos);
  for (const std::string_view bad : {"127.0.0.1:11333", "ftp://h", "http://", "http://:80", "http://h:",
                                     "http://h:0", "http://h:65536", "http://h:8x", "http://[::1", "http://[]:1",
                                     "http://[::1]x", "http://u@h", "http://h h/", "http://h/a b"}) {
    EXPECT_FALSE(parse_url(bad)) << bad;
  }
}

}  // namespace
}  // namespace postamt::proto::http
