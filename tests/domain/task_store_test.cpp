// TaskStore (pmcp-tasks' GenericTaskStore) on every backend (ctest
// domain.<backend>): the anchor's store, state-machine and security tests
// (facts §10.1, §10.3, §10.4), then what the anchor lacks: retries that
// re-read and re-validate, dry runs, unchanged records, damaged records.

#include "contract/stores.hpp"

#include "taskstore/backend.hpp"
#include "taskstore/error.hpp"
#include "taskstore/json/parse.hpp"
#include "taskstore/key.hpp"
#include "taskstore/registry.hpp"
#include "taskstore/task_store.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <set>
#include <thread>

using namespace taskstore;
using taskstore::testing::ScopedTestStore;

namespace {

struct Fixture
{
  ScopedTestStore scoped{taskstore::testing::make_test_store(taskstore::testing::current_backend())};
  StorageBackend& db() { return scoped.db(); }
  TaskStore store{db(), StoreConfig{}, allow_anonymous()};

  static TaskSecurityConfig allow_anonymous()
  {
    TaskSecurityConfig security;
    security.allow_anonymous = true;
    return security;
  }
  // Another client of the same store (its own connection).
  std::unique_ptr<StorageBackend> open_another() const { return open_store(scoped.store.uri); }
};

// Moves a record's expiresAt an hour into the past, as if its TTL had run out
// (deterministic on every backend: a record written already expired is kept
// until cleanup, also on Redis).
void
age(StorageBackend& db, const TaskRecord& record)
{
  TaskRecord aged = record;
  aged.expires_at = Timestamp{now_utc().seconds - 3600, 0};
  db.put(make_key(record.owner_id, record.task.task_id), serialize_record(aged));
}

// Runs f and returns the TaskError it threw; fails the test when it threw none.
template <typename F>
TaskError
task_error(F&& f)
{
  try {
    f();
  } catch (const TaskError& e) {
    return e;
  }
  FAIL("no TaskError was thrown");
  throw std::logic_error("unreachable");
}

bool
is_uuid_v4(const std::string& id)
{
  if (id.size() != 36) {
    return false;
  }
  for (std::size_t i = 0; i < id.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (id[i] == '-') || (!dash && !std::isxdigit(static_cast<unsigned char>(id[i])))) {
      return false;
    }
  }
  return id[14] == '4' && std::string("89ab").find(id[19]) != std::string::npos;
}

void
sleep_ms(int ms)
{
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

const std::vector<TaskStatus> k_statuses = {TaskStatus::working, TaskStatus::input_required, TaskStatus::completed,
                                            TaskStatus::failed, TaskStatus::cancelled};

} // namespace

// ---- facts §10.1 crud_tests ----

TEST_CASE("create returns a working task with a UUIDv4 id at version 1")
{
  Fixture f;
  const auto task = f.store.create("user-123", "tools/call");
  CHECK(task.task.status == TaskStatus::working);
  CHECK(task.owner_id == "user-123");
  CHECK(is_uuid_v4(task.task.task_id));
  CHECK(task.version == 1);
  CHECK(task.task.created_at == task.task.last_updated_at);
  CHECK(task.task.poll_interval == 500u);
  CHECK(task.task.ttl == 3'600'000u);
  CHECK(task.expires_at.has_value());
  CHECK(f.db().get(make_key("user-123", task.task.task_id)).data == serialize_record(task));

  TaskStore slow(f.db(), StoreConfig{}, Fixture::allow_anonymous(), 3000);
  CHECK(slow.create("user-123", "tools/call").task.poll_interval == 3000u);
}

TEST_CASE("get returns the created task; an unknown id is NotFound")
{
  Fixture f;
  const auto task = f.store.create("user-123", "tools/call");
  const auto got = f.store.get("user-123", task.task.task_id);
  CHECK(got == task);
  const auto e = task_error([&] { f.store.get("user-123", "nope"); });
  CHECK(e.kind() == TaskErrorKind::not_found);
  CHECK(std::string(e.what()) == "task not found: nope");
}

