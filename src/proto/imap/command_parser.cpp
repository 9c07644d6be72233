// parse_command(): the command name picks the parser (RFC 9051 §6 and §9 "command"), plus
// the session-level commands: LOGIN, AUTHENTICATE, ENABLE, ID, COMPRESS, QUOTA.
#include <array>
#include <string_view>
#include <utility>

#include "proto/imap/command_parsers.hpp"
#include "proto/imap/commands.hpp"

namespace postamt::proto::imap {
namespace command_parsers {
namespace {

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// base64 = *(4base64-char) [base64-terminal] (RFC 9051 §9); "=" alone is an empty
// initial response (RFC 4959 §3).
bool is_initial_response(std::string_view text) {
  if (text == "=") return true;
  if (text.empty() || text.size() % 4 != 0) return false;
  std::size_t padding = 0;
  while (padding < 2 && text[text.size() - 1 - padding] == '=') ++padding;
  for (std::size_t i = 0; i + padding < text.size(); ++i) {
    if (!is_base64_char(text[i])) return false;
  }
  return true;
}

}  // namespace

// login = "LOGIN" SP userid SP password; both astrings.
Result login(ArgumentCursor& arguments) {
  LoginCommand command;
  auto user = arguments.astring("user name");
  if (!user) return std::unexpected(std::move(user.error()));
  auto password = arguments.astring("password");
  if (!password) return std::unexpected(std::move(password.error()));
  if (auto end = arguments.finish(); !end) return std::unexpected(std::move(end.error()));
  command.user = std::move(*user);
  command.password = std::move(*password);
  return command;
}

// authenticate = "AUTHENTICATE" SP auth-type [SP initial-resp] (RFC 9051, RFC 4959).
Result authenticate(ArgumentCursor& arguments) {
  AuthenticateCommand command;
  auto mechanism = arguments.upper_atom("SASL mechanism");
  if (!mechanism) return std::unexpected(std::move(mechanism.error()));
  command.mechanism = std::move(*mechanism);
  if (Value* response = arguments.peek()) {
    if (response->kind != Value::Kind::atom || !is_initial_response(response->text)) {
      return std::unexpected("Invalid SASL initial response");
    }
    command.initial_response = std::move(response->text);
    (void)arguments.next("initial response");
  }
  if (auto end = arguments.finish(); !end) return std::unexpected(std::move(end.error()));
  return command;
}

// enable = "ENABLE" 1*(SP capability) (RFC 5161 §3, RFC 9051 §6.3.1).
Result enable(ArgumentCursor& arguments) {
  EnableCommand command;
  if (arguments.at_end()) return std::unexpected("Missing capability to enable");
  while (!arguments.at_end()) {
    auto capability = arguments.upper_atom("capability");
    if (!capability) return std::unexpected(std::move(capability.error()));
    command.capabilities.push_back(std::move(*capability));
  }
  return command;
}

constexpr std::size_t kIdMaxPairs = 30;
constexpr std::size_t kIdMaxField = 30;
constexpr std::size_t kIdMaxValue = 1024;

// id = "ID" SP id-params-list; id-params-list = "(" *(string SP nstring) ")" / nil
// (RFC 2971 §4).
Result id(ArgumentCursor& arguments) {
  IdCommand command;
  auto list = arguments.next("ID parameter list");
  if (!list) return std::unexpected(std::move(list.error()));
  if ((*list)->kind == Value::Kind::list) {
    std::vector<Value>& items = (*list)->items;
    if (items.size() % 2 != 0) return std::unexpected("ID: field without a value");
    // RFC 2971 §3.3: at most 30 pairs, fields of at most 30 octets, values of at most 1024.
    if (items.size() / 2 > kIdMaxPairs) return std::unexpected("ID: more than 30 field-value pairs");
    for (std::size_t i = 0; i < items.size(); i += 2) {
      auto field = take_string(items[i], "ID field");
      if (!field) return std::unexpected(std::move(field.error()));
      if (field->size() > kIdMaxField) return std::unexpected("ID: field longer than 30 octets");
      std::optional<std::string> value;
      if (items[i + 1].kind != Value::Kind::nil) {
        auto text = take_string(items[i + 1], "ID value");
        if (!text) return std::unexpected(std::move(text.error()));
        if (text->size() > kIdMaxValue) return std::unexpected("ID: value longer than 1024 octets");
        value = std::move(*text);
      }
      command.parameters.emplace_back(std::move(*field), std::move(value));
    }
  } else if ((*list)->kind != Value::Kind::nil) {
    return std::unexpected("ID: NIL or a parameter list expected");
  }
  if (auto end = arguments.finish(); !end) return std::unexpected(std::move(end.error()));
  return command;
}

// compress = "COMPRESS" SP algorithm (RFC 4978 §3).
Result compress(ArgumentCursor& arguments) {
  CompressCommand command;
  auto mechanism = arguments.upper_atom("compression mechanism");
  if (!mechanism) return std::unexpected(std::move(mechanism.error()));
  if (auto end = arguments.finish(); !end) return std::unexpected(std::move(end.error()));
  command.mechanism = std::move(*mechanism);
  return command;
}

// getquota = "GETQUOTA" SP quota-root-name (RFC 9208 §4.2).
Result get_quota(ArgumentCursor& arguments) {
  auto root = arguments.astring("quota root");
  if (!root) return std::unexpected(std::move(root.error()));
  if (auto end = arguments.finish(); !end) return std::unexpected(std::move(end.error()));
  return GetQuotaCommand{std::move(*root)};
}

// getquotaroot = "GETQUOTAROOT" SP mailbox (RFC 9208 §4.3).
Result get_quota_root(ArgumentCursor& arguments) {
  auto mailbox = arguments.mailbox();
  if (!mailbox) return std::unexpected(std::move(mailbox.error()));
  if (auto end = arguments.finish(); !end) return std::unexpected(std::move(end.error()));
  return GetQuotaRootCommand{std::move(*mailbox)};
}

// setquota = "SETQUOTA" SP quota-root-name SP setquota-list;
// setquota-list = "(" [setquota-resource *(SP setquota-resource)] ")";
// setquota-resource = resource-name SP resource-limit (RFC 9208 §4.1.4, §7).
Result set_quota(ArgumentCursor& arguments) {
  SetQuotaCommand command;
  auto root = arguments.astring("quota root");
  if (!root) return std::unexpected(std::move(root.error()));
  command.root = std::move(*root);
  auto list = arguments.next("quota limits");
  if (!list) return std::unexpected(std::move(list.error()));
  if ((*list)->kind != Value::Kind::list) return std::unexpected("SETQUOTA: limit list expected");
  std::vector<Value>& items = (*list)->items;
  if (items.size() % 2 != 0) return std::unexpected("SETQUOTA: resource without a limit");
  for (std::size_t i = 0; i < items.size(); i += 2) {
    auto resource = take_upper_atom(items[i], "quota resource");
    if (!resource) return std::unexpected(std::move(resource.error()));
    if (items[i + 1].kind != Value::Kind::atom) return std::unexpected("SETQUOTA: invalid limit");
    auto limit = parse_number64(items[i + 1].text, "quota limit");
    if (!limit) return std::unexpected(std::move(limit.error()));
    command.limits.emplace_back(std::move(*resource), *limit);
  }
  if (auto end = arguments.finish(); !end) return std::unexpected(std::move(end.error()));
  return command;
}

}  // namespace command_parsers

namespace {

using command_parsers::Result;

template <typename Command>
Result without_arguments(ArgumentCursor& arguments, std::string_view name) {
  if (!arguments.at_end()) return std::unexpected(std::string(name) + " takes no arguments");
  return Command{};
}

Result dispatch(std::string_view name, ArgumentCursor& arguments) {
  namespace p = command_parsers;
  if (name == "CAPABILITY") return without_arguments<CapabilityCommand>(arguments, name);
  if (name == "NOOP") return without_arguments<NoopCommand>(arguments, name);
  if (name == "LOGOUT") return without_arguments<LogoutCommand>(arguments, name);
  if (name == "STARTTLS") return without_arguments<StartTlsCommand>(arguments, name);
  if (name == "IDLE") return without_arguments<IdleCommand>(arguments, name);
  if (name == "CLOSE") return without_arguments<CloseCommand>(arguments, name);
  if (name == "UNSELECT") return without_arguments<UnselectCommand>(arguments, name);
  if (name == "CHECK") return without_arguments<CheckCommand>(arguments, name);
  if (name == "NAMESPACE") return without_arguments<NamespaceCommand>(arguments, name);
  if (name == "EXPUNGE") return without_arguments<ExpungeCommand>(arguments, name);
  if (name == "LOGIN") return p::login(arguments);
  if (name == "AUTHENTICATE") return p::authenticate(arguments);
  if (name == "ENABLE") return p::enable(arguments);
  if (name == "ID") return p::id(arguments);
  if (name == "COMPRESS") return p::compress(arguments);
  if (name == "SELECT") return p::select(arguments, false);
  if (name == "EXAMINE") return p::select(arguments, true);
  if (name == "CREATE") return p::create(arguments);
  if (name == "DELETE") return p::delete_mailbox(arguments);
  if (name == "RENAME") return p::rename(arguments);
  if (name == "SUBSCRIBE") return p::subscribe(arguments, true);
  if (name == "UNSUBSCRIBE") return p::subscribe(arguments, false);
  if (name == "LIST") return p::list(arguments);
  if (name == "LSUB") return p::lsub(arguments);
  if (name == "STATUS") return p::status(arguments);
  if (name == "APPEND") return p::append(arguments);
  if (name == "FETCH") return p::fetch(arguments, false);
  if (name == "STORE") return p::store(arguments, false);
  if (name == "COPY") return p::copy(arguments, false, false);
  if (name == "MOVE") return p::copy(arguments, false, true);
  if (name == "SEARCH") return p::search(arguments, false);
  if (name == "SORT") return p::sort(arguments, false);
  if (name == "THREAD") return p::thread(arguments, false);
  if (name == "UID") return p::uid(arguments);
  if (name == "GETQUOTA") return p::get_quota(arguments);
  if (name == "GETQUOTAROOT") return p::get_quota_root(arguments);
  if (name == "SETQUOTA") return p::set_quota(arguments);
  return std::unexpected("Unknown command " + preview(name));
}

}  // namespace

std::expected<TypedCommand, CommandError> parse_command(ParsedCommand&& command) {
  ArgumentCursor arguments(command.arguments);
  auto parsed = dispatch(command.name, arguments);
  if (!parsed)
    return std::unexpected(CommandError{std::move(command.tag), std::move(parsed.error())});
  return TypedCommand{std::move(command.tag), std::move(*parsed)};
}

}  // namespace postamt::proto::imap
