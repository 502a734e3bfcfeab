#include "net_support.hpp"

#include "support/temp_dir.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef TASKCTL_BIN
#error "TASKCTL_BIN must name the taskctl binary"
#endif
#ifndef TASKCTL_DYNALITE_CLI
#error "TASKCTL_DYNALITE_CLI must name dynalite's cli.js"
#endif

extern char** environ;

namespace faults {
namespace {

using Clock = std::chrono::steady_clock;

double
seconds_since(Clock::time_point t)
{
  return std::chrono::duration<double>(Clock::now() - t).count();
}

int
free_port()
{
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error(std::string("cannot find a free port: ") + std::strerror(errno));
  }
  socklen_t length = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool
can_connect(int port)
{
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// fork + exec of argv with env, stdin /dev/null; out/err pipes when given.
// The child is killed when this process dies.
pid_t
spawn(std::vector<std::string> argv, const std::vector<std::string>& env, int out_fd, int err_fd)
{
  std::vector<char*> args;
  for (auto& a : argv) {
    args.push_back(a.data());
  }
  args.push_back(nullptr);
  std::vector<std::string> env_copy = env;
  std::vector<char*> envp;
  for (auto& e : env_copy) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);
  const pid_t parent = ::getpid();
  const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) {
      ::_exit(127);
    }
    ::dup2(devnull, STDIN_FILENO);
    ::dup2(out_fd >= 0 ? out_fd : devnull, STDOUT_FILENO);
    ::dup2(err_fd >= 0 ? err_fd : devnull, STDERR_FILENO);
    // A clean signal state: the test runner may block or ignore some.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGPIPE, SIG_DFL);
    ::execvpe(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  ::close(devnull);
  return pid;
}

std::vector<std::string>
current_environment()
{
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    env.emplace_back(*e);
  }
  return env;
}

} // namespace

Dynalite::Dynalite()
{
  const std::string cli = TASKCTL_DYNALITE_CLI;
  if (!std::filesystem::exists(cli)) {
    throw std::runtime_error("dynalite is not installed: " + cli + " is missing (run `npm ci` in the source directory)");
  }
  port_ = free_port();
  pid_ = spawn({"node", cli, "--host", "127.0.0.1", "--port", std::to_string(port_), "--createTableMs", "0",
                "--deleteTableMs", "0", "--updateTableMs", "0"},
               current_environment(), -1, -1);
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (!can_connect(port_)) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("dynalite exited before listening (is node on PATH?)");
    }
    if (Clock::now() > deadline) {
      throw std::runtime_error("dynalite did not listen within 30 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Dynalite::~Dynalite()
{
  if (pid_ > 0) {
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

void
Dynalite::pause()
{
  ::kill(pid_, SIGSTOP);
}

void
Dynalite::resume()
{
  ::kill(pid_, SIGCONT);
}

Outcome
run(const Plan& plan)
{
  taskstore::testing::TempDir home;
  std::vector<std::string> env;
  for (const std::string& e : current_environment()) {
    if (e.rfind("TASKCTL_", 0) == 0 || e.rfind("AWS_", 0) == 0 || e.rfind("HOME=", 0) == 0 ||
        e.rfind("NO_COLOR=", 0) == 0 || e.rfind("XDG_", 0) == 0) {
      continue;
    }
    env.push_back(e);
  }
  env.push_back("HOME=" + home.path());
  env.push_back("AWS_ACCESS_KEY_ID=taskctl-fault-key");
  env.push_back("AWS_SECRET_ACCESS_KEY=taskctl-fault-secret");
  env.push_back("AWS_REGION=us-east-1");
  for (const auto& [name, value] : plan.env) {
    env.push_back(name + "=" + value);
  }
  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  std::vector<std::string> argv{TASKCTL_BIN};
  argv.insert(argv.end(), plan.args.begin(), plan.args.end());
  const pid_t pid = spawn(argv, env, out[1], err[1]);
  ::close(out[1]);
  ::close(err[1]);

  Outcome o;
  Clock::time_point triggered_at;
  std::optional<Clock::time_point> signalled_at;
  const auto trigger = [&] {
    if (plan.on_trigger) {
      plan.on_trigger();
    }
    o.triggered = true;
    triggered_at = Clock::now();
  };
  if (plan.after_output.empty()) {
    trigger();
  }
  const auto started = Clock::now();
  bool out_open = true;
  bool err_open = true;
  std::optional<Clock::time_point> hold_until;
  while (out_open || err_open) {
    if (hold_until && Clock::now() >= *hold_until) {
      hold_until.reset();
      trigger();
    }
    if (o.triggered && plan.signal != 0 && !signalled_at && Clock::now() - triggered_at >= plan.settle) {
      ::kill(pid, plan.signal);
      signalled_at = Clock::now();
    }
    const auto since = o.triggered ? triggered_at : started;
    if (Clock::now() - since > plan.watchdog) {
      ::kill(pid, SIGKILL);
      o.killed = true;
      break;
    }
    pollfd fds[2] = {{out_open && !hold_until ? out[0] : -1, POLLIN, 0}, {err_open ? err[0] : -1, POLLIN, 0}};
    ::poll(fds, 2, 20);
    char buffer[65536];
    for (int i = 0; i < 2; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        (i == 0 ? o.out : o.err).append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        (i == 0 ? out_open : err_open) = false;
      }
    }
    if (!o.triggered && !hold_until && o.out.find(plan.after_output) != std::string::npos) {
      if (plan.hold.count() > 0) {
        hold_until = Clock::now() + plan.hold;
      } else {
        trigger();
      }
    }
  }
  ::close(out[0]);
  ::close(err[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (o.triggered) {
    o.after_trigger = seconds_since(triggered_at);
  }
  if (signalled_at) {
    o.after_signal = seconds_since(*signalled_at);
  }
  return o;
}

std::string
describe(const Outcome& o)
{
  return "exit " + std::to_string(o.exit_code) + (o.killed ? " (killed by the watchdog)" : "") +
         (o.triggered ? "" : " (never triggered)") + ", " + std::to_string(o.after_trigger) +
         " s after the trigger, " + std::to_string(o.after_signal) + " s after the signal\n--- stderr:\n" +
         o.err.substr(0, 4000) + "\n--- stdout (" + std::to_string(o.out.size()) + " bytes):\n" +
         o.out.substr(0, 1000);
}

} // namespace faults
