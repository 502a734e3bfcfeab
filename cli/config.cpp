// The config file of named stores (config.hpp): the one unit that includes
// toml++, which is heavy to compile.

#include "config.hpp"

#include "taskstore/error.hpp"
#include "taskstore/uri.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace taskctl {

namespace fs = std::filesystem;

const StoreEntry*
ConfigFile::find(const std::string& name) const
{
  for (const auto& entry : stores) {
    if (entry.name == name) {
      return &entry;
    }
  }
  return nullptr;
}

std::vector<std::string>
ConfigFile::names() const
{
  std::vector<std::string> out;
  for (const auto& entry : stores) {
    out.push_back(entry.name);
  }
  return out;
}

std::string
home_directory()
{
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') {
    return h;
  }
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) {
    return pw->pw_dir;
  }
  return "";
}

std::string
config_path()
{
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && xdg[0] == '/') {
    return (fs::path(xdg) / "taskctl" / "config.toml").string();
  }
  const std::string home = home_directory();
  if (home.empty()) {
    return "";
  }
  return (fs::path(home) / ".config" / "taskctl" / "config.toml").string();
}

namespace {

// Returns "FILE:LINE" for a node or key of the file at path.
std::string
where(const std::string& path, const toml::source_region& source)
{
  return source.begin.line > 0 ? fmt::format("{}:{}", path, source.begin.line) : path;
}

// Throws ConfigError "FILE:LINE: KEY: what".
[[noreturn]] void
fail(const std::string& path, const toml::source_region& source, const std::string& key, const std::string& what)
{
  throw taskstore::ConfigError(fmt::format("{}: {}: {}", where(path, source), key, what));
}

// Returns what node is, for a message ("an integer").
const char*
type_name(const toml::node& node)
{
  switch (node.type()) {
  case toml::node_type::table: return "a table";
  case toml::node_type::array: return "an array";
  case toml::node_type::string: return "a string";
  case toml::node_type::integer: return "an integer";
  case toml::node_type::floating_point: return "a number";
  case toml::node_type::boolean: return "a boolean";
  case toml::node_type::date: return "a date";
  case toml::node_type::time: return "a time";
  case toml::node_type::date_time: return "a date-time";
  case toml::node_type::none: break;
  }
  return "nothing";
}

// Returns the string value of node; throws ConfigError (bad type) otherwise.
std::string
string_value(const std::string& path, const toml::node& node, const std::string& key)
{
  const auto* value = node.as_string();
  if (value == nullptr) {
    fail(path, node.source(), key, fmt::format("must be a string, not {}", type_name(node)));
  }
  return value->get();
}

StoreEntry
read_entry(const std::string& path, const std::string& name, const toml::node& node)
{
  const std::string prefix = "stores." + name;
  const toml::table* table = node.as_table();
  if (table == nullptr) {
    fail(path, node.source(), prefix, "must be a table ([" + prefix + "])");
  }
  StoreEntry entry;
  entry.name = name;
  bool has_uri = false;
  for (const auto& [k, value] : *table) {
    const std::string key = std::string(k.str());
    const std::string full = prefix + "." + key;
    if (key == "uri") {
      entry.uri = string_value(path, value, full);
      has_uri = true;
    } else if (key == "password_file") {
      entry.password_file = string_value(path, value, full);
    } else if (key == "password_env") {
      entry.password_env = string_value(path, value, full);
    } else if (key == "timeout") {
      entry.timeout = string_value(path, value, full);
      try {
        if (taskstore::parse_duration_ms(*entry.timeout) == 0) {
          fail(path, value.source(), full, "a timeout must be positive");
        }
      } catch (const taskstore::InvalidArgument& e) {
        fail(path, value.source(), full, e.what());
      }
    } else if (key == "output") {
      entry.output = string_value(path, value, full);
      if (*entry.output != "json" && *entry.output != "jsonl" && *entry.output != "table" && *entry.output != "raw") {
        fail(path, value.source(), full, fmt::format("\"{}\" is no output format: use json, jsonl, table or raw",
                                                     *entry.output));
      }
    } else if (key == "read_only") {
      const auto* flag = value.as_boolean();
      if (flag == nullptr) {
        fail(path, value.source(), full, "must be true or false");
      }
      entry.read_only = flag->get();
    } else {
      fail(path, k.source(), full,
           "unknown key (an entry has uri, password_file, password_env, timeout, output, read_only)");
    }
  }
  if (!has_uri || entry.uri.empty()) {
    fail(path, node.source(), prefix, "has no uri");
  }
  if (!entry.password_file.empty() && !entry.password_env.empty()) {
    fail(path, node.source(), prefix, "has both password_file and password_env: keep one");
  }
  return entry;
}

} // namespace

ConfigFile
read_config(const std::string& path)
{
  ConfigFile config;
  config.path = path;
  std::error_code ec;
  if (path.empty() || !fs::exists(path, ec)) {
    return config;
  }
  config.exists = true;
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw taskstore::ConfigError(fmt::format("{}: cannot parse: {}", where(path, e.source()), e.description()));
  }
  const toml::node* default_node = nullptr;
  for (const auto& [k, value] : root) {
    const std::string key = std::string(k.str());
    if (key == "default") {
      config.default_store = string_value(path, value, key);
      default_node = &value;
    } else if (key == "stores") {
      const toml::table* stores = value.as_table();
      if (stores == nullptr) {
        fail(path, value.source(), key, "must be a table of [stores.NAME] entries");
      }
      for (const auto& [name, entry] : *stores) {
        config.stores.push_back(read_entry(path, std::string(name.str()), entry));
      }
    } else {
      fail(path, k.source(), key, "unknown key (the file has `default` and [stores.NAME] entries)");
    }
  }
  if (default_node != nullptr && config.find(config.default_store) == nullptr) {
    fail(path, default_node->source(), "default",
         fmt::format("names no [stores.{}] entry", config.default_store));
  }
  bool secret = false;
  for (const auto& entry : config.stores) {
    if (!taskstore::StoreUri::secrets_in(entry.uri).empty()) {
      secret = true;
    }
  }
  struct stat st{};
  if (secret && ::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    config.permission_warning =
      fmt::format("{} holds a password and its mode is {:04o}, readable by others: run `chmod 600 {}`", path,
                  st.st_mode & 07777, path);
  }
  return config;
}

} // namespace taskctl
