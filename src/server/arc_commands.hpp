#pragma once
// The ARC commands (docs/OPERATIONS.md, "ARC"), for operators and interop tests:
//   postamt arc verify [--txt NAME=RECORD]... [--txt-file FILE] < message
//       prints "cv=pass|fail|none instances=N oldest-pass=K sealers=d1,d2 reason=…",
//       exit 0 for pass and none, 1 for fail, 2 for bad input
//   postamt arc seal --key PEM --domain D --selector S --authserv-id H [--time T]
//       [--headers a:b:c] [--set-only] [--txt …] [--txt-file …] < message
//       verifies the chain first, then prints the message with the new ARC set on top
//       (or the set alone); the AAR carries the message's Authentication-Results of H
//       merged, or "H; arc=<verdict>" without one. Exit 0, 1 when no set may be added.
// Key records come from --txt / --txt-file (lines "NAME RECORD"); names not given are
// NXDOMAIN. No configuration is read.
namespace CLI {
class App;
}

namespace postamt::server {

// Registers `arc verify` and `arc seal`; each sets `status` to its exit status.
void add_arc_commands(CLI::App& app, int& status);

}  // namespace postamt::server
