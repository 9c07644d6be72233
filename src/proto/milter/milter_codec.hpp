#pragma once
// The Sendmail milter protocol, version 6 (libmilter's mfdef.h; as Sendmail 8.14+ and
// Postfix speak it), MTA side, sans-I/O: the packets we send (encoders) and the milter's
// packets (PacketReader framing, decode_response). Every packet is a 4-octet length in
// network order counting the command octet and the data, the command octet, the data.
// Strings in packets end with NUL; a string we send is cut at its first NUL.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "proto/smtp/reply.hpp"

namespace postamt::proto::milter {

inline constexpr std::uint32_t kVersion = 6;
inline constexpr std::size_t kMaxBodyChunk = 65535;            // MILTER_CHUNK_SIZE
inline constexpr std::size_t kMaxResponsePacket = 512 * 1024;  // a milter's packet, ours to bound

// Commands the MTA sends (SMFIC_*).
namespace command {
inline constexpr char abort = 'A', body = 'B', connect = 'C', macro = 'D', end_of_body = 'E', helo = 'H',
                      quit_new_connection = 'K', header = 'L', mail = 'M', end_of_header = 'N', optneg = 'O',
                      quit = 'Q', rcpt = 'R', data = 'T', unknown = 'U';
}

// Responses a milter sends (SMFIR_*); OPTNEG's answer reuses 'O'.
namespace response {
inline constexpr char add_rcpt = '+', del_rcpt = '-', add_rcpt_par = '2', shutdown = '4', accept = 'a',
                      replace_body = 'b', continue_ = 'c', discard = 'd', change_from = 'e', conn_fail = 'f',
                      add_header = 'h', insert_header = 'i', set_symlist = 'l', change_header = 'm',
                      progress = 'p', quarantine = 'q', reject = 'r', skip = 's', tempfail = 't', reply_code = 'y',
                      optneg = 'O';
}

// Actions a milter may take at end of message (SMFIF_*), offered in OPTNEG.
namespace action {
inline constexpr std::uint32_t add_headers = 0x01, change_body = 0x02, add_rcpt = 0x04, del_rcpt = 0x08,
                               change_headers = 0x10, quarantine = 0x20, change_from = 0x40,
                               add_rcpt_par = 0x80, set_symlist = 0x100;
}

// Protocol flags (SMFIP_*): steps the milter does not want (NO*), steps it will not
// answer (NR_*), and the rest of the negotiation.
namespace protocol {
inline constexpr std::uint32_t no_connect = 0x1, no_helo = 0x2, no_mail = 0x4, no_rcpt = 0x8, no_body = 0x10,
                               no_headers = 0x20, no_eoh = 0x40, nr_header = 0x80, no_unknown = 0x100,
                               no_data = 0x200, skip = 0x400, rcpt_rejected = 0x800, nr_connect = 0x1000,
                               nr_helo = 0x2000, nr_mail = 0x4000, nr_rcpt = 0x8000, nr_data = 0x10000,
                               nr_unknown = 0x20000, nr_eoh = 0x40000, nr_body = 0x80000,
                               header_leading_space = 0x100000, max_data_256k = 0x10000000,
                               max_data_1m = 0x20000000;
}

// The stages a macro list belongs to (SMFIM_*, SMFIR_SETSYMLIST).
enum class Stage : std::uint32_t { connect = 0, helo = 1, mail = 2, rcpt = 3, data = 4, eom = 5, eoh = 6 };
inline constexpr std::size_t kStages = 7;

struct Macro {
  std::string name;  // "j", "{client_addr}"
  std::string value;
};

enum class Family : char { unknown = 'U', unix_socket = 'L', ipv4 = '4', ipv6 = '6' };

// Encoders: one whole packet each.
std::string encode_optneg(std::uint32_t version, std::uint32_t actions, std::uint32_t protocol);
std::string encode_macros(char for_command, std::span<const Macro> macros);
std::string encode_connect(std::string_view hostname, Family family, std::uint16_t port, std::string_view address);
std::string encode_helo(std::string_view name);
// MAIL and RCPT: the address in angle brackets, then ESMTP parameters.
std::string encode_mail(std::string_view reverse_path, std::span<const std::string> parameters = {});
std::string encode_rcpt(std::string_view forward_path, std::span<const std::string> parameters = {});
std::string encode_header(std::string_view name, std::string_view value);
std::string encode_body(std::string_view chunk);  // chunk.size() <= kMaxBodyChunk
std::string encode_bare(char command);             // DATA, EOH, EOM, ABORT, QUIT

struct Packet {
  char command = 0;
  std::string data;
};

// Packet framing of the milter's stream. An error (a length of 0 or over the bound) is
// sticky: the stream cannot be resynchronised.
class PacketReader {
 public:
  explicit PacketReader(std::size_t max_packet = kMaxResponsePacket) : max_packet_(max_packet) {}
  void feed(std::string_view bytes);
  // The next whole packet; nullopt when more bytes are needed.
  Result<std::optional<Packet>> next();
  std::size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  std::size_t max_packet_;
  std::string buffer_;
  std::size_t consumed_ = 0;
  std::optional<Error> error_;
};

// The milter's answer to OPTNEG: what it does and which steps it skips, and (SETSYMLIST)
// the macros it wants per stage.
struct Negotiation {
  std::uint32_t version = 0;
  std::uint32_t actions = 0;
  std::uint32_t protocol = 0;
  std::vector<std::pair<Stage, std::string>> symbol_lists;  // stage, space-separated names
};

struct Response {
  enum class Kind {
    accept, continue_, reject, tempfail, discard, reply_code,  // verdicts
    add_header, insert_header, change_header, quarantine,      // end-of-message changes
    progress, skip, set_symlist,
    unsupported,  // a request we never offered (recipients, body, sender, shutdown…)
  };
  Kind kind = Kind::continue_;
  char command = 0;
  std::string name;           // header name; set_symlist: the list
  std::string value;          // header value; quarantine: the reason
  std::uint32_t index = 0;    // insert/change header; set_symlist: the stage
  smtp::Reply reply;          // reply_code
};

// SMFIR_REPLYCODE text: "550 5.7.1 text" or several lines "550-5.7.1 a\r\n550 5.7.1 b";
// the code must be 4xx or 5xx, the enhanced status (when given) of the same class.
Result<smtp::Reply> parse_reply_code(std::string_view text);

Result<Negotiation> decode_negotiation(const Packet& packet);
Result<Response> decode_response(const Packet& packet);

}  // namespace postamt::proto::milter
