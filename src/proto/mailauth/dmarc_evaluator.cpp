#include "proto/mailauth/dmarc_evaluator.hpp"

#include <algorithm>
#include <set>

namespace postamt::mailauth {
namespace {

std::string normalise_domain(std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  std::string out(domain);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::vector<std::string_view> split_labels(std::string_view domain) {
  std::vector<std::string_view> labels;
  while (true) {
    const auto dot = domain.find('.');
    labels.push_back(domain.substr(0, dot));
    if (dot == std::string_view::npos) break;
    domain.remove_prefix(dot + 1);
  }
  return labels;
}

// The rightmost `count` labels of `domain`.
std::string_view rightmost_labels(std::string_view domain, std::size_t count) {
  const auto labels = split_labels(domain);
  if (count >= labels.size()) return domain;
  const std::string_view first = labels[labels.size() - count];
  return domain.substr(static_cast<std::size_t>(first.data() - domain.data()));
}

std::size_t label_count(std::string_view domain) { return split_labels(domain).size(); }

// `name` equals `parent` or lies below it.
bool is_at_or_below(std::string_view name, std::string_view parent) {
  if (name == parent) return true;
  return name.size() > parent.size() && name.ends_with(parent) && name[name.size() - parent.size() - 1] == '.';
}

std::size_t common_suffix_labels(std::string_view a, std::string_view b) {
  const auto la = split_labels(a), lb = split_labels(b);
  std::size_t n = 0;
  while (n < la.size() && n < lb.size() && la[la.size() - 1 - n] == lb[lb.size() - 1 - n]) ++n;
  return n;
}

// One step lower (RFC 7489 §6.6.4): reject → quarantine → none.
DmarcPolicy lowered(DmarcPolicy policy) {
  return policy == DmarcPolicy::reject ? DmarcPolicy::quarantine : DmarcPolicy::none;
}

enum class Aligned { yes, no, pending, temporary };

}  // namespace

std::string_view to_string(DmarcResult result) {
  switch (result) {
    case DmarcResult::none: return "none";
    case DmarcResult::pass: return "pass";
    case DmarcResult::fail: return "fail";
    case DmarcResult::temperror: return "temperror";
    case DmarcResult::permerror: return "permerror";
  }
  return "none";
}

std::vector<std::string> dmarc_tree_walk_targets(std::string_view domain) {
  std::vector<std::string> targets{std::string(domain)};
  std::size_t labels = label_count(domain);
  // RFC 9989 §4.10 steps 4-5: below 8 labels drop one; from 8 on, keep the rightmost 7.
  while (labels > 1) {
    labels = labels >= 8 ? 7 : labels - 1;
    targets.emplace_back(rightmost_labels(domain, labels));
  }
  return targets;
}

DmarcEvaluator::DmarcEvaluator(DmarcEvaluationInput input) : input_(std::move(input)) {}

void DmarcEvaluator::provide(const DnsQuestion& question, DnsAnswer answer) {
  answers_.insert_or_assign({question.name, question.type}, std::move(answer));
}

const DnsAnswer* DmarcEvaluator::ask(const DnsQuestion& question) {
  if (auto it = answers_.find({question.name, question.type}); it != answers_.end()) return &it->second;
  if (std::find(missing_.begin(), missing_.end(), question) == missing_.end()) missing_.push_back(question);
  return nullptr;
}

DmarcEvaluator::RecordAt DmarcEvaluator::record_at(std::string_view domain) {
  const DnsAnswer* answer = ask({"_dmarc." + std::string(domain), RecordType::txt});
  if (!answer) return {Lookup::pending, {}};
  if (answer->temporary()) return {Lookup::temporary, {}};
  std::vector<const std::string*> candidates;
  for (const std::string& txt : answer->records) {
    if (looks_like_dmarc_record(txt)) candidates.push_back(&txt);
  }
  if (candidates.empty()) return {Lookup::none, {}};
  // Several records: none of them counts (RFC 7489 §6.6.3 step 5, RFC 9989 §4.10).
  if (candidates.size() > 1) return {Lookup::multiple, {}};
  auto record = parse_dmarc_record(*candidates.front());
  // One v=DMARC1 record that is not valid (an invalid p= without a usable rua=, a broken
  // tag list): policy discovery applies no DMARC to the message (RFC 9989 §4.10.1); an
  // organisational-domain walk passes over it.
  if (!record) return {Lookup::invalid, {}};
  return {Lookup::found, std::move(*record)};
}

DmarcEvaluator::Walk DmarcEvaluator::policy_walk(std::string_view from) {
  if (input_.mode == DmarcMode::rfc7489) {
    // RFC 7489 §6.6.3: the From domain, then its organisational domain.
    // Several records or an invalid one end discovery without a policy (§6.6.3 step 5).
    RecordAt at_from = record_at(from);
    if (at_from.state == Lookup::found) return {Lookup::found, std::string(from), std::move(at_from.record)};
    if (at_from.state != Lookup::none) return {at_from.state, std::string(from), {}};
    Walk org = organisational_domain(from);
    if (org.domain == from) return {Lookup::none, {}, {}};
    RecordAt at_org = record_at(org.domain);
    return {at_org.state, org.domain, std::move(at_org.record)};
  }
  // RFC 9989 §4.10.1: the first record of the tree walk. A name with several records
  // counts as having none (§4.10 step 2); an invalid record ends discovery.
  for (const std::string& target : dmarc_tree_walk_targets(from)) {
    RecordAt at = record_at(target);
    if (at.state == Lookup::none || at.state == Lookup::multiple) continue;
    return {at.state, target, std::move(at.record)};
  }
  return {Lookup::none, {}, {}};
}

DmarcEvaluator::Walk DmarcEvaluator::organisational_walk(std::string_view domain) {
  // RFC 9989 §4.10.2: psd=n marks the organisational domain, psd=y (above the start) a
  // public suffix whose child on the way is it; otherwise the record with the fewest labels,
  // and without any record the domain itself.
  std::string fewest_labels;
  for (const std::string& target : dmarc_tree_walk_targets(domain)) {
    RecordAt at = record_at(target);
    if (at.state == Lookup::pending || at.state == Lookup::temporary) return {at.state, {}, {}};
    if (at.state != Lookup::found) continue;
    if (at.record.public_suffix == PublicSuffixFlag::no) return {Lookup::found, target, {}};
    if (at.record.public_suffix == PublicSuffixFlag::yes) {
      // The walk stops at either psd value (§4.10 step 2); psd=y where it started leaves
      // that name, the one with the fewest labels found, as the organisational domain.
      if (target == domain) return {Lookup::found, target, {}};
      return {Lookup::found, std::string(rightmost_labels(domain, label_count(target) + 1)), {}};
    }
    fewest_labels = target;
  }
  return {Lookup::found, fewest_labels.empty() ? std::string(domain) : fewest_labels, {}};
}

DmarcEvaluator::Walk DmarcEvaluator::organisational_domain(std::string_view domain) {
  if (input_.mode == DmarcMode::rfc9989) return organisational_walk(domain);
  std::string org = input_.organisational_domain ? normalise_domain(input_.organisational_domain(domain))
                                                 : std::string(domain);
  if (org.empty() || !is_at_or_below(domain, org)) org = std::string(domain);
  return {Lookup::found, std::move(org), {}};
}

DmarcOutcome DmarcEvaluator::evaluate() {
  DmarcOutcome out;
  out.from_status = input_.author.status;
  if (!input_.author.ok()) {
    out.result = input_.from_failure.result;
    out.requested_policy = out.policy = input_.from_failure.policy;
    out.reason = std::string(to_string(input_.author.status));
    return out;
  }
  const std::string from = normalise_domain(input_.author.domain);
  out.from_domain = from;

  Walk policy = policy_walk(from);
  if (policy.state == Lookup::pending) return out;
  if (policy.state == Lookup::temporary) {
    out.result = DmarcResult::temperror;
    out.reason = "DNS failure looking up the DMARC policy";
    return out;
  }
  if (policy.state == Lookup::invalid) {
    out.result = DmarcResult::none;
    out.reason = "invalid DMARC record at " + policy.domain;
    return out;
  }
  if (policy.state == Lookup::multiple) {
    out.result = DmarcResult::none;
    out.reason = "several DMARC records at " + policy.domain;
    return out;
  }
  if (policy.state != Lookup::found) {
    out.result = DmarcResult::none;
    out.reason = "no DMARC policy";
    return out;
  }
  out.policy_domain = policy.domain;
  out.record = policy.record;
  const DmarcRecord& record = policy.record;

  // The From domain's organisational domain, and each identifier's alignment; their walks
  // are independent, so a step asks all of their next questions together.
  Walk from_org = organisational_domain(from);
  if (from_org.state == Lookup::found) out.organisational_domain = from_org.domain;
  auto aligned = [&](std::string_view identifier, DmarcAlignmentMode mode) -> Aligned {
    if (identifier == from) return Aligned::yes;
    if (mode == DmarcAlignmentMode::strict || common_suffix_labels(identifier, from) == 0) return Aligned::no;
    Walk identifier_org = organisational_domain(identifier);  // asked alongside from_org
    if (from_org.state == Lookup::pending) return Aligned::pending;
    if (from_org.state == Lookup::temporary) return Aligned::temporary;
    // Only a name at or below the From domain's organisational domain can share it.
    if (!is_at_or_below(identifier, from_org.domain)) return Aligned::no;
    if (identifier_org.state == Lookup::pending) return Aligned::pending;
    if (identifier_org.state == Lookup::temporary) return Aligned::temporary;
    return identifier_org.domain == from_org.domain ? Aligned::yes : Aligned::no;
  };

  bool pending = false, temporary = false;
  auto note = [&](Aligned a) {
    pending |= a == Aligned::pending;
    temporary |= a == Aligned::temporary;
    return a == Aligned::yes;
  };
  const std::string spf_domain = normalise_domain(input_.spf_domain);
  if (input_.spf_pass && !spf_domain.empty()) out.spf_aligned = note(aligned(spf_domain, record.spf_alignment));
  std::set<std::string> dkim_domains;
  for (const DmarcDkimIdentity& signature : input_.dkim) {
    if (!signature.pass) continue;
    std::string d = normalise_domain(signature.domain);
    // A bound on the walks a message can cause: 8 distinct signing domains.
    if (d.empty() || (!dkim_domains.contains(d) && dkim_domains.size() >= 8)) continue;
    dkim_domains.insert(d);
    if (note(aligned(d, record.dkim_alignment)) && !out.dkim_aligned) {
      out.dkim_aligned = true;
      out.dkim_aligned_domain = d;
    }
  }
  if (pending || from_org.state == Lookup::pending) return out;

  if (out.spf_aligned || out.dkim_aligned) {
    out.result = DmarcResult::pass;
    out.reason = out.dkim_aligned ? "DKIM aligned" : "SPF aligned";
    return out;
  }
  if (temporary) {
    out.result = DmarcResult::temperror;
    out.reason = "DNS failure finding an organisational domain";
    return out;
  }

  out.result = DmarcResult::fail;
  out.reason = "no aligned SPF or DKIM pass";
  if (policy.domain == from) {
    out.requested_policy = record.policy;
  } else if (record.nonexistent_policy) {
    // np= needs to know whether the From domain exists: NXDOMAIN or NODATA for A, AAAA and
    // MX alike means it does not (RFC 9989 §3.2.9 / §4.7).
    const DnsAnswer* a = ask({from, RecordType::a});
    const DnsAnswer* aaaa = ask({from, RecordType::aaaa});
    const DnsAnswer* mx = ask({from, RecordType::mx});
    if (!a || !aaaa || !mx) return out;
    if (a->temporary() || aaaa->temporary() || mx->temporary()) {
      out.result = DmarcResult::temperror;
      out.reason = "DNS failure checking whether the From domain exists";
      return out;
    }
    out.from_domain_nonexistent = a->empty() && aaaa->empty() && mx->empty();
    out.requested_policy = out.from_domain_nonexistent ? record.policy_for_nonexistent() : record.policy_for_subdomain();
  } else {
    out.requested_policy = record.policy_for_subdomain();
  }
  out.policy = out.requested_policy;
  const bool lower = input_.mode == DmarcMode::rfc7489 ? input_.random_percent >= record.percent : record.testing;
  if (lower && out.policy != DmarcPolicy::none) {
    out.policy = lowered(out.policy);
    out.sampled_out = true;
  }
  return out;
}

DmarcStep DmarcEvaluator::next() {
  missing_.clear();
  DmarcOutcome outcome = evaluate();
  if (missing_.empty()) return outcome;
  if (answers_.size() + missing_.size() > kMaxQuestions) {
    DmarcOutcome refused;
    refused.from_status = input_.author.status;
    refused.from_domain = outcome.from_domain;
    refused.result = DmarcResult::permerror;
    refused.reason = "too many DNS lookups";
    return refused;
  }
  return DmarcNeedAnswers{std::move(missing_)};
}

}  // namespace postamt::mailauth
