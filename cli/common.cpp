#include "common.hpp"

#include "output.hpp"

#include "taskstore/error.hpp"
#include "taskstore/key.hpp"
#include "taskstore/registry.hpp"
#include "taskstore/time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace taskctl {

namespace fs = std::filesystem;

// --- Context -----------------------------------------------------------------

void
Context::detect_terminal()
{
  stdin_tty = ::isatty(STDIN_FILENO) == 1;
  stdout_tty = ::isatty(STDOUT_FILENO) == 1;
  stderr_tty = ::isatty(STDERR_FILENO) == 1;
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  const bool env_allows = (no_color == nullptr || *no_color == '\0') &&
                          !(term != nullptr && std::string_view(term) == "dumb");
  switch (global.color) {
  case ColorMode::always:
    color_stdout = color_stderr = true;
    break;
  case ColorMode::never:
    color_stdout = color_stderr = false;
    break;
  case ColorMode::auto_:
    color_stdout = stdout_tty && env_allows;
    color_stderr = stderr_tty && env_allows;
    break;
  }
}

void
Context::resolve_format(Format subcommand_default)
{
  format = global.output == Format::unset ? subcommand_default : global.output;
}

// --- SIGINT ------------------------------------------------------------------

namespace {

volatile std::sig_atomic_t g_signal = 0;

extern "C" void
on_signal(int sig)
{
  if (g_signal != 0) {
    // Second signal: the user insists. Every write is one atomic backend
    // call, so stopping here leaves no half-written record.
    ::_exit(128 + sig);
  }
  g_signal = sig;
}

} // namespace

void
install_signal_handlers()
{
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0; // no SA_RESTART: a blocked read returns EINTR and sees the flag
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

bool
interrupted() noexcept
{
  return g_signal != 0;
}

int
interrupt_exit_code() noexcept
{
  return g_signal == 0 ? exit_interrupted : 128 + static_cast<int>(g_signal);
}

void
check_interrupted()
{
  if (interrupted()) {
    throw Interrupted();
  }
}

// --- stores ------------------------------------------------------------------

namespace {

struct StoreState
{
  bool resolved = false;
  ResolvedStore store;
  std::optional<std::string> env_password;
  bool env_password_read = false;
};

StoreState&
state()
{
  static StoreState s;
  return s;
}

// Percent-encodes a file path for a sqlite:// URI (keeps '/').
std::string
encode_path(std::string_view path)
{
  std::string out;
  for (const unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// The password from TASKCTL_STORE_PASSWORD or TASKCTL_STORE_PASSWORD_FILE
// (trailing newlines stripped). Throws ConfigError when the file is unreadable.
const std::optional<std::string>&
env_password()
{
  auto& s = state();
  if (s.env_password_read) {
    return s.env_password;
  }
  s.env_password_read = true;
  if (const char* pw = std::getenv("TASKCTL_STORE_PASSWORD"); pw != nullptr && *pw != '\0') {
    s.env_password = pw;
  } else if (const char* file = std::getenv("TASKCTL_STORE_PASSWORD_FILE");
             file != nullptr && *file != '\0') {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      throw taskstore::ConfigError(fmt::format("cannot read TASKCTL_STORE_PASSWORD_FILE {}: {}", file,
                                               std::strerror(errno)));
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
      text.pop_back();
    }
    s.env_password = text;
  }
  return s.env_password;
}

const char* const k_store_hint =
  "point taskctl at a store with --store URI or TASKCTL_STORE, e.g. sqlite:///var/lib/app/tasks.db, "
  "redis://127.0.0.1:6379/0?prefix=pmcp or dynamodb://TABLE?region=eu-west-1 (see taskctl --help)";

} // namespace

std::string
default_store_path()
{
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && xdg[0] == '/') {
    return (fs::path(xdg) / "taskctl" / "tasks.db").string();
  }
  std::string home;
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') {
    home = h;
  } else if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) {
    home = pw->pw_dir;
  }
  if (home.empty()) {
    throw taskstore::ConfigError("no default store: neither XDG_DATA_HOME nor HOME is set; " +
                                 std::string(k_store_hint));
  }
  return (fs::path(home) / ".local" / "share" / "taskctl" / "tasks.db").string();
}

