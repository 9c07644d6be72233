#include "proto/mailauth/spf_evaluator.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include "proto/mailauth/spf_macro.hpp"
#include "proto/mailauth/spf_record.hpp"

namespace postamt::mailauth {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string strip_dot(std::string name) {
  if (name.ends_with('.')) name.pop_back();
  return name;
}

std::string question_key(const DnsQuestion& question) {
  return std::to_string(static_cast<unsigned>(question.type)) + ' ' + lower(strip_dot(question.name));
}

// §4.3: a domain the check can start from: a valid multi-label DNS name that is not an
// address literal ("[192.0.2.1]") or a bare address.
bool usable_initial_domain(std::string_view domain) {
  if (!is_valid_domain(domain, true)) return false;
  if (domain.find_first_of("[]") != std::string_view::npos) return false;
  std::string_view name = domain.ends_with('.') ? domain.substr(0, domain.size() - 1) : domain;
  std::string_view top = name.substr(name.rfind('.') + 1);
  return !std::all_of(top.begin(), top.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A name is `domain` or below it (case-insensitive).
bool at_or_below(std::string_view name, std::string_view domain) {
  std::string n = lower(name);
  std::string d = lower(domain);
  return n == d || (n.size() > d.size() && n.ends_with(d) && n[n.size() - d.size() - 1] == '.');
}

bool any_address_in(const DnsAnswer& answer, const IpAddress& ip, int prefix) {
  for (const std::string& record : answer.records) {
    auto address = IpAddress::parse_exact(record, ip.v6);
    if (address && ip.in_network(*address, prefix)) return true;
  }
  return false;
}

SpfResult result_of(SpfQualifier qualifier) {
  switch (qualifier) {
    case SpfQualifier::pass: return SpfResult::pass;
    case SpfQualifier::fail: return SpfResult::fail;
    case SpfQualifier::softfail: return SpfResult::softfail;
    case SpfQualifier::neutral: return SpfResult::neutral;
  }
  return SpfResult::neutral;
}

// What check_host() gave for one domain.
struct Outcome {
  SpfResult result = SpfResult::neutral;
  std::string mechanism;
  std::string problem;
  std::optional<std::string> exp_spec;  // exp= of the record that decided (§6.2)
  std::string exp_domain;               // its <domain>, for %{d} in the explanation
};

Outcome error(SpfResult result, std::string problem) {
  Outcome outcome;
  outcome.result = result;
  outcome.problem = std::move(problem);
  return outcome;
}

// A mechanism's evaluation: pending (a question has no answer yet), matched or not, or an
// error that ends check_host().
struct Match {
  enum Kind { pending, yes, no, failed } kind = no;
  Outcome failure;
};

Match pending_match() { return Match{Match::pending, {}}; }
Match matched(bool yes) { return Match{yes ? Match::yes : Match::no, {}}; }
Match failed(SpfResult result, std::string problem) { return Match{Match::failed, error(result, std::move(problem))}; }

// One run of check_host() over the answers known so far.
class Run {
 public:
  Run(const SpfInputs& inputs, const std::unordered_map<std::string, DnsAnswer>& answers,
      SpfMacroContext context)
      : inputs_(inputs), answers_(answers), context_(std::move(context)) {}

  std::vector<DnsQuestion> missing;
  unsigned terms = 0;
  unsigned voids = 0;

  // nullopt: pending.
  std::optional<Outcome> check_host(const std::string& domain) {
    const DnsAnswer* txt = need(DnsQuestion{domain, RecordType::txt});
    if (txt == nullptr) return std::nullopt;
    if (txt->temporary()) return error(SpfResult::temperror, "DNS failure looking up the SPF record of " + domain);
    std::vector<const std::string*> records;
    for (const std::string& record : txt->records)
      if (is_spf_record(record)) records.push_back(&record);
    if (records.empty()) return error(SpfResult::none, "no SPF record at " + domain);
    if (records.size() > 1) return error(SpfResult::permerror, "more than one SPF record at " + domain);
    auto record = parse_spf_record(*records.front());
    if (!record) return error(SpfResult::permerror, "SPF record of " + domain + ": " + record.error());

    for (const SpfMechanism& mechanism : record->mechanisms) {
      Match match = evaluate(mechanism, domain);
      if (match.kind == Match::pending) return std::nullopt;
      if (match.kind == Match::failed) return match.failure;
      if (match.kind == Match::yes) {
        Outcome outcome;
        outcome.result = result_of(mechanism.qualifier);
        outcome.mechanism = mechanism.text;
        outcome.exp_spec = record->explanation;
        outcome.exp_domain = domain;
        return outcome;
      }
    }
    if (record->redirect && !record->has_all) {  // §6.1: ignored when "all" is present
      if (++terms > SpfEvaluator::kMaxDnsTerms) return too_many_terms();
      auto target = expand_target(*record->redirect, domain);
      if (!target) return std::nullopt;
      if (!*target) return error(SpfResult::permerror, "redirect=: " + target->error());
      if (!is_valid_domain(**target, false))
        return error(SpfResult::permerror, "redirect= to an invalid domain \"" + **target + "\"");
      auto redirected = check_host(**target);
      if (!redirected) return std::nullopt;
      if (redirected->result == SpfResult::none)
        return error(SpfResult::permerror, "redirect= to " + **target + ", which has no SPF record");
      return redirected;  // with the target's exp= (§6.1), never ours
    }
    Outcome outcome;
    outcome.result = SpfResult::neutral;  // §4.7
    outcome.mechanism = "default";
    return outcome;
  }

  // The exp= text (§6.2), or nullopt when pending; an empty string when there is none usable.
  std::optional<std::string> explanation(const std::string& spec, const std::string& domain) {
    auto target = expand_target(spec, domain);
    if (!target) return std::nullopt;
    if (!*target || !is_valid_domain(**target, false)) return std::string();
    const DnsAnswer* txt = need(DnsQuestion{**target, RecordType::txt});
    if (txt == nullptr) return std::nullopt;
    if (txt->temporary() || txt->records.size() != 1) return std::string();
    SpfMacroContext context = context_;
    context.domain = domain;
    if (uses_p_macro(txt->records.front())) {
      auto validated = validated_name(domain);
      if (!validated) return std::nullopt;
      context.validated_name = *validated;
    }
    auto text = expand_macros(txt->records.front(), context, MacroUse::explanation);
    return text ? *text : std::string();
  }

 private:
  const DnsAnswer* need(DnsQuestion question) {
    question.name = strip_dot(std::move(question.name));
    auto found = answers_.find(question_key(question));
    if (found != answers_.end()) return &found->second;
    bool listed = std::any_of(missing.begin(), missing.end(), [&](const DnsQuestion& q) {
      return question_key(q) == question_key(question);
    });
    if (!listed) missing.push_back(std::move(question));
    return nullptr;
  }

  // All at once: every missing one is listed before the run stops.
  std::optional<std::vector<const DnsAnswer*>> need_all(const std::vector<DnsQuestion>& questions) {
    std::vector<const DnsAnswer*> out;
    bool complete = true;
    for (const DnsQuestion& question : questions) {
      out.push_back(need(question));
      if (out.back() == nullptr) complete = false;
    }
    if (!complete) return std::nullopt;
    return out;
  }

  RecordType address_type() const { return inputs_.ip.v6 ? RecordType::aaaa : RecordType::a; }

  Outcome too_many_terms() const {
    return error(SpfResult::permerror, "more than " + std::to_string(SpfEvaluator::kMaxDnsTerms) +
                                           " DNS-querying terms (RFC 7208 §4.6.4)");
  }

  // Counts a void lookup (§4.6.4); false when over the limit.
  bool count_void(const DnsAnswer& answer) {
    if (!answer.empty()) return true;
    return ++voids <= SpfEvaluator::kMaxVoidLookups;
  }

  Match too_many_voids() const {
    return failed(SpfResult::permerror, "more than " + std::to_string(SpfEvaluator::kMaxVoidLookups) +
                                            " void DNS lookups (RFC 7208 §4.6.4)");
  }

  // The validated names of the client address (§5.5), the first 10 PTR names looked at;
  // nullopt: pending. DNS errors leave names out rather than failing.
  std::optional<std::vector<std::string>> validated_names() {
    if (validated_) return validated_;
    const DnsAnswer* ptr = need(DnsQuestion{inputs_.ip.reverse_name(), RecordType::ptr});
    if (ptr == nullptr) return std::nullopt;
    std::vector<std::string> names;
    for (const std::string& name : ptr->records) {
      if (names.size() == SpfEvaluator::kMaxPtrNames) break;
      if (!name.empty()) names.push_back(strip_dot(name));
    }
    std::vector<DnsQuestion> questions;
    for (const std::string& name : names) questions.push_back(DnsQuestion{name, address_type()});
    auto answers = need_all(questions);
    if (!answers) return std::nullopt;
    std::vector<std::string> validated;
    for (std::size_t i = 0; i < names.size(); ++i)
      if (!(*answers)[i]->temporary() && any_address_in(*(*answers)[i], inputs_.ip, inputs_.ip.v6 ? 128 : 32))
        validated.push_back(names[i]);
    validated_ = validated;
    return validated;
  }

  // %{p} (§7.3): a validated name equal to <domain>, else one below it, else any; "unknown".
  std::optional<std::string> validated_name(const std::string& domain) {
    auto names = validated_names();
    if (!names) return std::nullopt;
    for (const std::string& name : *names)
      if (lower(name) == lower(domain)) return name;
    for (const std::string& name : *names)
      if (at_or_below(name, domain)) return name;
    if (!names->empty()) return names->front();
    return std::string("unknown");
  }

  // The expanded target of a domain-spec; outer nullopt: pending; inner error: bad macro.
  std::optional<std::expected<std::string, std::string>> expand_target(const std::string& spec,
                                                                       const std::string& domain) {
    SpfMacroContext context = context_;
    context.domain = domain;
    if (uses_p_macro(spec)) {
      auto validated = validated_name(domain);
      if (!validated) return std::nullopt;
      context.validated_name = *validated;
    }
    return expand_domain_spec(spec, context);
  }

  // The target of a/mx/ptr/exists/include: the expanded domain-spec or <domain>.
  // Outer nullopt: pending.
  std::optional<std::expected<std::string, std::string>> target_of(const SpfMechanism& mechanism,
                                                                   const std::string& domain) {
    if (mechanism.domain_spec.empty()) return std::expected<std::string, std::string>(strip_dot(domain));
    return expand_target(mechanism.domain_spec, domain);
  }

  Match evaluate(const SpfMechanism& mechanism, const std::string& domain) {
    switch (mechanism.kind) {
      case SpfMechanismKind::all: return matched(true);
      case SpfMechanismKind::ip4:
      case SpfMechanismKind::ip6:
        return matched(inputs_.ip.in_network(mechanism.network,
                                             mechanism.kind == SpfMechanismKind::ip6 ? mechanism.cidr6 : mechanism.cidr4));
      default: break;
    }
    if (++terms > SpfEvaluator::kMaxDnsTerms) return Match{Match::failed, too_many_terms()};
    auto target = target_of(mechanism, domain);
    if (!target) return pending_match();
    if (!*target) return failed(SpfResult::permerror, mechanism.text + ": " + target->error());
    const std::string& name = **target;
    if (mechanism.kind == SpfMechanismKind::include) return include(mechanism, name);
    // A name that cannot be in DNS (an empty or over-long label after expansion) has no
    // records: the mechanism does not match.
    if (!is_valid_domain(name, false)) return matched(false);
    switch (mechanism.kind) {
      case SpfMechanismKind::a: return match_a(mechanism, name);
      case SpfMechanismKind::mx: return match_mx(mechanism, name);
      case SpfMechanismKind::ptr: return match_ptr(name);
      case SpfMechanismKind::exists: return match_exists(mechanism, name);
      default: return matched(false);
    }
  }

  int prefix(const SpfMechanism& mechanism) const { return inputs_.ip.v6 ? mechanism.cidr6 : mechanism.cidr4; }

  Match match_a(const SpfMechanism& mechanism, const std::string& name) {  // §5.3
    const DnsAnswer* answer = need(DnsQuestion{name, address_type()});
    if (answer == nullptr) return pending_match();
    if (answer->temporary()) return failed(SpfResult::temperror, "DNS failure looking up " + name);
    if (!count_void(*answer)) return too_many_voids();
    return matched(any_address_in(*answer, inputs_.ip, prefix(mechanism)));
  }

  Match match_mx(const SpfMechanism& mechanism, const std::string& name) {  // §5.4
    const DnsAnswer* mx = need(DnsQuestion{name, RecordType::mx});
    if (mx == nullptr) return pending_match();
    if (mx->temporary()) return failed(SpfResult::temperror, "DNS failure looking up the MX of " + name);
    if (!count_void(*mx)) return too_many_voids();
    if (mx->records.size() > SpfEvaluator::kMaxMxNames)
      return failed(SpfResult::permerror, name + " has more than " + std::to_string(SpfEvaluator::kMaxMxNames) +
                                              " MX records (RFC 7208 §4.6.4)");
    std::vector<DnsQuestion> questions;
    for (const std::string& host : mx->records)
      if (!strip_dot(host).empty()) questions.push_back(DnsQuestion{strip_dot(host), address_type()});  // null MX: none
    auto answers = need_all(questions);
    if (!answers) return pending_match();
    for (std::size_t i = 0; i < questions.size(); ++i) {
      const DnsAnswer& addresses = *(*answers)[i];
      if (addresses.temporary())
        return failed(SpfResult::temperror, "DNS failure looking up the MX host " + questions[i].name);
      if (any_address_in(addresses, inputs_.ip, prefix(mechanism))) return matched(true);
    }
    return matched(false);
  }

  Match match_ptr(const std::string& target) {  // §5.5
    const DnsAnswer* ptr = need(DnsQuestion{inputs_.ip.reverse_name(), RecordType::ptr});
    if (ptr == nullptr) return pending_match();
    if (ptr->temporary()) return matched(false);  // §5.5: a DNS error means no match
    if (!count_void(*ptr)) return too_many_voids();
    auto names = validated_names();
    if (!names) return pending_match();
    return matched(std::any_of(names->begin(), names->end(),
                               [&](const std::string& name) { return at_or_below(name, target); }));
  }

  Match match_exists(const SpfMechanism&, const std::string& name) {  // §5.7: always A
    const DnsAnswer* answer = need(DnsQuestion{name, RecordType::a});
    if (answer == nullptr) return pending_match();
    if (answer->temporary()) return failed(SpfResult::temperror, "DNS failure looking up " + name);
    if (!count_void(*answer)) return too_many_voids();
    return matched(!answer->records.empty());
  }

  Match include(const SpfMechanism& mechanism, const std::string& name) {  // §5.2
    if (!usable_initial_domain(name))
      return failed(SpfResult::permerror, mechanism.text + ": \"" + name + "\" is not a domain with an SPF record");
    auto inner = check_host(name);
    if (!inner) return pending_match();
    switch (inner->result) {
      case SpfResult::pass: return matched(true);
      case SpfResult::fail:
      case SpfResult::softfail:
      case SpfResult::neutral: return matched(false);
      case SpfResult::temperror: return Match{Match::failed, *inner};
      case SpfResult::permerror: return Match{Match::failed, *inner};
      case SpfResult::none:
        return failed(SpfResult::permerror, mechanism.text + ": " + name + " has no SPF record");
    }
    return matched(false);
  }

  const SpfInputs& inputs_;
  const std::unordered_map<std::string, DnsAnswer>& answers_;
  SpfMacroContext context_;
  std::optional<std::vector<std::string>> validated_;
};

}  // namespace

SpfEvaluator::SpfEvaluator(SpfInputs inputs) : inputs_(std::move(inputs)) {
  // §4.1, §2.4: the identity and <sender>; no local-part means "postmaster".
  std::string local;
  std::string domain;
  if (inputs_.identity == SpfIdentity::helo || inputs_.mail_from.empty()) {
    verdict_.identity = inputs_.mail_from.empty() ? SpfIdentity::helo : inputs_.identity;
    domain = inputs_.helo;
  } else {
    verdict_.identity = SpfIdentity::mail_from;
    std::size_t at = inputs_.mail_from.rfind('@');
    if (at == std::string::npos) {
      domain = inputs_.mail_from;
    } else {
      local = inputs_.mail_from.substr(0, at);
      domain = inputs_.mail_from.substr(at + 1);
    }
  }
  if (verdict_.identity == SpfIdentity::helo) local.clear();
  if (local.empty()) local = "postmaster";
  verdict_.sender = local + "@" + domain;
  verdict_.domain = domain;
  step();
}

void SpfEvaluator::provide(const std::vector<DnsAnswer>& answers) {
  if (done_) return;
  for (std::size_t i = 0; i < questions_.size(); ++i)
    answers_[question_key(questions_[i])] = i < answers.size() ? answers[i] : DnsAnswer::timed_out();
  step();
}

std::string SpfEvaluator::default_explanation(const std::string& domain, const IpAddress& ip) {
  return domain + " does not designate " + ip.to_string() + " as a permitted sender";
}

void SpfEvaluator::step() {
  questions_.clear();
  const std::string& domain = verdict_.domain;
  if (!usable_initial_domain(domain)) {  // §4.3
    verdict_.result = SpfResult::none;
    verdict_.problem = "\"" + domain + "\" is not a domain name that can have an SPF record";
    done_ = true;
    return;
  }
  SpfMacroContext context;
  context.sender = verdict_.sender;
  std::size_t at = verdict_.sender.rfind('@');
  context.local_part = verdict_.sender.substr(0, at);
  context.sender_domain = verdict_.sender.substr(at + 1);
  context.domain = domain;
  context.ip = inputs_.ip;
  context.helo = inputs_.helo;
  context.receiver = inputs_.receiver.empty() ? "unknown" : inputs_.receiver;
  context.timestamp = inputs_.timestamp;

  Run run(inputs_, answers_, context);
  std::optional<Outcome> outcome = run.check_host(strip_dot(domain));
  std::optional<std::string> explanation;
  if (outcome && outcome->result == SpfResult::fail && outcome->exp_spec) {
    explanation = run.explanation(*outcome->exp_spec, outcome->exp_domain);
    if (!explanation) outcome.reset();  // its questions are pending
  }
  verdict_.dns_terms = run.terms;
  verdict_.void_lookups = run.voids;
  if (!outcome) {
    if (run.missing.empty()) {  // cannot happen: a run stops only for a missing answer
      verdict_.result = SpfResult::temperror;
      verdict_.problem = "SPF evaluation stopped without a question";
      done_ = true;
      return;
    }
    if (answers_.size() + run.missing.size() > kMaxQuestions) {
      verdict_.result = SpfResult::temperror;
      verdict_.problem = "too many DNS questions";
      done_ = true;
      return;
    }
    questions_ = std::move(run.missing);
    return;
  }
  verdict_.result = outcome->result;
  verdict_.mechanism = outcome->mechanism;
  verdict_.problem = outcome->problem;
  if (verdict_.result == SpfResult::fail) {
    verdict_.explanation_from_record = explanation && !explanation->empty();
    verdict_.explanation = verdict_.explanation_from_record ? *explanation : default_explanation(domain, inputs_.ip);
  }
  done_ = true;
}

}  // namespace postamt::mailauth
