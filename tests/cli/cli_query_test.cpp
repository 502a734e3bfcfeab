// ls's queries (filters, columns, sort, --start-after pages) and stats, end
// to end on every persistent backend (cli.<backend>): the real taskctl on
// records with known timestamps, statuses, methods and sizes.

#include "cli_support.hpp"

#include "contract/stores.hpp"

#include "taskstore/time.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>

using namespace clitest;

namespace {

struct QueryStore
{
  taskstore::testing::TestStore store = taskstore::testing::make_test_store(taskstore::testing::current_backend());

  ~QueryStore()
  {
    store.backend.reset();
    if (store.cleanup) {
      store.cleanup();
    }
  }
  RunResult run(std::vector<std::string> args, RunOptions options = {})
  {
    args.insert(args.begin(), {"-s", store.uri});
    return taskctl(args, std::move(options));
  }
  taskstore::StorageBackend& lib() { return *store.backend; }
};

// An instant `seconds` before now, as pmcp-tasks writes createdAt.
std::string
ago(std::int64_t seconds)
{
  auto t = taskstore::now_utc();
  t.seconds -= seconds;
  return taskstore::format_millis(t);
}

// A record with the given timestamps, status, method and padding.
std::string
record_at(const std::string& owner, const std::string& task, const std::string& status, const std::string& created,
          const std::string& updated, const std::string& method = "tools/call",
          const std::string& expires = "2099-01-01T00:00:00.123456789Z", std::size_t padding = 0)
{
  Json record = {{"task",
                  {{"taskId", task},
                   {"status", status},
                   {"createdAt", created},
                   {"lastUpdatedAt", updated},
                   {"ttl", nullptr},
                   {"pollInterval", 500}}},
                 {"ownerId", owner},
                 {"variables", {{"pad", std::string(padding, 'x')}}},
                 {"result", nullptr},
                 {"requestMethod", method},
                 {"expiresAt", expires.empty() ? Json(nullptr) : Json(expires)}};
  return record.dump();
}

std::vector<std::string>
keys_of(const RunResult& r)
{
  std::vector<std::string> keys;
  for (const auto& line : parse_jsonl(r.out)) {
    keys.push_back(line["key"].get<std::string>());
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

} // namespace

TEST_CASE("backend: ls filters by created / updated time, status and method", "[backend][persistent]")
{
  QueryStore s;
  // stuck: working, not updated for 2 hours; fresh: working, updated 5 minutes ago;
  // old-done: completed 3 days ago; prompt: a prompts/get request.
  s.lib().put("q:stuck", record_at("q", "stuck", "working", ago(3 * 3600), ago(2 * 3600)));
  s.lib().put("q:fresh", record_at("q", "fresh", "working", ago(600), ago(300)));
  s.lib().put("q:old-done", record_at("q", "old-done", "completed", ago(3 * 86400), ago(3 * 86400)));
  s.lib().put("q:prompt", record_at("q", "prompt", "working", ago(20), ago(20), "prompts/get"));
  s.lib().put("q:expired", record_at("q", "expired", "failed", ago(7200), ago(7000), "tools/call", k_past));

  auto r = s.run({"-o", "jsonl", "ls", "--status", "working", "--updated-before", "1h"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(keys_of(r) == std::vector<std::string>{"q:stuck"});

  r = s.run({"-o", "jsonl", "ls", "--created-after", "1h"});
  CHECK(keys_of(r) == std::vector<std::string>{"q:fresh", "q:prompt"});
  r = s.run({"-o", "jsonl", "ls", "--created-before", "2d"});
  CHECK(keys_of(r) == std::vector<std::string>{"q:old-done"});
  // An RFC 3339 bound, and the two bounds together.
  r = s.run({"-o", "jsonl", "ls", "--updated-after", ago(4 * 3600), "--updated-before", ago(1800)});
  CHECK(keys_of(r) == std::vector<std::string>{"q:expired", "q:stuck"});
  r = s.run({"-o", "jsonl", "ls", "--method", "prompts/get"});
  CHECK(keys_of(r) == std::vector<std::string>{"q:prompt"});
  r = s.run({"-o", "jsonl", "ls", "--owner", "q", "--live", "--status", "working,failed", "--updated-before", "1m"});
  CHECK(keys_of(r) == std::vector<std::string>{"q:fresh", "q:stuck"});
  r = s.run({"ls", "--count", "--expired", "--updated-before", "1h"});
  CHECK(r.out == "1\n");

  // jsonl lines carry the owner and task id; --columns picks the rest.
  r = s.run({"-o", "jsonl", "ls", "--owner", "q", "--columns", "status,age,method", "--status", "completed"});
  const auto lines = parse_jsonl(r.out);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["ownerId"] == "q");
  CHECK(lines[0]["taskId"] == "old-done");
  CHECK(lines[0]["status"] == "completed");
  CHECK(lines[0]["requestMethod"] == "tools/call");
  CHECK(lines[0]["ageSeconds"].get<std::int64_t>() >= 3 * 86400);
  CHECK_FALSE(lines[0].contains("version"));

  // The table gains LAST UPDATED and AGE.
  r = s.run({"-o", "table", "ls", "--owner", "q", "--status", "completed"});
  CHECK(contains(r.out, "LAST UPDATED"));
  CHECK(contains(r.out, "AGE"));
  CHECK(contains(r.out, "3d"));

  // Bad bounds and columns are usage errors.
  r = s.run({"ls", "--updated-before", "yesterday"});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "--updated-before"));
  r = s.run({"ls", "--columns", "key,colour"});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "colour"));
}

