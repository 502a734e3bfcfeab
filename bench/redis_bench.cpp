// Redis backend benchmark (bench/redis.sh starts a redis-server and runs it).
//
//   redis_bench fill    URL --records N --owners K --large N  pmcp-tasks' layout, pipelined
//   redis_bench keys    URL                keys only: SCAN MATCH pmcp:tasks:* COUNT 1000
//   redis_bench list    URL [--prefix P]   listing through StorageBackend::scan
//   redis_bench anchor  URL [--owner O]    the anchor's access pattern: per owner,
//                                          ZRANGE idx 0 -1 then one HGETALL per
//                                          record, sequential (facts §5.2)
//   redis_bench cleanup URL --now-offset S cleanup_expired with now = now + S seconds
//
// Each mode prints one line "mode: N records in T s (R records/s)"; bench/redis.sh
// runs each in its own process under /usr/bin/time for the peak RSS.

#include "taskstore/backend.hpp"
#include "taskstore/registry.hpp"
#include "taskstore/time.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace taskstore;
using Clock = std::chrono::steady_clock;

namespace {

struct Args
{
  std::string mode;
  std::string url;
  std::string prefix;
  std::string owner;
  long records = 100'000;
  long owners = 100;
  long large = 20'000;
  long expiring = 50'000;
  long now_offset = 0;
};

Args
parse(int argc, char** argv)
{
  if (argc < 3) {
    throw std::runtime_error("usage: redis_bench fill|keys|list|anchor|cleanup URL [options]");
  }
  Args a;
  a.mode = argv[1];
  a.url = argv[2];
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--prefix") {
      a.prefix = v;
    } else if (k == "--owner") {
      a.owner = v;
    } else if (k == "--records") {
      a.records = std::stol(v);
    } else if (k == "--owners") {
      a.owners = std::stol(v);
    } else if (k == "--large") {
      a.large = std::stol(v);
    } else if (k == "--expiring") {
      a.expiring = std::stol(v);
    } else if (k == "--now-offset") {
      a.now_offset = std::stol(v);
    } else {
      throw std::runtime_error("unknown option " + k);
    }
  }
  return a;
}

// A raw hiredis connection for the fill and the anchor pattern.
struct Raw
{
  explicit Raw(const std::string& url)
  {
    // redis://host:port only (the script passes that form).
    const auto hostport = url.substr(url.find("//") + 2);
    const auto colon = hostport.find(':');
    const std::string host = hostport.substr(0, colon);
    const int port = colon == std::string::npos ? 6379 : std::atoi(hostport.c_str() + colon + 1);
    c = redisConnect(host.c_str(), port);
    if (c == nullptr || c->err != 0) {
      throw std::runtime_error("cannot connect to " + url);
    }
  }
  ~Raw() { redisFree(c); }
  void append(const std::vector<std::string>& args)
  {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data());
  }
  redisReply* reply()
  {
    void* r = nullptr;
    if (redisGetReply(c, &r) != REDIS_OK) {
      throw std::runtime_error(std::string("redis: ") + c->errstr);
    }
    return static_cast<redisReply*>(r);
  }
  redisReply* command(const std::vector<std::string>& args)
  {
    append(args);
    return reply();
  }
  redisContext* c;
};

std::string
record_json(const std::string& owner, const std::string& task, Timestamp created, Timestamp expires)
{
  const std::string c = format_millis(created);
  return R"({"task":{"taskId":")" + task + R"(","status":"working","createdAt":")" + c +
         R"(","lastUpdatedAt":")" + c +
         R"(","ttl":3600000,"pollInterval":500},"ownerId":")" + owner +
         R"(","variables":{"tool_name":"analyze","arguments":{"path":"/data/input.csv","rows":1000}},"result":null,"requestMethod":"tools/call","expiresAt":")" +
         format_autosi(expires) + R"("})";
}

