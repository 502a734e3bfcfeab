// DynamoDB benchmark against dynalite (or any DynamoDB-compatible endpoint):
// listing and cleanup as the backend does them (Scan/Query pages; concurrent
// conditional DeleteItems) against the one-request-at-a-time pattern
// (a GetItem per key; a DeleteItem per key), in the same run.
//
//   dynamodb_bench --endpoint URL [--records N] [--owners N] [--expired N]
//
// bench/dynamodb.sh starts dynalite and runs this. Never used by the tests:
// the figures depend on the machine, and dynalite is a single-threaded node
// process, so they say little about DynamoDB's own latency.

#include "taskstore/backends/aws_http.hpp"
#include "taskstore/backends/dynamodb.hpp"
#include "taskstore/error.hpp"
#include "taskstore/registry.hpp"
#include "taskstore/time.hpp"
#include "taskstore/uri.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

using namespace taskstore;
using nlohmann::json;

namespace {

struct Options
{
  std::string endpoint;
  std::size_t records = 20'000;
  std::size_t owners = 100;
  std::size_t expired = 10'000;
};

using Clock = std::chrono::steady_clock;

double
seconds_since(Clock::time_point start)
{
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double
peak_rss_mib()
{
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

std::string
owner_of(std::size_t i, const Options& o)
{
  return "owner-" + std::to_string(i % o.owners);
}

std::string
task_of(std::size_t i)
{
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%08zx-4c1e-4b9a-9d3e-%012zx", i * 2654435761u % 0xffffffffu, i);
  return buffer;
}

// A pmcp TaskRecord of ~450 bytes; expired ones expired an hour ago.
std::string
record_of(std::size_t i, const Options& o, bool expired, Timestamp now)
{
  const Timestamp expires{now.seconds + (expired ? -3600 : 3600), 0};
  json r{{"task",
          {{"taskId", task_of(i)},
           {"status", "working"},
           {"statusMessage", "processing step 3 of 7"},
           {"createdAt", "2025-11-25T10:30:00.123Z"},
           {"lastUpdatedAt", "2025-11-25T10:31:07.456Z"},
           {"ttl", 3600000},
           {"pollInterval", 500}}},
         {"ownerId", owner_of(i, o)},
         {"variables", {{"progress", 42}, {"query", "weekly sales report for region north"}}},
         {"result", nullptr},
         {"requestMethod", "tools/call"},
         {"expiresAt", format_autosi(expires)}};
  return r.dump();
}

// Writes records [from, to) in pmcp's layout with concurrent PutItems;
// expired ones are those with i % 2 == 0 while fewer than o.expired.
void
load(aws::JsonClient& client, const std::string& table, const Options& o, Timestamp now,
     const std::vector<std::size_t>& indexes)
{
  std::vector<json> requests;
  requests.reserve(indexes.size());
  for (const std::size_t i : indexes) {
    const bool expired = i % 2 == 0 && i / 2 < o.expired;
    const std::string data = record_of(i, o, expired, now);
    requests.push_back(json{{"TableName", table},
                            {"Item",
                             {{"PK", {{"S", "OWNER#" + owner_of(i, o)}}},
                              {"SK", {{"S", "TASK#" + task_of(i)}}},
                              {"version", {{"N", "1"}}},
                              {"data", {{"S", data}}},
                              {"expires_at", {{"N", std::to_string(extract_expires_at(data)->seconds)}}}}}});
  }
  std::size_t failed = 0;
  client.call_many("PutItem", requests, 16, [&](std::size_t, aws::JsonClient::Outcome&& outcome) {
    if (!outcome.ok()) {
      ++failed;
    }
  });
  if (failed != 0) {
    throw std::runtime_error(std::to_string(failed) + " PutItems failed while loading");
  }
}

void
usage()
{
  std::fprintf(stderr, "usage: dynamodb_bench --endpoint URL [--records N] [--owners N] [--expired N]\n");
}

} // namespace

int
main(int argc, char** argv)
{
  Options o;
  if (const char* env = std::getenv("TASKCTL_TEST_DYNAMODB_ENDPOINT")) {
    o.endpoint = env;
  }
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) {
      usage();
      return 2;
    }
    if (arg == "--endpoint") {
      o.endpoint = argv[++i];
    } else if (arg == "--records") {
      o.records = std::stoul(argv[++i]);
    } else if (arg == "--owners") {
      o.owners = std::stoul(argv[++i]);
    } else if (arg == "--expired") {
      o.expired = std::stoul(argv[++i]);
    } else {
      usage();
      return 2;
    }
  }
  if (o.endpoint.empty() || o.expired * 2 > o.records || o.owners == 0) {
    usage();
    return 2;
  }
  ::setenv("AWS_ACCESS_KEY_ID", "taskctl-bench-key", 0);
  ::setenv("AWS_SECRET_ACCESS_KEY", "taskctl-bench-secret", 0);
  const std::string table = "taskctl-bench-" + std::to_string(::getpid());
  const std::string uri_text = "dynamodb://" + table + "?region=us-east-1&timeout=30s&endpoint=" + o.endpoint;
  const StoreUri uri = StoreUri::parse(uri_text);

