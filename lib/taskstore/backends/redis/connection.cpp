// The Redis connections: RAII hiredis handles, connecting (TCP, Unix
// sockets, TLS through tls.hpp) under one deadline, the socket waits that
// watch interrupt_fd(), pipelined send/receive, the pool of idle
// connections, and the one translation of hiredis and TLS errors into the
// library's. About 850 lines, one concern: every byte to and from a Redis
// server passes here, so the waits, the TLS reads and writes and the error
// translation stay beside each other.
#include "taskstore/backends/redis/connection.hpp"

#include "taskstore/backends/redis/tls.hpp"

#include "taskstore/error.hpp"
#include "taskstore/interrupt.hpp"
#include "taskstore/uri.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace taskstore::redis_detail {
namespace {

constexpr std::size_t max_idle_connections = 4;

// ---------------------------------------------------------------------------
// Error translation: the ONE place where hiredis and Redis failures become
// taskstore errors.

struct Failure
{
  Stage stage = Stage::command;
  int io_error = 0;  // hiredis redisContext::err; 0 for an error reply
  int sys_errno = 0; // errno right after the failure
  std::string text;  // hiredis errstr, or the error reply
  std::string key;   // the record key concerned ("" when none)
  bool unanswered = false; // a plain TCP connection that has had no reply yet
};

bool
is_timeout(const Failure& f)
{
  if (f.io_error != REDIS_ERR_IO) {
    return false;
  }
  return f.sys_errno == EAGAIN || f.sys_errno == EWOULDBLOCK || f.sys_errno == ETIMEDOUT ||
         f.text.find("timed out") != std::string::npos ||
         f.text.find("temporarily unavailable") != std::string::npos;
}

// Throws the taskstore error for f, the hiredis/Redis text nested as its cause.
// Unreachable/timed out -> StorageError::backend(unavailable); rejected
// credentials or setup -> ConfigError; Redis out of memory -> capacity_exceeded;
// anything else -> StorageError::backend("Redis error for key K: ...").
[[noreturn]] void
raise(const Settings& s, const Failure& f)
{
  const std::string& at = s.address;
  auto with_cause = [&](auto error) {
    try {
      throw std::runtime_error((f.io_error != 0 ? "hiredis: " : "redis: ") + f.text);
    } catch (...) {
      std::throw_with_nested(error);
    }
  };

  if (f.io_error != 0) {
    // A TLS port resets or closes a plain client's connection at its first
    // command (a hung server times out instead: no hint there): the
    // likeliest reason, when nothing ever came back.
    const std::string tls_hint = f.unanswered ? " (if that port expects TLS, use rediss://)" : "";
    if (is_timeout(f)) {
      with_cause(StorageError::backend("Redis at " + at + " did not answer within " +
                                         std::to_string(s.timeout.count()) + " ms (timed out)",
                                       true));
    }
    if (f.io_error == REDIS_ERR_EOF) {
      with_cause(StorageError::backend("the connection to Redis at " + at + " was closed" +
                                         (f.unanswered ? " before any reply" + tls_hint : std::string()),
                                       true));
    }
    if (f.io_error == REDIS_ERR_PROTOCOL && f.unanswered) {
      with_cause(StorageError::backend("Redis at " + at + " answered with something that is not Redis' "
                                         "protocol" + tls_hint + ": " + f.text));
    }
    if (f.stage == Stage::connect) {
      with_cause(StorageError::backend("cannot connect to Redis at " + at + ": " + f.text, true));
    }
    if (f.io_error == REDIS_ERR_IO) {
      with_cause(StorageError::backend("lost the connection to Redis at " + at + ": " + f.text + tls_hint, true));
    }
    with_cause(StorageError::backend("Redis client failure talking to " + at + ": " + f.text));
  }

  const std::string_view code = error_code(f.text);
  const std::string who = s.user.empty() ? std::string() : " for user '" + s.user + "'";
  if (code == "NOAUTH") {
    with_cause(ConfigError("Redis at " + at + " requires authentication: supply a password"));
  }
  if (code == "WRONGPASS" ||
      (f.stage == Stage::handshake && f.text.find("password") != std::string::npos)) {
    with_cause(ConfigError("Redis at " + at + " rejected the credentials" + who));
  }
  if (code == "NOPERM") {
    with_cause(ConfigError("Redis at " + at + " denied a command" + who + ": " + f.text));
  }
  if (f.stage == Stage::handshake) {
    with_cause(ConfigError("Redis at " + at + " refused the connection setup: " + f.text));
  }
  if (code == "LOADING" || code == "BUSY" || code == "MASTERDOWN" || code == "TRYAGAIN" ||
      code == "CLUSTERDOWN") {
    with_cause(StorageError::backend("Redis at " + at + " is not ready: " + f.text, true));
  }
  if (code == "OOM") {
    with_cause(StorageError::capacity_exceeded("Redis at " + at + " is out of memory: " + f.text));
  }
  if (code == "MOVED" || code == "ASK" || code == "CROSSSLOT") {
    with_cause(StorageError::backend("Redis Cluster is not supported (" + at + "): " + f.text));
  }
  with_cause(StorageError::backend(f.key.empty() ? "Redis error: " + f.text
                                                 : "Redis error for key " + f.key + ": " + f.text));
  std::abort(); // unreachable: with_cause always throws
}

// Throws the taskstore error for a TLS failure (tls.hpp) at stage: a
// certificate refused, either way, or a TLS file that cannot be used ->
// ConfigError; a server that does not speak TLS -> ConfigError; the
// connection closed or failing -> StorageError::backend(unavailable);
// libssl missing or any other TLS error -> StorageError::backend. OpenSSL's
// text is nested as the cause.
[[noreturn]] void
raise_tls(const Settings& s, const TlsError& e, const std::string& key)
{
  const std::string& at = s.address;
  auto with_cause = [&](auto error) {
    if (e.openssl.empty()) {
      throw error;
    }
    try {
      throw std::runtime_error("openssl: " + e.openssl);
    } catch (...) {
      std::throw_with_nested(error);
    }
  };
  const std::string about = key.empty() ? std::string() : " (key " + key + ")";
  using Kind = TlsError::Kind;
  if (e.kind == Kind::file) {
    with_cause(ConfigError("the TLS settings of " + at + " cannot be used: " + e.what()));
  }
  if (e.kind == Kind::certificate) {
    with_cause(ConfigError("TLS connection to Redis at " + at + " failed: " + e.what()));
  }
  if (e.kind == Kind::not_tls) {
    with_cause(ConfigError("Redis at " + at + " does not speak TLS: " + e.what() + "; for a plain port use redis://"));
  }
  if (e.kind == Kind::closed) {
    with_cause(StorageError::backend("the TLS connection to Redis at " + at + " was closed" + about + ": " + e.what(),
                                     true));
  }
  if (e.kind == Kind::io) {
    with_cause(StorageError::backend("lost the TLS connection to Redis at " + at + about + ": " + e.what(), true));
  }
  if (e.kind == Kind::library) {
    with_cause(StorageError::backend(e.what()));
  }
  with_cause(StorageError::backend("TLS failure talking to Redis at " + at + about + ": " + e.what()));
  std::abort(); // unreachable: with_cause always throws
}

// ---------------------------------------------------------------------------

// hiredis writes with write(2): a peer that went away raises SIGPIPE, which
// would kill the process. Blocks SIGPIPE in this thread for the duration of a
// round trip and swallows one raised meanwhile, leaving the process' signal
// dispositions alone.
class SigpipeGuard
{
public:
  SigpipeGuard()
  {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE) == 0) {
      active_ = pthread_sigmask(SIG_BLOCK, &pipe_, &old_) == 0;
    }
  }
  ~SigpipeGuard()
  {
    if (!active_) {
      return;
    }
    const int saved = errno;
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE) != 0) {
      const timespec zero{0, 0};
      while (sigtimedwait(&pipe_, nullptr, &zero) == -1 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    errno = saved;
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

private:
  sigset_t pipe_;
  sigset_t old_;
  bool active_ = false;
};

// The milliseconds left until until (at least 1 while any time is left; 0 when
// none is), or -1 for no deadline: poll(2)'s timeout.
int
poll_timeout(const std::optional<std::chrono::steady_clock::time_point>& until)
{
  if (!until) {
    return -1;
  }
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(*until - std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 1 << 30));
}

