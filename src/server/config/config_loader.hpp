#pragma once
// Reads the TOML configuration file into a validated postamt::Config.
//
// Every problem is collected (unknown keys with a "did you mean" hint, wrong types, values
// out of range, a syntax error) so the operator can fix them all in one go. Relative paths
// in the file are resolved against the directory of the file itself, never the cwd.
#include <expected>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/config.hpp"

namespace postamt::config {

struct ConfigProblem {
  std::string key;      // dotted: "server.hostnme", "listener[2].protocol"; empty for syntax errors
  unsigned line = 0;    // 1-based; 0 when the problem concerns the whole file
  unsigned column = 0;  // 1-based; 0 when unknown
  std::string message;
};

struct ConfigErrors {
  std::filesystem::path source;         // the path as given by the caller
  std::vector<ConfigProblem> problems;  // all problems found, in file order

  // One line per problem, e.g.
  //   "postamt.toml:3:1: key 'server.hostnme': unknown key, did you mean 'hostname'?"
  std::string to_string() const;
};

// A missing or unreadable file gives one problem with line 0.
std::expected<Config, ConfigErrors> load_config_file(const std::filesystem::path& path);

// source_path names the file in messages and anchors relative paths; it is not read.
std::expected<Config, ConfigErrors> parse_config(std::string_view toml_text,
                                                 const std::filesystem::path& source_path);

}  // namespace postamt::config