ResolvedStore
resolve_store(const Context& ctx)
{
  auto& s = state();
  if (s.resolved) {
    return s.store;
  }
  ResolvedStore r;
  if (!ctx.global.store.empty()) {
    r.uri_text = ctx.global.store;
    r.source = StoreSource::flag;
  } else if (const char* env = std::getenv("TASKCTL_STORE"); env != nullptr && *env != '\0') {
    r.uri_text = env;
    r.source = StoreSource::environment;
  } else {
    r.default_path = default_store_path();
    r.uri_text = "sqlite://" + encode_path(r.default_path);
    r.source = StoreSource::default_store;
  }
  try {
    r.uri = taskstore::StoreUri::parse(r.uri_text);
  } catch (const taskstore::InvalidArgument& e) {
    CliError error(exit_usage, "invalid_store_uri", e.what());
    error.hint = k_store_hint;
    throw error;
  }
  if (r.source == StoreSource::flag && r.uri.password && !ctx.global.quiet) {
    warn(ctx, "a password given in --store is visible to other users of this machine (ps, shell "
              "history); prefer TASKCTL_STORE_PASSWORD or TASKCTL_STORE_PASSWORD_FILE");
  }
  s.store = r;
  s.resolved = true;
  return r;
}

std::chrono::milliseconds
parse_timeout(const Context& ctx)
{
  try {
    return std::chrono::milliseconds(taskstore::parse_duration_ms(ctx.global.timeout));
  } catch (const taskstore::InvalidArgument& e) {
    throw CliError(exit_usage, "usage", fmt::format("--timeout: {}", e.what()));
  }
}

std::unique_ptr<taskstore::StorageBackend>
open_store(const Context& ctx, StoreAccess access)
{
  const auto timeout = parse_timeout(ctx);
  const ResolvedStore store = resolve_store(ctx);
  taskstore::OpenOptions options;
  options.create_if_missing = access == StoreAccess::write;
  options.timeout = timeout;
  try {
    options.password = env_password();
  } catch (const taskstore::ConfigError& e) {
    CliError error(exit_config, "config", e.what());
    throw error;
  }

  if (store.source == StoreSource::default_store) {
    std::error_code ec;
    const fs::path path(store.default_path);
    if (access == StoreAccess::read && !fs::exists(path, ec)) {
      CliError error(exit_config, "no_store",
                     fmt::format("no store: the default store {} does not exist", store.default_path));
      error.hint = std::string(k_store_hint) + "; `taskctl put` creates the default store";
      throw error;
    }
    if (access == StoreAccess::write && !fs::exists(path.parent_path(), ec)) {
      fs::create_directories(path.parent_path(), ec);
      if (ec) {
        throw CliError(exit_config, "config",
                       fmt::format("cannot create {}: {}", path.parent_path().string(), ec.message()));
      }
      ::chmod(path.parent_path().c_str(), 0700);
    }
  }

  try {
    return taskstore::open_store(store.uri, options);
  } catch (const taskstore::InvalidArgument& e) {
    CliError error(exit_usage, "invalid_store_uri", e.what());
    auto chain = taskstore::error_chain(e);
    error.causes.assign(chain.begin() + 1, chain.end());
    error.hint = k_store_hint;
    throw error;
  } catch (const taskstore::ConfigError& e) {
    CliError error(exit_config, "config", e.what());
    auto chain = taskstore::error_chain(e);
    error.causes.assign(chain.begin() + 1, chain.end());
    error.hint = fmt::format("the store is {}", store.uri.redacted());
    throw error;
  }
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

std::vector<std::string>
known_secrets()
{
  std::vector<std::string> out;
  const auto& s = state();
  if (s.resolved && s.store.uri.password && !s.store.uri.password->empty()) {
    out.push_back(*s.store.uri.password);
  }
  if (s.env_password && !s.env_password->empty()) {
    out.push_back(*s.env_password);
  }
  if (const char* pw = std::getenv("TASKCTL_STORE_PASSWORD"); pw != nullptr && *pw != '\0') {
    out.emplace_back(pw);
  }
  return out;
}

// --- input -------------------------------------------------------------------

namespace {

CliError
io_error(const std::string& what, int err)
{
  return CliError(exit_failure, "io_error", fmt::format("cannot read {}: {}", what, std::strerror(err)));
}

} // namespace

std::string
read_input(const Context& ctx, const std::string& spec)
{
  int fd = STDIN_FILENO;
  std::string name = "standard input";
  if (spec.empty()) {
    if (ctx.stdin_tty) {
      CliError error(exit_usage, "usage", "no input: standard input is a terminal");
      error.hint = "give a FILE argument, or - to read standard input, or pipe the record in";
      throw error;
    }
  } else if (spec != "-") {
    name = spec;
    fd = ::open(spec.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      throw io_error(name, errno);
    }
  }
  std::string data;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      data.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) {
      break;
    }
    const int err = errno;
    if (err == EINTR) {
      if (interrupted()) {
        if (fd != STDIN_FILENO) {
          ::close(fd);
        }
        throw Interrupted();
      }
      continue;
    }
    if (fd != STDIN_FILENO) {
      ::close(fd);
    }
    throw io_error(name, err);
  }
  if (fd != STDIN_FILENO) {
    ::close(fd);
  }
  check_interrupted();
  return data;
}