// Polls fd for events beside the interrupt fd, for at most wait ms (-1: no
// limit). Returns fd's revents (0 when the time ran out), or -1 when an
// interrupt is requested. Throws nothing; a poll(2) failure other than EINTR
// is returned as POLLERR so that the caller's next I/O reports it.
int
poll_socket(int fd, short events, int wait)
{
  if (interrupt_requested()) {
    return -1;
  }
  const int ifd = interrupt_fd();
  pollfd fds[2] = {{fd, events, 0}, {ifd, POLLIN, 0}};
  const int count = ifd >= 0 ? 2 : 1;
  if (ifd < 0) {
    // No self-pipe: look at the flag at least every 50 ms.
    wait = wait < 0 ? 50 : std::min(wait, 50);
  }
  const int n = ::poll(fds, static_cast<nfds_t>(count), wait);
  if (interrupt_requested()) {
    return -1;
  }
  if (n < 0) {
    return errno == EINTR ? 0 : POLLERR;
  }
  return fds[0].revents;
}

} // namespace

// ---------------------------------------------------------------------------
// Connection

Connection::Connection(const Settings& settings) : s_(settings)
{
  // A non-blocking connect, awaited under the deadline and the interrupt fd.
  const Deadline until = deadline();
  redisContext* raw = s_.unix_socket ? redisConnectUnixNonBlock(s_.socket_path.c_str())
                                     : redisConnectNonBlock(s_.host.c_str(), s_.port);
  const int saved_errno = errno;
  if (raw == nullptr) {
    raise(s_, Failure{Stage::connect, REDIS_ERR_OOM, 0, "cannot allocate a redis context", ""});
  }
  ctx_.reset(raw);
  if (ctx_->err != 0) {
    raise(s_, Failure{Stage::connect, ctx_->err, saved_errno, ctx_->errstr, ""});
  }
  await_connected(until);
  if (s_.tls) {
    await_tls(until);
  }

  std::vector<Command> setup;
  if (s_.password) {
    Command auth{"AUTH"};
    if (!s_.user.empty()) {
      auth << s_.user;
    }
    auth << *s_.password;
    setup.push_back(std::move(auth));
  }
  if (s_.db != 0) {
    setup.push_back(Command{"SELECT", std::to_string(s_.db)});
  }
  if (!setup.empty()) {
    for (auto& reply : round_trip(setup, Stage::handshake)) {
      if (is_error(reply.get())) {
        broken_ = true;
        raise(s_, Failure{Stage::handshake, 0, 0, std::string(reply_text(reply.get())), ""});
      }
    }
  }
}

