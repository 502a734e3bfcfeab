// End-to-end tests of taskctl get against temporary SQLite stores
// ([sqlite-cli]): missing keys, expired records and missing store files.

#include "cli_support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace clitest;
namespace fs = std::filesystem;

TEST_CASE("get: a missing key exits 3; expired records say so", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:old", record_json("alice", "old", "completed", k_past));
  auto r = store.run({"get", "alice:nope"});
  INFO(describe(r));
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "key not found: alice:nope"));
  CHECK(r.out.empty());
  r = store.run({"-o", "json", "get", "alice:nope"});
  auto error = parse_json(r.err)["error"];
  CHECK(error["code"] == "not_found");
  CHECK(error["exit"] == 3);
  CHECK(error["key"] == "alice:nope");

  r = store.run({"get", "alice:old"});
  auto doc = parse_json(r.out);
  CHECK(doc["expired"] == true);
  CHECK(doc["expiresAt"] == k_past);
}

TEST_CASE("a missing SQLite file is exit 7 for reads, and is not created", "[sqlite-cli]")
{
  TempDir dir;
  const std::string uri = "sqlite://" + dir.file("absent.db");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"get", "a:b"}, {"ls"}, {"delete", "a:b"}, {"gc", "--yes"}, {"validate", "--stored"}}) {
    std::vector<std::string> full = {"-s", uri};
    full.insert(full.end(), args.begin(), args.end());
    auto r = taskctl(full);
    INFO(describe(r));
    CHECK(r.exit_code == 7);
    CHECK_FALSE(fs::exists(dir.file("absent.db")));
  }
}

TEST_CASE("a key of 30,000 letters is reported, not a crash", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));
  // The error text used to go through a std::regex that recursed once per
  // letter: exit 139 at 26,000+ letters.
  const auto r = store.run({"get", "a:" + std::string(30'000, 'k')});
  INFO(r.exit_code);
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "key not found"));
}
