#include "proto/milter/milter_codec.hpp"

#include <array>
#include <cstring>

namespace postamt::proto::milter {
namespace {

constexpr std::size_t kMaxReplyLines = 32;
constexpr std::size_t kMaxReplyLine = 512;

void put_u32(std::string& out, std::uint32_t v) {
  out += static_cast<char>((v >> 24) & 0xff);
  out += static_cast<char>((v >> 16) & 0xff);
  out += static_cast<char>((v >> 8) & 0xff);
  out += static_cast<char>(v & 0xff);
}

std::uint32_t get_u32(std::string_view data) {
  const auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(data[i])); };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

// A string up to its first NUL, then NUL (the wire's C strings).
void put_cstring(std::string& out, std::string_view s) {
  const auto nul = s.find('\0');
  out += s.substr(0, nul);
  out += '\0';
}

std::string packet(char command, std::string_view data) {
  std::string out;
  out.reserve(5 + data.size());
  put_u32(out, static_cast<std::uint32_t>(data.size() + 1));
  out += command;
  out += data;
  return out;
}

// The NUL-terminated strings of a packet's data; an error when the last is unterminated.
Result<std::vector<std::string_view>> cstrings(std::string_view data, std::size_t expected) {
  std::vector<std::string_view> out;
  while (!data.empty() && out.size() < expected) {
    const auto nul = data.find('\0');
    if (nul == std::string_view::npos) return permanent_error("milter string without NUL");
    out.push_back(data.substr(0, nul));
    data.remove_prefix(nul + 1);
  }
  if (out.size() != expected) return permanent_error("milter packet lacks a string");
  return out;
}

bool digit(char c) { return c >= '0' && c <= '9'; }

// "d.ddd.ddd" (RFC 3463 §2: class, subject 1-3 digits, detail 1-3 digits).
bool is_enhanced_status(std::string_view s) {
  std::size_t at = 0;
  for (int part = 0; part < 3; ++part) {
    const std::size_t start = at;
    while (at < s.size() && digit(s[at])) ++at;
    const std::size_t n = at - start;
    if (n == 0 || n > (part == 0 ? 1u : 3u)) return false;
    if (part < 2) {
      if (at >= s.size() || s[at] != '.') return false;
      ++at;
    }
  }
  return at == s.size();
}

}  // namespace

std::string encode_optneg(std::uint32_t version, std::uint32_t actions, std::uint32_t protocol) {
  std::string data;
  put_u32(data, version);
  put_u32(data, actions);
  put_u32(data, protocol);
  return packet(command::optneg, data);
}

std::string encode_macros(char for_command, std::span<const Macro> macros) {
  std::string data(1, for_command);
  for (const auto& m : macros) {
    put_cstring(data, m.name);
    put_cstring(data, m.value);
  }
  return packet(command::macro, data);
}

std::string encode_connect(std::string_view hostname, Family family, std::uint16_t port, std::string_view address) {
  std::string data;
  put_cstring(data, hostname);
  data += static_cast<char>(family);
  if (family != Family::unknown) {
    data += static_cast<char>((port >> 8) & 0xff);
    data += static_cast<char>(port & 0xff);
    put_cstring(data, address);
  }
  return packet(command::connect, data);
}

std::string encode_helo(std::string_view name) {
  std::string data;
  put_cstring(data, name);
  return packet(command::helo, data);
}

namespace {
std::string envelope_packet(char command, std::string_view path, std::span<const std::string> parameters) {
  std::string data;
  put_cstring(data, "<" + std::string(path.substr(0, path.find('\0'))) + ">");
  for (const auto& p : parameters) put_cstring(data, p);
  return packet(command, data);
}
}  // namespace

std::string encode_mail(std::string_view reverse_path, std::span<const std::string> parameters) {
  return envelope_packet(command::mail, reverse_path, parameters);
}

std::string encode_rcpt(std::string_view forward_path, std::span<const std::string> parameters) {
  return envelope_packet(command::rcpt, forward_path, parameters);
}

std::string encode_header(std::string_view name, std::string_view value) {
  std::string data;
  put_cstring(data, name);
  put_cstring(data, value);
  return packet(command::header, data);
}

std::string encode_body(std::string_view chunk) {
  return packet(command::body, chunk.substr(0, kMaxBodyChunk));
}

std::string encode_bare(char command) { return packet(command, {}); }

void PacketReader::feed(std::string_view bytes) {
  if (consumed_ > 0 && consumed_ >= buffer_.size() / 2) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_ += bytes;
}

Result<std::optional<Packet>> PacketReader::next() {
  if (error_) return std::unexpected(*error_);
  const std::string_view rest = std::string_view(buffer_).substr(consumed_);
  if (rest.size() < 4) return std::optional<Packet>{};
  const std::uint32_t length = get_u32(rest);
  if (length == 0 || length > max_packet_) {
    error_ = Error{ErrorKind::permanent, "milter packet length " + std::to_string(length) + " out of bounds"};
    return std::unexpected(*error_);
  }
  if (rest.size() - 4 < length) return std::optional<Packet>{};
  Packet p;
  p.command = rest[4];
  p.data.assign(rest.substr(5, length - 1));
  consumed_ += 4 + length;
  return std::optional<Packet>{std::move(p)};
}