TEST_CASE("update_status moves working to completed, stores the message, bumps lastUpdatedAt")
{
  Fixture f;
  const auto task = f.store.create("user-123", "tools/call");
  sleep_ms(2);
  const auto done = f.store.update_status("user-123", task.task.task_id, TaskStatus::completed, "All done");
  CHECK(done.task.status == TaskStatus::completed);
  CHECK(done.task.status_message == "All done");
  CHECK(done.task.last_updated_at != task.task.last_updated_at);
  CHECK(done.task.last_updated_at.size() == 24); // 2025-11-25T10:30:00.123Z
  CHECK(done.version == 2);
  CHECK(f.store.get("user-123", task.task.task_id) == done);

  const auto e = task_error([&] { f.store.update_status("user-123", task.task.task_id, TaskStatus::working, {}); });
  CHECK(e.kind() == TaskErrorKind::invalid_transition);
  CHECK(e.from() == "completed");
  CHECK(e.to() == "working");
  CHECK(f.store.get("user-123", task.task.task_id).version == 2);
}

TEST_CASE("set_variables stores, merges, and a null removes a key")
{
  Fixture f;
  const auto task = f.store.create("user-123", "tools/call");
  const auto& id = task.task.task_id;
  f.store.set_variables("user-123", id, Json{{"a", 1}, {"b", "two"}});
  auto got = f.store.get("user-123", id);
  CHECK(got.variables == Json{{"a", 1}, {"b", "two"}});
  f.store.set_variables("user-123", id, Json{{"c", Json::array({1, 2})}});
  got = f.store.get("user-123", id);
  CHECK(got.variables == Json{{"a", 1}, {"b", "two"}, {"c", Json::array({1, 2})}});
  f.store.set_variables("user-123", id, Json{{"a", nullptr}, {"missing", nullptr}});
  got = f.store.get("user-123", id);
  CHECK(got.variables == Json{{"b", "two"}, {"c", Json::array({1, 2})}});
  CHECK(got.version == 4); // an anchor write every time, even for a no-op null
}

TEST_CASE("complete_with_result is one write; get_result is NotReady until terminal")
{
  Fixture f;
  const auto task = f.store.create("user-123", "tools/call");
  const auto& id = task.task.task_id;
  auto e = task_error([&] { f.store.get_result("user-123", id); });
  CHECK(e.kind() == TaskErrorKind::not_ready);
  CHECK(std::string(e.what()) == "task not in terminal state: " + id + " (status: working)");

  const auto done =
    f.store.complete_with_result("user-123", id, TaskStatus::completed, "All done", Json{{"answer", 42}});
  CHECK(done.version == 2);
  const auto got = f.store.get("user-123", id);
  CHECK(got.task.status == TaskStatus::completed);
  CHECK(got.task.status_message == "All done");
  CHECK(got.result == Json{{"answer", 42}});
  CHECK(f.store.get_result("user-123", id) == Json{{"answer", 42}});

  // set_result works on a terminal task too (overwrites).
  f.store.set_result("user-123", id, Json{{"answer", 43}});
  CHECK(f.store.get_result("user-123", id) == Json{{"answer", 43}});
}

TEST_CASE("cancel clears the message; cancelling a terminal task is InvalidTransition")
{
  Fixture f;
  const auto task = f.store.create("user-123", "tools/call");
  const auto& id = task.task.task_id;
  f.store.update_status("user-123", id, TaskStatus::input_required, "need input");
  const auto cancelled = f.store.cancel("user-123", id);
  CHECK(cancelled.task.status == TaskStatus::cancelled);
  CHECK_FALSE(cancelled.task.status_message.has_value());
  const auto e = task_error([&] { f.store.cancel("user-123", id); });
  CHECK(e.kind() == TaskErrorKind::invalid_transition);
  CHECK(e.suggested_action() == "task is in a terminal state and cannot be transitioned");
  // A terminal task with no result is still NotReady (facts §6.4).
  CHECK(task_error([&] { f.store.get_result("user-123", id); }).kind() == TaskErrorKind::not_ready);
}

// ---- facts §10.1 pagination_tests ----

