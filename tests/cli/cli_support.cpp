#include "cli_support.hpp"

#include "taskstore/registry.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>

#ifndef TASKCTL_BIN
#error "TASKCTL_BIN must name the taskctl binary"
#endif

namespace clitest {

namespace fs = std::filesystem;




namespace {

// A SAX handler that accepts what nlohmann accepts and fails on an object
// that names one key twice (nlohmann itself keeps the last silently).
class DuplicateKeyCheck : public nlohmann::json_sax<Json>
{
public:
  std::string duplicate;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override
  {
    m_keys.emplace_back();
    return true;
  }
  bool key(string_t& name) override
  {
    if (!m_keys.back().insert(name).second) {
      duplicate = name;
      return false;
    }
    return true;
  }
  bool end_object() override
  {
    m_keys.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

private:
  std::vector<std::set<std::string>> m_keys;
};

// "" when text is one whole JSON value with no key repeated in any object,
// else what is wrong.
std::string
json_problem(const std::string& text)
{
  DuplicateKeyCheck check;
  const bool ok = Json::sax_parse(text, &check);
  if (ok) {
    return "";
  }
  return check.duplicate.empty() ? "not a whole JSON document" : "the key \"" + check.duplicate + "\" twice";
}

// The -o / --output value on a taskctl command line (before any "--"), or TASKCTL_OUTPUT.
std::string
output_format(const std::vector<std::string>& args, const RunOptions& options)
{
  std::string format;
  const auto env = options.env.find("TASKCTL_OUTPUT");
  if (env != options.env.end() && env->second) {
    format = *env->second;
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      break;
    }
    if ((a == "-o" || a == "--output") && i + 1 < args.size()) {
      format = args[++i];
    } else if (a.rfind("--output=", 0) == 0) {
      format = a.substr(9);
    } else if (a.size() > 2 && a.rfind("-o", 0) == 0 && a[2] != '-') {
      format = a.substr(2);
    }
  }
  return format;
}

// Every JSON output of the suite is checked here (issue 12): with -o json,
// stdout is empty or one whole document; with -o jsonl, every line is one
// whole value; with either, every stderr line that starts with '{' (an
// error) too; and no object anywhere names a key twice.
void
check_json_output(const std::vector<std::string>& args, const RunOptions& options, const RunResult& r)
{
  const std::string format = output_format(args, options);
  if ((format != "json" && format != "jsonl") || r.timed_out || r.term_signal != 0) {
    return;
  }
  const auto each_line = [](const std::string& text, const std::function<void(const std::string&)>& f) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) {
        f(line);
      }
    }
  };
  if (!options.tty_stdout) {
    if (format == "json") {
      if (r.out.find_first_not_of(" \n") != std::string::npos) {
        INFO("stdout of taskctl -o json: " << r.out);
        CHECK(json_problem(r.out) == "");
      }
    } else {
      each_line(r.out, [](const std::string& line) {
        INFO("a stdout line of taskctl -o jsonl: " << line);
        CHECK(json_problem(line) == "");
      });
    }
  }
  if (!options.tty_stderr) {
    each_line(r.err, [](const std::string& line) {
      if (line[0] == '{') {
        INFO("a stderr line of taskctl -o json/jsonl: " << line);
        CHECK(json_problem(line) == "");
      }
    });
  }
}

} // namespace

const std::string&
test_home()
{
  static TempDir home;
  return home.path();
}

RunResult
taskctl(const std::vector<std::string>& args, RunOptions options)
{
  if (options.env.count("HOME") == 0) {
    options.env["HOME"] = test_home();
  }
  RunResult r = run(TASKCTL_BIN, args, options);
  check_json_output(args, options, r);
  return r;
}

std::string
record_json(const RecordSpec& spec)
{
  Json task = {{"taskId", spec.task_id},
               {"status", spec.status},
               {"createdAt", "2025-11-25T10:30:00.123Z"},
               {"lastUpdatedAt", "2025-11-25T10:30:00.123Z"},
               {"ttl", 3600000},
               {"pollInterval", 500}};
  Json record = {{"task", task},
                 {"ownerId", spec.owner},
                 {"variables", Json::parse(spec.variables)},
                 {"result", nullptr},
                 {"requestMethod", "tools/call"},
                 {"expiresAt", spec.expires_at.empty() ? Json(nullptr) : Json(spec.expires_at)}};
  return record.dump();
}

std::string
record_json(const std::string& owner, const std::string& task_id, const std::string& status,
            const std::string& expires_at)
{
  RecordSpec spec;
  spec.owner = owner;
  spec.task_id = task_id;
  spec.status = status;
  spec.expires_at = expires_at;
  return record_json(spec);
}

Json
parse_json(const std::string& text)
{
  INFO("JSON text: " << text);
  Json doc;
  REQUIRE_NOTHROW(doc = Json::parse(text));
  return doc;
}

std::vector<Json>
parse_jsonl(const std::string& text)
{
  std::vector<Json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    INFO("JSONL line: " << line);
    Json doc;
    REQUIRE_NOTHROW(doc = Json::parse(line));
    REQUIRE(doc.is_object());
    out.push_back(std::move(doc));
  }
  return out;
}

void
write_file(const std::string& path, const std::string& data)
{
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  if (!out) {
    throw std::runtime_error("cannot write " + path);
  }
}

std::string
read_file(const std::string& path)
{
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Snapshot
snapshot(taskstore::StorageBackend& store)
{
  Snapshot out;
  for (auto& entry : store.list_by_prefix("")) {
    out.emplace_back(std::move(entry.key), std::move(entry.record));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::string
describe(const RunResult& r)
{
  std::ostringstream s;
  s << "exit " << r.exit_code << (r.timed_out ? " (timed out)" : "") << "\n--- stdout ---\n"
    << r.out << "\n--- stderr ---\n"
    << r.err;
  if (!r.tty.empty()) {
    s << "\n--- tty ---\n" << r.tty;
  }
  return s.str();
}

bool
contains(const std::string& text, const std::string& part)
{
  return text.find(part) != std::string::npos;
}

RunOptions
with_input(std::string input)
{
  RunOptions o;
  o.input = std::move(input);
  return o;
}

taskstore::StorageBackend&
SqliteStore::lib()
{
  if (!handle) {
    handle = taskstore::open_store(uri);
  }
  return *handle;
}

RunResult
SqliteStore::run(std::vector<std::string> args, RunOptions options)
{
  if (!handle && !fs::exists(path)) {
    lib(); // the store exists, as a real one does: taskctl creates one only with --create
  }
  args.insert(args.begin(), {"-s", uri});
  return taskctl(args, std::move(options));
}

} // namespace clitest
