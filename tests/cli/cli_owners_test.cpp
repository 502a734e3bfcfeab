// ls --owners end to end (the real taskctl): the distinct owners of a store
// from what was typed, on every backend ([backend]) and, on SQLite, a store
// of 20,000 records over 500 owners where the first 1,000 keys (what the
// completions used to read) name only a few owners ([sqlite-cli]).

#include "backend_store.hpp"

#include "contract/stores.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <sstream>

using namespace clitest;

namespace {

// The lines of text (without their newlines).
std::vector<std::string>
lines_of(const std::string& text)
{
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

// owners in the order ls --owners gives them: by OWNER + ":" as bytes.
std::vector<std::string>
in_key_order(std::vector<std::string> owners)
{
  std::sort(owners.begin(), owners.end(), [](const std::string& a, const std::string& b) { return a + ":" < b + ":"; });
  return owners;
}

// Writes records task-0..task-(per_owner - 1) of each owner through the library, in batches.
void
fill(taskstore::StorageBackend& store, const std::vector<std::string>& owners, int per_owner)
{
  std::vector<std::string> keys;
  std::vector<std::string> data;
  for (const auto& owner : owners) {
    for (int t = 0; t < per_owner; ++t) {
      keys.push_back(owner + ":task-" + std::to_string(t));
      data.push_back(record_json(owner, "task-" + std::to_string(t)));
    }
  }
  for (std::size_t i = 0; i < keys.size(); i += 2000) {
    std::vector<taskstore::BatchWrite> writes;
    for (std::size_t j = i; j < std::min(keys.size(), i + 2000); ++j) {
      writes.push_back(taskstore::BatchWrite{keys[j], data[j], false});
    }
    for (const auto& r : store.put_batch(writes)) {
      REQUIRE_FALSE(r.error);
    }
  }
}


} // namespace

TEST_CASE("backend: ls --owners lists the distinct owners starting with what was typed", "[backend][persistent]")
{
  BackendStore s;
  std::vector<std::string> owners;
  for (int i = 1; i <= 12; ++i) {
    owners.push_back("user-" + std::to_string(i));
  }
  for (const char* other : {"alice", "bob", "us*r", "user"}) {
    owners.emplace_back(other);
  }
  fill(*s.store.backend, owners, 5);

  auto r = s.run({"ls", "--owners", "user-1"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(lines_of(r.out) == in_key_order({"user-1", "user-10", "user-11", "user-12"}));
  CHECK(r.err.empty());

  r = s.run({"ls", "--owners"});
  INFO(describe(r));
  CHECK(lines_of(r.out) == in_key_order(owners));

  r = s.run({"ls", "--owners", "us*"}); // glob characters are literal
  CHECK(lines_of(r.out) == std::vector<std::string>{"us*r"});

  r = s.run({"-o", "json", "ls", "--owners", "user", "--limit", "3", "--within", "30s"});
  INFO(describe(r));
  const Json doc = parse_json(r.out);
  CHECK(doc["schema_version"] == 1);
  CHECK(doc["prefix"] == "user");
  const auto users = in_key_order({"user", "user-1", "user-10", "user-11", "user-12", "user-2", "user-3", "user-4",
                                   "user-5", "user-6", "user-7", "user-8", "user-9"});
  CHECK(doc["owners"] == Json(std::vector<std::string>(users.begin(), users.begin() + 3)));
  CHECK(doc["count"] == 3);
  CHECK(doc["partial"] == false);

  r = s.run({"-o", "jsonl", "ls", "--owners", "user-2"});
  CHECK(parse_jsonl(r.out) == std::vector<Json>{Json{{"owner", "user-2"}}});
  r = s.run({"ls", "--owners", "--count"});
  CHECK(r.out == std::to_string(owners.size()) + "\n");
  r = s.run({"ls", "--owners", "--owner", "bob"});
  CHECK(r.out == "bob\n");
  r = s.run({"ls", "--owners", "nobody"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
}

TEST_CASE("ls --owners on 20,000 records over 500 owners: every owner typed is offered, not the few of the first "
          "1,000 keys",
          "[sqlite-cli]")
{
  SqliteStore store;
  std::vector<std::string> owners;
  for (int i = 0; i < 500; ++i) {
    owners.push_back("user-" + std::to_string(i));
  }
  fill(store.lib(), owners, 40);
  fill(store.lib(), {"alice", "bob"}, 3);

  // What the completions used to do: the owners of the first 1,000 keys.
  auto r = store.run({"ls", "--keys-only", "-o", "raw", "--limit", "1000"});
  REQUIRE(r.exit_code == 0);
  std::set<std::string> old_owners;
  for (const auto& key : lines_of(r.out)) {
    if (key.starts_with("user-")) {
      old_owners.insert(key.substr(0, key.find(':')));
    }
  }
  CHECK(old_owners.size() <= 30);

  r = store.run({"ls", "--owners", "user-", "-o", "raw", "--limit", "1000", "--within", "30s"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(lines_of(r.out) == in_key_order(owners));
  CHECK(r.err.empty());

  // Filtered by what was typed: user-4, user-40..49, user-400..499.
  r = store.run({"ls", "--owners", "user-4"});
  const auto fours = lines_of(r.out);
  CHECK(fours.size() == 111);
  CHECK(std::all_of(fours.begin(), fours.end(), [](const std::string& o) { return o.starts_with("user-4"); }));
  CHECK(store.run({"ls", "--owners", "user-49"}).out ==
        "user-490\nuser-491\nuser-492\nuser-493\nuser-494\nuser-495\nuser-496\nuser-497\nuser-498\nuser-499\nuser-49\n");
  CHECK(store.run({"ls", "--owners", "--count"}).out == "502\n");
  CHECK(store.run({"ls", "--owners", "a"}).out == "alice\n");
}

TEST_CASE("ls --owners --within: a walk cut short prints what it found and warns that it may be partial",
          "[sqlite-cli]")
{
  SqliteStore store;
  // 20,000 owners of one record each: 20,000 seeks, far more than 1 ms.
  std::vector<std::string> owners;
  for (int i = 0; i < 20000; ++i) {
    owners.push_back("o" + std::to_string(100000 + i));
  }
  fill(store.lib(), owners, 1);

  auto r = store.run({"-o", "json", "ls", "--owners", "--within", "1ms"});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  const Json doc = parse_json(r.out);
  CHECK(doc["partial"] == true);
  CHECK(doc["count"].get<std::size_t>() < owners.size());
  CHECK(doc["owners"].size() == doc["count"].get<std::size_t>());
  // Key order: the owners found are the first ones.
  for (std::size_t i = 0; i < doc["owners"].size(); ++i) {
    CHECK(doc["owners"][i] == owners[i]);
  }
  CHECK(contains(r.err, "warning: ls --owners: stopped by --within 1ms after"));
  CHECK(contains(r.err, "the list may be partial"));

  r = store.run({"-q", "ls", "--owners", "--within", "1ms"});
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());

  r = store.run({"ls", "--owners", "--count", "--within", "60s"});
  CHECK(r.out == "20000\n");
  CHECK(r.err.empty());
}

TEST_CASE("ls --owners refuses what does not apply to owners", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));
  for (const auto& args : std::vector<std::vector<std::string>>{{"ls", "--owners", "--status", "failed"},
                                                                {"ls", "--owners", "--keys-only"},
                                                                {"ls", "--owners", "--sort", "key"},
                                                                {"ls", "--owners", "--start-after", "a:b"},
                                                                {"ls", "--owners", "--columns", "key"},
                                                                {"ls", "--owners", "--expired"},
                                                                {"ls", "--within", "1s"},
                                                                {"ls", "--owners", "--within", "0"},
                                                                {"ls", "--owners", "--within", "soon"}}) {
    const auto r = store.run(args);
    INFO(describe(r));
    CHECK(r.exit_code == 2);
  }
}