Connection::~Connection()
{
  if (tls_ && ctx_ && !broken_) {
    const SigpipeGuard guard; // close_notify is a write
    tls_->close();
  }
}

namespace {

void
append_count(std::string& out, char type, std::size_t n)
{
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.push_back(type);
  out.append(digits, end);
  out.append("\r\n", 2);
}

void
append_bulk(std::string& out, std::string_view arg)
{
  append_count(out, '$', arg.size());
  out.append(arg);
  out.append("\r\n", 2);
}

} // namespace

// Queues the RESP text of a command, formatted here: hiredis's own
// formatter (sdscatfmt) cost more than the rest of a pipelined HMGET.
void
Connection::append_formatted(std::string_view resp, Stage stage, const std::string& key)
{
  if (broken_) {
    raise(s_, Failure{stage, REDIS_ERR_EOF, 0, "connection already failed", key});
  }
  if (redisAppendFormattedCommand(ctx_.get(), resp.data(), resp.size()) != REDIS_OK) {
    broken_ = true;
    raise(s_, Failure{stage, ctx_->err != 0 ? ctx_->err : REDIS_ERR_OOM, errno, ctx_->errstr, key});
  }
  ++outstanding_;
}

void
Connection::append(const Command& command, Stage stage)
{
  std::string& resp = format_scratch_;
  resp.clear();
  append_count(resp, '*', command.args().size());
  for (const std::string& a : command.args()) {
    append_bulk(resp, a);
  }
  append_formatted(resp, stage, command.key);
}