FdStreamBuf::int_type
FdStreamBuf::underflow()
{
  if (gptr() < egptr()) {
    return traits_type::to_int_type(*gptr());
  }
  for (;;) {
    if (interrupted()) {
      return traits_type::eof(); // for good: a later read would block again
    }
    const ssize_t n = ::read(fd_, buffer_, sizeof buffer_);
    if (n > 0) {
      setg(buffer_, buffer_, buffer_ + n);
      return traits_type::to_int_type(*gptr());
    }
    if (n == 0) {
      return traits_type::eof();
    }
    if (errno == EINTR) {
      if (interrupted()) {
        return traits_type::eof();
      }
      continue;
    }
    failed_ = true;
    errno_ = errno;
    return traits_type::eof();
  }
}

// --- confirmation ------------------------------------------------------------

void
require_yes_without_tty(const Context& ctx, bool yes, const std::string& action)
{
  if (yes || ctx.stdin_tty) {
    return;
  }
  CliError error(exit_usage, "confirmation_required",
                 fmt::format("refusing to {} without confirmation: standard input is not a terminal", action));
  error.hint = "pass --yes to go ahead, or --dry-run to see what would be done";
  throw error;
}

void
confirm(const Context& ctx, bool yes, const std::string& action, const std::string& question)
{
  if (yes) {
    return;
  }
  require_yes_without_tty(ctx, yes, action);
  const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    CliError error(exit_usage, "confirmation_required",
                   fmt::format("refusing to {} without confirmation: cannot open /dev/tty: {}", action,
                               std::strerror(errno)));
    error.hint = "pass --yes to go ahead, or --dry-run to see what would be done";
    throw error;
  }
  const std::string prompt = question + " [y/N] ";
  [[maybe_unused]] const ssize_t written = ::write(fd, prompt.data(), prompt.size());
  std::string answer;
  char c = 0;
  for (;;) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n == 1) {
      if (c == '\n' || c == '\r') {
        break;
      }
      answer += c;
      continue;
    }
    if (n < 0 && errno == EINTR) {
      if (interrupted()) {
        ::close(fd);
        throw Interrupted();
      }
      continue;
    }
    break; // EOF or error: treat as "no"
  }
  ::close(fd);
  answer.erase(0, answer.find_first_not_of(" \t"));
  answer.erase(answer.find_last_not_of(" \t") + 1);
  std::transform(answer.begin(), answer.end(), answer.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (answer != "y" && answer != "yes") {
    throw CliError(exit_failure, "aborted", "aborted: nothing was changed");
  }
}

// --- keys and records --------------------------------------------------------

taskstore::KeyParts
check_key(const std::string& key)
{
  return taskstore::split_key(key);
}

