#include "redis/support.hpp"

#include "contract/stores.hpp"

#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace taskstore::redis_test {

namespace {

std::string
errno_text(const std::string& what)
{
  return what + ": " + std::strerror(errno);
}

// Spawns argv with stdin from /dev/null and stdout/stderr to the given fds
// (-1 = /dev/null). Returns the pid.
pid_t
spawn(const std::vector<std::string>& argv, int out_fd, int err_fd)
{
  const std::string path = find_program(argv.at(0));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (out_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  } else {
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  }
  if (err_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  } else {
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  }
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, path.c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error("cannot start " + path + ": " + std::strerror(rc));
  }
  return pid;
}

// Starts a long-lived child (redis-server) that dies with this process, even
// when a test crashes (PR_SET_PDEATHSIG), output to /dev/null.
pid_t
spawn_bound(const std::vector<std::string>& argv)
{
  const std::string path = find_program(argv.at(0));
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw std::runtime_error(errno_text("fork"));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) {
      ::_exit(127);
    }
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execv(path.c_str(), args.data());
    ::_exit(127);
  }
  return pid;
}

} // namespace

std::string
find_program(const std::string& program)
{
  if (program.find('/') != std::string::npos) {
    return program;
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t end = std::min(dirs.find(':', start), dirs.size());
    std::string dir = dirs.substr(start, end - start);
    if (dir.empty()) {
      dir = ".";
    }
    const std::string candidate = dir + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  const char* package = program == "redis-server" ? "redis-server"
                        : program == "redis-cli"  ? "redis-tools"
                                                  : nullptr;
  throw std::runtime_error(program + " is not on PATH" +
                           (package != nullptr ? std::string(" (Debian package ") + package + ")"
                                               : std::string()) +
                           ": the redis tests run the real binary");
}

RunResult
run(const std::vector<std::string>& argv)
{
  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    throw std::runtime_error(errno_text("pipe"));
  }
  pid_t pid = -1;
  try {
    pid = spawn(argv, out[1], err[1]);
  } catch (...) {
    for (int fd : {out[0], out[1], err[0], err[1]}) {
      ::close(fd);
    }
    throw;
  }
  ::close(out[1]);
  ::close(err[1]);
  RunResult result;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_count = 2;
  char buffer[65536];
  while (open_count > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
        if (n > 0) {
          sinks[i]->append(buffer, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          ::close(fds[i].fd);
          fds[i].fd = -1;
          --open_count;
        }
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string
shared_url()
{
  const char* over = std::getenv("TASKCTL_TEST_REDIS_SHARED");
  const bool tls = over != nullptr && std::string(over) == "tls";
  const char* variable = tls ? "TASKCTL_TEST_REDIS_TLS_URL" : "TASKCTL_TEST_REDIS_URL";
  const char* url = std::getenv(variable);
  if (url == nullptr || *url == '\0') {
    throw std::runtime_error(std::string(variable) + " is not set: the redis tests need a running redis-server, e.g. " +
                             variable + "=" +
                             (tls ? "rediss://127.0.0.1:6391?cacert=/path/ca.crt" : "redis://127.0.0.1:6390") +
                             " (scripts/test starts one)");
  }
  return url;
}

std::string
with_prefix(const std::string& url, const std::string& prefix)
{
  std::string encoded;
  for (unsigned char c : prefix) {
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      encoded.push_back(static_cast<char>(c));
    } else {
      static const char* hex = "0123456789ABCDEF";
      encoded += {'%', hex[c >> 4], hex[c & 15]};
    }
  }
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "prefix=" + encoded;
}

std::string
glob_escape(const std::string& text)
{
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out;
}

RedisCli
RedisCli::url(std::string url)
{
  RedisCli cli;
  cli.args_ = taskstore::testing::redis_cli_connection(url);
  return cli;
}

RedisCli
RedisCli::socket(std::string path, int db)
{
  RedisCli cli;
  cli.args_ = {"-s", std::move(path), "-n", std::to_string(db)};
  return cli;
}

std::string
RedisCli::operator()(const std::vector<std::string>& command) const
{
  std::vector<std::string> argv{"redis-cli", "--no-auth-warning"};
  argv.insert(argv.end(), args_.begin(), args_.end());
  argv.insert(argv.end(), command.begin(), command.end());
  RunResult r = run(argv);
  std::string text = r.out;
  if (!text.empty() && text.back() == '\n') {
    text.pop_back();
  }
  const bool error_reply = text.rfind("ERR", 0) == 0 || text.rfind("WRONGTYPE", 0) == 0 ||
                           text.rfind("NOAUTH", 0) == 0 || text.rfind("WRONGPASS", 0) == 0 ||
                           text.rfind("(error)", 0) == 0;
  if (r.exit_code != 0 || error_reply) {
    std::string cmd;
    for (const auto& a : command) {
      cmd += (cmd.empty() ? "" : " ") + a.substr(0, 60);
    }
    throw std::runtime_error("redis-cli " + cmd + " failed (exit " + std::to_string(r.exit_code) +
                             "): " + r.out + r.err);
  }
  return text;
}

std::vector<std::string>
RedisCli::lines(const std::vector<std::string>& command) const
{
  const std::string text = (*this)(command);
  std::vector<std::string> out;
  if (text.empty()) {
    return out;
  }
  std::size_t start = 0;
  for (;;) {
    const auto nl = text.find('\n', start);
    out.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) {
      break;
    }
    start = nl + 1;
  }
  return out;
}

int
free_port()
{
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw std::runtime_error(errno_text("socket"));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string text = errno_text("bind 127.0.0.1:0");
    ::close(fd);
    throw std::runtime_error(text);
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}



RedisServer::RedisServer(Options options) : options_(std::move(options))
{
  if (options_.dir.empty()) {
    own_dir_ = std::make_unique<TempDir>();
    options_.dir = own_dir_->path();
  }
  if (options_.port == 0 && options_.tcp) {
    options_.port = free_port();
  }
  start();
}

RedisServer::~RedisServer()
{
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    reap();
  }
}