void
Connection::append_hmget(const std::string& hash, const std::string& key)
{
  std::string& resp = format_scratch_;
  resp.assign("*4\r\n$5\r\nHMGET\r\n");
  append_bulk(resp, hash);
  resp.append("$7\r\nversion\r\n$4\r\ndata\r\n");
  append_formatted(resp, Stage::command, key);
}

Connection::Deadline
Connection::deadline() const
{
  if (s_.timeout.count() <= 0) {
    return std::nullopt;
  }
  return std::chrono::steady_clock::now() + s_.timeout;
}

void
Connection::interrupted(const std::string& key)
{
  broken_ = true;
  tls_.reset(); // the session first: it uses the socket
  ctx_.reset(); // closed: nothing half-read can be reused
  throw StorageError::backend("interrupted while waiting for Redis at " + s_.address +
                                (key.empty() ? std::string() : " (key " + key + ")"),
                              true);
}

void
Connection::io_failure(Stage stage, const std::string& key, int sys_errno)
{
  broken_ = true;
  raise(s_, Failure{stage, ctx_->err != 0 ? ctx_->err : REDIS_ERR_IO, sys_errno, ctx_->errstr, key});
}

void
Connection::await_connected(const Deadline& until)
{
  for (;;) {
    const int wait = poll_timeout(until);
    if (wait == 0) {
      broken_ = true;
      raise(s_, Failure{Stage::connect, REDIS_ERR_IO, ETIMEDOUT, "Connection timed out", ""});
    }
    const int revents = poll_socket(ctx_->fd, POLLOUT, wait);
    if (revents < 0) {
      interrupted("");
    }
    if (revents != 0) {
      break;
    }
  }
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(ctx_->fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
    error = errno;
  }
  if (error != 0) {
    broken_ = true;
    raise(s_, Failure{Stage::connect, REDIS_ERR_IO, error, std::strerror(error), ""});
  }
}

void
Connection::tls_failure(Stage, const std::string& key, std::exception_ptr error)
{
  broken_ = true;
  try {
    std::rethrow_exception(error);
  } catch (const TlsError& e) {
    raise_tls(s_, e, key);
  }
}

void
Connection::await_tls(const Deadline& until)
{
  const SigpipeGuard guard; // the handshake writes
  try {
    tls_ = std::make_unique<TlsSession>(*s_.tls, ctx_->fd, s_.host);
    for (;;) {
      const TlsWait want = tls_->handshake();
      if (want == TlsWait::none) {
        return;
      }
      for (;;) {
        const int wait = poll_timeout(until);
        if (wait == 0) {
          broken_ = true;
          throw StorageError::backend("Redis at " + s_.address + " did not complete the TLS handshake within " +
                                        std::to_string(s_.timeout.count()) +
                                        " ms (timed out; a plain port never answers one: use redis:// for it)",
                                      true);
        }
        const int revents = poll_socket(ctx_->fd, want == TlsWait::write ? POLLOUT : POLLIN, wait);
        if (revents < 0) {
          interrupted("");
        }
        if (revents != 0) {
          break;
        }
      }
    }
  } catch (const TlsError&) {
    tls_failure(Stage::connect, "", std::current_exception());
  }
}

void
Connection::send(Stage stage, const std::string& key)
{
  int done = 0;
  if (redisBufferWrite(ctx_.get(), &done) != REDIS_OK) {
    io_failure(stage, key, errno);
  }
}