void
LimitOptions::add_to(CLI::App& app)
{
  app.add_option("--max-depth", max_depth,
                 "Largest nesting depth of a variable's value (pmcp-tasks max_variable_depth)")
    ->capture_default_str()
    ->group("Limits");
  app.add_option("--max-string-length", max_string_length,
                 "Largest UTF-8 byte length of a string value (pmcp-tasks max_string_length)")
    ->capture_default_str()
    ->group("Limits");
  app.add_option("--max-size", max_size,
                 "Largest compact serialized size of the variables object, in bytes "
                 "(pmcp-tasks max_variable_size_bytes)")
    ->capture_default_str()
    ->group("Limits");
}

taskstore::StoreConfig
LimitOptions::config() const
{
  taskstore::StoreConfig config;
  config.max_variable_depth = max_depth;
  config.max_string_length = max_string_length;
  config.max_variable_size_bytes = max_size;
  return config;
}

namespace {

// DOMs deeper than this are never built (nlohmann copies and prints recursively).
constexpr std::size_t k_max_dom_depth = 512;

std::string
violation_line(const taskstore::Violation& v)
{
  std::string line = fmt::format("{}: {}", v.pointer.empty() ? "/" : v.pointer, v.message);
  if (v.rule == taskstore::Rule::depth || v.rule == taskstore::Rule::string_length ||
      v.rule == taskstore::Rule::size) {
    line += fmt::format(" ({} > {})", v.actual, v.limit);
  }
  return line;
}

Json
violation_json(const taskstore::Violation& v)
{
  Json j = {{"pointer", v.pointer}, {"rule", std::string(taskstore::to_string(v.rule))}, {"message", v.message}};
  if (v.rule == taskstore::Rule::depth || v.rule == taskstore::Rule::string_length ||
      v.rule == taskstore::Rule::size) {
    j["limit"] = v.limit;
    j["actual"] = v.actual;
  }
  return j;
}

void
warn_unknown_fields(const Context& ctx, const std::string& data)
{
  if (ctx.global.quiet) {
    return;
  }
  static const std::set<std::string> record_fields = {"task", "ownerId", "variables", "result", "requestMethod",
                                                      "expiresAt"};
  static const std::set<std::string> task_fields = {"taskId", "status", "statusMessage", "createdAt",
                                                    "lastUpdatedAt", "ttl", "pollInterval", "_meta"};
  const Json doc = Json::parse(data, nullptr, false);
  if (!doc.is_object()) {
    return;
  }
  for (const auto& [name, value] : doc.items()) {
    if (record_fields.count(name) == 0) {
      warn(ctx, fmt::format("unknown field /{} is not stored (pmcp-tasks ignores it too)", name));
    }
  }
  if (auto it = doc.find("task"); it != doc.end() && it->is_object()) {
    for (const auto& [name, value] : it->items()) {
      if (task_fields.count(name) == 0) {
        warn(ctx, fmt::format("unknown field /task/{} is not stored (pmcp-tasks ignores it too)", name));
      }
    }
  }
}

} // namespace

std::string
format_violation(const taskstore::Violation& v)
{
  return violation_line(v);
}

Json
violation_to_json(const taskstore::Violation& v)
{
  return violation_json(v);
}