TEST_CASE("backend: ls --sort orders by a timestamp, bounded by --limit and --sort-memory", "[backend][persistent]")
{
  QueryStore s;
  for (int i = 0; i < 12; ++i) {
    const std::string task = "t" + std::to_string(i);
    // updated i*10 minutes ago: t0 the newest
    s.lib().put("srt:" + task, record_at("srt", task, "working", ago(86400), ago(i * 600)));
  }
  auto r = s.run({"-o", "jsonl", "ls", "--sort", "updated", "--desc", "--limit", "3"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  auto lines = parse_jsonl(r.out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["key"] == "srt:t0");
  CHECK(lines[1]["key"] == "srt:t1");
  CHECK(lines[2]["key"] == "srt:t2");
  r = s.run({"-o", "jsonl", "ls", "--sort", "updated", "--limit", "2"});
  lines = parse_jsonl(r.out);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["key"] == "srt:t11");
  CHECK(lines[1]["key"] == "srt:t10");
  r = s.run({"-o", "jsonl", "ls", "--sort", "key", "--desc"});
  lines = parse_jsonl(r.out);
  REQUIRE(lines.size() == 12);
  CHECK(lines.front()["key"] == "srt:t9");
  // More than --sort-memory records without --limit, and a --limit above it: refused.
  r = s.run({"ls", "--sort", "created", "--sort-memory", "5"});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "--sort-memory"));
  r = s.run({"ls", "--sort", "created", "--limit", "200000"});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "--limit"));
}