  try {
    create_dynamodb_table(uri, OpenOptions{});
    auto store = open_store(uri);
    aws::ClientOptions client_options;
    client_options.endpoint = o.endpoint;
    client_options.region = "us-east-1";
    client_options.credentials = {std::getenv("AWS_ACCESS_KEY_ID"), std::getenv("AWS_SECRET_ACCESS_KEY"),
                                  std::nullopt, "environment"};
    client_options.timeout = std::chrono::seconds(30);
    aws::JsonClient loader(client_options);

    const Timestamp now = now_utc();
    std::vector<std::size_t> all(o.records);
    for (std::size_t i = 0; i < o.records; ++i) {
      all[i] = i;
    }
    std::printf("endpoint %s, table %s: %zu records (~%zu bytes each), %zu owners, %zu expired\n",
                o.endpoint.c_str(), table.c_str(), o.records, record_of(1, o, false, now).size(),
                o.owners, o.expired);

    auto t = Clock::now();
    load(loader, table, o, now, all);
    double s = seconds_since(t);
    std::printf("load: PutItem, 16 in flight                 %7zu in %7.2f s  (%8.0f/s)\n", o.records, s,
                static_cast<double>(o.records) / s);

    // ---- full listing
    t = Clock::now();
    std::size_t n = 0;
    store->scan("", [&](const std::string&, const VersionedRecord&) {
      ++n;
      return true;
    });
    const double scan_s = seconds_since(t);
    std::printf("full listing: scan (Scan pages)              %7zu in %7.2f s  (%8.0f/s)  peak RSS %.1f MiB\n",
                n, scan_s, static_cast<double>(n) / scan_s, peak_rss_mib());
    t = Clock::now();
    n = 0;
    for (const std::size_t i : all) {
      store->get(owner_of(i, o) + ":" + task_of(i));
      ++n;
    }
    const double get_s = seconds_since(t);
    std::printf("full listing: sequential GetItem per key     %7zu in %7.2f s  (%8.0f/s)  -> scan %.1fx faster\n",
                n, get_s, static_cast<double>(n) / get_s, get_s / scan_s);

    // ---- one owner
    const std::string owner = owner_of(7, o);
    std::vector<std::string> owner_keys;
    for (const std::size_t i : all) {
      if (owner_of(i, o) == owner) {
        owner_keys.push_back(owner + ":" + task_of(i));
      }
    }
    constexpr int k_rounds = 10;
    t = Clock::now();
    for (int r = 0; r < k_rounds; ++r) {
      n = store->list_by_prefix(owner + ":").size();
    }
    const double query_s = seconds_since(t) / k_rounds;
    std::printf("one owner: list_by_prefix (Query)            %7zu in %7.1f ms\n", n, query_s * 1000);
    t = Clock::now();
    for (int r = 0; r < k_rounds; ++r) {
      for (const auto& key : owner_keys) {
        store->get(key);
      }
    }
    const double owner_get_s = seconds_since(t) / k_rounds;
    std::printf("one owner: sequential GetItem per key        %7zu in %7.1f ms  -> Query %.1fx faster\n",
                owner_keys.size(), owner_get_s * 1000, owner_get_s / query_s);

    // ---- gc: the one-request-at-a-time pattern first, then the expired
    // records are written again and cleanup_expired removes them.
    std::vector<std::size_t> expired;
    for (const std::size_t i : all) {
      if (i % 2 == 0 && i / 2 < o.expired) {
        expired.push_back(i);
      }
    }
    t = Clock::now();
    std::size_t removed = 0;
    const Timestamp judged_at = now_utc();
    store->scan("", [&](const std::string&, const VersionedRecord&) { return true; });
    for (const std::size_t i : expired) {
      // (a naive gc: judge, then one DeleteItem at a time)
      removed += store->remove(owner_of(i, o) + ":" + task_of(i)) ? 1 : 0;
    }
    const double seq_delete_s = seconds_since(t);
    std::printf("gc: scan + sequential DeleteItem per key     %7zu in %7.2f s  (%8.0f/s)\n", removed,
                seq_delete_s, static_cast<double>(removed) / seq_delete_s);

    load(loader, table, o, now, expired);
    CleanupOptions cleanup;
    cleanup.now = judged_at;
    t = Clock::now();
    removed = store->cleanup_expired(cleanup);
    const double gc_s = seconds_since(t);
    std::printf("gc: cleanup_expired (16 DeleteItems in flight) %5zu in %7.2f s  (%8.0f/s)  -> %.1fx faster\n",
                removed, gc_s, static_cast<double>(removed) / gc_s, seq_delete_s / gc_s);
    std::printf("peak RSS %.1f MiB\n", peak_rss_mib());
    if (removed != o.expired) {
      std::fprintf(stderr, "error: cleanup removed %zu records, expected %zu\n", removed, o.expired);
      delete_dynamodb_table(uri, OpenOptions{});
      return 1;
    }
    delete_dynamodb_table(uri, OpenOptions{});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dynamodb_bench: error: %s\n", describe(e).c_str());
    try {
      delete_dynamodb_table(uri, OpenOptions{});
    } catch (...) {
    }
    return 1;
  }
  return 0;
}
