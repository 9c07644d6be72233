#pragma once
// Hand-made messages shared by the fetch, search and text tests.
#include <string>

#include "imap_message_test_support.hpp"

namespace postamt::imap::test {

// A multipart/mixed message with encoded header words, a folded field, and parts:
//   1 text/plain ISO-8859-1 quoted-printable   2 application/octet-stream base64 (00..05)
//   3 text/html UTF-8 base64                   4 message/rfc822 (non-multipart inside)
//   5 text/plain x-uuencode (an unknown transfer encoding)
inline const std::string kSampleHeader = crlf(
    "Date: Mon, 31 Dec 2023 23:30:00 -0500\n"
    "From: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.com>\n"
    "To: Alice <alice@example.org>, bob@example.net\n"
    "Cc: carol@example.com\n"
    "Bcc: =?UTF-8?Q?D=C3=B6rte?= <doerte@example.com>\n"
    "Subject: =?ISO-8859-1?Q?=C4PFEL_und_Birnen?=\n"
    "X-Folded: first part\n"
    " second part\n"
    "Message-ID: <a1@example.com>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\n"
    "\n");

inline const std::string kSamplePart1Header =
    crlf("Content-Type: text/plain; charset=iso-8859-1\n"
         "Content-Transfer-Encoding: quoted-printable\n"
         "\n");
inline const std::string kSamplePart1Body = crlf("Gr=FC=DFe aus K=F6ln: =E4pfel sind gr=\n=FCn.");
inline const std::string kSamplePart1Decoded = "Gr\xFC\xDF" "e aus K\xF6ln: \xE4pfel sind gr\xFCn.";

inline const std::string kSamplePart4Inner = crlf(
    "Subject: inner\n"
    "From: inner@example.com\n"
    "\n"
    "Inner body text.");

inline const std::string kSampleText = crlf(
    "This is a multi-part message in MIME format.\n"
    "--b1\n") + kSamplePart1Header + kSamplePart1Body + crlf("\n"
    "--b1\n"
    "Content-Type: application/octet-stream\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "AAECAwQF\n"
    "--b1\n"
    "Content-Type: text/html; charset=utf-8\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "PHA+SGFsbG8gV2VsdCAmYW1wOyBtZWhyOiBTdHJhw59lPC9wPg==\n"
    "--b1\n"
    "Content-Type: message/rfc822\n"
    "\n") + kSamplePart4Inner + crlf("\n"
    "--b1\n"
    "Content-Type: text/plain\n"
    "Content-Transfer-Encoding: x-uuencode\n"
    "\n"
    "begin 644 x\n"
    "--b1--\n");

inline const std::string kSampleMessage = kSampleHeader + kSampleText;

// A single-part message without Date: and Bcc:.
inline const std::string kPlainMessage = crlf(
    "From: Someone <someone@example.com>\n"
    "Subject: plain\n"
    "\n"
    "Just one line.\n");

}  // namespace postamt::imap::test
