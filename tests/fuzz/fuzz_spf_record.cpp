// Fuzzes the SPF record parser and macro expansion (proto/mailauth/spf_record, spf_macro),
// and check_host() over a scripted DNS that serves the input as every name's TXT record.
// Checks:
//   * no crash, UB or leak, whatever the record holds;
//   * what the parser accepts expands: every domain-spec of an accepted record, and every
//     string check_macro_string accepts, expands without error (syntax and expansion agree);
//   * an expanded domain-spec with a dot in its last 253 octets fits in 253 octets;
//   * the evaluator finishes within a bounded number of steps and never asks an empty batch.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/mailauth/spf_evaluator.hpp"
#include "proto/mailauth/spf_macro.hpp"
#include "proto/mailauth/spf_record.hpp"

#include "fuzz_bits.hpp"

using namespace postamt::mailauth;
using postamt::fuzz::fail;

namespace {

SpfMacroContext context() {
  SpfMacroContext c;
  c.sender = "strong-bad@email.example.com";
  c.local_part = "strong-bad";
  c.sender_domain = "email.example.com";
  c.domain = "email.example.com";
  c.ip = *IpAddress::parse("2001:db8::cb01");
  c.helo = "mx.example.org";
  c.validated_name = "mx.example.org";
  c.receiver = "receiver.example.net";
  c.timestamp = 1700000000;
  return c;
}

void check_spec(const std::string& spec) {
  auto expanded = expand_domain_spec(spec, context());
  if (!expanded) fail();
  if (expanded->size() > 253 && expanded->find('.') != std::string::npos) fail();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);

  for (MacroUse use : {MacroUse::domain_spec, MacroUse::explanation}) {
    bool valid = check_macro_string(text, use).has_value();
    if (valid != expand_macros(text, context(), use).has_value()) fail();
  }

  auto record = parse_spf_record(text);
  if (record) {
    for (const SpfMechanism& mechanism : record->mechanisms)
      if (!mechanism.domain_spec.empty()) check_spec(mechanism.domain_spec);
    if (record->redirect) check_spec(*record->redirect);
    if (record->explanation) check_spec(*record->explanation);
  }

  // check_host() where every name publishes the input; addresses and names are fixed.
  SpfInputs inputs;
  inputs.ip = *IpAddress::parse(size % 2 == 0 ? "192.0.2.1" : "2001:db8::1");
  inputs.helo = "mx.example.org";
  inputs.mail_from = "user@example.com";
  inputs.receiver = "receiver.example.net";
  SpfEvaluator evaluator(inputs);
  for (int step = 0; !evaluator.done(); ++step) {
    if (step > 400 || evaluator.questions().empty()) fail();
    std::vector<DnsAnswer> answers;
    for (const DnsQuestion& question : evaluator.questions()) {
      switch (question.type) {
        case RecordType::txt: answers.push_back(DnsAnswer::with({text})); break;
        case RecordType::a: answers.push_back(DnsAnswer::with({"192.0.2.1"})); break;
        case RecordType::aaaa: answers.push_back(DnsAnswer::with({"2001:db8::1"})); break;
        case RecordType::mx: answers.push_back(DnsAnswer::with({"mx.example.org"})); break;
        case RecordType::ptr: answers.push_back(DnsAnswer::with({"mx.example.org"})); break;
      }
    }
    evaluator.provide(answers);
  }
  return 0;
}