TEST_CASE("list: owner-scoped, newest first, limit and cursor pages")
{
  Fixture f;
  f.store.create("owner-a", "tools/call");
  f.store.create("owner-a", "tools/call");
  f.store.create("owner-b", "tools/call");
  auto page = f.store.list({"owner-a", std::nullopt, std::nullopt});
  CHECK(page.tasks.size() == 2);
  for (const auto& t : page.tasks) {
    CHECK(t.owner_id == "owner-a");
  }
  CHECK_FALSE(page.next_cursor);
  page = f.store.list({"nobody", std::nullopt, std::nullopt});
  CHECK(page.tasks.empty());
  CHECK_FALSE(page.next_cursor);

  std::vector<std::string> created;
  for (int i = 0; i < 5; ++i) {
    created.push_back(f.store.create("owner-c", "tools/call").task.task_id);
    sleep_ms(2);
  }
  std::vector<std::string> seen;
  std::optional<std::string> cursor;
  std::vector<std::size_t> sizes;
  do {
    page = f.store.list({"owner-c", cursor, 2});
    sizes.push_back(page.tasks.size());
    for (const auto& t : page.tasks) {
      seen.push_back(t.task.task_id);
    }
    cursor = page.next_cursor;
  } while (cursor);
  CHECK(sizes == std::vector<std::size_t>{2, 2, 1});
  CHECK(seen == std::vector<std::string>(created.rbegin(), created.rend())); // newest first, no overlap

  // The default limit (50) returns all 5, no cursor; an unknown cursor restarts.
  page = f.store.list({"owner-c", std::string("garbage"), std::nullopt});
  CHECK(page.tasks.size() == 5);
  CHECK_FALSE(page.next_cursor);
  CHECK(f.store.list({"owner-c", std::nullopt, 0}).tasks.empty());
}

TEST_CASE("list skips bytes that are not a TaskRecord and another owner's record under the prefix")
{
  Fixture f;
  const auto task = f.store.create("owner-a", "tools/call");
  f.db().put("owner-a:junk", "{\"not\":\"a record\"}");
  TaskRecord foreign = task;
  foreign.owner_id = "owner-z";
  f.db().put("owner-a:foreign", serialize_record(foreign));
  const auto page = f.store.list({"owner-a", std::nullopt, std::nullopt});
  REQUIRE(page.tasks.size() == 1);
  CHECK(page.tasks[0].task.task_id == task.task.task_id);
  CHECK(page.skipped == 2);
}

// ---- facts §10.1 ttl_tests ----

