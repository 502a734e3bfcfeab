#include "net_scenarios.hpp"

#include "taskstore/key.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <map>
#include <set>
#include <thread>

namespace faults {
namespace {

using clitest::Snapshot;

// Generous: the watchdog of a timeout, never a measure of speed.
constexpr double k_margin_s = 5.0;
// What "promptly" means for a signal: a few seconds, against a 30 s timeout.
constexpr double k_signal_watchdog_s = 4.0;

std::map<std::string, taskstore::VersionedRecord>
as_map(Snapshot s)
{
  std::map<std::string, taskstore::VersionedRecord> m;
  for (auto& [k, v] : s) {
    m.emplace(std::move(k), std::move(v));
  }
  return m;
}

std::set<std::string>
reported(const std::string& jsonl, const std::string& status)
{
  std::set<std::string> keys;
  std::size_t start = 0;
  while (start < jsonl.size()) {
    auto end = jsonl.find('\n', start);
    if (end == std::string::npos) {
      end = jsonl.size();
    }
    const Json line = Json::parse(jsonl.substr(start, end - start), nullptr, false);
    if (line.is_object() && line.value("status", "") == status && line.contains("key")) {
      keys.insert(line["key"].get<std::string>());
    }
    start = end + 1;
  }
  return keys;
}

std::vector<std::string>
with_store(const Target& t, const std::string& timeout, std::vector<std::string> args)
{
  std::vector<std::string> all{"-s", t.uri, "--timeout", timeout};
  all.insert(all.end(), args.begin(), args.end());
  return all;
}

Outcome
paused_run(Target& t, Plan plan)
{
  plan.on_trigger = t.pause;
  Outcome o = run(plan);
  t.resume();
  return o;
}

// A removal paused mid-way (gc / delete --owner): the invariant of a partial result.
void
check_partial_removal(Target& t, const Outcome& o, const Snapshot& before, const std::string& owner)
{
  INFO(describe(o));
  CHECK(o.triggered);
  CHECK_FALSE(o.killed);
  CHECK(o.exit_code == 5);
  CHECK(o.after_trigger < 2.0 + k_margin_s);
  // A request already sent may still run as the server resumes: let it.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto after = as_map(clitest::snapshot(*t.lib));
  const auto gone_reported = reported(o.out, "deleted");
  CHECK_FALSE(gone_reported.empty());
  std::size_t gone = 0;
  std::size_t gone_unreported = 0;
  for (const auto& [key, record] : before) {
    const auto it = after.find(key);
    if (it == after.end()) {
      ++gone;
      INFO("gone: " << key);
      CHECK(taskstore::split_key(key).owner_id == owner); // nothing out of scope
      gone_unreported += gone_reported.count(key) == 0 ? 1 : 0;
    } else {
      INFO("kept: " << key);
      CHECK(gone_reported.count(key) == 0); // reported removed, but still there
      CHECK(it->second == record);          // same data, same version
    }
  }
  CHECK(after.size() == before.size() - gone);
  CHECK(gone >= gone_reported.size());
  // At most the batch in flight when the server stopped.
  CHECK(gone_unreported <= 1000);
}

} // namespace

void
seed(taskstore::StorageBackend& store, const std::string& owner, int count, bool expired, std::size_t filler)
{
  const std::string variables =
    filler == 0 ? std::string("{}") : "{\"filler\":\"" + std::string(filler, 'x') + "\"}";
  constexpr int writers = 4;
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      for (int i = w; i < count; i += writers) {
        clitest::RecordSpec spec;
        spec.owner = owner;
        spec.task_id = "t" + std::to_string(i);
        spec.expires_at = expired ? clitest::k_past : "2099-01-01T00:00:00Z";
        spec.variables = variables;
        store.put(owner + ":" + spec.task_id, clitest::record_json(spec));
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
}

void
paused_get_put(Target& t)
{
  seed(*t.lib, "alice", 3, false);
  const Snapshot before = clitest::snapshot(*t.lib);
  clitest::TempDir dir;
  const std::string input = dir.write("t1.json", clitest::record_json("alice", "t1", "completed"));

  for (const auto& args : std::vector<std::vector<std::string>>{{"get", "alice:t1"}, {"put", "alice:t1", input}}) {
    Plan plan;
    plan.args = with_store(t, "2s", args);
    const Outcome o = paused_run(t, plan);
    INFO(args[0] << ": " << describe(o));
    CHECK_FALSE(o.killed);
    CHECK(o.exit_code == 5);
    CHECK(o.after_trigger < 2.0 + k_margin_s);
    CHECK(clitest::contains(o.err, t.timeout_text));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const Snapshot after = clitest::snapshot(*t.lib);
  REQUIRE(after.size() == before.size());
  for (std::size_t i = 0; i < before.size(); ++i) {
    INFO(before[i].first);
    CHECK(after[i].first == before[i].first);
    if (after[i].first == "alice:t1" && after[i].second != before[i].second) {
      // The put was sent before the server stopped and ran as it resumed: whole, once.
      CHECK(after[i].second.version == before[i].second.version + 1);
      CHECK(clitest::contains(after[i].second.data, "\"completed\""));
    } else {
      CHECK(after[i].second == before[i].second);
    }
  }
}

void
paused_mid_ls(Target& t)
{
  seed(*t.lib, "alice", t.ls_records / 2, false, t.ls_filler);
  seed(*t.lib, "bob", t.ls_records / 2, false, t.ls_filler);
  const Snapshot before = clitest::snapshot(*t.lib);
  Plan plan;
  plan.args = with_store(t, "2s", {"ls", "-o", "jsonl"});
  plan.after_output = "\n";
  plan.hold = std::chrono::milliseconds(300);
  const Outcome o = paused_run(t, plan);
  INFO(describe(o));
  CHECK(o.triggered);
  CHECK_FALSE(o.killed);
  CHECK(o.exit_code == 5);
  CHECK(o.after_trigger < 2.0 + k_margin_s);
  CHECK(clitest::contains(o.err, t.timeout_text));
  CHECK(clitest::snapshot(*t.lib) == before);
}

void
paused_mid_gc(Target& t)
{
  seed(*t.lib, "alice", 3000, true);
  seed(*t.lib, "bob", 200, false);
  const Snapshot before = clitest::snapshot(*t.lib);
  Plan plan;
  plan.args = with_store(t, "2s", {"gc", "--yes", "-o", "jsonl"});
  plan.after_output = "\n";
  plan.hold = std::chrono::milliseconds(300);
  check_partial_removal(t, paused_run(t, plan), before, "alice");
}

void
paused_mid_delete_owner(Target& t)
{
  seed(*t.lib, "alice", 3000, false);
  seed(*t.lib, "bob", 200, false);
  const Snapshot before = clitest::snapshot(*t.lib);
  Plan plan;
  plan.args = with_store(t, "2s", {"delete", "--owner", "alice", "--yes", "-o", "jsonl"});
  plan.after_output = "\n";
  plan.hold = std::chrono::milliseconds(300);
  check_partial_removal(t, paused_run(t, plan), before, "alice");
}

void
signal_while_waiting(Target& t, int signal)
{
  seed(*t.lib, "alice", t.ls_records, false, t.ls_filler);
  const Snapshot before = clitest::snapshot(*t.lib);
  const int expected = 128 + signal;
  {
    // Waiting for one reply.
    Plan plan;
    plan.args = with_store(t, "30s", {"get", "alice:t1"});
    plan.signal = signal;
    const Outcome o = paused_run(t, plan);
    INFO("get: " << describe(o));
    CHECK_FALSE(o.killed);
    CHECK(o.exit_code == expected);
    CHECK(o.after_signal < k_signal_watchdog_s);
  }
  {
    // Waiting in the middle of a walk.
    Plan plan;
    plan.args = with_store(t, "30s", {"ls", "-o", "jsonl"});
    plan.after_output = "\n";
    plan.hold = std::chrono::milliseconds(300);
    plan.signal = signal;
    const Outcome o = paused_run(t, plan);
    INFO("ls: " << describe(o));
    CHECK(o.triggered);
    CHECK_FALSE(o.killed);
    CHECK(o.exit_code == expected);
    CHECK(o.after_signal < k_signal_watchdog_s);
  }
  CHECK(clitest::snapshot(*t.lib) == before);
}

} // namespace faults
