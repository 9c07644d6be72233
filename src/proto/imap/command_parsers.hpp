#pragma once
// The per-command parsers behind parse_command() (commands.hpp), grouped by what the
// commands work on. Each reads the arguments after the command name from the cursor and
// checks that none are left; errors are reasons for "tag BAD <reason>".
#include <expected>
#include <string>

#include "proto/imap/command_arguments.hpp"
#include "proto/imap/commands.hpp"

namespace postamt::proto::imap::command_parsers {

using Result = std::expected<AnyCommand, std::string>;

// command_parser.cpp: session and authentication commands, QUOTA.
Result login(ArgumentCursor& arguments);
Result authenticate(ArgumentCursor& arguments);
Result enable(ArgumentCursor& arguments);
Result id(ArgumentCursor& arguments);
Result compress(ArgumentCursor& arguments);
Result get_quota(ArgumentCursor& arguments);
Result get_quota_root(ArgumentCursor& arguments);
Result set_quota(ArgumentCursor& arguments);

// mailbox_command_parser.cpp
Result select(ArgumentCursor& arguments, bool read_only);
Result create(ArgumentCursor& arguments);
Result delete_mailbox(ArgumentCursor& arguments);
Result rename(ArgumentCursor& arguments);
Result subscribe(ArgumentCursor& arguments, bool subscribe);
Result list(ArgumentCursor& arguments);
Result lsub(ArgumentCursor& arguments);
Result status(ArgumentCursor& arguments);
Result append(ArgumentCursor& arguments);

// message_command_parser.cpp: the selected state; `uid` for the UID forms.
Result fetch(ArgumentCursor& arguments, bool uid);
Result store(ArgumentCursor& arguments, bool uid);
Result copy(ArgumentCursor& arguments, bool uid, bool move);
Result search(ArgumentCursor& arguments, bool uid);
Result uid_expunge(ArgumentCursor& arguments);
// sort_command_parser.cpp: SORT and THREAD (RFC 5256, ESORT RFC 5267, RFC 5957).
Result sort(ArgumentCursor& arguments, bool uid);
Result thread(ArgumentCursor& arguments, bool uid);
// "UID" SP (copy / move / fetch / search / sort / thread / store / uid-expunge), RFC 9051 §6.4.9.
Result uid(ArgumentCursor& arguments);

}  // namespace postamt::proto::imap::command_parsers