std::exception_ptr
Connection::send_tls()
{
  // What redisBufferWrite does, through the TLS session: hiredis' output
  // buffer is moved to out_ (only sds's inline functions are callable from
  // C++: hiredis 0.14's sds.h has no extern "C"), which is written from
  // out_pos_ on.
  if (const std::size_t queued = sdslen(ctx_->obuf); queued > 0) {
    if (out_pos_ == out_.size()) {
      out_.clear();
      out_pos_ = 0;
    }
    out_.append(ctx_->obuf, queued);
    sdssetlen(ctx_->obuf, 0);
    ctx_->obuf[0] = '\0';
  }
  try {
    while (out_pos_ < out_.size()) {
      const std::size_t n = tls_->write(out_.data() + out_pos_, out_.size() - out_pos_, tls_write_wait_);
      if (n == 0) {
        return nullptr; // the socket is full (or the session must read first)
      }
      out_pos_ += n;
    }
    out_.clear();
    out_pos_ = 0;
  } catch (const TlsError&) {
    return std::current_exception();
  }
  return nullptr;
}

Reply
Connection::await_reply(const Deadline& until, const std::string& key, Stage stage)
{
  if (broken_ || !ctx_) {
    raise(s_, Failure{stage, REDIS_ERR_EOF, 0, "connection already failed", key});
  }
  // Only a wait that sends queued commands can raise SIGPIPE.
  std::optional<SigpipeGuard> guard;
  if (sdslen(ctx_->obuf) > 0 || out_pos_ < out_.size()) {
    guard.emplace();
  }
  for (;;) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(ctx_.get(), &raw) != REDIS_OK) {
      io_failure(stage, key, errno);
    }
    if (raw != nullptr) {
      --outstanding_;
      replied_ = true;
      return Reply(static_cast<redisReply*>(raw));
    }
    if (feed_reader(stage, key)) {
      continue;
    }
    if (more_) {
      receive(stage, key); // the TLS session may hold more than in_ took
      continue;
    }
    const int wait = poll_timeout(until);
    if (wait == 0) {
      broken_ = true;
      raise(s_, Failure{stage, REDIS_ERR_IO, ETIMEDOUT, "timed out", key});
    }
    const bool writing = sdslen(ctx_->obuf) > 0 || out_pos_ < out_.size();
    if (tls_) {
      // A TLS read or write may wait for the other direction (a key update).
      const bool out = (writing && tls_write_wait_ != TlsWait::read) || tls_read_wait_ == TlsWait::write;
      const int revents = poll_socket(ctx_->fd, static_cast<short>(POLLIN | (out ? POLLOUT : 0)), wait);
      if (revents < 0) {
        interrupted(key);
      }
      if (revents != 0) {
        // A server that refuses the connection (a TLS 1.3 server refuses a
        // client certificate after the handshake) sends an alert and
        // closes: a write fails, but the alert, read first, says why.
        const std::exception_ptr write_failed = writing ? send_tls() : nullptr;
        receive(stage, key);
        if (write_failed) {
          tls_failure(stage, key, write_failed);
        }
      }
      continue;
    }
    const int revents = poll_socket(ctx_->fd, static_cast<short>(POLLIN | (writing ? POLLOUT : 0)), wait);
    if (revents < 0) {
      interrupted(key);
    }
    if (writing && (revents & (POLLOUT | POLLERR)) != 0) {
      send(stage, key);
    }
    if ((revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0) {
      receive(stage, key);
    }
  }
}

bool
Connection::feed_reader(Stage stage, const std::string& key)
{
  if (in_pos_ >= in_len_) {
    return false;
  }
  const std::size_t n = std::min(k_feed_chunk, in_len_ - in_pos_);
  if (redisReaderFeed(ctx_->reader, in_.get() + in_pos_, n) != REDIS_OK) {
    broken_ = true;
    raise(s_, Failure{stage, ctx_->reader->err != 0 ? ctx_->reader->err : REDIS_ERR_PROTOCOL, 0,
                      ctx_->reader->errstr, key, !tls_ && !s_.unix_socket && !replied_});
  }
  in_pos_ += n;
  return true;
}

