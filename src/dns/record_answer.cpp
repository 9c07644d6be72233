#include "dns/record_answer.hpp"

#include <ares.h>
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <optional>

namespace postamt::dns {
namespace {

constexpr std::size_t kHeaderLength = 12;
constexpr unsigned kClassIn = 1;       // RFC 1035 §3.2.4
constexpr unsigned kTypeCname = 5;     // RFC 1035 §3.2.2
constexpr unsigned kTypeSoa = 6;
constexpr int kMaxPointerJumps = 64;   // compression loops end here
constexpr std::size_t kMaxNameOctets = 255;  // RFC 1035 §3.1

struct Record {
  std::string owner;  // lower case, no trailing dot
  unsigned type = 0;
  unsigned klass = 0;
  std::uint32_t ttl = 0;
  std::size_t rdata = 0;  // offset into the message
  std::size_t length = 0;
};

class MessageReader {
 public:
  explicit MessageReader(const std::vector<unsigned char>& message) : m_(message) {}

  std::optional<unsigned> u16(std::size_t at) const {
    if (at + 2 > m_.size()) return std::nullopt;
    return static_cast<unsigned>(m_[at] << 8 | m_[at + 1]);
  }
  std::optional<std::uint32_t> u32(std::size_t at) const {
    if (at + 4 > m_.size()) return std::nullopt;
    return static_cast<std::uint32_t>(m_[at]) << 24 | static_cast<std::uint32_t>(m_[at + 1]) << 16 |
           static_cast<std::uint32_t>(m_[at + 2]) << 8 | m_[at + 3];
  }

  // RFC 1035 §4.1.4: a name with compression pointers; `next` is the offset after it where
  // it starts. Labels are joined with '.', no trailing dot, octets kept as they are.
  bool name(std::size_t at, std::string& out, std::size_t& next) const {
    out.clear();
    std::size_t octets = 0;
    bool jumped = false;
    for (int jumps = 0; jumps <= kMaxPointerJumps;) {
      if (at >= m_.size()) return false;
      unsigned length = m_[at];
      if (length == 0) {
        if (!jumped) next = at + 1;
        return true;
      }
      if ((length & 0xC0) == 0xC0) {
        if (at + 1 >= m_.size()) return false;
        if (!jumped) next = at + 2;
        jumped = true;
        at = (length & 0x3F) << 8 | m_[at + 1];
        ++jumps;
        continue;
      }
      if ((length & 0xC0) != 0) return false;  // RFC 6891 §5: extended label types are gone
      if (at + 1 + length > m_.size()) return false;
      octets += length + 1;
      if (octets > kMaxNameOctets) return false;
      if (!out.empty()) out += '.';
      out.append(reinterpret_cast<const char*>(m_.data() + at + 1), length);
      at += 1 + length;
    }
    return false;
  }

  const std::vector<unsigned char>& bytes() const { return m_; }

