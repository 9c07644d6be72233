// parse_command(): every command of commands.hpp, from the wire (RFC 9051 §9 and the
// extensions Postamt announces), with its error cases.
#include <gtest/gtest.h>

#include <string>

#include "imap_parse_helpers.hpp"
#include "proto/imap/commands.hpp"

namespace postamt::proto::imap {
namespace {

using test::error_of;
using test::parse_as;
using test::parse_wire;

std::string set_text(const SequenceSet& set) {
  if (set.is_saved_result()) return "$";
  std::string out;
  for (const auto& range : set.ranges()) {
    if (!out.empty()) out += ",";
    auto number = [](std::uint32_t n) {
      return n == SequenceSet::kStar ? std::string("*") : std::to_string(n);
    };
    out += number(range.first);
    if (range.last != range.first) out += ":" + number(range.last);
  }
  return out;
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

// --- general

TEST(ImapCommandParser, TagIsKeptAndUnknownCommandsAreBad) {
  auto result = parse_wire("A0042 NOOP");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->tag, "A0042");
  EXPECT_TRUE(std::holds_alternative<NoopCommand>(result->command));

  CommandReader reader;
  reader.receive("x1 FROBNICATE foo\r\n");
  auto event = reader.next_event();
  ASSERT_TRUE(event);
  auto tokens = tokenize(std::get<Command>(*event));
  ASSERT_TRUE(tokens);
  auto error = parse_command(std::move(*tokens));
  ASSERT_FALSE(error);
  EXPECT_EQ(error.error().tag, "x1");
  EXPECT_EQ(error.error().message, "Unknown command FROBNICATE");
  EXPECT_EQ(error_of("a XLIST \"\" *"), "Unknown command XLIST");
}

TEST(ImapCommandParser, ArgumentlessCommands) {
  EXPECT_TRUE(std::holds_alternative<CapabilityCommand>(parse_wire("a capability")->command));
  EXPECT_TRUE(std::holds_alternative<LogoutCommand>(parse_wire("a LOGOUT")->command));
  EXPECT_TRUE(std::holds_alternative<StartTlsCommand>(parse_wire("a STARTTLS")->command));
  EXPECT_TRUE(std::holds_alternative<IdleCommand>(parse_wire("a IDLE")->command));
  EXPECT_TRUE(std::holds_alternative<CloseCommand>(parse_wire("a CLOSE")->command));
  EXPECT_TRUE(std::holds_alternative<UnselectCommand>(parse_wire("a UNSELECT")->command));
  EXPECT_TRUE(std::holds_alternative<CheckCommand>(parse_wire("a CHECK")->command));
  EXPECT_TRUE(std::holds_alternative<NamespaceCommand>(parse_wire("a NAMESPACE")->command));
  EXPECT_TRUE(std::holds_alternative<ExpungeCommand>(parse_wire("a expunge")->command));
  EXPECT_EQ(error_of("a NOOP x"), "NOOP takes no arguments");
  EXPECT_EQ(error_of("a CAPABILITY ()"), "CAPABILITY takes no arguments");
  EXPECT_EQ(error_of("a LOGOUT NIL"), "LOGOUT takes no arguments");
  EXPECT_EQ(error_of("a EXPUNGE 1:5"), "EXPUNGE takes no arguments");
  EXPECT_EQ(error_of("a IDLE {1+}\r\nx"), "IDLE takes no arguments");
}

// --- authentication

TEST(ImapCommandParser, Login) {
  auto login = parse_as<LoginCommand>("a LOGIN fred \"s3cr\\\"et\"");
  EXPECT_EQ(login.user, "fred");
  EXPECT_EQ(login.password, "s3cr\"et");
  login = parse_as<LoginCommand>("a LOGIN {4+}\r\nj\xc3\xb6n {3+}\r\na b");
  EXPECT_EQ(login.user, "j\xc3\xb6n");
  EXPECT_EQ(login.password, "a b");
  login = parse_as<LoginCommand>("a LOGIN user] NIL");  // "]" is an ASTRING-CHAR
  EXPECT_EQ(login.user, "user]");
  EXPECT_EQ(login.password, "NIL");
  EXPECT_EQ(error_of("a LOGIN fred"), "Missing password");
  EXPECT_EQ(error_of("a LOGIN"), "Missing user name");
  EXPECT_EQ(error_of("a LOGIN fred pw extra"), "Unexpected argument extra");
  EXPECT_TRUE(starts_with(error_of("a LOGIN (fred) pw"), "Invalid user name"));
  EXPECT_TRUE(starts_with(error_of("a LOGIN fr%d pw"), "Invalid user name"));
  EXPECT_TRUE(starts_with(error_of("a LOGIN fred p*w"), "Invalid password"));
  EXPECT_TRUE(starts_with(error_of("a LOGIN fred ~{2+}\r\npw"), "literal8 not allowed"));
}

TEST(ImapCommandParser, Authenticate) {
  auto auth = parse_as<AuthenticateCommand>("a AUTHENTICATE plain");
  EXPECT_EQ(auth.mechanism, "PLAIN");
  EXPECT_FALSE(auth.initial_response);
  auth = parse_as<AuthenticateCommand>("a AUTHENTICATE PLAIN AGZyZWQAc2VjcmV0");
  EXPECT_EQ(auth.initial_response, "AGZyZWQAc2VjcmV0");
  auth = parse_as<AuthenticateCommand>("a AUTHENTICATE SCRAM-SHA-256 =");
  EXPECT_EQ(auth.initial_response, "=");
  auth = parse_as<AuthenticateCommand>("a AUTHENTICATE PLAIN AGZy+/==");
  EXPECT_EQ(auth.initial_response, "AGZy+/==");
  EXPECT_EQ(error_of("a AUTHENTICATE"), "Missing SASL mechanism");
  EXPECT_EQ(error_of("a AUTHENTICATE PLAIN abc"), "Invalid SASL initial response");
  EXPECT_EQ(error_of("a AUTHENTICATE PLAIN a=bc"), "Invalid SASL initial response");
  EXPECT_EQ(error_of("a AUTHENTICATE PLAIN a==="), "Invalid SASL initial response");
  EXPECT_EQ(error_of("a AUTHENTICATE PLAIN \"AGZy\""), "Invalid SASL initial response");
  EXPECT_EQ(error_of("a AUTHENTICATE PLAIN = ="), "Unexpected argument =");
  EXPECT_TRUE(starts_with(error_of("a AUTHENTICATE \"PLAIN\""), "Invalid SASL mechanism"));
}

TEST(ImapCommandParser, Enable) {
  auto enable = parse_as<EnableCommand>("a ENABLE condstore UTF8=ACCEPT qresync");
  EXPECT_EQ(enable.capabilities, (std::vector<std::string>{"CONDSTORE", "UTF8=ACCEPT", "QRESYNC"}));
  EXPECT_EQ(error_of("a ENABLE"), "Missing capability to enable");
  EXPECT_TRUE(starts_with(error_of("a ENABLE (CONDSTORE)"), "Invalid capability"));
  EXPECT_TRUE(starts_with(error_of("a ENABLE \"X\""), "Invalid capability"));
}

TEST(ImapCommandParser, Id) {
  auto id = parse_as<IdCommand>("a ID (\"name\" \"sodr\" \"version\" NIL \"os\" {5+}\r\nLinux)");
  ASSERT_EQ(id.parameters.size(), 3u);
  EXPECT_EQ(id.parameters[0].first, "name");
  EXPECT_EQ(id.parameters[0].second, "sodr");
  EXPECT_EQ(id.parameters[1].first, "version");
  EXPECT_FALSE(id.parameters[1].second);
  EXPECT_EQ(id.parameters[2].second, "Linux");
  EXPECT_TRUE(parse_as<IdCommand>("a ID NIL").parameters.empty());
  EXPECT_TRUE(parse_as<IdCommand>("a ID ()").parameters.empty());
  EXPECT_EQ(error_of("a ID (\"name\")"), "ID: field without a value");
  EXPECT_EQ(error_of("a ID"), "Missing ID parameter list");
  EXPECT_EQ(error_of("a ID name"), "ID: NIL or a parameter list expected");
  EXPECT_TRUE(starts_with(error_of("a ID (name \"x\")"), "Invalid ID field"));
  EXPECT_TRUE(starts_with(error_of("a ID (\"name\" x)"), "Invalid ID value"));
  // RFC 2971 §3.3 limits: exactly at them parses, one over is BAD.
  std::string at_limit = "a ID (";
  for (int i = 0; i < 30; ++i) {
    if (i) at_limit += " ";
    at_limit += "\"" + std::string(28, 'f') + std::to_string(10 + i) + "\" {1024+}\r\n" +
                std::string(1024, 'v');
  }
  EXPECT_EQ(parse_as<IdCommand>(at_limit + ")").parameters.size(), 30u);
  EXPECT_EQ(error_of(at_limit + " \"x\" NIL)"), "ID: more than 30 field-value pairs");
  EXPECT_EQ(error_of("a ID (\"" + std::string(31, 'f') + "\" NIL)"), "ID: field longer than 30 octets");
  EXPECT_EQ(error_of("a ID (\"f\" \"" + std::string(1025, 'v') + "\")"),
            "ID: value longer than 1024 octets");
  EXPECT_EQ(error_of("a ID NIL NIL"), "Unexpected argument NIL");
}

TEST(ImapCommandParser, Compress) {
  EXPECT_EQ(parse_as<CompressCommand>("a COMPRESS deflate").mechanism, "DEFLATE");
  EXPECT_EQ(error_of("a COMPRESS"), "Missing compression mechanism");
  EXPECT_EQ(error_of("a COMPRESS DEFLATE x"), "Unexpected argument x");
}

// --- mailboxes

TEST(ImapCommandParser, SelectAndExamine) {
  auto select = parse_as<SelectCommand>("a SELECT inbox");
  EXPECT_EQ(select.mailbox, "INBOX");
  EXPECT_FALSE(select.read_only);
  EXPECT_FALSE(select.condstore);
  EXPECT_FALSE(select.qresync);
  select = parse_as<SelectCommand>("a EXAMINE \"Sent Items\"");
  EXPECT_EQ(select.mailbox, "Sent Items");
  EXPECT_TRUE(select.read_only);
  select = parse_as<SelectCommand>("a SELECT Inbox/Sub");
  EXPECT_EQ(select.mailbox, "Inbox/Sub");  // only INBOX itself is case-insensitive
  select = parse_as<SelectCommand>("a SELECT &AOQ-rger (CONDSTORE)");
  EXPECT_EQ(select.mailbox, "&AOQ-rger");
  EXPECT_TRUE(select.condstore);
  EXPECT_EQ(error_of("a SELECT"), "Missing mailbox name");
  EXPECT_EQ(error_of("a SELECT INBOX x"), "Unexpected argument x");
  EXPECT_EQ(error_of("a SELECT INBOX ()"), "SELECT: empty parameter list");
  EXPECT_EQ(error_of("a SELECT INBOX (FOO)"), "SELECT: unknown parameter FOO");
  EXPECT_TRUE(starts_with(error_of("a SELECT a*b"), "Invalid mailbox name"));
  EXPECT_TRUE(starts_with(error_of("a SELECT (INBOX)"), "Invalid mailbox name"));
}

// RFC 9051 §9: a mailbox astring may use every ATOM-CHAR and "]"; a list-mailbox adds
// "%" and "*" (issue 17 §1).
TEST(ImapCommandParser, MailboxNamesOfEveryAtomCharacter) {
  const std::string name = "!#$&'+,-.0123456789:;<=>?@^_`|}~[]AZaz";
  for (const char* verb : {"SELECT", "EXAMINE", "CREATE", "DELETE", "SUBSCRIBE", "STATUS"}) {
    const std::string wire = std::string("a ") + verb + " " + name +
                             (std::string(verb) == "STATUS" ? " (MESSAGES)" : "");
    EXPECT_EQ(error_of(wire), "") << wire;
  }
  EXPECT_EQ(parse_as<SelectCommand>("a SELECT " + name).mailbox, name);
  EXPECT_EQ(parse_as<SelectCommand>("a SELECT x[").mailbox, "x[");
  EXPECT_EQ(parse_as<RenameCommand>("a RENAME a[b c]d").to, "c]d");
  auto list = parse_as<ListCommand>("a LIST \"\" " + name + "%*");
  EXPECT_EQ(list.patterns, (std::vector<std::string>{name + "%*"}));
  list = parse_as<ListCommand>("a LIST " + name + " [");
  EXPECT_EQ(list.reference, name);
  EXPECT_EQ(list.patterns, (std::vector<std::string>{"["}));
}

TEST(ImapCommandParser, SelectQresync) {
  auto select = parse_as<SelectCommand>("a SELECT INBOX (QRESYNC (67890007 20050715194045000))");
  ASSERT_TRUE(select.qresync);
  EXPECT_EQ(select.qresync->uidvalidity, 67890007u);
  EXPECT_EQ(select.qresync->modseq, 20050715194045000u);
  EXPECT_FALSE(select.qresync->known_uids);
  EXPECT_FALSE(select.qresync->known_sequence_set);

  // RFC 7162 §3.2.5.2 example
  select = parse_as<SelectCommand>(
      "A02 SELECT INBOX (QRESYNC (67890007 90060115194045000 41:211,214:541))");
  ASSERT_TRUE(select.qresync && select.qresync->known_uids);
  EXPECT_EQ(set_text(*select.qresync->known_uids), "41:211,214:541");

  select = parse_as<SelectCommand>(
      "B04 SELECT INBOX (CONDSTORE QRESYNC (67890007 90060115194045000 1:29997 "
      "(5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976,29979,29982,29985,"
      "29988,29991,29994,29997)))");
  ASSERT_TRUE(select.qresync);
  EXPECT_TRUE(select.condstore);
  EXPECT_EQ(set_text(*select.qresync->known_uids), "1:29997");
  EXPECT_EQ(set_text(*select.qresync->known_sequence_set), "5000,7500,9000,9990:9999");
  ASSERT_TRUE(select.qresync->known_uid_set);
  EXPECT_EQ(select.qresync->known_uid_set->ranges().size(), 13u);

  // seq-match-data without known-uids
  select = parse_as<SelectCommand>("a EXAMINE INBOX (QRESYNC (1 2 (1:3 10:12)))");
  ASSERT_TRUE(select.qresync);
  EXPECT_FALSE(select.qresync->known_uids);
  EXPECT_EQ(set_text(*select.qresync->known_sequence_set), "1:3");
  EXPECT_EQ(set_text(*select.qresync->known_uid_set), "10:12");

  EXPECT_EQ(error_of("a SELECT INBOX (QRESYNC)"), "QRESYNC: parameter list expected");
  EXPECT_EQ(error_of("a SELECT INBOX (QRESYNC 1)"), "QRESYNC: parameter list expected");
  EXPECT_EQ(error_of("a SELECT INBOX (QRESYNC (1))"), "QRESYNC: wrong number of parameters");
  EXPECT_EQ(error_of("a SELECT INBOX (QRESYNC (0 5))"), "Invalid QRESYNC UIDVALIDITY: 0");
  EXPECT_EQ(error_of("a SELECT INBOX (QRESYNC (1 0))"), "Invalid QRESYNC MODSEQ: must not be 0");
  EXPECT_EQ(error_of("a SELECT INBOX (QRESYNC (4294967296 5))"),
            "QRESYNC UIDVALIDITY too large: 4294967296");
  EXPECT_EQ(error_of("a SELECT INBOX (QRESYNC (1 9223372036854775808))"),
            "QRESYNC MODSEQ too large: 9223372036854775808");
  EXPECT_EQ(
      parse_as<SelectCommand>("a SELECT INBOX (QRESYNC (1 9223372036854775807))").qresync->modseq,
      9223372036854775807u);
  EXPECT_EQ(error_of("a SELECT INBOX (QRESYNC (1 5 1:*))"),
            "QRESYNC known UIDs: Invalid sequence set: * not allowed in QRESYNC");
  EXPECT_EQ(error_of("a SELECT INBOX (QRESYNC (1 5 $))"),
            "QRESYNC known UIDs: Invalid sequence set: $ not allowed here");
  EXPECT_EQ(error_of("a SELECT INBOX (QRESYNC (1 5 1:5 (1:2)))"),
            "QRESYNC: sequence match data expected");
  EXPECT_EQ(error_of("a SELECT INBOX (QRESYNC (1 5 1:5 (1:2 3:4) x))"),
            "QRESYNC: wrong number of parameters");
  EXPECT_EQ(error_of("a SELECT INBOX (QRESYNC (1 5 1:5 x))"),
            "QRESYNC: sequence match data expected");
  EXPECT_EQ(error_of("a SELECT INBOX (QRESYNC (1 2) QRESYNC (1 2))"),
            "SELECT: QRESYNC given twice");
}

TEST(ImapCommandParser, Create) {
  auto create = parse_as<CreateCommand>("a CREATE owatagusiam/");
  EXPECT_EQ(create.mailbox, "owatagusiam/");
  EXPECT_TRUE(create.special_use.empty());
  create = parse_as<CreateCommand>("a CREATE MySpecial (USE (\\drafts \\Sent \\X-Custom))");
  EXPECT_EQ(create.special_use, (std::vector<std::string>{"\\Drafts", "\\Sent", "\\X-Custom"}));
  create = parse_as<CreateCommand>("a CREATE x (USE ())");
  EXPECT_TRUE(create.special_use.empty());
  EXPECT_EQ(error_of("a CREATE"), "Missing mailbox name");
  EXPECT_EQ(error_of("a CREATE x (FOO)"), "CREATE: unknown parameter FOO");
  EXPECT_EQ(error_of("a CREATE x (USE)"), "CREATE: USE needs an attribute list");
  EXPECT_EQ(error_of("a CREATE x (USE \\Drafts)"), "CREATE: USE needs an attribute list");
  EXPECT_EQ(error_of("a CREATE x (USE (Drafts))"), "CREATE: invalid special-use attribute Drafts");
  EXPECT_EQ(error_of("a CREATE x ()"), "CREATE: empty parameter list");
  EXPECT_EQ(error_of("a CREATE x y"), "Unexpected argument y");
}

TEST(ImapCommandParser, DeleteRenameSubscribe) {
  EXPECT_EQ(parse_as<DeleteCommand>("a DELETE blurdybloop").mailbox, "blurdybloop");
  EXPECT_EQ(error_of("a DELETE"), "Missing mailbox name");
  EXPECT_EQ(error_of("a DELETE a b"), "Unexpected argument b");
  auto rename = parse_as<RenameCommand>("a RENAME \"old name\" {3+}\r\nnew");
  EXPECT_EQ(rename.from, "old name");
  EXPECT_EQ(rename.to, "new");
  EXPECT_EQ(parse_as<RenameCommand>("a RENAME inbox Old").from, "INBOX");
  EXPECT_EQ(error_of("a RENAME a"), "Missing mailbox name");
  EXPECT_EQ(error_of("a RENAME a b c"), "Unexpected argument c");
  auto subscribe = parse_as<SubscribeCommand>("a SUBSCRIBE #news.comp.mail.mime");
  EXPECT_EQ(subscribe.mailbox, "#news.comp.mail.mime");
  EXPECT_TRUE(subscribe.subscribe);
  subscribe = parse_as<SubscribeCommand>("a UNSUBSCRIBE \"\"");
  EXPECT_EQ(subscribe.mailbox, "");
  EXPECT_FALSE(subscribe.subscribe);
  EXPECT_EQ(error_of("a UNSUBSCRIBE"), "Missing mailbox name");
}

TEST(ImapCommandParser, ListBasic) {
  auto list = parse_as<ListCommand>("a LIST \"\" %");
  EXPECT_EQ(list.reference, "");
  EXPECT_EQ(list.patterns, (std::vector<std::string>{"%"}));
  EXPECT_FALSE(list.extended);
  EXPECT_FALSE(list.lsub);
  list = parse_as<ListCommand>("a LIST ~/Mail/ \"%/*\"");
  EXPECT_EQ(list.reference, "~/Mail/");
  EXPECT_EQ(list.patterns, (std::vector<std::string>{"%/*"}));
  list = parse_as<ListCommand>("a LIST \"\" \"\"");
  EXPECT_EQ(list.patterns, (std::vector<std::string>{""}));
  list = parse_as<ListCommand>("a LIST archive/ foo]*");
  EXPECT_EQ(list.patterns, (std::vector<std::string>{"foo]*"}));
  EXPECT_EQ(error_of("a LIST"), "Missing reference name");
  EXPECT_EQ(error_of("a LIST \"\""), "Missing mailbox pattern");
  EXPECT_TRUE(starts_with(error_of("a LIST % *"), "Invalid reference name"));
  EXPECT_TRUE(starts_with(error_of("a LIST \"\" a\\b"), "Invalid mailbox pattern"));
  EXPECT_EQ(error_of("a LIST \"\" * extra"), "Unexpected argument extra");
}

TEST(ImapCommandParser, ListExtended) {
  // RFC 5258 §5 examples
  auto list = parse_as<ListCommand>("A02 LIST (SUBSCRIBED) \"\" \"*\"");
  EXPECT_TRUE(list.extended);
  EXPECT_TRUE(list.select_subscribed);
  list = parse_as<ListCommand>("A03 LIST () \"\" \"%\" RETURN (CHILDREN)");
  EXPECT_TRUE(list.extended);
  EXPECT_FALSE(list.select_subscribed);
  EXPECT_TRUE(list.return_children);
  list = parse_as<ListCommand>("A04 LIST (REMOTE) \"\" \"%\" RETURN (CHILDREN)");
  EXPECT_TRUE(list.select_remote);
  list = parse_as<ListCommand>("A05 LIST (REMOTE SUBSCRIBED) \"/\" \"*\"");
  EXPECT_TRUE(list.select_remote && list.select_subscribed);
  list = parse_as<ListCommand>("A06 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\" RETURN (CHILDREN)");
  EXPECT_TRUE(list.select_recursive_match && list.select_subscribed && list.return_children);
  list = parse_as<ListCommand>("A07 LIST \"\" (\"INBOX\" \"Drafts\" \"Sent/%\")");
  EXPECT_TRUE(list.extended);
  EXPECT_EQ(list.patterns, (std::vector<std::string>{"INBOX", "Drafts", "Sent/%"}));
  list = parse_as<ListCommand>(
      "a LIST (SUBSCRIBED REMOTE RECURSIVEMATCH SPECIAL-USE) ref (pat1 pat2) RETURN "
      "(SUBSCRIBED CHILDREN SPECIAL-USE STATUS (MESSAGES UNSEEN size))");
  EXPECT_TRUE(list.select_subscribed && list.select_remote && list.select_recursive_match &&
              list.select_special_use);
  EXPECT_TRUE(list.return_subscribed && list.return_children && list.return_special_use);
  EXPECT_EQ(list.reference, "ref");
  EXPECT_EQ(list.patterns, (std::vector<std::string>{"pat1", "pat2"}));
  ASSERT_TRUE(list.return_status);
  EXPECT_EQ(*list.return_status,
            (std::vector<StatusItem>{StatusItem::messages, StatusItem::unseen, StatusItem::size}));
  list = parse_as<ListCommand>("a LIST (SPECIAL-USE RECURSIVEMATCH) \"\" *");
  EXPECT_TRUE(list.select_special_use && list.select_recursive_match);
  list = parse_as<ListCommand>("a LIST \"\" * RETURN ()");
  EXPECT_TRUE(list.extended);
  list = parse_as<ListCommand>("a LIST \"\" % return (special-use)");
  EXPECT_TRUE(list.return_special_use);

  EXPECT_EQ(error_of("a LIST (RECURSIVEMATCH) \"\" %"),
            "LIST: RECURSIVEMATCH needs another selection option");
  EXPECT_EQ(error_of("a LIST (REMOTE RECURSIVEMATCH) \"\" %"),
            "LIST: RECURSIVEMATCH needs another selection option");
  EXPECT_EQ(error_of("a LIST (FOO) \"\" %"), "LIST: unknown selection option FOO");
  EXPECT_EQ(error_of("a LIST \"\" % RETURN (FOO)"), "LIST: unknown return option FOO");
  EXPECT_EQ(error_of("a LIST \"\" % RETURN"), "Missing return options");
  EXPECT_EQ(error_of("a LIST \"\" % RETURN CHILDREN"), "LIST: RETURN needs a list");
  EXPECT_EQ(error_of("a LIST \"\" % RETURN (STATUS)"), "LIST: STATUS needs an item list");
  EXPECT_EQ(error_of("a LIST \"\" % RETURN (STATUS ())"), "LIST RETURN STATUS: empty item list");
  EXPECT_EQ(error_of("a LIST \"\" % RETURN (STATUS (FOO))"),
            "LIST RETURN STATUS: unknown item FOO");
  EXPECT_EQ(error_of("a LIST \"\" ()"), "LIST: empty pattern list");
  EXPECT_EQ(error_of("a LIST \"\" % RETURN () x"), "Unexpected argument x");
  EXPECT_TRUE(starts_with(error_of("a LIST \"\" (a (b))"), "Invalid mailbox pattern"));
}

TEST(ImapCommandParser, Lsub) {
  auto lsub = parse_as<ListCommand>("a LSUB \"#news.\" \"comp.mail.*\"");
  EXPECT_TRUE(lsub.lsub);
  EXPECT_TRUE(lsub.select_subscribed);
  EXPECT_FALSE(lsub.extended);
  EXPECT_EQ(lsub.reference, "#news.");
  EXPECT_EQ(lsub.patterns, (std::vector<std::string>{"comp.mail.*"}));
  EXPECT_EQ(error_of("a LSUB \"\""), "Missing mailbox pattern");
  EXPECT_TRUE(starts_with(error_of("a LSUB (SUBSCRIBED) \"\" %"), "Invalid reference name"));
  EXPECT_TRUE(starts_with(error_of("a LSUB \"\" (a b)"), "Invalid mailbox pattern"));
  EXPECT_EQ(error_of("a LSUB \"\" % RETURN ()"), "Unexpected argument RETURN");
}

TEST(ImapCommandParser, Status) {
  auto status = parse_as<StatusCommand>("A042 STATUS blurdybloop (UIDNEXT MESSAGES)");
  EXPECT_EQ(status.mailbox, "blurdybloop");
  EXPECT_EQ(status.items, (std::vector<StatusItem>{StatusItem::uidnext, StatusItem::messages}));
  status = parse_as<StatusCommand>(
      "a STATUS inbox (messages uidnext uidvalidity unseen deleted size recent highestmodseq "
      "appendlimit MESSAGES)");
  EXPECT_EQ(status.mailbox, "INBOX");
  EXPECT_EQ(status.items,
            (std::vector<StatusItem>{StatusItem::messages, StatusItem::uidnext,
                                     StatusItem::uidvalidity, StatusItem::unseen,
                                     StatusItem::deleted, StatusItem::size, StatusItem::recent,
                                     StatusItem::highestmodseq, StatusItem::appendlimit}));
  EXPECT_EQ(error_of("a STATUS INBOX"), "Missing status items");
  EXPECT_EQ(error_of("a STATUS INBOX ()"), "STATUS: empty item list");
  EXPECT_EQ(error_of("a STATUS INBOX MESSAGES"), "STATUS: item list expected");
  EXPECT_EQ(error_of("a STATUS INBOX (MESSAGES FOO)"), "STATUS: unknown item FOO");
  EXPECT_EQ(error_of("a STATUS INBOX (MESSAGES) x"), "Unexpected argument x");
}

TEST(ImapCommandParser, Append) {
  auto append =
      parse_as<AppendCommand>("A003 APPEND saved-messages (\\Seen) {12+}\r\nHello world!");
  EXPECT_EQ(append.mailbox, "saved-messages");
  EXPECT_EQ(append.flags, (std::vector<std::string>{"\\Seen"}));
  EXPECT_FALSE(append.internal_date);
  EXPECT_EQ(append.message, "Hello world!");
  EXPECT_FALSE(append.binary);
  EXPECT_FALSE(append.utf8);

  append = parse_as<AppendCommand>(
      "a APPEND inbox (\\Seen $Forwarded Junk) \"17-Jul-1996 02:44:25 -0700\" {5}\r\nab\r\nc");
  EXPECT_EQ(append.mailbox, "INBOX");
  EXPECT_EQ(append.flags, (std::vector<std::string>{"\\Seen", "$Forwarded", "Junk"}));
  EXPECT_EQ(append.internal_date, 837596665);  // 1996-07-17 09:44:25 UTC
  EXPECT_EQ(append.message, "ab\r\nc");

  append = parse_as<AppendCommand>("a APPEND x \" 7-Feb-1994 21:52:25 +0100\" {1+}\r\nz");
  EXPECT_TRUE(append.flags.empty());
  EXPECT_EQ(append.internal_date, 760654345);  // 1994-02-07 20:52:25 UTC

  append = parse_as<AppendCommand>(std::string("a APPEND x () ~{3+}\r\na") + '\0' + "b");
  EXPECT_TRUE(append.flags.empty());
  EXPECT_TRUE(append.binary);
  EXPECT_EQ(append.message, std::string("a") + '\0' + "b");

  append = parse_as<AppendCommand>("a APPEND x UTF8 (~{3+}\r\nabc)");
  EXPECT_TRUE(append.utf8);
  EXPECT_TRUE(append.binary);
  EXPECT_EQ(append.message, "abc");
  append = parse_as<AppendCommand>(
      "a APPEND x (\\Draft) \"01-Jan-2000 00:00:00 +0000\" utf8 ({2+}\r\nhi)");
  EXPECT_TRUE(append.utf8);
  EXPECT_EQ(append.internal_date, 946684800);
  EXPECT_EQ(append.message, "hi");
  append = parse_as<AppendCommand>("a APPEND x {0+}\r\n\r\n");
  EXPECT_EQ(append.message, "");

  EXPECT_EQ(error_of("a APPEND"), "Missing mailbox name");
  EXPECT_EQ(error_of("a APPEND x"), "Missing message literal");
  EXPECT_EQ(error_of("a APPEND x (\\Seen)"), "Missing message literal");
  EXPECT_EQ(error_of("a APPEND x \"hello\""), "Invalid day in date-time");
  EXPECT_EQ(error_of("a APPEND x hello"), "APPEND: message literal expected");
  EXPECT_EQ(error_of("a APPEND x \"01-Jan-2000 00:00:00 +0000\" \"text\""),
            "APPEND: message literal expected");
  EXPECT_EQ(error_of("a APPEND x (\\Seen) (\\Seen) {1+}\r\nz"), "APPEND: message literal expected");
  EXPECT_EQ(error_of("a APPEND x {1+}\r\nz {1+}\r\ny"), "Unexpected argument literal");
  EXPECT_EQ(error_of("a APPEND x UTF8"), "Missing UTF8 message literal");
  EXPECT_EQ(error_of("a APPEND x UTF8 ()"), "APPEND: UTF8 needs one literal in parentheses");
  EXPECT_EQ(error_of("a APPEND x UTF8 (\"abc\")"), "APPEND: message literal expected");
  EXPECT_EQ(error_of("a APPEND x UTF8 ({1+}\r\na {1+}\r\nb)"),
            "APPEND: UTF8 needs one literal in parentheses");
  EXPECT_TRUE(starts_with(error_of("a APPEND x (\\Seen (x)) {1+}\r\nz"), "Invalid flag"));
  EXPECT_TRUE(starts_with(error_of("a APPEND x (\\) {1+}\r\nz"), "Invalid flag"));
  EXPECT_TRUE(starts_with(error_of("a APPEND x (a%b) {1+}\r\nz"), "Invalid flag"));
  EXPECT_EQ(error_of("a APPEND x \"31-Feb-2000 00:00:00 +0000\" {1+}\r\nz"),
            "Invalid day in date-time");
  EXPECT_EQ(error_of("a APPEND x \"01-Feb-2000 24:00:00 +0000\" {1+}\r\nz"),
            "Invalid time in date-time");
}

// --- FETCH

TEST(ImapCommandParser, FetchMacros) {
  using K = FetchAttribute::Kind;
  auto kinds = [](const FetchCommand& fetch) {
    std::vector<K> out;
    for (const auto& attribute : fetch.attributes) out.push_back(attribute.kind);
    return out;
  };
  EXPECT_EQ(kinds(parse_as<FetchCommand>("a FETCH 1 ALL")),
            (std::vector<K>{K::flags, K::internal_date, K::rfc822_size, K::envelope}));
  EXPECT_EQ(kinds(parse_as<FetchCommand>("a FETCH 1 fast")),
            (std::vector<K>{K::flags, K::internal_date, K::rfc822_size}));
  EXPECT_EQ(kinds(parse_as<FetchCommand>("a FETCH 1 FULL")),
            (std::vector<K>{K::flags, K::internal_date, K::rfc822_size, K::envelope, K::body}));
  EXPECT_EQ(error_of("a FETCH 1 (ALL)"), "FETCH macro ALL must stand alone");
  EXPECT_EQ(error_of("a FETCH 1 (FLAGS fast)"), "FETCH macro FAST must stand alone");
}

TEST(ImapCommandParser, FetchAttributesAndSets) {
  using K = FetchAttribute::Kind;
  auto fetch = parse_as<FetchCommand>(
      "A654 FETCH 2:4,7,* (FLAGS BODY[HEADER.FIELDS (DATE FROM)] uid flags MODSEQ "
      "BODY.PEEK[1.2.MIME] BINARY.PEEK[1]<0.100> BINARY.SIZE[2] rfc822.size bodystructure)");
  EXPECT_FALSE(fetch.uid);
  EXPECT_EQ(set_text(fetch.set), "2:4,7,*");
  ASSERT_EQ(fetch.attributes.size(), 9u);  // the second FLAGS is dropped
  EXPECT_EQ(fetch.attributes[0].kind, K::flags);
  EXPECT_EQ(fetch.attributes[1].kind, K::body_section);
  EXPECT_FALSE(fetch.attributes[1].peek);
  EXPECT_EQ(fetch.attributes[1].section.text, Section::Text::header_fields);
  EXPECT_EQ(fetch.attributes[1].section.fields, (std::vector<std::string>{"DATE", "FROM"}));
  EXPECT_EQ(fetch.attributes[2].kind, K::uid);
  EXPECT_EQ(fetch.attributes[3].kind, K::modseq);
  EXPECT_TRUE(fetch.attributes[4].peek);
  EXPECT_EQ(fetch.attributes[4].section.part, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(fetch.attributes[4].section.text, Section::Text::mime);
  EXPECT_EQ(fetch.attributes[5].kind, K::binary);
  EXPECT_TRUE(fetch.attributes[5].peek);
  ASSERT_TRUE(fetch.attributes[5].partial);
  EXPECT_EQ(fetch.attributes[5].partial->length, 100u);
  EXPECT_EQ(fetch.attributes[6].kind, K::binary_size);
  EXPECT_EQ(fetch.attributes[7].kind, K::rfc822_size);
  EXPECT_EQ(fetch.attributes[8].kind, K::body_structure);

  fetch = parse_as<FetchCommand>("a UID FETCH $ BODY[]");
  EXPECT_TRUE(fetch.uid);
  EXPECT_TRUE(fetch.set.is_saved_result());
  ASSERT_EQ(fetch.attributes.size(), 1u);
  EXPECT_EQ(fetch.attributes[0].kind, K::body_section);
  EXPECT_EQ(fetch.attributes[0].section, Section{});

  EXPECT_EQ(error_of("a FETCH"), "Missing sequence set");
  EXPECT_EQ(error_of("a FETCH 1"), "Missing fetch attributes");
  EXPECT_EQ(error_of("a FETCH 0 FLAGS"), "Invalid sequence set: Sequence numbers start at 1");
  EXPECT_EQ(error_of("a FETCH 1:x FLAGS"),
            "Invalid sequence set: Invalid character in sequence set");
  EXPECT_EQ(error_of("a FETCH 4294967296 FLAGS"),
            "Invalid sequence set: Sequence number too large");
  EXPECT_EQ(error_of("a FETCH \"1\" FLAGS"), "Invalid sequence set: \"1\"");
  EXPECT_EQ(error_of("a FETCH 1 FOO"), "Unknown fetch attribute FOO");
  EXPECT_EQ(error_of("a FETCH 1 (FLAGS FOO)"), "Unknown fetch attribute FOO");
  EXPECT_EQ(error_of("a FETCH 1 ()"), "Empty fetch attribute list");
  EXPECT_EQ(error_of("a FETCH 1 (FLAGS (UID))"), "Invalid fetch attribute");
  EXPECT_EQ(error_of("a FETCH 1 \"FLAGS\""), "Invalid fetch attributes");
  EXPECT_EQ(error_of("a FETCH 1 FLAGS x"), "FETCH: invalid modifier list");
}

TEST(ImapCommandParser, FetchModifiers) {
  auto fetch = parse_as<FetchCommand>("s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)");
  EXPECT_EQ(fetch.changed_since, 12345u);
  EXPECT_FALSE(fetch.vanished);
  fetch = parse_as<FetchCommand>("s100 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)");
  EXPECT_TRUE(fetch.uid);
  EXPECT_TRUE(fetch.vanished);
  EXPECT_EQ(fetch.changed_since, 12345u);
  fetch = parse_as<FetchCommand>("a FETCH 1 FLAGS (changedsince 1)");
  EXPECT_FALSE(fetch.uid);
  EXPECT_EQ(fetch.changed_since, 1u);
  EXPECT_EQ(error_of("a FETCH 1:* (FLAGS) (CHANGEDSINCE 5 VANISHED)"),
            "FETCH: VANISHED needs UID FETCH");
  EXPECT_EQ(error_of("a UID FETCH 1:* (FLAGS) (VANISHED)"), "FETCH: VANISHED needs CHANGEDSINCE");
  EXPECT_EQ(error_of("a UID FETCH 1:* (FLAGS) (CHANGEDSINCE 0)"),
            "Invalid CHANGEDSINCE value: must not be 0");
  EXPECT_EQ(error_of("a UID FETCH 1:* (FLAGS) (CHANGEDSINCE)"),
            "FETCH: CHANGEDSINCE needs a mod-sequence");
  EXPECT_EQ(error_of("a UID FETCH 1:* (FLAGS) (CHANGEDSINCE x)"), "Invalid CHANGEDSINCE value: x");
  EXPECT_EQ(error_of("a UID FETCH 1:* (FLAGS) (FOO)"), "FETCH: unknown modifier FOO");
  EXPECT_EQ(error_of("a UID FETCH 1:* (FLAGS) ()"), "FETCH: invalid modifier list");
  EXPECT_EQ(error_of("a UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1) x"), "Unexpected argument x");
}

// --- STORE

TEST(ImapCommandParser, Store) {
  auto store = parse_as<StoreCommand>("A003 STORE 2:4 +FLAGS (\\Deleted)");
  EXPECT_EQ(set_text(store.set), "2:4");
  EXPECT_EQ(store.mode, FlagMode::add);
  EXPECT_FALSE(store.silent);
  EXPECT_EQ(store.flags, (std::vector<std::string>{"\\Deleted"}));
  EXPECT_FALSE(store.unchanged_since);
  store = parse_as<StoreCommand>("a UID STORE 1 -flags.silent \\Seen $Junk");
  EXPECT_TRUE(store.uid);
  EXPECT_EQ(store.mode, FlagMode::remove);
  EXPECT_TRUE(store.silent);
  EXPECT_EQ(store.flags, (std::vector<std::string>{"\\Seen", "$Junk"}));
  store = parse_as<StoreCommand>("a STORE * FLAGS ()");
  EXPECT_EQ(store.mode, FlagMode::replace);
  EXPECT_TRUE(store.flags.empty());
  store = parse_as<StoreCommand>(
      "d105 STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)");
  EXPECT_EQ(store.unchanged_since, 320162338u);
  EXPECT_TRUE(store.silent);
  store = parse_as<StoreCommand>("a STORE 1 (UNCHANGEDSINCE 0) FLAGS (\\Seen)");
  EXPECT_EQ(store.unchanged_since, 0u);  // mod-sequence-valzer

  EXPECT_EQ(error_of("a STORE 1"), "Missing STORE data item");
  EXPECT_EQ(error_of("a STORE 1 +FLAGS"), "STORE: missing flags");
  EXPECT_EQ(error_of("a STORE 1 FLAG (\\Seen)"), "STORE: unknown data item FLAG");
  EXPECT_EQ(error_of("a STORE 1 +-FLAGS (\\Seen)"), "STORE: unknown data item +-FLAGS");
  EXPECT_EQ(error_of("a STORE 1 FLAGS.LOUD (\\Seen)"), "STORE: unknown data item FLAGS.LOUD");
  EXPECT_EQ(error_of("a STORE 1 (FOO 1) FLAGS (\\Seen)"), "STORE: unknown modifier FOO");
  EXPECT_EQ(error_of("a STORE 1 (UNCHANGEDSINCE) FLAGS (\\Seen)"),
            "STORE: UNCHANGEDSINCE needs a mod-sequence");
  EXPECT_EQ(error_of("a STORE 1 () FLAGS (\\Seen)"), "STORE: empty modifier list");
  EXPECT_EQ(error_of("a STORE 1 FLAGS (\\Seen) x"), "Unexpected argument x");
  EXPECT_TRUE(starts_with(error_of("a STORE 1 FLAGS \\Seen (x)"), "Invalid flag"));
  EXPECT_TRUE(starts_with(error_of("a STORE 1 FLAGS \"Seen\""), "Invalid flag"));
  EXPECT_TRUE(starts_with(error_of("a STORE 1 FLAGS (\\Se*en)"), "Invalid flag"));
  EXPECT_EQ(error_of("a STORE x FLAGS (\\Seen)"),
            "Invalid sequence set: Invalid character in sequence set");
}

// --- COPY, MOVE, UID

TEST(ImapCommandParser, CopyMoveAndUid) {
  auto copy = parse_as<CopyCommand>("A003 COPY 2:4 MEETING");
  EXPECT_FALSE(copy.uid);
  EXPECT_FALSE(copy.move);
  EXPECT_EQ(set_text(copy.set), "2:4");
  EXPECT_EQ(copy.mailbox, "MEETING");
  copy = parse_as<CopyCommand>("a UID MOVE 42:69 inbox");
  EXPECT_TRUE(copy.uid);
  EXPECT_TRUE(copy.move);
  EXPECT_EQ(copy.mailbox, "INBOX");
  copy = parse_as<CopyCommand>("a uid copy $ \"Saved Mail\"");
  EXPECT_TRUE(copy.uid);
  EXPECT_TRUE(copy.set.is_saved_result());
  EXPECT_EQ(parse_as<CopyCommand>("a MOVE 1 x").move, true);
  auto expunge = parse_as<UidExpungeCommand>("A202 UID EXPUNGE 3000:3002");
  EXPECT_EQ(set_text(expunge.set), "3000:3002");
  EXPECT_EQ(error_of("a UID EXPUNGE"), "Missing sequence set");
  EXPECT_EQ(error_of("a UID EXPUNGE 1 2"), "Unexpected argument 2");
  EXPECT_EQ(error_of("a COPY 1"), "Missing mailbox name");
  EXPECT_EQ(error_of("a COPY 1 x y"), "Unexpected argument y");
  EXPECT_EQ(error_of("a UID"), "Missing UID command");
  EXPECT_EQ(error_of("a UID NOOP"), "UID: unknown command NOOP");
  EXPECT_EQ(error_of("a UID UID FETCH 1 FLAGS"), "UID: unknown command UID");
  EXPECT_EQ(error_of("a UID (FETCH)"), "UID: command name expected");
  EXPECT_TRUE(std::holds_alternative<FetchCommand>(parse_wire("a UID fetch 1 FLAGS")->command));
  EXPECT_TRUE(std::holds_alternative<SearchCommand>(parse_wire("a UID search ALL")->command));
}

// --- SEARCH

TEST(ImapCommandParser, SearchProgram) {
  using K = SearchKey::Kind;
  auto search = parse_as<SearchCommand>("A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"");
  EXPECT_FALSE(search.uid);
  EXPECT_FALSE(search.charset);
  EXPECT_FALSE(search.return_options);
  EXPECT_EQ(search.key.kind, K::and_);
  ASSERT_EQ(search.key.children.size(), 3u);
  EXPECT_EQ(search.key.children[0].kind, K::flagged);
  EXPECT_EQ(search.key.children[1].kind, K::since);
  EXPECT_EQ(search.key.children[1].day, 8797);  // 1994-02-01
  EXPECT_EQ(search.key.children[2].kind, K::not_);
  ASSERT_EQ(search.key.children[2].children.size(), 1u);
  EXPECT_EQ(search.key.children[2].children[0].kind, K::from);
  EXPECT_EQ(search.key.children[2].children[0].text, "Smith");

  search = parse_as<SearchCommand>("A284 SEARCH CHARSET utf-8 TEXT {6+}\r\nXXXXXX");
  EXPECT_EQ(search.charset, "UTF-8");
  EXPECT_EQ(search.key.children[0].kind, K::text);
  EXPECT_EQ(search.key.children[0].text, "XXXXXX");
  search = parse_as<SearchCommand>("a SEARCH CHARSET \"us-ascii\" ALL");
  EXPECT_EQ(search.charset, "US-ASCII");

  search =
      parse_as<SearchCommand>("a UID SEARCH RETURN (MIN MAX COUNT ALL SAVE) CHARSET UTF-8 UNSEEN");
  EXPECT_TRUE(search.uid);
  ASSERT_TRUE(search.return_options);
  EXPECT_TRUE(search.return_options->min && search.return_options->max &&
              search.return_options->count && search.return_options->all &&
              search.return_options->save);
  search = parse_as<SearchCommand>("a SEARCH RETURN () 1:5");
  ASSERT_TRUE(search.return_options);
  EXPECT_TRUE(search.return_options->all);
  EXPECT_FALSE(search.return_options->min);
  search = parse_as<SearchCommand>("a SEARCH RETURN (save) seen");
  EXPECT_TRUE(search.return_options->save);
  EXPECT_FALSE(search.return_options->all);

  EXPECT_EQ(error_of("a SEARCH"), "SEARCH: missing search key");
  EXPECT_EQ(error_of("a SEARCH RETURN (MIN)"), "SEARCH: missing search key");
  EXPECT_EQ(error_of("a SEARCH CHARSET UTF-8"), "SEARCH: missing search key");
  EXPECT_EQ(error_of("a SEARCH CHARSET"), "Missing charset");
  EXPECT_EQ(error_of("a SEARCH CHARSET (UTF-8) ALL"), "SEARCH: invalid charset");
  EXPECT_EQ(error_of("a SEARCH RETURN (CONTEXT) ALL"),
            "SEARCH: unknown return option CONTEXT");  // PARTIAL: imap_partial_test.cpp
  EXPECT_EQ(error_of("a SEARCH RETURN MIN ALL"), "SEARCH: RETURN needs a parenthesised list");
  EXPECT_EQ(error_of("a SEARCH CHARSET UTF-8 RETURN (MIN) ALL"), "SEARCH: unknown key RETURN");
}

TEST(ImapCommandParser, SearchKeys) {
  using K = SearchKey::Kind;
  auto search = parse_as<SearchCommand>(
      "a SEARCH all answered deleted draft flagged seen recent new old unanswered undeleted "
      "undraft unflagged unseen");
  std::vector<K> kinds;
  for (const auto& key : search.key.children) kinds.push_back(key.kind);
  EXPECT_EQ(kinds, (std::vector<K>{K::all, K::answered, K::deleted, K::draft, K::flagged, K::seen,
                                   K::recent, K::new_, K::old, K::unanswered, K::undeleted,
                                   K::undraft, K::unflagged, K::unseen}));

  search = parse_as<SearchCommand>(
      "a SEARCH BCC a CC b FROM c SUBJECT \"d e\" TEXT f TO g BODY NIL KEYWORD $Forwarded "
      "UNKEYWORD Junk HEADER Message-ID \"<x@y>\" HEADER X-Empty \"\"");
  const auto& keys = search.key.children;
  ASSERT_EQ(keys.size(), 11u);
  EXPECT_EQ(keys[0].kind, K::bcc);
  EXPECT_EQ(keys[0].text, "a");
  EXPECT_EQ(keys[3].kind, K::subject);
  EXPECT_EQ(keys[3].text, "d e");
  EXPECT_EQ(keys[6].kind, K::body);
  EXPECT_EQ(keys[6].text, "NIL");
  EXPECT_EQ(keys[7].kind, K::keyword);
  EXPECT_EQ(keys[7].text, "$Forwarded");
  EXPECT_EQ(keys[8].kind, K::unkeyword);
  EXPECT_EQ(keys[9].kind, K::header);
  EXPECT_EQ(keys[9].text, "Message-ID");
  EXPECT_EQ(keys[9].value, "<x@y>");
  EXPECT_EQ(keys[10].value, "");

  search = parse_as<SearchCommand>(
      "a SEARCH BEFORE 01-Jan-1970 ON \"2-jan-1970\" SINCE 31-Dec-1969 SENTBEFORE 1-Mar-2000 "
      "SENTON 29-Feb-2000 SENTSINCE 1-Jan-2038 OLDER 3600 YOUNGER 1 LARGER 0 SMALLER "
      "9223372036854775807 UID 1:* $ 5,7:9 $ MODSEQ 5 MODSEQ \"/flags/\\\\Seen\" all 0 "
      "MODSEQ \"/flags/$Junk\" priv 7");
  const auto& more = search.key.children;
  ASSERT_EQ(more.size(), 17u);
  EXPECT_EQ(more[0].kind, K::before);
  EXPECT_EQ(more[0].day, 0);
  EXPECT_EQ(more[1].kind, K::on);
  EXPECT_EQ(more[1].day, 1);
  EXPECT_EQ(more[2].day, -1);
  EXPECT_EQ(more[3].kind, K::sent_before);
  EXPECT_EQ(more[3].day, 11017);
  EXPECT_EQ(more[4].kind, K::sent_on);
  EXPECT_EQ(more[4].day, 11016);
  EXPECT_EQ(more[5].kind, K::sent_since);
  EXPECT_EQ(more[5].day, 24837);
  EXPECT_EQ(more[6].kind, K::older);
  EXPECT_EQ(more[6].number, 3600u);
  EXPECT_EQ(more[7].kind, K::younger);
  EXPECT_EQ(more[8].kind, K::larger);
  EXPECT_EQ(more[8].number, 0u);
  EXPECT_EQ(more[9].kind, K::smaller);
  EXPECT_EQ(more[9].number, 9223372036854775807u);
  EXPECT_EQ(more[10].kind, K::uid);
  EXPECT_EQ(set_text(more[10].set), "1:*");
  EXPECT_EQ(more[11].kind, K::sequence_set);
  EXPECT_TRUE(more[11].set.is_saved_result());
  EXPECT_EQ(more[12].kind, K::sequence_set);
  EXPECT_EQ(set_text(more[12].set), "5,7:9");
  EXPECT_TRUE(more[13].set.is_saved_result());
  EXPECT_EQ(more[14].kind, K::modseq);
  EXPECT_EQ(more[14].number, 5u);
  EXPECT_EQ(more[15].number, 0u);
  EXPECT_EQ(more[16].number, 7u);
}

TEST(ImapCommandParser, SearchStructure) {
  using K = SearchKey::Kind;
  auto search = parse_as<SearchCommand>("a SEARCH OR (SEEN FLAGGED) NOT OR 1:5 UID 7 DELETED");
  ASSERT_EQ(search.key.children.size(), 2u);
  const SearchKey& top_or = search.key.children[0];
  EXPECT_EQ(top_or.kind, K::or_);
  ASSERT_EQ(top_or.children.size(), 2u);
  EXPECT_EQ(top_or.children[0].kind, K::and_);
  EXPECT_EQ(top_or.children[0].children.size(), 2u);
  EXPECT_EQ(top_or.children[1].kind, K::not_);
  const SearchKey& inner_or = top_or.children[1].children[0];
  EXPECT_EQ(inner_or.kind, K::or_);
  EXPECT_EQ(inner_or.children[0].kind, K::sequence_set);
  EXPECT_EQ(inner_or.children[1].kind, K::uid);
  EXPECT_EQ(search.key.children[1].kind, K::deleted);

  search = parse_as<SearchCommand>("a SEARCH ((((SEEN))))");
  EXPECT_EQ(search.key.children[0].children[0].children[0].children[0].children[0].kind, K::seen);
  EXPECT_EQ(error_of("a SEARCH ()"), "SEARCH: empty parenthesised key");
  EXPECT_EQ(error_of("a SEARCH OR SEEN"), "SEARCH: OR needs a search key");
  EXPECT_EQ(error_of("a SEARCH NOT"), "SEARCH: NOT needs a search key");
  EXPECT_EQ(error_of("a SEARCH (NOT)"), "SEARCH: NOT needs a search key");
  EXPECT_EQ(error_of("a SEARCH (OR SEEN) DELETED"), "SEARCH: OR needs a search key");
}

TEST(ImapCommandParser, SearchErrors) {
  EXPECT_EQ(error_of("a SEARCH FOO"), "SEARCH: unknown key FOO");
  EXPECT_EQ(error_of("a SEARCH \"SEEN\""), "SEARCH: unknown key SEEN");
  EXPECT_EQ(error_of("a SEARCH NIL"), "SEARCH: unknown key NIL");
  EXPECT_EQ(error_of("a SEARCH 0:4"), "SEARCH: Invalid sequence set: Sequence numbers start at 1");
  EXPECT_EQ(error_of("a SEARCH 1:4x"),
            "SEARCH: Invalid sequence set: Invalid character in sequence set");
  EXPECT_EQ(error_of("a SEARCH UID x"),
            "SEARCH: UID: Invalid sequence set: Invalid character in sequence set");
  EXPECT_EQ(error_of("a SEARCH UID"), "SEARCH: missing argument of UID");
  EXPECT_EQ(error_of("a SEARCH FROM"), "SEARCH: missing argument of FROM");
  EXPECT_TRUE(starts_with(error_of("a SEARCH FROM (x)"), "SEARCH: Invalid FROM argument"));
  EXPECT_TRUE(starts_with(error_of("a SEARCH FROM a*b"), "SEARCH: Invalid FROM argument"));
  EXPECT_EQ(error_of("a SEARCH HEADER \"\" x"), "SEARCH: empty HEADER field name");
  EXPECT_EQ(error_of("a SEARCH HEADER Subject"), "SEARCH: missing argument of HEADER");
  EXPECT_EQ(error_of("a SEARCH KEYWORD \\Seen"), "SEARCH: KEYWORD needs a keyword");
  EXPECT_EQ(error_of("a SEARCH KEYWORD \"x\""), "SEARCH: KEYWORD needs a keyword");
  EXPECT_EQ(error_of("a SEARCH SINCE 1-Foo-1994"), "SEARCH: SINCE: Invalid month in date");
  EXPECT_EQ(error_of("a SEARCH SINCE 30-Feb-1994"), "SEARCH: SINCE: Invalid day in date");
  EXPECT_EQ(error_of("a SEARCH SINCE 123-Feb-1994"), "SEARCH: SINCE: Invalid day in date");
  EXPECT_EQ(error_of("a SEARCH ON 1-Feb-94"), "SEARCH: ON: Invalid year in date");
  EXPECT_EQ(error_of("a SEARCH ON (1-Feb-1994)"), "SEARCH: ON needs a date");
  EXPECT_EQ(error_of("a SEARCH LARGER x"), "SEARCH: Invalid LARGER number: x");
  EXPECT_EQ(error_of("a SEARCH LARGER -1"), "SEARCH: Invalid LARGER number: -1");
  EXPECT_EQ(error_of("a SEARCH LARGER 9223372036854775808"),
            "SEARCH: LARGER number too large: 9223372036854775808");
  EXPECT_EQ(error_of("a SEARCH SMALLER 99999999999999999999999"),
            "SEARCH: SMALLER number too large: 99999999999999999999999");
  EXPECT_EQ(error_of("a SEARCH OLDER 0"), "SEARCH: Invalid OLDER number: 0");
  EXPECT_EQ(error_of("a SEARCH YOUNGER 4294967296"),
            "SEARCH: YOUNGER number too large: 4294967296");
  EXPECT_EQ(error_of("a SEARCH MODSEQ x"), "SEARCH: Invalid MODSEQ value: x");
  EXPECT_EQ(error_of("a SEARCH MODSEQ \"/flags/\\\\Seen\" 5"),
            "SEARCH: invalid MODSEQ entry type 5");
  EXPECT_EQ(error_of("a SEARCH MODSEQ \"/flags/\\\\Seen\" all"),
            "SEARCH: missing argument of MODSEQ");
  EXPECT_EQ(error_of("a SEARCH MODSEQ \"/other/x\" all 5"),
            "SEARCH: invalid MODSEQ entry name /other/x");
  EXPECT_EQ(error_of("a SEARCH MODSEQ \"/flags/\" all 5"),
            "SEARCH: invalid MODSEQ entry name /flags/");
  EXPECT_EQ(error_of("a SEARCH MODSEQ (5)"), "SEARCH: MODSEQ needs a number");
}

TEST(ImapCommandParser, SearchDepthIsBounded) {
  std::string nots;
  for (int i = 0; i < 1000; ++i) nots += "NOT ";
  EXPECT_EQ(error_of("a SEARCH " + nots + "SEEN"), "SEARCH: keys nested too deep");
  std::string ors;
  for (int i = 0; i < 1000; ++i) ors += "OR SEEN ";
  EXPECT_EQ(error_of("a SEARCH " + ors + "SEEN"), "SEARCH: keys nested too deep");
  std::string lefts;
  for (int i = 0; i < 2000; ++i) lefts += "OR ";
  EXPECT_EQ(error_of("a SEARCH " + lefts + "SEEN"), "SEARCH: keys nested too deep");

  // Depth 99 of NOT is fine, and so is a long flat list of keys.
  std::string fine;
  for (int i = 0; i < 99; ++i) fine += "NOT ";
  EXPECT_EQ(error_of("a SEARCH " + fine + "SEEN"), "");
  std::string flat;
  for (int i = 0; i < 1500; ++i) flat += " SEEN";
  EXPECT_EQ(parse_as<SearchCommand>("a SEARCH" + flat).key.children.size(), 1500u);
  // Parentheses count towards the same bound: 20 levels of parentheses inside 90 NOTs.
  std::string mixed;
  for (int i = 0; i < 90; ++i) mixed += "NOT ";
  EXPECT_EQ(error_of("a SEARCH " + mixed + std::string(20, '(') + "SEEN" + std::string(20, ')')),
            "SEARCH: keys nested too deep");
}

// --- QUOTA

TEST(ImapCommandParser, Quota) {
  EXPECT_EQ(parse_as<GetQuotaCommand>("G0001 GETQUOTA \"!partition/sda4\"").root,
            "!partition/sda4");
  EXPECT_EQ(parse_as<GetQuotaCommand>("a GETQUOTA \"\"").root, "");
  EXPECT_EQ(parse_as<GetQuotaRootCommand>("A003 GETQUOTAROOT inbox").mailbox, "INBOX");
  auto set = parse_as<SetQuotaCommand>("S0000 SETQUOTA \"#user/alice\" (Storage 510 message 1000)");
  EXPECT_EQ(set.root, "#user/alice");
  ASSERT_EQ(set.limits.size(), 2u);
  EXPECT_EQ(set.limits[0].first, "STORAGE");
  EXPECT_EQ(set.limits[0].second, 510u);
  EXPECT_EQ(set.limits[1].first, "MESSAGE");
  EXPECT_TRUE(parse_as<SetQuotaCommand>("a SETQUOTA \"\" ()").limits.empty());
  EXPECT_EQ(error_of("a GETQUOTA"), "Missing quota root");
  EXPECT_EQ(error_of("a GETQUOTAROOT"), "Missing mailbox name");
  EXPECT_EQ(error_of("a SETQUOTA x"), "Missing quota limits");
  EXPECT_EQ(error_of("a SETQUOTA x STORAGE"), "SETQUOTA: limit list expected");
  EXPECT_EQ(error_of("a SETQUOTA x (STORAGE)"), "SETQUOTA: resource without a limit");
  EXPECT_EQ(error_of("a SETQUOTA x (STORAGE x)"), "Invalid quota limit: x");
  EXPECT_EQ(error_of("a SETQUOTA x (STORAGE (1))"), "SETQUOTA: invalid limit");
  EXPECT_TRUE(starts_with(error_of("a SETQUOTA x (\"STORAGE\" 1)"), "Invalid quota resource"));
  EXPECT_EQ(error_of("a SETQUOTA x () y"), "Unexpected argument y");
}

TEST(ImapCommandParser, ErrorMessagesAreBoundedAndPrintable) {
  const std::string long_name(500, 'Q');
  const std::string error = error_of("a SEARCH " + long_name);
  EXPECT_LT(error.size(), 100u);
  EXPECT_TRUE(starts_with(error, "SEARCH: unknown key QQQ"));
  const std::string unknown = error_of("a FETCH 1 (FLAGS X\x01Y)");
  EXPECT_TRUE(unknown.empty() || unknown.find('\x01') == std::string::npos);
  const std::string high = error_of("a SELECT f\xc3\xb6o");
  EXPECT_EQ(high, "Invalid mailbox name: f??o");
}

}  // namespace
}  // namespace postamt::proto::imap