void
Connection::receive(Stage stage, const std::string& key)
{
  // What redisBufferRead does, into this connection's buffer; the errors
  // keep its texts.
  if (!in_) {
    in_ = std::make_unique<char[]>(k_read_size);
  }
  in_pos_ = 0;
  in_len_ = 0;
  if (tls_) {
    // Each TLS read returns one record (16 KiB at most): read until the
    // session has no more or in_ is full.
    more_ = false;
    if (tls_error_) {
      tls_failure(stage, key, tls_error_); // after the bytes that came before it
    }
    try {
      while (in_len_ < k_read_size) {
        const std::size_t got = tls_->read(in_.get() + in_len_, k_read_size - in_len_, tls_read_wait_);
        if (got == 0) {
          return;
        }
        in_len_ += got;
      }
      more_ = true;
    } catch (const TlsError&) {
      if (in_len_ == 0) {
        tls_failure(stage, key, std::current_exception());
      }
      tls_error_ = std::current_exception(); // raised once the bytes before it are read
      more_ = true;
    }
    return;
  }
  const ssize_t n = ::read(ctx_->fd, in_.get(), k_read_size);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      return; // try again later
    }
    const int error = errno;
    broken_ = true;
    raise(s_, Failure{stage, REDIS_ERR_IO, error, std::strerror(error), key, !s_.unix_socket && !replied_});
  }
  if (n == 0) {
    broken_ = true;
    raise(s_, Failure{stage, REDIS_ERR_EOF, 0, "Server closed the connection", key, !s_.unix_socket && !replied_});
  }
  in_len_ = static_cast<std::size_t>(n);
}

Reply
Connection::read(const std::string& key, Stage stage)
{
  return await_reply(deadline(), key, stage);
}

void
Connection::drain()
{
  while (outstanding_ > 0 && !broken_) {
    read();
  }
}

std::vector<Reply>
Connection::round_trip(const std::vector<Command>& commands, Stage stage)
{
  for (const Command& c : commands) {
    append(c, stage);
  }
  // One deadline for the whole round trip.
  const Deadline until = deadline();
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (const Command& c : commands) {
    replies.push_back(await_reply(until, c.key, stage));
  }
  return replies;
}

Reply
Connection::run(const Command& command)
{
  append(command);
  return checked(read(command.key), command.key);
}

Reply
Connection::checked(Reply reply, const std::string& key) const
{
  if (is_error(reply.get())) {
    raise(s_, Failure{Stage::command, 0, 0, std::string(reply_text(reply.get())), key});
  }
  return reply;
}

void
Connection::fail(const std::string& message, const std::string& key) const
{
  raise(s_, Failure{Stage::command, 0, 0, message, key});
}

// ---------------------------------------------------------------------------
// Pool

Pool::Lease
Pool::acquire()
{
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(c));
    }
  }
  return Lease(*this, std::make_unique<Connection>(settings_));
}

void
Pool::release(std::unique_ptr<Connection> c)
{
  std::lock_guard lock(mutex_);
  if (idle_.size() < max_idle_connections) {
    idle_.push_back(std::move(c));
  }
}

// ---------------------------------------------------------------------------
// URI -> settings.

namespace {

// Returns the TLS context of a rediss:// URI (s: its settings so far),
// telling options.warn when verification is off. Throws InvalidArgument for
// a bad ?insecure= value, and the translated TlsError (ConfigError for a
// file, StorageError::backend when libssl cannot be loaded).
std::shared_ptr<const TlsContext>
tls_context_from(const StoreUri& uri, const Settings& s, const OpenOptions& options)
{
  TlsOptions tls;
  tls.cacert = uri.param("cacert").value_or("");
  tls.cert = uri.param("cert").value_or("");
  tls.key = uri.param("key").value_or("");
  if (const auto insecure = uri.param("insecure")) {
    if (*insecure == "1" || *insecure == "true" || *insecure == "yes") {
      tls.insecure = true;
    } else if (!(*insecure == "0" || *insecure == "false" || *insecure == "no")) {
      throw InvalidArgument("invalid ?insecure=" + *insecure + " in " + s.address + " (1 or 0)");
    }
  }
  for (const char* name : {"cacert", "cert", "key"}) {
    if (const auto file = uri.param(name); file && file->empty()) {
      throw InvalidArgument("?" + std::string(name) + "= needs a file name in " + s.address);
    }
  }
  std::shared_ptr<const TlsContext> context;
  try {
    context = std::make_shared<const TlsContext>(tls);
  } catch (const TlsError& e) {
    raise_tls(s, e, "");
  }
  if (tls.insecure && options.warn) {
    options.warn("TLS certificate verification is off for " + s.address +
                 " (?insecure=1): the connection is encrypted, but anyone between here and the "
                 "server can read and change it");
  }
  return context;
}

} // namespace

