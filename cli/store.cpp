#include "store.hpp"

#include "output.hpp"
#include "suggest.hpp"

#include "taskstore/error.hpp"

#include <CLI/CLI.hpp>

#include "taskstore/backend.hpp"
#include "taskstore/error.hpp"
#include "taskstore/registry.hpp"
#include "taskstore/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <sys/stat.h>
#include <unistd.h>

namespace taskctl {

namespace fs = std::filesystem;

namespace {

// What this run resolved and read, so that messages and the secret scrubber
// see the same store and password as the open did.
struct StoreState
{
  bool resolved = false;
  ResolvedStore store;
  std::optional<std::string> env_password;
  bool env_password_read = false;
  std::string attempted_uri; // the text locate_store last parsed (it may not parse)
  std::string password_file; // the TASKCTL_STORE_PASSWORD_FILE read for known_secrets()
  std::optional<std::string> password_file_text;
  std::vector<std::string> other_secrets; // of the stores open_store_at opened (copy's), of the config file
  std::optional<ConfigFile> config;       // run_config(), once read
};

StoreState&
state()
{
  static StoreState s;
  return s;
}

// password_from_environment(), read once per run.
const std::optional<std::string>&
env_password()
{
  auto& s = state();
  if (!s.env_password_read) {
    s.env_password_read = true; // a file that cannot be read fails this run once
    s.env_password = password_from_environment();
  }
  return s.env_password;
}

const char* const k_store_hint =
  "point taskctl at a store with --store URI or TASKCTL_STORE, e.g. sqlite:///var/lib/app/tasks.db, "
  "redis://127.0.0.1:6379/0?prefix=pmcp or dynamodb://TABLE?region=eu-west-1 (see taskctl --help)";

// The open's CliError for a library error e: code and exit status as given,
// the nested causes of e, and hint.
CliError
open_error(int exit_code, const char* code, const std::exception& e, std::string hint)
{
  CliError error(exit_code, code, e.what());
  auto chain = taskstore::error_chain(e);
  error.causes.assign(chain.begin() + 1, chain.end());
  error.hint = std::move(hint);
  return error;
}

} // namespace

std::string
default_store_path()
{
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && xdg[0] == '/') {
    return (fs::path(xdg) / "taskctl" / "tasks.db").string();
  }
  const std::string home = home_directory();
  if (home.empty()) {
    throw taskstore::ConfigError("no default store: neither XDG_DATA_HOME nor HOME is set; " +
                                 std::string(k_store_hint));
  }
  return (fs::path(home) / ".local" / "share" / "taskctl" / "tasks.db").string();
}

const ConfigFile&
run_config()
{
  auto& s = state();
  if (!s.config) {
    try {
      s.config = read_config(config_path());
    } catch (const taskstore::ConfigError& e) {
      CliError error(exit_config, "config", e.what());
      error.hint = "fix the config file (see FILES in `man taskctl`)";
      throw error;
    }
    for (const auto& entry : s.config->stores) {
      const auto secrets = taskstore::StoreUri::secrets_in(entry.uri);
      s.other_secrets.insert(s.other_secrets.end(), secrets.begin(), secrets.end());
    }
  }
  return *s.config;
}

const StoreEntry&
find_entry(const std::string& ref)
{
  const std::string name = ref.substr(ref.empty() || ref[0] != '@' ? 0 : 1);
  const ConfigFile& config = run_config();
  if (const StoreEntry* entry = config.find(name)) {
    return *entry;
  }
  const auto names = config.names();
  std::string known;
  for (const auto& n : names) {
    known += (known.empty() ? "@" : ", @") + n;
  }
  const auto guess = closest(name, names);
  CliError error(exit_usage, "unknown_store",
                 fmt::format("unknown store @{}{}", printable(name),
                             guess ? fmt::format("; did you mean @{}?", *guess) : std::string()));
  error.hint = !config.exists ? fmt::format("there is no config file {}: named stores are its [stores.NAME] entries",
                                            config.path.empty() ? "(no home directory)" : config.path)
               : names.empty() ? fmt::format("{} has no [stores.NAME] entry", config.path)
                               : fmt::format("the stores of {} are {} (taskctl stores lists them)", config.path, known);
  error.extra["known_stores"] = names;
  throw error;
}

