#pragma once
// The config file of named stores: $XDG_CONFIG_HOME/taskctl/config.toml (when
// XDG_CONFIG_HOME is an absolute path), else ~/.config/taskctl/config.toml.
// Its `default = "NAME"` and its [stores.NAME] entries (uri, password_file or
// password_env, timeout, output, read_only). Parsed by config.cpp alone, the
// one unit that includes toml++.

#include <optional>
#include <string>
#include <vector>

namespace taskctl {

// One [stores.NAME] entry, as written (its values checked when read).
struct StoreEntry
{
  std::string name;
  std::string uri;           // may hold a password: never print it unredacted
  std::string password_file; // "" = none (a path: not a secret)
  std::string password_env;  // "" = none (the name of a variable)
  std::optional<std::string> timeout; // a duration (parse_duration_ms accepted it)
  std::optional<std::string> output;  // json, jsonl, table or raw
  bool read_only = false;
};

struct ConfigFile
{
  std::string path;          // the config file's path ("" when no home directory is known)
  bool exists = false;       // whether the file exists (an absent file is no error)
  std::string default_store; // its `default` ("" = none), the name of one of stores
  std::vector<StoreEntry> stores; // sorted by name (as toml++ keeps a table)
  // When the file holds a secret (an inline password in a uri) and is
  // readable by its group or others: the warning to print (ssh's rule).
  std::optional<std::string> permission_warning;

  // Returns the entry named name, nullptr when there is none.
  const StoreEntry* find(const std::string& name) const;
  // Returns the names of the entries, sorted.
  std::vector<std::string> names() const;
};

// Returns the user's home directory: HOME when set and not empty, else the
// passwd entry's; "" when neither gives one. Never throws.
std::string home_directory();

// Returns the config file's path ("" when neither XDG_CONFIG_HOME nor HOME
// nor the passwd entry gives a directory). Never throws.
std::string config_path();

// Reads and checks the file at path (an absent file gives an empty config,
// exists false). Throws taskstore::ConfigError naming the file, line and key
// for an unparsable file, an unknown key, a value of the wrong type or an
// invalid value (a bad timeout or output, a `default` naming no entry, an
// entry without uri or with both password_file and password_env).
ConfigFile read_config(const std::string& path);

} // namespace taskctl
