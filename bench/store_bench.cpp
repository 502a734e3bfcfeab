// Store benchmark: put / get / CAS / listing / cleanup throughput of the local
// backends (sqlite, and memory for comparison) over realistic pmcp records.
//
//   store_bench [--records N] [--owners N] [--backend sqlite|memory|all] [--dir DIR]
//
// Records are ~400-byte TaskRecord JSON documents spread over the owners; one
// in ten has an expiresAt in the past so cleanup has work to do. Every
// operation is a separate call (and, on sqlite, a separate transaction), as a
// server or the CLI would issue them. Prints one line per phase and the peak
// resident memory. Never used by the tests: figures depend on the machine.

#include "taskstore/error.hpp"
#include "taskstore/key.hpp"
#include "taskstore/record.hpp"
#include "taskstore/registry.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

using namespace taskstore;

namespace {

struct Options
{
  std::size_t records = 100'000;
  std::size_t owners = 100;
  std::string backend = "all";
  std::string dir;
};

struct Dataset
{
  std::vector<std::string> owners;
  std::vector<std::string> keys;
  std::vector<std::string> data;
  std::size_t bytes = 0;
};

// Returns the peak resident set size of this process so far, in MiB.
double
peak_rss_mib()
{
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0; // ru_maxrss is in KiB on Linux
}

// Returns the current resident set size in MiB (from /proc/self/statm).
double
current_rss_mib()
{
  long pages = 0;
  long resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) {
      resident = 0;
    }
    std::fclose(f);
  }
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

Dataset
make_dataset(const Options& options)
{
  Dataset set;
  for (std::size_t o = 0; o < options.owners; ++o) {
    char name[32];
    std::snprintf(name, sizeof name, "user-%04zu", o);
    set.owners.emplace_back(name);
  }
  const Timestamp now = now_utc();
  std::mt19937_64 random(42);
  for (std::size_t i = 0; i < options.records; ++i) {
    const auto& owner = set.owners[i % options.owners];
    // One in ten already expired (ttl 1 ms, created an hour ago).
    const bool expired = i % 10 == 0;
    const Timestamp created = expired ? Timestamp{now.seconds - 3600, now.nanos} : now;
    auto record = TaskRecord::create(owner, "tools/call", expired ? 1 : 3'600'000, created);
    record.task.poll_interval = 500;
    record.variables = Json{{"tool_name", "analyze"},
                            {"arguments", {{"path", "/data/input/" + std::to_string(random() % 100'000) + ".csv"},
                                           {"mode", "fast"},
                                           {"limit", 100}}}};
    set.keys.push_back(make_key(owner, record.task.task_id));
    set.data.push_back(serialize_record(record));
    set.bytes += set.data.back().size();
  }
  return set;
}

// Returns the CPU time (user + system) this process has used, in seconds.
double
cpu_seconds()
{
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Times f and prints one line: ops, wall time and ops/s, CPU time and ops per
// CPU second (the figure to compare on a shared, busy machine), current RSS.
void
phase(const std::string& backend, const char* name, std::size_t ops, const std::function<void()>& f)
{
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = cpu_seconds();
  f();
  const double cpu = cpu_seconds() - cpu_start;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%-7s %-30s %7zu ops  wall %7.3f s %9.0f ops/s  cpu %7.3f s %9.0f ops/s  rss %6.1f MiB\n",
              backend.c_str(), name, ops, wall, static_cast<double>(ops) / wall, cpu,
              static_cast<double>(ops) / cpu, current_rss_mib());
  std::fflush(stdout);
}

void
run(const std::string& backend, const std::string& uri, const Dataset& set)
{
  auto db = open_store(uri);
  const std::size_t n = set.keys.size();
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) {
    order[i] = i;
  }
  std::shuffle(order.begin(), order.end(), std::mt19937_64(7));

  phase(backend, "put (new keys)", n, [&] {
    for (std::size_t i = 0; i < n; ++i) {
      db->put(set.keys[i], set.data[i]);
    }
  });
  std::size_t checksum = 0;
  phase(backend, "get (random order)", n, [&] {
    for (std::size_t i : order) {
      checksum += db->get(set.keys[i]).data.size();
    }
  });
  phase(backend, "put_if_version (CAS)", n, [&] {
    for (std::size_t i : order) {
      db->put_if_version(set.keys[i], set.data[i], 1);
    }
  });
  phase(backend, "get + CAS (read-modify-write)", n, [&] {
    for (std::size_t i : order) {
      const auto current = db->get(set.keys[i]);
      db->put_if_version(set.keys[i], current.data, current.version);
    }
  });
  const double before_scan = peak_rss_mib();
  std::size_t visited = 0;
  phase(backend, "scan all (full listing)", n, [&] {
    db->scan("", [&](const std::string& key, const VersionedRecord& record) {
      ++visited;
      checksum += key.size() + record.data.size();
      return true;
    });
  });
  const double after_scan = peak_rss_mib();
  std::size_t owner_records = 0;
  phase(backend, "scan one owner (x owners)", n, [&] {
    for (const auto& owner : set.owners) {
      db->scan(make_prefix(owner), [&](const std::string&, const VersionedRecord&) {
        ++owner_records;
        return true;
      });
    }
  });
  phase(backend, "list_by_prefix one owner", set.owners.size(), [&] {
    for (const auto& owner : set.owners) {
      checksum += db->list_by_prefix(make_prefix(owner)).size();
    }
  });
  std::size_t removed = 0;
  phase(backend, "cleanup_expired", n, [&] { removed = db->cleanup_expired(); });
  std::printf("%-7s visited %zu of %zu in the full scan, %zu via owner scans; cleanup removed %zu; "
              "peak RSS before/after full scan %.1f/%.1f MiB (checksum %zu)\n",
              backend.c_str(), visited, n, owner_records, removed, before_scan, after_scan, checksum);
}

int
usage(const char* argv0)
{
  std::fprintf(stderr, "usage: %s [--records N] [--owners N] [--backend sqlite|memory|all] [--dir DIR]\n", argv0);
  return 2;
}

} // namespace