ResolvedStore
locate_store(const std::string& flag)
{
  ResolvedStore r;
  if (!flag.empty()) {
    r.uri_text = flag;
    r.source = StoreSource::flag;
  } else if (const char* env = std::getenv("TASKCTL_STORE"); env != nullptr && *env != '\0') {
    r.uri_text = env;
    r.source = StoreSource::environment;
  } else if (const ConfigFile& config = run_config(); !config.default_store.empty()) {
    r.uri_text = "@" + config.default_store;
    r.source = StoreSource::config_default;
  } else {
    r.default_path = default_store_path();
    r.uri_text = "sqlite://" + taskstore::percent_encode(r.default_path, "/");
    r.source = StoreSource::default_store;
  }
  if (!r.uri_text.empty() && r.uri_text[0] == '@') {
    r.entry = find_entry(r.uri_text);
    r.uri_text = r.entry->uri;
  }
  state().attempted_uri = r.uri_text; // its secrets are scrubbed even when it does not parse
  try {
    r.uri = taskstore::StoreUri::parse(r.uri_text);
  } catch (const taskstore::InvalidArgument& e) {
    CliError error(exit_usage, "invalid_store_uri", e.what());
    error.hint = k_store_hint;
    throw error;
  }
  return r;
}

ResolvedStore
resolve_store(const Context& ctx)
{
  auto& s = state();
  if (s.resolved) {
    return s.store;
  }
  ResolvedStore r = locate_store(ctx.global.store);
  if (r.source == StoreSource::flag && !r.entry && r.uri.password && !ctx.global.quiet) {
    warn(ctx, "a password given in --store is visible to other users of this machine (ps, shell "
              "history); prefer TASKCTL_STORE_PASSWORD or TASKCTL_STORE_PASSWORD_FILE");
  }
  s.store = r;
  s.resolved = true;
  return r;
}

void
apply_entry_defaults(Context& ctx)
{
  const char* env = std::getenv("TASKCTL_STORE");
  const std::string ref = !ctx.global.store.empty() ? ctx.global.store : env != nullptr ? env : "";
  if (!ref.empty() && ref[0] != '@') {
    return; // a URI: no entry, and the config file is not read
  }
  ResolvedStore store;
  try {
    store = resolve_store(ctx);
  } catch (const CliError&) {
    if (!ref.empty()) {
      throw; // an @NAME that cannot be resolved: nothing else to do
    }
    // No store asked for: a broken config file matters only to a command
    // that opens the default store, which then reports it; `validate FILE`
    // (a CI step) and `copy URI URI` run regardless.
    return;
  }
  if (const auto& config = state().config; config && config->permission_warning && !ctx.global.quiet) {
    warn(ctx, *config->permission_warning);
  }
  if (!store.entry) {
    return;
  }
  if (store.entry->timeout && !ctx.global.timeout_from_flag && std::getenv("TASKCTL_TIMEOUT") == nullptr) {
    ctx.global.timeout = *store.entry->timeout;
  }
  if (store.entry->output && ctx.global.output == Format::unset) {
    ctx.global.output = parse_format(*store.entry->output).value_or(Format::unset);
  }
}

namespace {

// Creates dir and each missing parent, every one mode 0700 whatever the umask
// (create_directories would give 0777 & ~umask). Throws CliError config (exit 7).
void
create_private_directories(const fs::path& dir)
{
  std::vector<fs::path> missing;
  std::error_code ec;
  for (fs::path p = dir; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) {
      break;
    }
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0700) == 0) {
      ::chmod(it->c_str(), 0700); // mkdir's mode is masked by the umask
    } else if (errno != EEXIST) {
      throw CliError(exit_config, "config", fmt::format("cannot create {}: {}", it->string(), std::strerror(errno)));
    }
  }
}

} // namespace

std::chrono::milliseconds
parse_timeout(const Context& ctx)
{
  // Where the value came from: the flag, else TASKCTL_TIMEOUT (CLI11 reads it).
  const char* env = std::getenv("TASKCTL_TIMEOUT");
  const std::string source = ctx.global.timeout_from_flag || env == nullptr || ctx.global.timeout != env
                               ? "--timeout"
                               : "TASKCTL_TIMEOUT";
  std::uint64_t ms = 0;
  try {
    ms = taskstore::parse_duration_ms(ctx.global.timeout);
  } catch (const taskstore::InvalidArgument& e) {
    throw CliError(exit_usage, "usage", fmt::format("{}: {}", source, e.what()));
  }
  if (ms == 0) {
    CliError error(exit_usage, "usage",
                   fmt::format("{} {}: a timeout must be positive (0 would never time out)", source,
                               ctx.global.timeout));
    error.hint = "e.g. --timeout 5s";
    throw error;
  }
  return std::chrono::milliseconds(ms);
}

