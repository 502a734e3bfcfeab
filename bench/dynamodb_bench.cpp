// DynamoDB benchmark against dynalite (or any DynamoDB-compatible endpoint):
// listing and cleanup as the backend does them (Scan/Query pages; concurrent
// conditional DeleteItems) against the one-request-at-a-time pattern
// (a GetItem per key; a DeleteItem per key), in the same run.
//
//   dynamodb_bench --endpoint URL [--records N] [--owners N] [--expired N]
//                  [--latency-ms MS] [--server-pid PID]
//
// --latency-ms puts an in-process TCP relay between the client and the
// server that delays every chunk by MS/2 in each direction (a round trip of
// MS), to show the effect of network latency (DynamoDB is a network service;
// dynalite on loopback has almost none). --server-pid reports the server's
// CPU time per phase (from /proc), which shows when the server is the bottleneck.
//
// bench/dynamodb.sh starts dynalite and runs this. Never used by the tests:
// the figures depend on the machine, and dynalite is a single-threaded node
// process, so they say little about DynamoDB's own latency.

#include "taskstore/backends/aws_transport.hpp"
#include "taskstore/backends/dynamodb.hpp"
#include "taskstore/error.hpp"
#include "taskstore/registry.hpp"
#include "taskstore/time.hpp"
#include "taskstore/uri.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <cstdlib>
#include <cstring>
#include <memory>
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
  int latency_ms = 0;
  int server_pid = 0;
};

using Clock = std::chrono::steady_clock;

