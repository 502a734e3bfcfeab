// Streaming validation benchmark: taskstore::validate_file against `jq empty`
// on the same generated variables document (~100 MB by default).
//
//   bench_validate [--size-mb N] [--runs R] [--dir DIR] [--keep] [--jq PATH]
//
// Writes a variables object (nested objects, arrays, strings with escapes and
// non-ASCII text, integers, floats, booleans, nulls) to DIR (default: the
// system temp directory), then runs each contender R times (default 3), each
// run in a fresh child process: wall time from the parent, peak RSS from
// wait4's rusage. Prints the best throughput and the highest peak of each.
// `bench_validate --validate FILE` is the child's side: one validate_file run.

#include "taskstore/validate.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

extern char** environ;

namespace {

// xorshift64*: fast and reproducible.
struct Rng
{
  std::uint64_t s = 0x9E3779B97F4A7C15ULL;
  std::uint64_t next()
  {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ULL;
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
};

const char* const k_words[] = {"alpha", "beta", "gamma", "delta", "analyze", "report", "file", "path",
                               "user", "request", "tool", "résumé", "naïve", "日本語", "data", "x",
                               "progress", "step", "result", "value", "with \\\"quotes\\\"", "tab\\there",
                               "line\\nbreak", "slash/ok", "emoji 😀", "unicode \\u00e9"};

class Writer
{
public:
  explicit Writer(std::FILE* f) : f_(f) {}
  void put(std::string_view s) { std::fwrite(s.data(), 1, s.size(), f_); }
  void put(char c) { std::fputc(c, f_); }
  void words(Rng& rng, std::size_t n)
  {
    put('"');
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0) {
        put(' ');
      }
      put(k_words[rng.below(std::size(k_words))]);
    }
    put('"');
  }
  void number(Rng& rng)
  {
    char buf[64];
    switch (rng.below(4)) {
    case 0:
      put(std::to_string(rng.below(1'000'000)));
      break;
    case 1:
      put(std::to_string(static_cast<std::int64_t>(rng.below(1ULL << 40)) - (1LL << 39)));
      break;
    case 2:
      std::snprintf(buf, sizeof buf, "%.6f", static_cast<double>(rng.below(100'000'000)) / 997.0);
      put(buf);
      break;
    default:
      std::snprintf(buf, sizeof buf, "%.3e", static_cast<double>(rng.below(1'000'000)) * 1e10);
      put(buf);
      break;
    }
  }
  // A value of the given nesting budget.
  void value(Rng& rng, int depth)
  {
    const auto kind = rng.below(depth > 0 ? 10 : 6);
    switch (kind) {
    case 0:
    case 1:
      words(rng, 1 + rng.below(12));
      break;
    case 2:
    case 3:
      number(rng);
      break;
    case 4:
      put(rng.below(2) ? "true" : "false");
      break;
    case 5:
      put("null");
      break;
    case 6:
    case 7: {
      put('[');
      const auto n = rng.below(8);
      for (std::uint64_t i = 0; i < n; ++i) {
        if (i > 0) {
          put(',');
        }
        value(rng, depth - 1);
      }
      put(']');
      break;
    }
    default: {
      put('{');
      const auto n = 1 + rng.below(6);
      for (std::uint64_t i = 0; i < n; ++i) {
        if (i > 0) {
          put(',');
        }
        put("\"field_");
        put(std::to_string(i));
        put("\":");
        value(rng, depth - 1);
      }
      put('}');
      break;
    }
    }
  }

private:
  std::FILE* f_;
};

// Writes a variables object of about `bytes` bytes to path; returns its size.
std::uintmax_t
generate(const std::string& path, std::uintmax_t bytes)
{
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  }
  std::vector<char> buffer(1 << 20);
  std::setvbuf(f, buffer.data(), _IOFBF, buffer.size());
  Writer w(f);
  Rng rng;
  w.put('{');
  for (std::uint64_t i = 0;; ++i) {
    if (i > 0) {
      w.put(',');
    }
    w.put("\"var_");
    w.put(std::to_string(i));
    w.put("\":{\"id\":");
    w.put(std::to_string(rng.next() >> 20));
    w.put(",\"name\":");
    w.words(rng, 2 + rng.below(4));
    w.put(",\"tags\":[");
    for (std::uint64_t t = 0, n = rng.below(5); t < n; ++t) {
      w.put(t > 0 ? ",\"" : "\"");
      w.put(k_words[rng.below(std::size(k_words))]);
      w.put('"');
    }
    w.put("],\"score\":");
    w.number(rng);
    w.put(",\"payload\":");
    w.value(rng, 5);
    w.put(",\"history\":[");
    for (std::uint64_t h = 0, n = rng.below(4); h < n; ++h) {
      if (h > 0) {
        w.put(',');
      }
      w.put("{\"step\":");
      w.put(std::to_string(h));
      w.put(",\"ok\":");
      w.put(rng.below(2) ? "true" : "false");
      w.put(",\"note\":");
      w.words(rng, 1 + rng.below(20));
      w.put('}');
    }
    w.put("]}");
    if (i % 256 == 0 && static_cast<std::uintmax_t>(std::ftell(f)) >= bytes) {
      break;
    }
  }
  w.put('}');
  if (std::fclose(f) != 0) {
    throw std::runtime_error("cannot write " + path);
  }
  return std::filesystem::file_size(path);
}