TEST_CASE("backend: --start-after pages cover every record once, with records added during the walk",
          "[backend][persistent]")
{
  QueryStore s;
  constexpr int k_records = 230;
  std::set<std::string> original;
  for (int i = 0; i < k_records; ++i) {
    const std::string owner = "pg" + std::to_string(i % 7);
    const std::string task = "t" + std::to_string(i);
    s.lib().put(owner + ":" + task, record_json(owner, task));
    original.insert(owner + ":" + task);
  }
  for (const std::vector<std::string>& scope : {std::vector<std::string>{}, std::vector<std::string>{"--owner", "pg3"}}) {
    std::map<std::string, int> seen;
    std::string after;
    int pages = 0;
    int added = 0;
    for (;;) {
      std::vector<std::string> args = {"-o", "json", "ls", "--limit", scope.empty() ? "40" : "10"};
      args.insert(args.end(), scope.begin(), scope.end());
      if (!after.empty()) {
        args.push_back("--start-after");
        args.push_back(after);
      }
      auto r = s.run(args);
      INFO(describe(r));
      REQUIRE(r.exit_code == 0);
      const Json doc = parse_json(r.out);
      for (const auto& record : doc["records"]) {
        ++seen[record["key"].get<std::string>()];
      }
      ++pages;
      REQUIRE(pages < 50);
      // Records written while the walk goes on: seen at most once.
      const std::string owner = scope.empty() ? "pg" + std::to_string(pages % 7) : "pg3";
      s.lib().put(owner + ":new" + std::to_string(pages), record_json(owner, "new" + std::to_string(pages)));
      ++added;
      if (doc["next_start_after"].is_null()) {
        break;
      }
      after = doc["next_start_after"].get<std::string>();
    }
    for (const auto& key : original) {
      if (!scope.empty() && !key.starts_with("pg3:")) {
        continue;
      }
      INFO(key);
      CHECK(seen[key] == 1);
    }
    for (const auto& [key, n] : seen) {
      INFO(key);
      CHECK(n == 1);
    }
    CHECK(pages > 1);
    // The records added during this walk are removed for the next one.
    for (int i = 1; i <= added; ++i) {
      for (int o = 0; o < 7; ++o) {
        s.lib().remove("pg" + std::to_string(o) + ":new" + std::to_string(i));
      }
    }
  }
  auto r = s.run({"ls", "--start-after", "no-colon"});
  CHECK(r.exit_code == 2);
}

TEST_CASE("backend: stats counts match a count made here", "[backend][persistent]")
{
  QueryStore s;
  std::map<std::string, std::pair<int, int>> by_status; // live, expired
  std::vector<std::uint64_t> sizes;
  std::map<std::string, int> by_owner;
  int expiring = 0;
  std::uint64_t total = 0;
  for (int i = 0; i < 60; ++i) {
    const std::string owner = "st" + std::to_string(i % 4);
    const std::string task = "t" + std::to_string(i);
    const char* statuses[] = {"working", "completed", "failed"};
    const std::string status = statuses[i % 3];
    std::string expires = "2099-01-01T00:00:00.123456789Z";
    bool expired = false;
    if (i % 5 == 0) {
      expires = k_past;
      expired = true;
    } else if (i % 7 == 0) {
      auto soon = taskstore::now_utc();
      soon.seconds += 1800; // within the next hour
      expires = taskstore::format_autosi(soon);
      ++expiring;
    }
    const std::string data =
      record_at(owner, task, status, ago(86400 + i), ago(i), "tools/call", expires, static_cast<std::size_t>(i * 37));
    s.lib().put(owner + ":" + task, data);
    sizes.push_back(data.size());
    total += data.size();
    ++by_owner[owner];
    auto& c = by_status[status];
    (expired ? c.second : c.first) += 1;
  }
  std::sort(sizes.begin(), sizes.end());
  auto r = s.run({"-o", "json", "stats", "--by", "owner"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  const Json doc = parse_json(r.out);
  CHECK(doc["records"] == 60);
  CHECK(doc["expired"] == 12);
  CHECK(doc["damaged"] == 0);
  for (const auto& [status, c] : by_status) {
    INFO(status);
    CHECK(doc["by_status"][status]["live"] == c.first);
    CHECK(doc["by_status"][status]["expired"] == c.second);
  }
  CHECK(doc["bytes"]["total"] == total);
  CHECK(doc["bytes"]["largest"] == sizes.back());
  CHECK(doc["bytes"]["largest_key"] == "st3:t59");
  CHECK(doc["bytes"]["p50"] == sizes[29]); // nearest rank: the 30th of 60
  CHECK(doc["bytes"]["p99"] == sizes[59]);
  CHECK(doc["expiring_next_hour"] == expiring);
  CHECK(doc["created"]["oldest"] == parse_json(s.run({"-o", "json", "get", "st3:t59"}).out)["record"]["task"]["createdAt"]);
  for (const auto& [owner, n] : by_owner) {
    CHECK(doc["groups"][owner] == n);
  }
  // A filter narrows the pass; the table names the statuses.
  r = s.run({"-o", "json", "stats", "--status", "failed", "--live"});
  CHECK(parse_json(r.out)["records"] == by_status["failed"].first);
  r = s.run({"stats", "--owner", "st1"});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "records    15"));
  CHECK(contains(r.out, "working"));
}