TEST_CASE("TTL: default, explicit, above the maximum, expired records")
{
  Fixture f;
  CHECK(f.store.create("u", "tools/call").task.ttl == 3'600'000u);
  const auto explicit_ttl = f.store.create("u", "tools/call", 30'000);
  CHECK(explicit_ttl.task.ttl == 30'000u);
  CHECK(explicit_ttl.expires_at.has_value());
  auto e = task_error([&] { f.store.create("u", "tools/call", 100'000'000); });
  CHECK(e.kind() == TaskErrorKind::store_error);
  CHECK(std::string(e.what()) == "store error: TTL 100000000ms exceeds maximum allowed 86400000ms");
  CHECK(f.store.create("u", "tools/call", 86'400'000).task.ttl == 86'400'000u); // == max is allowed

  const auto task = f.store.create("u", "tools/call", 1);
  age(f.db(), task);
  const auto got = f.store.get("u", task.task.task_id); // get does not check expiry
  CHECK(got.is_expired());
  e = task_error([&] { f.store.update_status("u", task.task.task_id, TaskStatus::completed, {}); });
  CHECK(e.kind() == TaskErrorKind::expired);
  CHECK(e.expired_at().has_value());
  CHECK(e.expired_at()->find("+00:00") != std::string::npos);
  e = task_error([&] { f.store.set_variables("u", task.task.task_id, Json{{"a", 1}}); });
  CHECK(e.kind() == TaskErrorKind::expired);
}

TEST_CASE("cleanup_expired removes and counts expired tasks and keeps the others")
{
  Fixture f;
  const auto keep = f.store.create("u", "tools/call");
  for (int i = 0; i < 3; ++i) {
    age(f.db(), f.store.create("u", "tools/call", 1));
  }
  CHECK(f.store.cleanup_expired() == 3);
  CHECK(f.store.cleanup_expired() == 0);
  CHECK(f.store.get("u", keep.task.task_id).task.task_id == keep.task.task_id);
  CHECK(f.store.list({"u", std::nullopt, std::nullopt}).tasks.size() == 1);
}

// ---- facts §10.1 concurrency_tests (real threads, each its own client) ----

TEST_CASE("concurrent creates all succeed; concurrent set_variables with retries lose nothing")
{
  Fixture f;
  constexpr int k_threads = 8;
  std::vector<std::string> failures(k_threads);
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      try {
        auto client = f.open_another();
        TaskStore store(*client, StoreConfig{}, Fixture::allow_anonymous());
        store.create("crowd", "tools/call");
      } catch (const std::exception& e) {
        failures[static_cast<std::size_t>(t)] = describe(e);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  threads.clear();
  for (const auto& failure : failures) {
    CHECK(failure.empty());
  }
  CHECK(f.store.list({"crowd", std::nullopt, std::nullopt}).tasks.size() == k_threads);

  // 8 clients, each setting its own variable 10 times on ONE task.
  const auto task = f.store.create("shared", "tools/call");
  constexpr int k_rounds = 10;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      try {
        auto client = f.open_another();
        TaskStore store(*client, StoreConfig{}, Fixture::allow_anonymous());
        for (int k = 1; k <= k_rounds; ++k) {
          store.set_variables("shared", task.task.task_id, Json{{"p" + std::to_string(t), k}},
                              RetryPolicy::with_retries(200));
        }
      } catch (const std::exception& e) {
        failures[static_cast<std::size_t>(t)] = describe(e);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  for (const auto& failure : failures) {
    CHECK(failure.empty());
  }
  const auto final_task = f.store.get("shared", task.task.task_id);
  CHECK(final_task.version == 1 + k_threads * k_rounds);
  for (int t = 0; t < k_threads; ++t) {
    CHECK(final_task.variables["p" + std::to_string(t)] == k_rounds);
  }
}

// ---- facts §10.3 state_machine, through the store ----

TEST_CASE("the 5x5 transition table holds through update_status")
{
  Fixture f;
  int allowed = 0;
  for (const auto from : k_statuses) {
    for (const auto to : k_statuses) {
      const auto task = f.store.create("sm", "tools/call");
      const auto& id = task.task.task_id;
      if (from != TaskStatus::working) {
        f.store.update_status("sm", id, from, {});
      }
      const bool legal = can_transition(from, to);
      if (legal) {
        ++allowed;
        CHECK(f.store.update_status("sm", id, to, {}).task.status == to);
      } else {
        const auto e = task_error([&] { f.store.update_status("sm", id, to, {}); });
        CHECK(e.kind() == TaskErrorKind::invalid_transition);
        CHECK(std::string(e.what()).find(id) != std::string::npos);
        CHECK(std::string(e.what()).find("invalid transition") != std::string::npos);
        CHECK(f.store.get("sm", id).task.status == from);
      }
      f.db().remove(make_key("sm", id)); // keeps the owner's quota free
    }
  }
  CHECK(allowed == 8);
  CHECK(legal_targets(TaskStatus::working) ==
        std::vector<TaskStatus>{TaskStatus::input_required, TaskStatus::completed, TaskStatus::failed,
                                TaskStatus::cancelled});
  CHECK(legal_targets(TaskStatus::completed).empty());
}

// ---- facts §10.4 security_tests ----

TEST_CASE("a wrong owner gets NotFound from every single-task operation, and learns nothing")
{
  Fixture f;
  const auto task = f.store.create("owner-a", "tools/call");
  const auto& id = task.task.task_id;
  const std::vector<std::pair<const char*, std::function<void()>>> operations = {
    {"get", [&] { f.store.get("owner-b", id); }},
    {"update_status", [&] { f.store.update_status("owner-b", id, TaskStatus::completed, {}); }},
    {"set_variables", [&] { f.store.set_variables("owner-b", id, Json{{"x", 1}}); }},
    {"set_result", [&] { f.store.set_result("owner-b", id, Json{{"x", 1}}); }},
    {"get_result", [&] { f.store.get_result("owner-b", id); }},
    {"cancel", [&] { f.store.cancel("owner-b", id); }},
    {"complete_with_result", [&] { f.store.complete_with_result("owner-b", id, TaskStatus::completed, {}, 1); }},
  };
  for (const auto& [name, operation] : operations) {
    INFO(name);
    const auto e = task_error(operation);
    CHECK(e.kind() == TaskErrorKind::not_found);
    const std::string text = e.what();
    CHECK(text == "task not found: " + id);
    CHECK(text.find("owner-a") == std::string::npos);
    CHECK(text.find("owner-b") == std::string::npos);
    CHECK(text.find("mismatch") == std::string::npos);
  }
  // Defence in depth: a record stored under owner-b's key but owned by owner-a.
  f.db().put(make_key("owner-b", id), f.db().get(make_key("owner-a", id)).data);
  CHECK(task_error([&] { f.store.get("owner-b", id); }).kind() == TaskErrorKind::not_found);
  CHECK(task_error([&] { f.store.cancel("owner-b", id); }).kind() == TaskErrorKind::not_found);
  // The owner's own record is untouched by all of it.
  CHECK(f.store.get("owner-a", id) == task);
  // Owners no key can hold: not found, never an argument error.
  CHECK(task_error([&] { f.store.get("", id); }).kind() == TaskErrorKind::not_found);
  CHECK(task_error([&] { f.store.get("a:b", id); }).kind() == TaskErrorKind::not_found);
}

TEST_CASE("list is scoped to the owner")
{
  Fixture f;
  f.store.create("a", "m");
  f.store.create("a", "m");
  f.store.create("b", "m");
  f.store.create("c", "m");
  CHECK(f.store.list({"a", std::nullopt, std::nullopt}).tasks.size() == 2);
}

TEST_CASE("anonymous owners are refused unless allowed")
{
  Fixture f;
  TaskStore strict(f.db());
  auto e = task_error([&] { strict.create("local", "tools/call"); });
  CHECK(e.kind() == TaskErrorKind::store_error);
  CHECK(std::string(e.what()).find("anonymous") != std::string::npos);
  CHECK(task_error([&] { strict.create("", "tools/call"); }).kind() == TaskErrorKind::store_error);
  CHECK(strict.create("user-123", "tools/call").owner_id == "user-123");
  CHECK(f.store.create("local", "tools/call").owner_id == "local");
  // Beyond the anchor: an owner with ':' would leak into another owner's prefix.
  CHECK(task_error([&] { f.store.create("a:b", "tools/call"); }).kind() == TaskErrorKind::store_error);
}

TEST_CASE("the per-owner quota: enforced, scoped to the owner, freed by cleanup")
{
  Fixture f;
  TaskSecurityConfig security;
  security.max_tasks_per_owner = 2;
  TaskStore store(f.db(), StoreConfig{}, security);
  age(f.db(), store.create("owner-a", "m", 1));
  age(f.db(), store.create("owner-a", "m", 1));
  const auto e = task_error([&] { store.create("owner-a", "m"); });
  CHECK(e.kind() == TaskErrorKind::resource_exhausted);
  CHECK(e.suggested_action() == "Cancel or wait for existing tasks to expire");
  CHECK(std::string(e.what()) == "resource exhausted");
  CHECK(store.create("owner-b", "m").owner_id == "owner-b");
  CHECK(store.cleanup_expired() == 2);
  CHECK(store.create("owner-a", "m").owner_id == "owner-a");
}

TEST_CASE("variable limits: the anchor's messages, and nothing written on a violation")
{
  Fixture f;
  StoreConfig config;
  config.max_variable_size_bytes = 100;
  TaskStore store(f.db(), config, Fixture::allow_anonymous());
  const auto task = store.create("u", "m");
  const auto& id = task.task.task_id;
  auto e = task_error([&] { store.set_variables("u", id, Json{{"big", std::string(200, 'x')}}); });
  CHECK(e.kind() == TaskErrorKind::variable_size_exceeded);
  CHECK(std::string(e.what()) == "variable size limit exceeded: 210 bytes exceeds 100 byte limit");
  CHECK(e.expected() == 100);
  CHECK(e.actual() == 210);

  // The worked example of facts §7.3: 38 bytes pass, the merged 105 fail.
  store.set_variables("u", id, Json{{"a", std::string(30, 'x')}});
  e = task_error([&] { store.set_variables("u", id, Json{{"b", std::string(60, 'y')}}); });
  CHECK(e.actual() == 105);
  CHECK(store.get("u", id).variables == Json{{"a", std::string(30, 'x')}});
  CHECK(store.get("u", id).version == 2);

  Json bomb = 1;
  for (int i = 0; i < 11; ++i) {
    bomb = Json{{"d", bomb}};
  }
  e = task_error([&] { f.store.set_variables("u", id, Json{{"bomb", bomb}}); });
  CHECK(e.kind() == TaskErrorKind::store_error);
  CHECK(std::string(e.what()) ==
        "store error: variable validation failed: variable 'bomb': variable nesting depth 11 exceeds maximum 10");
  e = task_error([&] { f.store.set_variables("u", id, Json{{"s/t", std::string(65'537, 'z')}}); });
  CHECK(std::string(e.what()) == "store error: variable validation failed: variable 's/t': string value length "
                                 "65537 bytes exceeds maximum 65536 bytes");
  CHECK(store.get("u", id).version == 2);
}

TEST_CASE("task ids are unique UUIDv4s across 1000 creations")
{
  Fixture f;
  std::set<std::string> ids;
  for (int owner = 0; owner < 10; ++owner) {
    for (int i = 0; i < 100; ++i) {
      const auto task = f.store.create("o" + std::to_string(owner), "m");
      CHECK(is_uuid_v4(task.task.task_id));
      ids.insert(task.task.task_id);
    }
  }
  CHECK(ids.size() == 1000);
}

// ---- beyond the anchor: the retry loop ----

TEST_CASE("a conflict between the read and the write is retried on a fresh read")
{
  Fixture f;
  const auto task = f.store.create("u", "m");
  const auto& id = task.task.task_id;
  const std::string key = make_key("u", id);
  auto other = f.open_another();
  TaskStore concurrent(*other, StoreConfig{}, Fixture::allow_anonymous());

  UpdateOptions options;
  options.retry = RetryPolicy::with_retries(3);
  std::vector<unsigned> attempts;
  options.before_write = [&](unsigned attempt) {
    attempts.push_back(attempt);
    if (attempt == 1) {
      concurrent.set_variables("u", id, Json{{"theirs", 1}});
    }
  };
  const auto outcome =
    f.store.modify("u", id, [](TaskRecord& r) { merge_variables(r, Json{{"mine", 2}}, StoreConfig{}); }, options);
  CHECK(attempts == std::vector<unsigned>{1, 2});
  CHECK(outcome.attempts == 2);
  CHECK(outcome.written);
  CHECK(outcome.before.version == 2);
  CHECK(outcome.after.version == 3);
  CHECK(f.store.get("u", id).variables == Json{{"theirs", 1}, {"mine", 2}}); // neither clobbered

  // Without retries (the anchor): ConcurrentModification, the StorageError nested.
  options.retry = RetryPolicy{};
  attempts.clear();
  try {
    f.store.modify("u", id, [](TaskRecord& r) { r.variables["late"] = true; }, options);
    FAIL("no conflict");
  } catch (const TaskError& e) {
    CHECK(e.kind() == TaskErrorKind::concurrent_modification);
    CHECK(e.expected() == 3);
    CHECK(e.actual() == 4);
    CHECK(std::string(e.what()) == "concurrent modification on task " + id + ": expected version 3, found 4");
    CHECK(describe(e).find("version conflict on key " + key) != std::string::npos);
  }
  CHECK(f.store.get("u", id).version == 4);
  CHECK_FALSE(f.store.get("u", id).variables.contains("late"));
}

TEST_CASE("retries are bounded: a conflict on every attempt exhausts them")
{
  Fixture f;
  const auto task = f.store.create("u", "m");
  const auto& id = task.task.task_id;
  UpdateOptions options;
  options.retry = RetryPolicy::with_retries(3);
  unsigned calls = 0;
  options.before_write = [&](unsigned) {
    ++calls;
    f.db().put(make_key("u", id), f.db().get(make_key("u", id)).data); // a concurrent rewrite
  };
  const auto e = task_error([&] { f.store.modify("u", id, [](TaskRecord& r) { r.variables["x"] = 1; }, options); });
  CHECK(e.kind() == TaskErrorKind::concurrent_modification);
  CHECK(calls == 4);
  CHECK(e.actual() == 1 + calls);
  CHECK_FALSE(f.store.get("u", id).variables.contains("x"));
}

TEST_CASE("a retry re-validates: a transition that became illegal meanwhile is refused, not forced")
{
  Fixture f;
  const auto task = f.store.create("u", "m");
  const auto& id = task.task.task_id;
  UpdateOptions options;
  options.retry = RetryPolicy::with_retries(5);
  options.before_write = [&](unsigned attempt) {
    if (attempt == 1) {
      TaskStore(f.db(), StoreConfig{}, Fixture::allow_anonymous())
        .update_status("u", id, TaskStatus::completed, "finished first");
    }
  };
  const auto e = task_error([&] { f.store.modify("u", id, transition_to(TaskStatus::cancelled, {}), options); });
  CHECK(e.kind() == TaskErrorKind::invalid_transition);
  CHECK(e.from() == "completed");
  const auto stored = f.store.get("u", id);
  CHECK(stored.task.status == TaskStatus::completed);
  CHECK(stored.task.status_message == "finished first");
}

TEST_CASE("a record removed meanwhile is NotFound, not retried")
{
  Fixture f;
  const auto task = f.store.create("u", "m");
  UpdateOptions options;
  options.retry = RetryPolicy::with_retries(3);
  unsigned calls = 0;
  options.before_write = [&](unsigned) {
    ++calls;
    f.db().remove(make_key("u", task.task.task_id));
  };
  const auto e =
    task_error([&] { f.store.modify("u", task.task.task_id, transition_to(TaskStatus::failed, {}), options); });
  CHECK(e.kind() == TaskErrorKind::not_found);
  CHECK(calls == 1);
}

TEST_CASE("modify: dry runs and unchanged records write nothing; the outcome shows both sides")
{
  Fixture f;
  const auto task = f.store.create("u", "m");
  const auto& id = task.task.task_id;
  const std::string key = make_key("u", id);
  const auto stored = f.db().get(key);

  UpdateOptions options;
  options.dry_run = true;
  auto outcome = f.store.modify("u", id, transition_to(TaskStatus::failed, "boom"), options);
  CHECK_FALSE(outcome.written);
  CHECK(outcome.changed);
  CHECK(outcome.before.task.status == TaskStatus::working);
  CHECK(outcome.after.task.status == TaskStatus::failed);
  CHECK(outcome.after.version == 2);
  CHECK(outcome.before_bytes == stored.data);
  CHECK(outcome.after_bytes == serialize_record(outcome.after));
  CHECK(f.db().get(key) == stored);

  options = UpdateOptions{};
  options.skip_unchanged = true;
  outcome = f.store.modify("u", id, [](TaskRecord&) {}, options);
  CHECK_FALSE(outcome.changed);
  CHECK_FALSE(outcome.written);
  CHECK(f.db().get(key) == stored);

  // An encoder may refuse the record: nothing is written.
  options = UpdateOptions{};
  options.encode = [](const TaskRecord&) -> std::string { throw InvalidArgument("refused"); };
  CHECK_THROWS_AS(f.store.modify("u", id, transition_to(TaskStatus::failed, {}), options), InvalidArgument);
  CHECK(f.db().get(key) == stored);

  // A mutation that sets lastUpdatedAt itself keeps its value.
  options = UpdateOptions{};
  outcome = f.store.modify(
    "u", id, [](TaskRecord& r) { r.task.last_updated_at = "2030-01-01T00:00:00.000Z"; }, options);
  CHECK(f.store.get("u", id).task.last_updated_at == "2030-01-01T00:00:00.000Z");
}

TEST_CASE("a damaged record is a store error naming why, the cause nested")
{
  Fixture f;
  f.db().put("u:broken", "{\"task\":{\"taskId\":\"broken\"}}");
  try {
    f.store.cancel("u", "broken");
    FAIL("no error");
  } catch (const TaskError& e) {
    CHECK(e.kind() == TaskErrorKind::store_error);
    CHECK(std::string(e.what()).rfind("store error: failed to deserialize TaskRecord: ", 0) == 0);
    CHECK_THROWS_AS(std::rethrow_if_nested(e), InvalidArgument);
  }
  CHECK(f.db().get("u:broken").data == "{\"task\":{\"taskId\":\"broken\"}}");
}