struct Run
{
  double seconds = 0;     // wall clock
  double cpu_seconds = 0; // user + system of the child
  double peak_mb = 0;
  int status = 0;
};

// Runs argv in a child process; wall time and the child's peak RSS.
Run
run_child(const std::vector<std::string>& args, bool quiet)
{
  std::vector<char*> argv;
  for (const auto& a : args) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (quiet) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  }
  std::cout.flush();
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  if (posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
    posix_spawn_file_actions_destroy(&actions);
    throw std::runtime_error("cannot run " + args[0]);
  }
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  const auto end = std::chrono::steady_clock::now();
  Run r;
  r.seconds = std::chrono::duration<double>(end - start).count();
  r.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                  static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  r.peak_mb = static_cast<double>(usage.ru_maxrss) / 1024.0; // KiB on Linux
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

int
child_validate(const std::string& path)
{
  taskstore::ValidateOptions options;
  const auto start = std::chrono::steady_clock::now();
  const auto report = taskstore::validate_file(path, options);
  const auto end = std::chrono::steady_clock::now();
  std::cout << "  validate_file: " << report.bytes_read << " bytes, variables size " << report.variables_size
            << ", " << report.total_violations << " violation(s)";
  for (const auto& v : report.violations) {
    std::cout << " [" << taskstore::to_string(v.rule) << " " << v.pointer << ": " << v.message << "]";
  }
  std::cout << ", in-process " << std::chrono::duration<double>(end - start).count() << " s\n";
  return report.syntax_error_at ? 2 : 0;
}

} // namespace

int
main(int argc, char** argv)
{
  double size_mb = 100;
  int runs = 3;
  std::string dir = std::filesystem::temp_directory_path().string();
  std::string jq = "jq";
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "missing value for " << a << "\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--validate") {
      return child_validate(value());
    } else if (a == "--size-mb") {
      size_mb = std::stod(value());
    } else if (a == "--runs") {
      runs = std::max(1, std::stoi(value()));
    } else if (a == "--dir") {
      dir = value();
    } else if (a == "--jq") {
      jq = value();
    } else if (a == "--keep") {
      keep = true;
    } else {
      std::cerr << "usage: bench_validate [--size-mb N] [--runs R] [--dir DIR] [--keep] [--jq PATH]\n";
      return 2;
    }
  }

  const std::string path = dir + "/taskctl-bench-variables-" + std::to_string(::getpid()) + ".json";
  std::cout << "generating " << size_mb << " MB of variables JSON in " << path << "\n";
  const auto bytes = generate(path, static_cast<std::uintmax_t>(size_mb * 1e6));
  const double mb = static_cast<double>(bytes) / 1e6;
  std::cout << "file: " << bytes << " bytes (" << mb << " MB)\n";

  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  struct Contender
  {
    std::string name;
    std::vector<std::string> args;
    bool quiet;
  };
  const std::vector<Contender> contenders = {
    {"taskstore validate_file", {self, "--validate", path}, false},
    {"jq empty", {jq, "empty", path}, true},
  };
  int failures = 0;
  struct Result
  {
    double wall_mbs;
    double cpu_mbs;
    double peak_mb;
  };
  std::vector<Result> results;
  for (const auto& c : contenders) {
    std::cout << c.name << ":\n";
    Result best{0, 0, 0};
    for (int r = 0; r < runs; ++r) {
      const Run run = run_child(c.args, c.quiet || r > 0);
      if (run.status != 0) {
        std::cout << "  run " << r + 1 << " exited with status " << run.status << "\n";
        ++failures;
      }
      best.wall_mbs = std::max(best.wall_mbs, mb / run.seconds);
      best.cpu_mbs = std::max(best.cpu_mbs, mb / run.cpu_seconds);
      best.peak_mb = std::max(best.peak_mb, run.peak_mb);
      std::printf("  run %d: wall %.3f s (%.1f MB/s), cpu %.3f s (%.1f MB/s), peak RSS %.1f MB\n", r + 1,
                  run.seconds, mb / run.seconds, run.cpu_seconds, mb / run.cpu_seconds, run.peak_mb);
      std::fflush(stdout);
    }
    results.push_back(best);
  }
  std::printf("\nsummary (%.1f MB file, best of %d runs; cpu = user + system time of the process)\n", mb, runs);
  for (std::size_t i = 0; i < contenders.size(); ++i) {
    std::printf("  %-24s wall %7.1f MB/s   cpu %7.1f MB/s   peak RSS %7.1f MB\n", contenders[i].name.c_str(),
                results[i].wall_mbs, results[i].cpu_mbs, results[i].peak_mb);
  }
  if (results.size() == 2) {
    std::printf("  validate / jq: %.2fx wall, %.2fx cpu throughput; %.1fx less peak memory\n",
                results[0].wall_mbs / results[1].wall_mbs, results[0].cpu_mbs / results[1].cpu_mbs,
                results[1].peak_mb / results[0].peak_mb);
  }
  if (!keep) {
    std::filesystem::remove(path);
  }
  return failures == 0 ? 0 : 1;
}