// Writes what pmcp-tasks' PUT script leaves: hash version/data/expires_at +
// EXPIREAT, index ZADD NX. `large` records go to owner0, the rest spread over
// the other owners; the first `expiring` records (in write order, spread over
// every owner) expire in an hour, the others in a day.
void
fill(const Args& a)
{
  Raw raw(a.url);
  const Timestamp now = now_utc();
  const auto t0 = Clock::now();
  long pending = 0;
  const long stride = a.large > 0 ? std::max(1L, a.records / a.large) : 0;
  for (long i = 0; i < a.records; ++i) {
    const bool large = stride > 0 && i % stride == 0 && i / stride < a.large;
    const std::string owner = large ? "owner0" : "owner" + std::to_string(1 + i % (a.owners - 1));
    const std::string task = "task-" + std::to_string(i);
    const Timestamp created{now.seconds - 86'400 + i / 100, static_cast<std::uint32_t>((i % 1000) * 1'000'000)};
    const Timestamp expires{now.seconds + (i % 2 == 0 && i / 2 < a.expiring ? 3600 : 86'400), 0};
    const std::string hash = "pmcp:tasks:" + owner + ":" + task;
    raw.append({"HSET", hash, "version", "1", "data", record_json(owner, task, created, expires), "expires_at",
                std::to_string(expires.seconds)});
    raw.append({"EXPIREAT", hash, std::to_string(expires.seconds)});
    raw.append({"ZADD", "pmcp:idx:" + owner, "NX", std::to_string(created.epoch_millis()), task});
    pending += 3;
    if (pending >= 3000) {
      for (; pending > 0; --pending) {
        freeReplyObject(raw.reply());
      }
    }
  }
  for (; pending > 0; --pending) {
    freeReplyObject(raw.reply());
  }
  std::printf("fill: %ld records in %.2f s\n", a.records,
              std::chrono::duration<double>(Clock::now() - t0).count());
}

void
report(const char* what, long count, Clock::time_point t0)
{
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("%s: %ld records in %.3f s (%.0f records/s)\n", what, count, s, count / s);
}

void
list(const Args& a)
{
  auto db = open_store(a.url);
  long count = 0;
  std::size_t bytes = 0;
  const auto t0 = Clock::now();
  db->scan(a.prefix, [&](const std::string& key, const VersionedRecord& r) {
    ++count;
    bytes += key.size() + r.data.size();
    return true;
  });
  report(a.prefix.empty() ? "list (scan, every owner)" : "list (scan, one owner)", count, t0);
  std::printf("  %zu bytes of keys and data\n", bytes);
}

// The anchor: for each owner, ZRANGE idx 0 -1, then HGETALL per member, one round trip each.
void
anchor(const Args& a)
{
  Raw raw(a.url);
  std::vector<std::string> owners;
  if (!a.owner.empty()) {
    owners.push_back(a.owner);
  } else {
    std::string cursor = "0";
    do {
      redisReply* r = raw.command({"SCAN", cursor, "MATCH", "pmcp:idx:*", "COUNT", "1000"});
      cursor.assign(r->element[0]->str, r->element[0]->len);
      for (std::size_t i = 0; i < r->element[1]->elements; ++i) {
        owners.emplace_back(std::string(r->element[1]->element[i]->str, r->element[1]->element[i]->len).substr(9));
      }
      freeReplyObject(r);
    } while (cursor != "0");
  }
  long count = 0;
  std::size_t bytes = 0;
  const auto t0 = Clock::now();
  for (const auto& owner : owners) {
    redisReply* ids = raw.command({"ZRANGE", "pmcp:idx:" + owner, "0", "-1"});
    for (std::size_t i = 0; i < ids->elements; ++i) {
      const std::string task(ids->element[i]->str, ids->element[i]->len);
      redisReply* h = raw.command({"HGETALL", "pmcp:tasks:" + owner + ":" + task});
      if (h->elements > 0) {
        ++count;
        for (std::size_t j = 0; j < h->elements; ++j) {
          bytes += h->element[j]->len;
        }
      }
      freeReplyObject(h);
    }
    freeReplyObject(ids);
  }
  report(a.owner.empty() ? "anchor pattern (ZRANGE + HGETALL per record, every owner)"
                         : "anchor pattern (ZRANGE + HGETALL per record, one owner)",
         count, t0);
}

// The floor: the record keys alone, SCAN COUNT 1000, one round trip each.
void
keys(const Args& a)
{
  Raw raw(a.url);
  long count = 0;
  std::string cursor = "0";
  const auto t0 = Clock::now();
  do {
    redisReply* r = raw.command({"SCAN", cursor, "MATCH", "pmcp:tasks:*", "COUNT", "1000"});
    cursor.assign(r->element[0]->str, r->element[0]->len);
    count += static_cast<long>(r->element[1]->elements);
    freeReplyObject(r);
  } while (cursor != "0");
  report("keys only (SCAN COUNT 1000)", count, t0);
}

void
cleanup(const Args& a)
{
  auto db = open_store(a.url);
  CleanupOptions options;
  options.now = now_utc();
  options.now.seconds += a.now_offset;
  options.prefix = a.prefix;
  const auto t0 = Clock::now();
  const auto removed = static_cast<long>(db->cleanup_expired(options));
  report("cleanup_expired (removed)", removed, t0);
}

} // namespace

int
main(int argc, char** argv)
{
  try {
    const Args a = parse(argc, argv);
    if (a.mode == "fill") {
      fill(a);
    } else if (a.mode == "keys") {
      keys(a);
    } else if (a.mode == "list") {
      list(a);
    } else if (a.mode == "anchor") {
      anchor(a);
    } else if (a.mode == "cleanup") {
      cleanup(a);
    } else {
      throw std::runtime_error("unknown mode " + a.mode);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "redis_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