// CPU seconds (user + system) of this process.
double
own_cpu()
{
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// CPU seconds of another process (0 when pid is 0 or unreadable).
double
process_cpu(int pid)
{
  if (pid <= 0) {
    return 0;
  }
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  const auto paren = line.rfind(')');
  if (paren == std::string::npos) {
    return 0;
  }
  std::istringstream fields(line.substr(paren + 2));
  std::string skip;
  for (int i = 0; i < 11; ++i) {
    fields >> skip;
  }
  long utime = 0;
  long stime = 0;
  fields >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Wall time and CPU (ours, the server's) of one phase.
struct Phase
{
  Clock::time_point start = Clock::now();
  double cpu = own_cpu();
  double server = 0;
  int pid = 0;
  explicit Phase(int server_pid)
    : server(process_cpu(server_pid))
    , pid(server_pid)
  {
  }
  // "wall s, client cpu s, server cpu s"
  double wall() const { return std::chrono::duration<double>(Clock::now() - start).count(); }
  std::string cpu_text() const
  {
    char buffer[96];
    if (pid > 0) {
      std::snprintf(buffer, sizeof buffer, "  [cpu: client %.2f s, server %.2f s]", own_cpu() - cpu,
                    process_cpu(pid) - server);
    } else {
      std::snprintf(buffer, sizeof buffer, "  [cpu: client %.2f s]", own_cpu() - cpu);
    }
    return buffer;
  }
};

// A TCP relay on 127.0.0.1 that forwards to target_port, delaying every
// chunk by half the round trip in each direction (order kept, throughput not
// limited). Runs until the process exits.
class LatencyRelay
{
public:
  LatencyRelay(std::uint16_t target_port, int round_trip_ms)
    : m_target(target_port)
    , m_delay(std::chrono::microseconds(round_trip_ms * 500))
  {
    m_listen = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(m_listen, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(m_listen, 128) != 0) {
      throw std::runtime_error("relay: cannot listen");
    }
    socklen_t length = sizeof addr;
    ::getsockname(m_listen, reinterpret_cast<sockaddr*>(&addr), &length);
    m_port = ntohs(addr.sin_port);
    std::thread([this] { accept_loop(); }).detach();
  }
  std::uint16_t port() const { return m_port; }

private:
  struct Pipe
  {
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<std::pair<Clock::time_point, std::string>> queue;
    bool closed = false;
  };

  void accept_loop()
  {
    for (;;) {
      const int client = ::accept(m_listen, nullptr, nullptr);
      if (client < 0) {
        continue;
      }
      const int server = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(m_target);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(client);
        ::close(server);
        continue;
      }
      const int one = 1;
      ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      ::setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      forward(client, server);
      forward(server, client);
    }
  }

  // Reader thread -> delayed writer thread, from one socket to the other.
  void forward(int from, int to)
  {
    auto pipe = std::make_shared<Pipe>();
    const auto delay = m_delay;
    std::thread([pipe, from] {
      char chunk[65536];
      for (;;) {
        const ssize_t n = ::recv(from, chunk, sizeof chunk, 0);
        std::lock_guard lock(pipe->mutex);
        if (n <= 0) {
          pipe->closed = true;
          pipe->ready.notify_one();
          return;
        }
        pipe->queue.emplace_back(Clock::now(), std::string(chunk, static_cast<std::size_t>(n)));
        pipe->ready.notify_one();
      }
    }).detach();
    std::thread([pipe, to, delay] {
      for (;;) {
        std::unique_lock lock(pipe->mutex);
        pipe->ready.wait(lock, [&] { return !pipe->queue.empty() || pipe->closed; });
        if (pipe->queue.empty()) {
          ::shutdown(to, SHUT_WR);
          return;
        }
        auto [at, data] = std::move(pipe->queue.front());
        pipe->queue.pop_front();
        lock.unlock();
        std::this_thread::sleep_until(at + delay);
        std::size_t sent = 0;
        while (sent < data.size()) {
          const ssize_t n = ::send(to, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
          if (n <= 0) {
            return;
          }
          sent += static_cast<std::size_t>(n);
        }
      }
    }).detach();
  }

  std::uint16_t m_target;
  std::chrono::microseconds m_delay;
  int m_listen = -1;
  std::uint16_t m_port = 0;
};

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
  std::fprintf(stderr, "usage: dynamodb_bench --endpoint URL [--records N] [--owners N] [--expired N]\n"
                       "                      [--latency-ms MS] [--server-pid PID]\n");
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
    } else if (arg == "--latency-ms") {
      o.latency_ms = std::stoi(argv[++i]);
    } else if (arg == "--server-pid") {
      o.server_pid = std::stoi(argv[++i]);
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
  const std::string direct = o.endpoint;
  std::string measured = o.endpoint;
  std::unique_ptr<LatencyRelay> relay;
  if (o.latency_ms > 0) {
    const auto colon = o.endpoint.rfind(':');
    if (o.endpoint.rfind("http://127.0.0.1:", 0) != 0 || colon == std::string::npos) {
      std::fprintf(stderr, "--latency-ms needs an endpoint http://127.0.0.1:PORT\n");
      return 2;
    }
    relay = std::make_unique<LatencyRelay>(
      static_cast<std::uint16_t>(std::stoi(o.endpoint.substr(colon + 1))), o.latency_ms);
    measured = "http://127.0.0.1:" + std::to_string(relay->port());
  }
  const auto uri_for = [&](const std::string& endpoint) {
    return StoreUri::parse("dynamodb://" + table + "?region=us-east-1&timeout=30s&endpoint=" + endpoint);
  };
  const StoreUri uri = uri_for(direct);

  try {
    create_dynamodb_table(uri, OpenOptions{});
    auto store = open_store(uri_for(measured));
    aws::ClientOptions client_options;
    client_options.endpoint = direct;
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
    double load_average[3] = {};
    getloadavg(load_average, 3);
    std::printf("endpoint %s, table %s: %zu records (~%zu bytes each), %zu owners, %zu expired\n",
                o.endpoint.c_str(), table.c_str(), o.records, record_of(1, o, false, now).size(),
                o.owners, o.expired);
    std::printf("added round-trip latency: %d ms; load average at start: %.2f\n", o.latency_ms,
                load_average[0]);

    Phase phase(o.server_pid);
    load(loader, table, o, now, all);
    double s = phase.wall();
    std::printf("load: PutItem, 16 in flight, no added latency %6zu in %7.2f s  (%7.0f/s)%s\n", o.records, s,
                static_cast<double>(o.records) / s, phase.cpu_text().c_str());

    // ---- full listing
    phase = Phase(o.server_pid);
    std::size_t n = 0;
    store->scan("", [&](const std::string&, const VersionedRecord&) {
      ++n;
      return true;
    });
    const double scan_s = phase.wall();
    std::printf("full listing: scan (Scan pages)              %7zu in %7.2f s  (%7.0f/s)%s\n", n, scan_s,
                static_cast<double>(n) / scan_s, phase.cpu_text().c_str());
    phase = Phase(o.server_pid);
    n = 0;
    for (const std::size_t i : all) {
      store->get(owner_of(i, o) + ":" + task_of(i));
      ++n;
    }
    const double get_s = phase.wall();
    std::printf("full listing: sequential GetItem per key     %7zu in %7.2f s  (%7.0f/s)%s  -> scan %.1fx faster\n",
                n, get_s, static_cast<double>(n) / get_s, phase.cpu_text().c_str(), get_s / scan_s);

    // ---- one owner
    const std::string owner = owner_of(7, o);
    std::vector<std::string> owner_keys;
    for (const std::size_t i : all) {
      if (owner_of(i, o) == owner) {
        owner_keys.push_back(owner + ":" + task_of(i));
      }
    }
    constexpr int k_rounds = 10;
    phase = Phase(o.server_pid);
    for (int r = 0; r < k_rounds; ++r) {
      n = store->list_by_prefix(owner + ":").size();
    }
    const double query_s = phase.wall() / k_rounds;
    std::printf("one owner: list_by_prefix (Query)            %7zu in %7.1f ms (mean of %d)\n", n,
                query_s * 1000, k_rounds);
    phase = Phase(o.server_pid);
    for (int r = 0; r < k_rounds; ++r) {
      for (const auto& key : owner_keys) {
        store->get(key);
      }
    }
    const double owner_get_s = phase.wall() / k_rounds;
    std::printf("one owner: sequential GetItem per key        %7zu in %7.1f ms (mean of %d)  -> Query %.1fx faster\n",
                owner_keys.size(), owner_get_s * 1000, k_rounds, owner_get_s / query_s);

    // ---- gc: the one-request-at-a-time pattern first, then the expired
    // records are written again and cleanup_expired removes them.
    std::vector<std::size_t> expired;
    for (const std::size_t i : all) {
      if (i % 2 == 0 && i / 2 < o.expired) {
        expired.push_back(i);
      }
    }
    const Timestamp judged_at = now_utc();
    phase = Phase(o.server_pid);
    std::size_t removed = 0;
    // (a naive gc: list, judge, then one DeleteItem at a time)
    std::vector<std::string> doomed;
    store->scan("", [&](const std::string& key, const VersionedRecord& record) {
      if (is_expired_at(extract_expires_at(record.data), judged_at)) {
        doomed.push_back(key);
      }
      return true;
    });
    for (const auto& key : doomed) {
      removed += store->remove(key) ? 1 : 0;
    }
    const double seq_delete_s = phase.wall();
    std::printf("gc: scan + sequential DeleteItem per key     %7zu in %7.2f s  (%7.0f/s)%s\n", removed,
                seq_delete_s, static_cast<double>(removed) / seq_delete_s, phase.cpu_text().c_str());

    load(loader, table, o, now, expired);
    CleanupOptions cleanup;
    cleanup.now = judged_at;
    phase = Phase(o.server_pid);
    removed = store->cleanup_expired(cleanup);
    const double gc_s = phase.wall();
    std::printf("gc: cleanup_expired, 16 DeleteItems in flight %6zu in %7.2f s  (%7.0f/s)%s  -> %.1fx faster\n",
                removed, gc_s, static_cast<double>(removed) / gc_s, phase.cpu_text().c_str(), seq_delete_s / gc_s);
    std::printf("peak RSS %.1f MiB (the load phase holds all 20k PutItem requests)\n", peak_rss_mib());
    delete_dynamodb_table(uri, OpenOptions{});
    if (removed != o.expired) {
      std::fprintf(stderr, "error: cleanup removed %zu records, expected %zu\n", removed, o.expired);
      return 1;
    }
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
