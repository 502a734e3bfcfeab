// The shared algorithms of backend.hpp (CleanupDriver, remove_prefix,
// count_prefix), over the memory backend; the contract suite runs the
// backends' cleanup, built on the driver, against every backend.

#include "taskstore/backend.hpp"
#include "taskstore/registry.hpp"
#include "taskstore/time.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace taskstore;

namespace {

std::string
record_expiring(const std::string& expires_at)
{
  return R"({"task":{"taskId":"t"},"ownerId":"o","expiresAt":)" + expires_at + "}";
}

const Timestamp k_now{1'764'066'600, 500}; // 2025-11-25T10:30:00.0000005Z

} // namespace

TEST_CASE("CleanupDriver judges by expiresAt, strictly, and removes only what is unchanged")
{
  CleanupOptions options;
  options.now = k_now;
  std::vector<std::string> reported;
  options.on_removed = [&](const std::string& key, std::uint64_t version, Timestamp) {
    reported.push_back(key + "@" + std::to_string(version));
  };
  std::vector<std::string> asked;
  CleanupDriver driver(options, [&](std::vector<ExpiredRecord>& records) {
    for (const auto& r : records) {
      asked.push_back(r.key);
    }
    std::erase_if(records, [](const ExpiredRecord& r) { return r.key == "o:rewritten"; });
  });
  CHECK(driver.offer("o:past", 3, record_expiring("\"2025-11-25T10:30:00.0000004Z\"")));
  CHECK_FALSE(driver.offer("o:now", 1, record_expiring("\"2025-11-25T10:30:00.0000005Z\"")));
  CHECK_FALSE(driver.offer("o:never", 1, record_expiring("null")));
  CHECK_FALSE(driver.offer("o:junk", 1, "not json"));
  CHECK(driver.offer_expiry("o:rewritten", 2, Timestamp{0, 0}));
  CHECK_FALSE(driver.offer_expiry("o:none", 2, std::nullopt));
  CHECK(driver.pending() == 2);
  CHECK(driver.flush() == 1);
  CHECK(asked == std::vector<std::string>{"o:past", "o:rewritten"});
  CHECK(reported == std::vector<std::string>{"o:past@3"});
  CHECK(driver.removed() == 1);
  CHECK(driver.pending() == 0);
  CHECK(driver.flush() == 0);
}

TEST_CASE("CleanupDriver on a dry run reports without asking the backend to remove")
{
  CleanupOptions options;
  options.now = k_now;
  options.dry_run = true;
  std::size_t reported = 0;
  options.on_removed = [&](const std::string&, std::uint64_t, Timestamp) { ++reported; };
  bool asked = false;
  CleanupDriver driver(options, [&](std::vector<ExpiredRecord>&) { asked = true; });
  driver.offer("o:a", 1, record_expiring("\"2000-01-01T00:00:00Z\""));
  driver.offer("o:b", 1, record_expiring("\"2000-01-01T00:00:00Z\""));
  CHECK(driver.flush() == 2);
  CHECK_FALSE(asked);
  CHECK(reported == 2);
}

TEST_CASE("remove_prefix removes one owner's records in batches")
{
  auto store = open_store("mem://");
  for (int i = 0; i < 1234; ++i) {
    store->put("alice:" + std::to_string(i), "x");
  }
  store->put("alicex:1", "x");
  store->put("bob:1", "x");
  CHECK(count_prefix(*store, "alice:") == 1234);

  std::uint64_t reported = 0;
  RemovePrefixOptions options;
  options.batch = 100;
  options.on_removed = [&](const std::string& key, std::uint64_t version) {
    CHECK(key.rfind("alice:", 0) == 0);
    CHECK(version == 1);
    ++reported;
  };
  CHECK(remove_prefix(*store, "alice:", options) == 1234);
  CHECK(reported == 1234);
  CHECK(count_prefix(*store, "alice:") == 0);
  CHECK(count_prefix(*store, "") == 2);
}

TEST_CASE("remove_prefix stops at max and when asked to")
{
  auto store = open_store("mem://");
  for (int i = 0; i < 50; ++i) {
    store->put("o:" + std::to_string(i), "x");
  }
  RemovePrefixOptions capped;
  capped.batch = 7;
  capped.max = 20;
  CHECK(remove_prefix(*store, "o:", capped) == 20);
  CHECK(count_prefix(*store, "o:") == 30);

  std::uint64_t seen = 0;
  RemovePrefixOptions stopping;
  stopping.on_removed = [&](const std::string&, std::uint64_t) { ++seen; };
  stopping.should_stop = [&] { return seen >= 5; };
  CHECK(remove_prefix(*store, "o:", stopping) == 5);
  CHECK(count_prefix(*store, "o:") == 25);

  std::uint64_t polled = 0;
  CHECK(count_prefix(*store, "o:", [&] { return ++polled >= 3; }) == 3);
}
