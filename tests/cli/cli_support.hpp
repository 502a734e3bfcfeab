#pragma once
// Helpers for the end-to-end tests of the real taskctl binary.

#include "support/temp_dir.hpp"
#include "subprocess.hpp"

#include "taskstore/backend.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace clitest {

using Json = nlohmann::ordered_json;

using taskstore::testing::TempDir;

// A per-process HOME so the default store never touches the real one.
const std::string& test_home();

// Runs taskctl with args; HOME is test_home() unless options.env sets it.
RunResult taskctl(const std::vector<std::string>& args, RunOptions options = {});

// A valid compact TaskRecord for owner:task_id.
struct RecordSpec
{
  std::string owner = "alice";
  std::string task_id = "t1";
  std::string status = "working";
  std::string expires_at = "2099-01-01T00:00:00.123456789Z"; // "" = null (never expires)
  std::string variables = "{}";                              // JSON text
};
std::string record_json(const RecordSpec& spec);
std::string record_json(const std::string& owner, const std::string& task_id, const std::string& status = "working",
                        const std::string& expires_at = "2099-01-01T00:00:00.123456789Z");
// An expiresAt in the past.
inline const char* const k_past = "2020-01-01T00:00:00Z";

// Parses a JSON document; fails the test (with the text) when it does not parse.
Json parse_json(const std::string& text);
// Parses every line as one JSON object; fails the test when a line does not parse.
std::vector<Json> parse_jsonl(const std::string& text);

// Writes a file.
void write_file(const std::string& path, const std::string& data);
std::string read_file(const std::string& path);

// Every record of a store as (key, record), sorted by key (to compare before/after).
using Snapshot = std::vector<std::pair<std::string, taskstore::VersionedRecord>>;
Snapshot snapshot(taskstore::StorageBackend& store);

// Renders a RunResult for failure messages.
std::string describe(const RunResult& r);

// Whether text contains part.
bool contains(const std::string& text, const std::string& part);

// RunOptions whose stdin is input.
RunOptions with_input(std::string input);

// A temporary SQLite store, the URI that names it, and a library handle to
// seed and inspect it (the SQLite-only suite, [sqlite-cli]).
struct SqliteStore
{
  TempDir dir;
  std::string path = dir.file("tasks.db");
  std::string uri = "sqlite://" + path;
  std::unique_ptr<taskstore::StorageBackend> handle;

  // The library handle, opened on first use.
  taskstore::StorageBackend& lib();
  void seed(const std::string& key, const std::string& data) { lib().put(key, data); }
  // Runs taskctl -s uri args.
  RunResult run(std::vector<std::string> args, RunOptions options = {});
};

} // namespace clitest