std::optional<std::string>
password_from_environment()
{
  if (const char* pw = std::getenv("TASKCTL_STORE_PASSWORD"); pw != nullptr && *pw != '\0') {
    return std::string(pw);
  }
  const char* file = std::getenv("TASKCTL_STORE_PASSWORD_FILE");
  if (file == nullptr || *file == '\0') {
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw taskstore::ConfigError(
      fmt::format("cannot read TASKCTL_STORE_PASSWORD_FILE {}: {}", file, std::strerror(errno)));
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  return text;
}

namespace {

// Whether this open may create the store: a write, asked to with --create
// (or TASKCTL_CREATE=1).
bool
creates(const Context& ctx, StoreAccess access)
{
  return access == StoreAccess::write && ctx.global.create;
}

// Throws CliError read_only (exit 7) when access modifies the store, entry
// (the store's config entry, if any) is read_only and --allow-write was not
// given: every write of every command opens its store through here.
void
check_writable(const Context& ctx, const std::optional<StoreEntry>& entry, StoreAccess access)
{
  if (access == StoreAccess::read || !entry || !entry->read_only || ctx.global.allow_write) {
    return;
  }
  CliError error(exit_config, "read_only",
                 fmt::format("the store @{} is read-only (read_only = true in the config file): this command "
                             "would write to it",
                             entry->name));
  error.hint = "pass --allow-write to write to it anyway, or use --dry-run to see what would change";
  error.extra["store"] = entry->name;
  throw error;
}

// Returns the password of entry: the text of its password_file (trailing
// newlines stripped) or the value of its password_env, each added to the
// run's secrets; nullopt when it names none. Throws CliError config (exit 7)
// when the file cannot be read or the variable is not set.
std::optional<std::string>
entry_password(const StoreEntry& entry)
{
  std::string text;
  if (!entry.password_file.empty()) {
    std::ifstream in(entry.password_file, std::ios::binary);
    if (!in) {
      throw CliError(exit_config, "config",
                     fmt::format("cannot read the password_file {} of the store @{}: {}", entry.password_file,
                                 entry.name, std::strerror(errno)));
    }
    text.assign((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (auto& form : taskstore::secret_forms(text)) {
      state().other_secrets.push_back(std::move(form)); // the file as it is, too
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
      text.pop_back();
    }
  } else if (!entry.password_env.empty()) {
    const char* value = std::getenv(entry.password_env.c_str());
    if (value == nullptr) {
      throw CliError(exit_config, "config",
                     fmt::format("the variable {} (the password_env of the store @{}) is not set",
                                 entry.password_env, entry.name));
    }
    text = value;
  } else {
    return std::nullopt;
  }
  for (auto& form : taskstore::secret_forms(text)) {
    state().other_secrets.push_back(std::move(form));
  }
  return text;
}

// Throws CliError no_store (exit 7) when uri names a SQLite file that does
// not exist and was not to be created (called when opening it failed, so
// that a bad URI parameter is still reported first): a typo in a path must
// not start a new, empty store. The hint says how to create one on purpose.
void
check_store_file(const taskstore::StoreUri& uri, StoreAccess access, bool create)
{
  std::error_code ec;
  if (create || uri.scheme != "sqlite" || uri.path.empty() || fs::exists(uri.path, ec)) {
    return;
  }
  CliError error(exit_config, "no_store", fmt::format("no store: {} does not exist", uri.redacted()));
  const fs::path parent = fs::path(uri.path).parent_path();
  const std::string typo = !parent.empty() && !fs::is_directory(parent, ec)
                             ? fmt::format(" (its directory {} does not exist either)", parent.string())
                             : std::string();
  error.hint = access == StoreAccess::write
                 ? fmt::format("check the path for a typo{}; to create a new store there, pass --create (or set "
                               "TASKCTL_CREATE=1)",
                               typo)
                 : fmt::format("check the path for a typo{}; `taskctl --create put KEY FILE` creates a new store", typo);
  throw error;
}

// Opens uri with options, turning the library's refusals into CliErrors: a
// bad URI exit 2 (invalid_store_uri); a missing SQLite file that was not to
// be created exit 7 (no_store, check_store_file); any other configuration
// problem exit 7 (config), the hint naming the store as where. What the
// library warns of while opening (OpenOptions::warn, e.g. TLS verification
// turned off) is printed as a warning unless --quiet, on every run.
std::unique_ptr<taskstore::StorageBackend>
open_explained(const Context& ctx, const taskstore::StoreUri& uri, taskstore::OpenOptions options,
               StoreAccess access, const std::string& where)
{
  options.warn = [&ctx](const std::string& warning) { warn(ctx, warning); };
  try {
    return taskstore::open_store(uri, options);
  } catch (const taskstore::InvalidArgument& e) {
    throw open_error(exit_usage, "invalid_store_uri", e, k_store_hint);
  } catch (const taskstore::ConfigError& e) {
    check_store_file(uri, access, options.create_if_missing);
    throw open_error(exit_config, "config", e, "the store is " + where);
  }
}

} // namespace

std::unique_ptr<taskstore::StorageBackend>
open_store(const Context& ctx, StoreAccess access)
{
  const auto timeout = parse_timeout(ctx);
  const ResolvedStore store = resolve_store(ctx);
  check_writable(ctx, store.entry, access);
  taskstore::OpenOptions options;
  options.create_if_missing = creates(ctx, access);
  options.timeout = timeout;
  if (store.entry) {
    options.password = entry_password(*store.entry);
  }
  try {
    if (!options.password) {
      options.password = env_password();
    }
  } catch (const taskstore::ConfigError& e) {
    throw CliError(exit_config, "config", e.what());
  }

  if (store.source == StoreSource::default_store) {
    std::error_code ec;
    const fs::path path(store.default_path);
    if (!options.create_if_missing && !fs::exists(path, ec)) {
      CliError error(exit_config, "no_store",
                     fmt::format("no store: the default store {} does not exist", store.default_path));
      error.hint = access == StoreAccess::write
                     ? "pass --create (or set TASKCTL_CREATE=1) to create it, or " + std::string(k_store_hint)
                     : std::string(k_store_hint) + "; `taskctl --create put KEY FILE` creates the default store";
      throw error;
    }
    if (options.create_if_missing && !fs::exists(path.parent_path(), ec)) {
      create_private_directories(path.parent_path());
    }
  }

  return open_explained(ctx, store.uri, options, access, store.uri.redacted());
}

std::unique_ptr<taskstore::StorageBackend>
open_store_at(const Context& ctx, const std::string& uri_text, StoreAccess access, const std::string& password_file)
{
  auto& s = state();
  if (!uri_text.empty() && uri_text[0] == '@') {
    const StoreEntry entry = find_entry(uri_text);
    check_writable(ctx, entry, access);
    taskstore::StoreUri uri;
    try {
      uri = taskstore::StoreUri::parse(entry.uri);
    } catch (const taskstore::InvalidArgument& e) {
      throw open_error(exit_usage, "invalid_store_uri", e, fmt::format("the uri of [stores.{}]", entry.name));
    }
    if (password_file.empty()) {
      taskstore::OpenOptions options;
      options.create_if_missing = creates(ctx, access);
      options.timeout = parse_timeout(ctx);
      options.password = entry_password(entry);
      return open_explained(ctx, uri, options, access, fmt::format("@{} ({})", entry.name, uri.redacted()));
    }
    return open_store_at(ctx, entry.uri, access, password_file);
  }
  {
    auto secrets = taskstore::StoreUri::secrets_in(uri_text);
    s.other_secrets.insert(s.other_secrets.end(), secrets.begin(), secrets.end());
  }
  taskstore::StoreUri uri;
  try {
    uri = taskstore::StoreUri::parse(uri_text);
  } catch (const taskstore::InvalidArgument& e) {
    throw open_error(exit_usage, "invalid_store_uri", e, k_store_hint);
  }
  if (uri.password && !ctx.global.quiet) {
    warn(ctx, fmt::format("the password of {} is on the command line, where other users may see it; "
                          "use a password file (--src-password-file / --dst-password-file)",
                          uri.redacted()));
  }
  taskstore::OpenOptions options;
  options.create_if_missing = creates(ctx, access);
  options.timeout = parse_timeout(ctx);
  if (!password_file.empty()) {
    std::ifstream in(password_file, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      throw CliError(exit_config, "config", fmt::format("cannot read the password file {}", password_file));
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
      text.pop_back();
    }
    for (auto& form : taskstore::secret_forms(text)) {
      s.other_secrets.push_back(std::move(form));
    }
    options.password = std::move(text);
  }
  return open_explained(ctx, uri, options, access, uri.redacted());
}

std::string
password_origin(bool inline_password, const StoreEntry* entry, bool environment)
{
  if (inline_password) {
    return "uri";
  }
  if (entry != nullptr && !entry->password_file.empty()) {
    return "password_file " + entry->password_file;
  }
  if (entry != nullptr && !entry->password_env.empty()) {
    return "password_env " + entry->password_env;
  }
  if (environment) {
    for (const char* name : {"TASKCTL_STORE_PASSWORD", "TASKCTL_STORE_PASSWORD_FILE"}) {
      const char* value = std::getenv(name);
      if (value != nullptr && *value != '\0') {
        return name;
      }
    }
  }
  return "none";
}

std::string
store_display(const Context& ctx)
{
  try {
    return resolve_store(ctx).uri.redacted();
  } catch (...) {
    return "(invalid store URI)";
  }
}

namespace {

// The text of the password file named by TASKCTL_STORE_PASSWORD_FILE (as
// password_from_environment reads it), read once per file name; nullopt when
// unset or unreadable. Never throws: the file may hold the password even when
// TASKCTL_STORE_PASSWORD wins, and a command may be pointed at it as input.
const std::optional<std::string>&
password_file_secret()
{
  auto& s = state();
  const char* file = std::getenv("TASKCTL_STORE_PASSWORD_FILE");
  const std::string name = file != nullptr ? file : "";
  if (name != s.password_file) {
    s.password_file = name;
    s.password_file_text.reset();
    if (!name.empty()) {
      std::ifstream in(name, std::ios::binary);
      std::string text;
      char buffer[4096];
      while (in && text.size() < (1u << 20)) {
        in.read(buffer, sizeof buffer);
        text.append(buffer, static_cast<std::size_t>(in.gcount()));
      }
      if (!text.empty()) {
        s.password_file_text = std::move(text);
      }
    }
  }
  return s.password_file_text;
}

} // namespace

std::vector<std::string>
known_secrets()
{
  std::vector<std::string> found;
  const auto add = [&found](std::string_view secret) {
    for (auto& form : taskstore::secret_forms(secret)) {
      found.push_back(std::move(form));
    }
  };
  const auto& s = state();
  // The store URI's: structurally, from the parsed URI, or from the text
  // that failed to parse.
  const auto uri_secrets =
    s.resolved ? s.store.uri.secrets() : taskstore::StoreUri::secrets_in(s.attempted_uri);
  found.insert(found.end(), uri_secrets.begin(), uri_secrets.end());
  if (const char* env = std::getenv("TASKCTL_STORE"); env != nullptr && *env != '\0') {
    const auto env_secrets = taskstore::StoreUri::secrets_in(env);
    found.insert(found.end(), env_secrets.begin(), env_secrets.end());
  }
  if (s.env_password) {
    add(*s.env_password);
  }
  found.insert(found.end(), s.other_secrets.begin(), s.other_secrets.end());
  for (const char* name : {"TASKCTL_STORE_PASSWORD", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                           "AWS_SECURITY_TOKEN"}) {
    if (const char* value = std::getenv(name); value != nullptr) {
      add(value);
    }
  }
  if (const auto& file = password_file_secret()) {
    std::string text = *file;
    add(text);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
      text.pop_back(); // the password as password_from_environment reads it
    }
    add(text);
  }
  // Longest first, so that a secret containing another is replaced whole.
  std::sort(found.begin(), found.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  found.erase(std::unique(found.begin(), found.end()), found.end());
  return found;
}

taskstore::KeyParts
check_key(const std::string& key)
{
  auto parts = taskstore::split_key(key);
  if (parts.owner_id.empty() || parts.task_id.empty()) {
    throw taskstore::InvalidArgument("invalid key \"" + key + "\": the owner id and the task id must not be empty");
  }
  return parts;
}

void
require_owner_value(CLI::Option* option)
{
  option->check(
    [](const std::string& value) {
      return value.empty() ? std::string("an empty owner id would mean no owner (is a variable unset?)")
                           : std::string();
    },
    "");
}

} // namespace taskctl
