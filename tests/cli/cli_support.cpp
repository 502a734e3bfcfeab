#include "cli_support.hpp"

#include "taskstore/registry.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#ifndef TASKCTL_BIN
#error "TASKCTL_BIN must name the taskctl binary"
#endif

namespace clitest {

namespace fs = std::filesystem;




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
  return run(TASKCTL_BIN, args, options);
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
  args.insert(args.begin(), {"-s", uri});
  return taskctl(args, std::move(options));
}

} // namespace clitest
