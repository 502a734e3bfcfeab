#pragma once
// Which store a run uses and how it is opened: --store, then TASKCTL_STORE,
// then the config file's default entry, then the default SQLite file (a value
// @NAME names an entry of the config file); the password sources; --timeout;
// the read-only entries; every failure to open turned into a CliError with
// its exit status and a hint.

#include "config.hpp"
#include "context.hpp"

#include "taskstore/key.hpp"
#include "taskstore/uri.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class Option;
} // namespace CLI

namespace taskstore {
class StorageBackend;
}

namespace taskctl {

enum class StoreAccess
{
  read,   // never creates the store; a missing store is a ConfigError (exit 7)
  modify, // as read, but the command writes to the store: refused on a read-only entry
  write,  // modifies and creates the store (and the default store's directory, mode 0700)
};

// Where the store URI came from.
enum class StoreSource
{
  flag,
  environment,
  config_default, // the config file's `default` entry
  default_store,
};

struct ResolvedStore
{
  std::string uri_text;  // as given (may hold a password: never print it)
  taskstore::StoreUri uri;
  StoreSource source = StoreSource::default_store;
  std::string default_path; // the default SQLite file, when source == default_store
  std::optional<StoreEntry> entry; // the config file's entry, when the store was named (@NAME or default)
};

// The config file (config_path()), read once per run; the secrets of its
// URIs are added to known_secrets(). Throws CliError config (exit 7) naming
// the file, line and key when it does not parse or check.
const ConfigFile& run_config();

// Returns the entry of run_config() that ref ("@NAME") names. Throws CliError
// unknown_store (exit 2) naming the known entries and the closest one.
const StoreEntry& find_entry(const std::string& ref);

// The entry's timeout and output become ctx's when neither the command line
// nor TASKCTL_TIMEOUT / TASKCTL_OUTPUT gave one; warns (unless quiet) about a
// config file that holds a password and is readable by others. Resolves the
// store (resolve_store), so throws as it does.
void apply_entry_defaults(Context& ctx);

// The default store file: $XDG_DATA_HOME/taskctl/tasks.db when XDG_DATA_HOME
// is an absolute path, else ~/.local/share/taskctl/tasks.db (HOME, else the
// passwd entry). Throws
// ConfigError when no home directory can be found.
std::string default_store_path();

// Returns the store named by flag (the --store value; "" = not given), else
// by TASKCTL_STORE, else the config file's `default` entry, else the default
// store (sqlite:// and the percent-encoded default_store_path()), with its
// URI parsed; a value @NAME is the config entry NAME. Reads the environment
// on every call and warns about nothing. Throws CliError invalid_store_uri
// (exit 2) for a malformed URI, unknown_store (exit 2) for an unknown @NAME,
// config (exit 7) for a bad config file, ConfigError when the default store
// has no location.
ResolvedStore locate_store(const std::string& flag);

// locate_store(ctx.global.store), once per run (later calls return the first
// result). Warns (unless quiet) when a password is inline in a URI given on
// the command line.
ResolvedStore resolve_store(const Context& ctx);

// Returns --timeout as a duration; throws CliError usage (exit 2) for a
// malformed one.
std::chrono::milliseconds parse_timeout(const Context& ctx);

// Returns the password from TASKCTL_STORE_PASSWORD, else from the file named
// by TASKCTL_STORE_PASSWORD_FILE (trailing newlines stripped), else nullopt.
// Reads the environment on every call. Throws ConfigError when the file
// cannot be read.
std::optional<std::string> password_from_environment();

// Opens the store: the entry's password_file / password_env, else
// password_from_environment() (read once per run), used when the URI has no
// password; --timeout, create_if_missing from access. Throws CliError:
// read_only (exit 7) when access is modify or write, the store is a
// read_only entry and --allow-write was not given (the one check every
// writing command passes through); no_store (exit 7) for a missing default
// store on a read, invalid_store_uri (exit 2), config (exit 7), each with a
// hint naming how to point taskctl at a store.
std::unique_ptr<taskstore::StorageBackend> open_store(const Context& ctx, StoreAccess access);

// Opens another store than the run's (copy's SRC and DST) by its URI text,
// as open_store does, its secrets added to known_secrets() first; the
// password from password_file ("" = none: the URI's own), trailing newlines
// stripped. uri_text @NAME is the config entry NAME (its password source used
// when password_file is ""). Warns when the URI holds a password. Throws
// CliError like open_store (read_only included).
std::unique_ptr<taskstore::StorageBackend> open_store_at(const Context& ctx, const std::string& uri_text,
                                                         StoreAccess access, const std::string& password_file = "");

// The redacted URI of the store this run uses (for messages); never throws.
std::string store_display(const Context& ctx);

// Where a store's password comes from, never the password: "uri" (the URI
// holds one: inline_password), else entry's "password_file PATH" or "password_env NAME", else,
// when environment is true, "TASKCTL_STORE_PASSWORD" or
// "TASKCTL_STORE_PASSWORD_FILE" when set, else "none". The order is
// open_store's: a password in the URI wins.
std::string password_origin(bool inline_password, const StoreEntry* entry, bool environment);

// Every secret this run knows, each in every form it may take
// (taskstore::secret_forms), longest first, so that the error printer can
// scrub them: the store URI's (StoreUri::secrets(), or
// StoreUri::secrets_in() of a text that did not parse) and TASKCTL_STORE's;
// the password read for the store; TASKCTL_STORE_PASSWORD,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and AWS_SECURITY_TOKEN as they are
// now; the text of TASKCTL_STORE_PASSWORD_FILE (read once per file name,
// whatever wins); the config file's inline passwords and the passwords read
// through its entries. Never throws.
std::vector<std::string> known_secrets();

// Checks a KEY argument: it must contain ':' (split at the first one) and
// neither part may be empty. Returns the parts; throws InvalidArgument
// (exit 2) otherwise.
taskstore::KeyParts check_key(const std::string& key);

// Makes an --owner option refuse an empty value at parse time (exit 2): an
// unset $OWNER must never widen a command to every owner.
void require_owner_value(CLI::Option* option);

} // namespace taskctl
