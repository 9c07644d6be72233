#pragma once
// The Received-SPF header field (RFC 7208 §9.1) for one SPF verdict: the result, a comment
// in the RFC's words, then the key-value pairs client-ip, envelope-from, helo, receiver,
// identity, mechanism (and problem for errors). Every value that came from the peer is
// written as a dot-atom when it is one and a quoted-string otherwise, with control
// characters replaced, so no sender can add header lines or fields of its own.
#include <string>

#include "proto/mailauth/spf_evaluator.hpp"

namespace postamt::mailauth {

// The field's value (without "Received-SPF: " and without a line break), e.g.
//   pass (mail.example.org: domain of alice@example.com designates 192.0.2.1 as permitted
//   sender) client-ip=192.0.2.1; envelope-from="alice@example.com"; helo=mx.example.com;
//   receiver=mail.example.org; identity=mailfrom; mechanism="ip4:192.0.2.0/24"
// `receiver` is our host name. The caller folds it if it wants to.
std::string received_spf_value(const SpfVerdict& verdict, const SpfInputs& inputs, const std::string& receiver);

}  // namespace postamt::mailauth
