#include "mime/envelope_writer.hpp"

#include <vector>

#include "mime/address_list.hpp"
#include "mime/imap_string.hpp"

namespace postamt::mime {

namespace {

std::vector<EnvelopeAddress> addresses(const HeaderFields& headers, HeaderName name) {
  const auto value = headers.value(name);
  if (!value) return {};
  return parse_address_list(*value);
}

// "(" 1*address ")" / nil
void append_address_list(std::string& out, const std::vector<EnvelopeAddress>& list) {
  if (list.empty()) {
    out.append("NIL");
    return;
  }
  out.push_back('(');
  for (const EnvelopeAddress& address : list) {
    out.push_back('(');
    append_imap_nstring(out, address.name);
    out.push_back(' ');
    append_imap_nstring(out, address.adl);
    out.push_back(' ');
    append_imap_nstring(out, address.mailbox);
    out.push_back(' ');
    append_imap_nstring(out, address.host);
    out.push_back(')');
  }
  out.push_back(')');
}

}  // namespace

std::string write_envelope(const HeaderFields& headers) {
  const auto from = addresses(headers, HeaderName::from);
  auto sender = addresses(headers, HeaderName::sender);
  auto reply_to = addresses(headers, HeaderName::reply_to);
  if (sender.empty()) sender = from;
  if (reply_to.empty()) reply_to = from;

  std::string out = "(";
  append_imap_nstring(out, headers.value(HeaderName::date));
  out.push_back(' ');
  append_imap_nstring(out, headers.value(HeaderName::subject));
  out.push_back(' ');
  append_address_list(out, from);
  out.push_back(' ');
  append_address_list(out, sender);
  out.push_back(' ');
  append_address_list(out, reply_to);
  out.push_back(' ');
  append_address_list(out, addresses(headers, HeaderName::to));
  out.push_back(' ');
  append_address_list(out, addresses(headers, HeaderName::cc));
  out.push_back(' ');
  append_address_list(out, addresses(headers, HeaderName::bcc));
  out.push_back(' ');
  append_imap_nstring(out, headers.value(HeaderName::in_reply_to));
  out.push_back(' ');
  append_imap_nstring(out, headers.value(HeaderName::message_id));
  out.push_back(')');
  return out;
}

}  // namespace postamt::mime