std::string
RedisServer::url() const
{
  if (!options_.tls_certs.empty()) {
    return "rediss://127.0.0.1:" + std::to_string(options_.port) + "?cacert=" + options_.tls_certs + "/ca.crt";
  }
  return "redis://127.0.0.1:" + std::to_string(options_.port);
}

RedisCli
RedisServer::cli() const
{
  if (!options_.tcp) {
    return RedisCli::socket(options_.unix_socket);
  }
  if (!options_.tls_certs.empty()) {
    // Whatever the server presents, with the client certificate it may ask for.
    return RedisCli::url("rediss://127.0.0.1:" + std::to_string(options_.port) + "?insecure=1&cert=" +
                         options_.tls_certs + "/client.crt&key=" + options_.tls_certs + "/client.key");
  }
  return RedisCli::url(url());
}

void
make_certs(const std::string& dir)
{
  RunResult r = run({"bash", TASKCTL_MAKE_CERTS, dir});
  if (r.exit_code != 0) {
    throw std::runtime_error(std::string(TASKCTL_MAKE_CERTS) + " failed: " + r.out + r.err);
  }
}

void
RedisServer::start()
{
  if (pid_ > 0) {
    throw std::runtime_error("redis-server already running");
  }
  const bool tls = !options_.tls_certs.empty();
  std::vector<std::string> argv{"redis-server",
                                "--bind", "127.0.0.1",
                                "--port", std::to_string(options_.tcp && !tls ? options_.port : 0),
                                "--save", "",
                                "--appendonly", options_.persistent ? "yes" : "no",
                                "--dir", options_.dir,
                                "--logfile", options_.dir + "/redis-server.log",
                                "--daemonize", "no"};
  if (options_.persistent) {
    argv.insert(argv.end(), {"--appendfsync", "everysec"});
  }
  if (!options_.unix_socket.empty()) {
    argv.insert(argv.end(), {"--unixsocket", options_.unix_socket, "--unixsocketperm", "700"});
  }
  if (tls) {
    const std::string& d = options_.tls_certs;
    argv.insert(argv.end(), {"--tls-port", std::to_string(options_.port), "--tls-cert-file",
                             d + "/" + options_.tls_server_cert + ".crt", "--tls-key-file",
                             d + "/" + options_.tls_server_cert + ".key", "--tls-ca-cert-file", d + "/ca.crt",
                             "--tls-auth-clients", options_.tls_auth_clients});
  }
  argv.insert(argv.end(), options_.extra.begin(), options_.extra.end());
  pid_ = spawn_bound(argv);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::vector<std::string> ping{"redis-cli"};
  if (tls) {
    const auto args = cli().args();
    ping.insert(ping.end(), args.begin(), args.end());
  } else if (options_.tcp) {
    ping.insert(ping.end(), {"-h", "127.0.0.1", "-p", std::to_string(options_.port)});
  } else {
    ping.insert(ping.end(), {"-s", options_.unix_socket});
  }
  ping.push_back("PING");
  for (;;) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::string log;
      RunResult tail = run({"tail", "-n", "20", options_.dir + "/redis-server.log"});
      throw std::runtime_error("redis-server exited at start; its log:\n" + tail.out);
    }
    if (run(ping).out == "PONG\n") {
      return;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("redis-server did not answer PING within 30 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void
RedisServer::make_durable()
{
  const RedisCli c = cli();
  c({"CONFIG", "SET", "appendfsync", "always"});
  // A write under "always": its fsync covers everything before it.
  c({"SET", "taskctl-test:fsync", "1"});
}

void
RedisServer::pause()
{
  ::kill(pid_, SIGSTOP);
}

void
RedisServer::resume()
{
  ::kill(pid_, SIGCONT);
}

void
RedisServer::kill_now()
{
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    reap();
  }
}

void
RedisServer::terminate()
{
  if (pid_ > 0) {
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGTERM);
    reap();
  }
}

void
RedisServer::reap()
{
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

} // namespace taskstore::redis_test