int
main(int argc, char** argv)
{
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) {
      return usage(argv[0]);
    }
    const std::string value = argv[++i];
    if (arg == "--records") {
      options.records = std::stoul(value);
    } else if (arg == "--owners") {
      options.owners = std::max<std::size_t>(1, std::stoul(value));
    } else if (arg == "--backend") {
      options.backend = value;
    } else if (arg == "--dir") {
      options.dir = value;
    } else {
      return usage(argv[0]);
    }
  }
  try {
    const auto start = std::chrono::steady_clock::now();
    const Dataset set = make_dataset(options);
    std::printf("dataset: %zu records over %zu owners, %.0f bytes per record on average (generated in %.2f s), "
                "rss %.1f MiB\n",
                set.keys.size(), set.owners.size(), static_cast<double>(set.bytes) / static_cast<double>(set.keys.size()),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), current_rss_mib());
    if (options.backend == "memory" || options.backend == "all") {
      run("memory", "mem://", set);
    }
    if (options.backend == "sqlite" || options.backend == "all") {
      namespace fs = std::filesystem;
      std::string dir = options.dir;
      bool remove_dir = false;
      if (dir.empty()) {
        std::string pattern = (fs::temp_directory_path() / "taskctl-bench-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
          std::perror("mkdtemp");
          return 1;
        }
        dir = pattern;
        remove_dir = true;
      }
      const std::string file = dir + "/bench.db";
      fs::remove(file);
      fs::remove(file + "-wal");
      fs::remove(file + "-shm");
      run("sqlite", "sqlite://" + fs::absolute(file).string(), set);
      std::printf("sqlite  database file %.1f MiB\n", static_cast<double>(fs::file_size(file)) / (1024.0 * 1024.0));
      if (remove_dir) {
        fs::remove_all(dir);
      }
    }
    std::printf("peak RSS %.1f MiB\n", peak_rss_mib());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "store_bench: %s\n", describe(e).c_str());
    return 1;
  }
  return 0;
}