Result<smtp::Reply> parse_reply_code(std::string_view text) {
  // Drop the trailing NUL-less remains: a final CRLF is tolerated.
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (text.empty()) return permanent_error("empty milter reply code");
  smtp::Reply reply;
  std::string lines;
  std::size_t count = 0;
  while (true) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (++count > kMaxReplyLines) return permanent_error("milter reply code has too many lines");
    if (line.size() > kMaxReplyLine) return permanent_error("milter reply code line too long");
    if (line.size() < 3 || !digit(line[0]) || !digit(line[1]) || !digit(line[2])) {
      return permanent_error("milter reply code does not start with three digits");
    }
    const unsigned code = static_cast<unsigned>((line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0'));
    if (code < 400 || code > 599) return permanent_error("milter reply code must be 4xx or 5xx");
    if (count == 1) reply.code = code;
    else if (code != reply.code) return permanent_error("milter reply code lines disagree");
    const bool last = end == std::string_view::npos;
    if (line.size() > 3) {
      if (line[3] != ' ' && line[3] != '-') return permanent_error("milter reply code: no space after the code");
      if (line[3] == '-' && last) return permanent_error("milter reply code: last line continues");
    }
    std::string_view rest = line.size() > 4 ? line.substr(4) : std::string_view{};
    const auto space = rest.find(' ');
    const std::string_view first_word = rest.substr(0, space);
    if (is_enhanced_status(first_word)) {
      if (first_word[0] != line[0]) return permanent_error("milter reply code: status class differs from code");
      if (reply.status.empty()) reply.status = first_word;
      rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
    }
    if (count > 1) lines += '\n';
    lines += rest;
    if (last) break;
    text.remove_prefix(end + 1);
  }
  if (reply.status.empty()) reply.status = reply.code >= 500 ? "5.7.1" : "4.7.1";
  reply.text = std::move(lines);
  return reply;
}

Result<Negotiation> decode_negotiation(const Packet& packet) {
  if (packet.command != response::optneg) return permanent_error("milter did not answer OPTNEG");
  std::string_view data = packet.data;
  if (data.size() < 12) return permanent_error("milter OPTNEG answer too short");
  Negotiation n;
  n.version = get_u32(data);
  n.actions = get_u32(data.substr(4));
  n.protocol = get_u32(data.substr(8));
  data.remove_prefix(12);
  // Version 6: the milter's macro lists (smfi_setsymlist) follow as stage + string pairs.
  while (!data.empty()) {
    if (data.size() < 5) return permanent_error("milter OPTNEG macro list truncated");
    const std::uint32_t stage = get_u32(data);
    data.remove_prefix(4);
    const auto nul = data.find('\0');
    if (nul == std::string_view::npos) return permanent_error("milter OPTNEG macro list without NUL");
    if (stage < kStages && n.symbol_lists.size() < kStages) {
      n.symbol_lists.emplace_back(static_cast<Stage>(stage), std::string(data.substr(0, nul)));
    }
    data.remove_prefix(nul + 1);
  }
  return n;
}

Result<Response> decode_response(const Packet& packet) {
  Response r;
  r.command = packet.command;
  const std::string_view data = packet.data;
  using K = Response::Kind;
  switch (packet.command) {
    case response::accept: r.kind = K::accept; return r;
    case response::continue_: r.kind = K::continue_; return r;
    case response::reject: r.kind = K::reject; return r;
    case response::tempfail: r.kind = K::tempfail; return r;
    case response::discard: r.kind = K::discard; return r;
    case response::progress: r.kind = K::progress; return r;
    case response::skip: r.kind = K::skip; return r;
    case response::reply_code: {
      auto text = cstrings(data, 1);
      if (!text) return std::unexpected(text.error());
      auto reply = parse_reply_code((*text)[0]);
      if (!reply) return std::unexpected(reply.error());
      r.kind = K::reply_code;
      r.reply = std::move(*reply);
      return r;
    }
    case response::add_header: {
      auto s = cstrings(data, 2);
      if (!s) return std::unexpected(s.error());
      r.kind = K::add_header;
      r.name = (*s)[0];
      r.value = (*s)[1];
      break;
    }
    case response::insert_header:
    case response::change_header: {
      if (data.size() < 4) return permanent_error("milter header change without index");
      auto s = cstrings(data.substr(4), 2);
      if (!s) return std::unexpected(s.error());
      r.kind = packet.command == response::insert_header ? K::insert_header : K::change_header;
      r.index = get_u32(data);
      r.name = (*s)[0];
      r.value = (*s)[1];
      break;
    }
    case response::quarantine: {
      auto s = cstrings(data, 1);
      if (!s) return std::unexpected(s.error());
      r.kind = K::quarantine;
      r.value = (*s)[0];
      return r;
    }
    case response::set_symlist: {
      if (data.size() < 4) return permanent_error("milter SETSYMLIST without stage");
      auto s = cstrings(data.substr(4), 1);
      if (!s) return std::unexpected(s.error());
      r.kind = K::set_symlist;
      r.index = get_u32(data);
      r.name = (*s)[0];
      return r;
    }
    case response::add_rcpt: case response::del_rcpt: case response::add_rcpt_par:
    case response::replace_body: case response::change_from: case response::shutdown:
    case response::conn_fail:
      r.kind = K::unsupported;
      return r;
    default:
      return permanent_error(std::string("unknown milter response '") +
                             (packet.command >= 0x20 && packet.command < 0x7f ? std::string(1, packet.command)
                                                                              : std::string("?")) + "'");
  }
  // Header changes: RFC 5322 §2.2 field names (printable ASCII but colon).
  if (r.name.empty()) return permanent_error("milter header change without a name");
  for (const char c : r.name) {
    if (c < 33 || c > 126 || c == ':') return permanent_error("milter header name is not a field name");
  }
  return r;
}

}  // namespace postamt::proto::milter