std::string
prepare_record(const Context& ctx, const std::string& key, const std::string& data, const LimitOptions& limits)
{
  const auto parts = check_key(key);
  taskstore::ValidateOptions options;
  options.limits = limits.config();
  options.kind = taskstore::DocumentKind::record;
  const auto report = taskstore::validate_bytes(data, options);

  std::vector<taskstore::Violation> problems = report.violations;
  std::uint64_t total = report.total_violations;
  if (!report.syntax_error_at) {
    const auto summary = summarize_record(data, taskstore::now_utc());
    if (summary.owner_id && *summary.owner_id != parts.owner_id) {
      problems.push_back({"/ownerId", taskstore::Rule::schema,
                          fmt::format("ownerId \"{}\" does not match the key's owner \"{}\"", *summary.owner_id,
                                      parts.owner_id)});
      ++total;
    }
    if (summary.task_id && *summary.task_id != parts.task_id) {
      problems.push_back({"/task/taskId", taskstore::Rule::schema,
                          fmt::format("taskId \"{}\" does not match the key's task id \"{}\"", *summary.task_id,
                                      parts.task_id)});
      ++total;
    }
    if (total == 0) {
      const std::size_t depth = json_nesting_depth(data);
      if (depth > k_max_dom_depth) {
        problems.push_back({"", taskstore::Rule::depth,
                            fmt::format("nesting depth {} exceeds taskctl's limit for a record", depth),
                            k_max_dom_depth, depth});
        ++total;
      }
    }
  }
  if (total > 0) {
    CliError error(exit_invalid, "validation_failed",
                   fmt::format("invalid record for key {}: {} problem{}", key, total, total == 1 ? "" : "s"));
    Json list = Json::array();
    for (const auto& v : problems) {
      error.details.push_back(violation_line(v));
      list.push_back(violation_json(v));
    }
    if (total > problems.size()) {
      error.details.push_back(fmt::format("... and {} more", total - problems.size()));
    }
    error.hint = "fix the record, or pass --no-validate to store the bytes as given";
    error.extra["key"] = key;
    error.extra["violations"] = std::move(list);
    error.extra["total_violations"] = total;
    throw error;
  }
  taskstore::TaskRecord record;
  try {
    record = taskstore::parse_record(data);
  } catch (const taskstore::InvalidArgument& e) {
    CliError error(exit_invalid, "validation_failed", fmt::format("invalid record for key {}", key));
    error.details.push_back(e.what());
    error.extra["key"] = key;
    throw error;
  }
  warn_unknown_fields(ctx, data);
  return taskstore::serialize_record(record);
}

std::size_t
json_nesting_depth(std::string_view text)
{
  std::size_t depth = 0;
  std::size_t max_depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
    case '"':
      in_string = true;
      break;
    case '[':
    case '{':
      max_depth = std::max(max_depth, ++depth);
      break;
    case ']':
    case '}':
      if (depth > 0) {
        --depth;
      }
      break;
    default:
      break;
    }
  }
  return max_depth;
}

namespace {

// Collects the few top-level fields a listing needs, without a DOM.
class SummarySax : public nlohmann::json_sax<Json>
{
public:
  explicit SummarySax(RecordSummary& out) : out_(out) {}

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool string(string_t& value) override
  {
    if (depth_ == 1 && level1_object_) {
      if (key1_ == "ownerId") {
        out_.owner_id = value;
      } else if (key1_ == "expiresAt") {
        out_.expires_at = value;
      }
    } else if (depth_ == 2 && level1_object_ && level2_object_ && key1_ == "task") {
      if (key2_ == "status") {
        out_.status = value;
      } else if (key2_ == "createdAt") {
        out_.created_at = value;
      } else if (key2_ == "taskId") {
        out_.task_id = value;
      }
    }
    return true;
  }
  bool start_object(std::size_t) override { return open(true); }
  bool start_array(std::size_t) override { return open(false); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& value) override
  {
    if (depth_ == 1) {
      key1_ = value;
    } else if (depth_ == 2) {
      key2_ = value;
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override
  {
    return false;
  }

private:
  bool open(bool object)
  {
    ++depth_;
    if (depth_ == 1) {
      level1_object_ = object;
      root_seen_ = true;
    } else if (depth_ == 2) {
      level2_object_ = object;
    }
    return true;
  }
  bool close()
  {
    --depth_;
    return true;
  }

public:
  bool root_object() const { return root_seen_ && level1_object_; }

private:
  RecordSummary& out_;
  std::size_t depth_ = 0;
  bool level1_object_ = false;
  bool level2_object_ = false;
  bool root_seen_ = false;
  std::string key1_;
  std::string key2_;
};

} // namespace

RecordSummary
summarize_record(std::string_view data, taskstore::Timestamp now)
{
  RecordSummary out;
  SummarySax sax(out);
  const bool ok = Json::sax_parse(data.begin(), data.end(), &sax, nlohmann::detail::input_format_t::json, true);
  out.json = ok && sax.root_object();
  if (out.expires_at) {
    out.expired = taskstore::is_expired_at(taskstore::parse_rfc3339(*out.expires_at), now);
  }
  return out;
}

} // namespace taskctl