 private:
  const std::vector<unsigned char>& m_;
};

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string strip_dot(std::string name) {
  while (!name.empty() && name.back() == '.') name.pop_back();
  return name;
}

// RFC 2181 §8: a TTL with the top bit set is treated as zero.
std::uint32_t usable_ttl(std::uint32_t ttl) { return (ttl & 0x80000000u) != 0 ? 0 : ttl; }

RecordAnswer failure(LookupStatus status, std::string problem) {
  RecordAnswer answer;
  answer.status = status;
  answer.problem = std::move(problem);
  return answer;
}

RecordAnswer server_said(int rcode, std::string problem) {
  RecordAnswer answer;
  answer.status = LookupStatus::answered;
  answer.rcode = rcode;
  answer.problem = std::move(problem);
  return answer;
}

// Reads the records of a section; false when the section cannot be walked.
bool read_section(const MessageReader& reader, std::size_t& at, unsigned count, std::vector<Record>& out) {
  for (unsigned i = 0; i < count; ++i) {
    Record record;
    std::size_t next = 0;
    if (!reader.name(at, record.owner, next)) return false;
    at = next;
    auto type = reader.u16(at);
    auto klass = reader.u16(at + 2);
    auto ttl = reader.u32(at + 4);
    auto length = reader.u16(at + 8);
    if (!type || !klass || !ttl || !length) return false;
    at += 10;
    if (at + *length > reader.bytes().size()) return false;
    record.owner = lower(std::move(record.owner));
    record.type = *type;
    record.klass = *klass;
    record.ttl = usable_ttl(*ttl);
    record.rdata = at;
    record.length = *length;
    at += *length;
    out.push_back(std::move(record));
  }
  return true;
}

// The RDATA of one record as text; nullopt when it is malformed.
std::optional<std::string> rdata_text(const MessageReader& reader, const Record& record, RecordKind kind) {
  const auto& m = reader.bytes();
  const unsigned char* data = m.data() + record.rdata;
  switch (kind) {
    case RecordKind::a: {
      if (record.length != 4) return std::nullopt;  // RFC 1035 §3.4.1
      char text[INET_ADDRSTRLEN];
      if (inet_ntop(AF_INET, data, text, sizeof text) == nullptr) return std::nullopt;
      return std::string(text);
    }
    case RecordKind::aaaa: {
      if (record.length != 16) return std::nullopt;  // RFC 3596 §2.2
      char text[INET6_ADDRSTRLEN];
      if (inet_ntop(AF_INET6, data, text, sizeof text) == nullptr) return std::nullopt;
      return std::string(text);
    }
    case RecordKind::mx:
    case RecordKind::ptr: {
      std::size_t start = record.rdata + (kind == RecordKind::mx ? 2 : 0);  // MX: PREFERENCE first
      if (start >= record.rdata + record.length) return std::nullopt;
      std::string name;
      std::size_t next = 0;
      if (!reader.name(start, name, next) || next != record.rdata + record.length) return std::nullopt;
      return name;
    }
    case RecordKind::txt: {  // RFC 1035 §3.3.14: one or more <character-string>s
      std::string text;
      std::size_t at = 0;
      while (at < record.length) {
        std::size_t length = data[at];
        if (at + 1 + length > record.length) return std::nullopt;
        text.append(reinterpret_cast<const char*>(data + at + 1), length);
        at += 1 + length;
      }
      return text;
    }
  }
  return std::nullopt;
}

// RFC 2308 §5: a negative answer lives as long as min(SOA TTL, SOA MINIMUM).
std::uint32_t negative_ttl(const MessageReader& reader, const std::vector<Record>& authority) {
  for (const Record& record : authority) {
    if (record.type != kTypeSoa || record.klass != kClassIn) continue;
    std::string skipped;
    std::size_t next = 0;
    if (!reader.name(record.rdata, skipped, next) || !reader.name(next, skipped, next)) continue;
    if (next + 20 != record.rdata + record.length) continue;
    auto minimum = reader.u32(next + 16);
    if (!minimum) continue;
    return std::min(record.ttl, usable_ttl(*minimum));
  }
  return kDefaultNegativeTtl;
}

}  // namespace

RecordAnswer read_record_message(const std::vector<unsigned char>& message, RecordKind kind,
                                 const std::string& name) {
  MessageReader reader(message);
  if (message.size() < kHeaderLength) return failure(LookupStatus::malformed, name + ": short DNS answer");
  RecordAnswer answer;
  answer.status = LookupStatus::answered;
  answer.rcode = message[3] & 0x0F;             // RFC 1035 §4.1.1
  answer.authentic = (message[3] & 0x20) != 0;  // AD, RFC 4035 §3.2.3
  unsigned questions = *reader.u16(4);
  unsigned answers = *reader.u16(6);
  unsigned authorities = *reader.u16(8);
  std::size_t at = kHeaderLength;
  for (unsigned i = 0; i < questions; ++i) {
    std::string skipped;
    std::size_t next = 0;
    if (!reader.name(at, skipped, next) || next + 4 > message.size())
      return failure(LookupStatus::malformed, name + ": malformed DNS answer");
    at = next + 4;
  }
  std::vector<Record> answer_records;
  std::vector<Record> authority_records;
  if (!read_section(reader, at, answers, answer_records))
    return failure(LookupStatus::malformed, name + ": malformed DNS answer");
  bool authority_ok = read_section(reader, at, authorities, authority_records);  // only for the TTL
  if (!authority_ok) authority_records.clear();

  // CNAME chains within the answer (RFC 1034 §3.6.2), as a recursive resolver sends them.
  std::string owner = lower(strip_dot(name));
  std::optional<std::uint32_t> ttl;
  auto keep_ttl = [&ttl](std::uint32_t value) { ttl = ttl ? std::min(*ttl, value) : value; };
  for (int hop = 0; hop < kMaxCnameHops; ++hop) {
    auto cname = std::find_if(answer_records.begin(), answer_records.end(), [&](const Record& r) {
      return r.type == kTypeCname && r.klass == kClassIn && r.owner == owner;
    });
    if (cname == answer_records.end()) break;
    std::string target;
    std::size_t next = 0;
    if (!reader.name(cname->rdata, target, next)) return failure(LookupStatus::malformed, name + ": malformed CNAME");
    keep_ttl(cname->ttl);
    owner = lower(std::move(target));
  }
  std::size_t octets = 0;
  std::optional<std::uint32_t> records_ttl;
  for (const Record& record : answer_records) {
    if (record.type != static_cast<unsigned>(kind) || record.klass != kClassIn || record.owner != owner) continue;
    auto text = rdata_text(reader, record, kind);
    if (!text) return failure(LookupStatus::malformed, name + ": malformed record in the DNS answer");
    octets += text->size();
    if (answer.records.size() + 1 > kMaxAnswerRecords || octets > kMaxAnswerBytes)
      return failure(LookupStatus::too_large, name + ": DNS answer over " + std::to_string(kMaxAnswerRecords) +
                                                  " records or " + std::to_string(kMaxAnswerBytes) + " octets");
    answer.records.push_back(std::move(*text));
    keep_ttl(record.ttl);
  }
  if (answer.records.empty() && (answer.rcode == 0 || answer.rcode == 3))
    answer.ttl = negative_ttl(reader, authority_records);
  else
    answer.ttl = ttl.value_or(0);
  return answer;
}

RecordAnswer parse_record_answer(const QueryOutcome& outcome, RecordKind kind, const std::string& name) {
  if (outcome.past_deadline) return failure(LookupStatus::timeout, name + ": no DNS answer within the lookup deadline");
  switch (outcome.status) {
    case ARES_SUCCESS:
    case ARES_ENODATA:
    case ARES_ENOTFOUND:
      if (outcome.answer.empty()) {  // c-ares said what the RCODE was, without the message
        if (outcome.status == ARES_ENOTFOUND) return server_said(3, "");
        return server_said(0, "");
      }
      return read_record_message(outcome.answer, kind, name);
    case ARES_EFORMERR: return server_said(1, name + ": the DNS server answered FORMERR");
    case ARES_ESERVFAIL: return server_said(2, name + ": DNS server failure (SERVFAIL)");
    case ARES_ENOTIMP: return server_said(4, name + ": the DNS server answered NOTIMP");
    case ARES_EREFUSED: return server_said(5, name + ": the DNS server refused (REFUSED)");
    case ARES_ETIMEOUT: return failure(LookupStatus::timeout, name + ": DNS timeout");
    case ARES_ECONNREFUSED: return failure(LookupStatus::network_error, name + ": DNS server unreachable");
    case ARES_EBADRESP: return failure(LookupStatus::malformed, name + ": malformed DNS answer");
    case ARES_EBADNAME: return failure(LookupStatus::bad_name, name + ": not a domain name");
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION: return failure(LookupStatus::shutdown, name + ": resolver shut down");
    default: return failure(LookupStatus::network_error, name + ": " + ares_strerror(outcome.status));
  }
}

}  // namespace postamt::dns
