#pragma once
// Helpers of the redis tests and benchmark: the real redis-cli and
// redis-server binaries run as subprocesses (found on PATH; a missing binary
// is a failure with a clear message, never a skip).

#include "support/temp_dir.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include <sys/types.h>

namespace taskstore::redis_test {

// The full path of program on PATH. Throws std::runtime_error naming the
// program (and the Debian package that has it) when it is not there.
std::string find_program(const std::string& program);

struct RunResult
{
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs argv (argv[0] looked up on PATH) without a shell, stdin closed, and
// returns its exit code and output. Throws when it cannot be started.
RunResult run(const std::vector<std::string>& argv);

// The shared test server's URL: TASKCTL_TEST_REDIS_URL, or when
// TASKCTL_TEST_REDIS_SHARED=tls the TLS one, TASKCTL_TEST_REDIS_TLS_URL
// (rediss://...?cacert=...). Throws a clear error when it is unset: a
// missing server is a failure.
std::string shared_url();

// "URL?prefix=P" (or "&prefix=P" when URL has a query already), P percent-encoded.
std::string with_prefix(const std::string& url, const std::string& prefix);

// text with the glob characters of a SCAN/KEYS pattern escaped.
std::string glob_escape(const std::string& text);

// redis-cli against a server: connection arguments (-u URL, or -s SOCKET).
class RedisCli
{
public:
  static RedisCli url(std::string url); // redis:// or rediss:// (its ?cacert= &cert= &key= used)
  static RedisCli socket(std::string path, int db = 0);

  // Runs one command; returns its raw-mode stdout with the final newline
  // removed. Throws (with redis-cli's output) when redis-cli exits non-zero or
  // the reply is an error ("(error) ..." / "ERR ..." on stderr or stdout).
  std::string operator()(const std::vector<std::string>& command) const;

  // The reply split in lines (raw mode prints one array element per line).
  std::vector<std::string> lines(const std::vector<std::string>& command) const;

  // The connection arguments.
  const std::vector<std::string>& args() const { return args_; }

private:
  std::vector<std::string> args_;
};

// A TCP port on 127.0.0.1 nothing listens on (bound then released).
int free_port();

// Makes the certificates of tests/redis/make_certs.sh in dir (see there).
// Throws with its output when it fails.
void make_certs(const std::string& dir);

using taskstore::testing::TempDir;

// A redis-server of our own on 127.0.0.1, started in the foreground as a child
// process. Killed (SIGKILL) by the destructor if still running, and by the
// kernel if this process dies first (PR_SET_PDEATHSIG).
class RedisServer
{
public:
  struct Options
  {
    int port = 0;                  // 0: pick a free port
    std::string dir;               // working directory ("" = a temp dir of its own)
    bool persistent = false;       // append-only file (fsync every second until make_durable)
    std::string unix_socket;       // also listen on this socket
    bool tcp = true;               // false: --port 0 (socket only)
    std::vector<std::string> extra;
    // TLS only (--port 0 --tls-port PORT) when set: the directory of
    // make_certs.sh's certificates, the one the server presents ("server",
    // "other-name", "expired") and --tls-auth-clients (no, yes, optional).
    std::string tls_certs;
    std::string tls_server_cert = "server";
    std::string tls_auth_clients = "no";
  };

  RedisServer() : RedisServer(Options{}) {}
  explicit RedisServer(Options options);
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return options_.port; }
  // redis://127.0.0.1:PORT, or for TLS rediss://127.0.0.1:PORT?cacert=CERTS/ca.crt.
  std::string url() const;
  const std::string& dir() const { return options_.dir; }
  pid_t pid() const { return pid_; }
  RedisCli cli() const;

  void pause();    // SIGSTOP: the server hangs, connections stay open
  void resume();   // SIGCONT
  void kill_now(); // SIGKILL and reap: the server is gone
  void terminate();// SIGTERM and reap (a clean shutdown)
  void start();    // (re)start with the same options and wait until it answers PING
  // Persistent servers: fsyncs everything written so far and every write from
  // now on (appendfsync always), so a SIGKILL loses nothing acknowledged.
  void make_durable();

private:
  Options options_;
  std::unique_ptr<TempDir> own_dir_;
  pid_t pid_ = -1;
  void reap();
};

} // namespace taskstore::redis_test
