#pragma once
// One message told to one milter, sans-I/O (the milter protocol, version 6): OPTNEG, then
// CONNECT, HELO, MAIL, RCPT…, DATA, the header fields, EOH, the body in chunks and EOM,
// each with its macros (SMFIC_MACRO), leaving out the steps the milter asked to skip
// (SMFIP_NO*) and not waiting for the answers it said it would not give (SMFIP_NR_*).
// The caller sends what start()/on_packet() return and feeds every packet it reads back
// until a Step says done; outcome() then holds the milter's verdict and changes.
// The filter runs after DATA, so CONNECT…RCPT are replayed from what the session knew.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "proto/milter/milter_codec.hpp"

namespace postamt::proto::milter {

struct Envelope {
  std::string our_hostname;          // macro j
  std::string daemon_name = "smtp";  // {daemon_name}
  std::string queue_id;              // macro i
  std::string client_name;           // verified host name, or "[address]" when none
  std::string client_address;        // textual, no brackets
  std::uint16_t client_port = 0;
  Family family = Family::ipv4;
  std::string helo;
  std::string auth_user;    // {auth_authen}, empty when none
  std::string tls_version;  // {tls_version}, empty when not known or no TLS
  std::string sender;       // reverse-path without brackets, empty for <>
  std::vector<std::string> recipients;
};

// What we offer in OPTNEG: header changes and quarantine (and SETSYMLIST). Not offered,
// so no milter may ask for them: body replacement, recipient and sender changes.
inline constexpr std::uint32_t kOfferedActions =
    action::add_headers | action::change_headers | action::quarantine | action::set_symlist;
// Every step may be skipped or left unanswered; SMFIR_SKIP is understood. Not offered:
// leading spaces in header values (HDR_LEADSPC), rejected recipients, larger chunks.
inline constexpr std::uint32_t kOfferedProtocol =
    protocol::no_connect | protocol::no_helo | protocol::no_mail | protocol::no_rcpt | protocol::no_body |
    protocol::no_headers | protocol::no_eoh | protocol::nr_header | protocol::no_unknown | protocol::no_data |
    protocol::skip | protocol::nr_connect | protocol::nr_helo | protocol::nr_mail | protocol::nr_rcpt |
    protocol::nr_data | protocol::nr_unknown | protocol::nr_eoh | protocol::nr_body;

struct HeaderEdit {
  enum class Kind { add, insert, change };
  Kind kind = Kind::add;
  std::string name;
  std::string value;  // as the milter sent it (folds as LF + WSP)
  std::uint32_t index = 0;
};

struct Outcome {
  enum class Verdict { accept, reject, tempfail, discard, reply_code };
  Verdict verdict = Verdict::accept;
  smtp::Reply reply;                      // reply_code
  std::string stage;                      // the step the verdict came at ("rcpt", "eom", …)
  std::vector<HeaderEdit> header_edits;   // from EOM only
  std::optional<std::string> quarantine;  // SMFIR_QUARANTINE's reason
};

inline constexpr std::size_t kMaxHeaderEdits = 1000;

class Conversation {
 public:
  // `message`: header and body as received (CRLF); must outlive the conversation.
  Conversation(Envelope envelope, std::string_view message);

  std::string start();  // the OPTNEG packet

  struct Step {
    std::string send;   // bytes to write now (may be empty: keep reading)
    bool done = false;  // outcome() is final; `send` then holds QUIT
  };
  Result<Step> on_packet(const Packet& packet);

  const Outcome& outcome() const { return outcome_; }
  const Negotiation& negotiation() const { return negotiation_; }

 private:
  struct Item {
    std::string bytes;
    bool expects_reply = false;
    std::string stage;
    bool body = false;
  };
  void plan();
  std::vector<Macro> macros(Stage stage) const;
  void add(Stage macro_stage, char macro_command, std::string bytes, bool reply, std::string stage, bool body = false);
  Step advance();
  Step finish(Outcome::Verdict verdict);

  Envelope envelope_;
  std::string_view message_;
  Negotiation negotiation_;
  bool negotiated_ = false;
  std::vector<Item> items_;
  std::size_t next_ = 0;        // the first item not yet sent
  std::string waiting_stage_;   // the stage whose answer we wait for
  bool waiting_body_ = false;
  std::vector<std::optional<std::vector<std::string>>> symbol_lists_;
  Outcome outcome_;
};

}  // namespace postamt::proto::milter