Settings
settings_from(const StoreUri& uri, const OpenOptions& options)
{
  Settings s;
  s.address = uri.redacted();
  const bool tls = uri.scheme == "rediss";
  if (!tls) {
    for (const char* name : {"cacert", "cert", "key", "insecure"}) {
      if (uri.param(name)) {
        throw InvalidArgument("?" + std::string(name) + "= is a TLS setting, and " + s.address +
                              " is a plain connection: " +
                              (uri.scheme == "redis+unix" ? "TLS is for TCP connections, rediss://host:port"
                                                          : "write rediss:// for Redis over TLS"));
      }
    }
  }
  s.unix_socket = uri.scheme == "redis+unix";
  if (s.unix_socket) {
    uri.require_params({"prefix", "timeout", "db"});
    if (!uri.host.empty() && uri.host != "localhost") {
      throw InvalidArgument("redis+unix:// takes a socket path, not a host: " + s.address +
                            " (write redis+unix:///path/to/redis.sock)");
    }
    s.socket_path = uri.path;
    if (s.socket_path.empty()) {
      throw InvalidArgument("redis+unix:// needs the socket path: redis+unix:///path/to/redis.sock");
    }
  } else {
    if (tls) {
      uri.require_params({"prefix", "timeout", "cacert", "cert", "key", "insecure"});
    } else {
      uri.require_params({"prefix", "timeout"});
    }
    if (!uri.has_authority || uri.host.empty()) {
      throw InvalidArgument(uri.scheme + ":// needs a host: " + uri.scheme +
                            "://[user[:pass]@]host[:port][/db] (got " + s.address + ")");
    }
    s.host = uri.host;
    if (s.host.size() > 2 && s.host.front() == '[' && s.host.back() == ']') {
      s.host = s.host.substr(1, s.host.size() - 2);
    }
    if (uri.port) {
      s.port = *uri.port;
    }
  }

  std::optional<std::string> db_text;
  if (s.unix_socket) {
    db_text = uri.param("db");
  } else if (!uri.path.empty() && uri.path != "/") {
    db_text = uri.path.substr(uri.path.front() == '/' ? 1 : 0);
  }
  if (db_text) {
    long db = -1;
    const auto [end, ec] = std::from_chars(db_text->data(), db_text->data() + db_text->size(), db);
    if (db_text->empty() || ec != std::errc() || end != db_text->data() + db_text->size() || db < 0) {
      throw InvalidArgument("invalid Redis database number '" + *db_text + "' in " + s.address +
                            " (a number such as /0 or ?db=0)");
    }
    s.db = db;
  }

  if (auto p = uri.param("prefix")) {
    s.prefix = *p;
  }
  s.timeout = options.timeout;
  if (auto t = uri.param("timeout")) {
    s.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(parse_duration_ms(*t)));
  }
  if (s.timeout.count() < 0) {
    s.timeout = std::chrono::milliseconds(0);
  }

  s.user = uri.user;
  s.password = uri.password ? uri.password : options.password;
  if (!s.user.empty() && !s.password) {
    throw ConfigError("Redis user '" + s.user + "' given without a password (" + s.address +
                      "): supply the password");
  }
  if (tls) {
    s.tls = tls_context_from(uri, s, options);
  }
  return s;
}

} // namespace taskstore::redis_detail
