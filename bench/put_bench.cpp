// put of one record holding 1 MiB of variables, through the real taskctl
// binary, against a bare nlohmann parse of the same bytes (the least any
// program that reads the record must spend). Prints median CPU figures.
//
//   put_bench --taskctl PATH [--runs N] [--dir DIR]

#include <nlohmann/json.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

// A TaskRecord whose variables hold just under 1 MiB (the default limit is
// 1,048,576 bytes): variables of nested
// objects with strings and numbers.
std::string
make_record()
{
  std::string vars;
  for (int v = 0; v < 100 && vars.size() < 1'030'000; ++v) {
    if (!vars.empty()) {
      vars += ',';
    }
    vars += "\"var" + std::to_string(v) + "\":{\"items\":[";
    for (int i = 0; i < 200; ++i) {
      if (i > 0) {
        vars += ',';
      }
      vars += "{\"id\":" + std::to_string(v * 1000 + i) + ",\"name\":\"item-" + std::to_string(i) +
              "\",\"score\":" + std::to_string(i) + ".25,\"tags\":[\"a\",\"b\"],\"ok\":true}";
    }
    vars += "]}";
  }
  return R"({"task":{"taskId":"t1","status":"working","createdAt":"2025-11-25T10:30:00.123Z","lastUpdatedAt":"2025-11-25T10:30:00.123Z","ttl":null},"ownerId":"bench","variables":{)" +
         vars + R"(},"result":null,"requestMethod":"tools/call","expiresAt":null})";
}

double
cpu_seconds()
{
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double
median(std::vector<double> v)
{
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Runs argv, returns its user+system CPU seconds (exits on failure).
double
run_child(const std::vector<std::string>& args)
{
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) {
      argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    std::freopen("/dev/null", "w", stdout);
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "put_bench: %s exited with %d\n", args[0].c_str(), WEXITSTATUS(status));
    std::exit(1);
  }
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return secs(usage.ru_utime) + secs(usage.ru_stime);
}

} // namespace

int
main(int argc, char** argv)
{
  std::string taskctl;
  std::string dir = "/tmp";
  int runs = 15;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--taskctl") {
      taskctl = argv[i + 1];
    } else if (a == "--runs") {
      runs = std::atoi(argv[i + 1]);
    } else if (a == "--dir") {
      dir = argv[i + 1];
    }
  }
  if (taskctl.empty()) {
    std::fprintf(stderr, "usage: put_bench --taskctl PATH [--runs N] [--dir DIR]\n");
    return 2;
  }
  const std::string record = make_record();
  const std::string file = dir + "/put_bench_record.json";
  const std::string db = dir + "/put_bench.db";
  std::ofstream(file, std::ios::binary) << record;
  std::remove(db.c_str());

  std::vector<double> parse;
  for (int i = 0; i < runs; ++i) {
    std::ifstream in(file, std::ios::binary);
    const double start = cpu_seconds();
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto doc = nlohmann::ordered_json::parse(bytes);
    parse.push_back(cpu_seconds() - start);
    if (!doc.is_object()) {
      return 1;
    }
  }
  // The first put creates the store (if the binary needs --create, say so through TASKCTL_CREATE).
  ::setenv("TASKCTL_CREATE", "1", 1);
  std::vector<double> put;
  for (int i = 0; i <= runs; ++i) {
    const double cpu = run_child({taskctl, "-s", "sqlite://" + db, "put", "bench:t1", file});
    if (i > 0) {
      put.push_back(cpu); // the first run created the store
    }
  }
  std::vector<double> version;
  for (int i = 0; i < runs; ++i) {
    version.push_back(run_child({taskctl, "--version"}));
  }
  const double p = median(parse);
  const double t = median(put);
  const double v = median(version);
  std::printf("record: %zu bytes (variables about 1 MiB), %d runs, median CPU (user+system)\n", record.size(), runs);
  std::printf("  bare nlohmann::ordered_json::parse (read + parse) %8.2f ms\n", p * 1e3);
  std::printf("  taskctl put (whole process, sqlite)               %8.2f ms   %.1fx the bare parse\n", t * 1e3,
              t / p);
  std::printf("  taskctl --version (process start-up floor)        %8.2f ms\n", v * 1e3);
  std::printf("  taskctl put minus start-up                        %8.2f ms   %.1fx the bare parse\n",
              (t - v) * 1e3, (t - v) / p);
  std::remove(file.c_str());
  std::remove(db.c_str());
  return 0;
}
