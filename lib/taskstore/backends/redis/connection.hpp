#pragma once
// The Redis backend's connections (private to backends/redis/, not installed):
// hiredis handles held by RAII, connecting with AUTH and SELECT, a small pool,
// and (in connection.cpp) the ONE place where hiredis and Redis failures become
// taskstore errors: every failure leaves through Connection, translated.
//
// Connections: a small pool of hiredis contexts. Every operation leases one, so
// the backend may be used from several threads, and a scan visitor may call
// back into the same backend. A connection that failed is dropped; the next
// operation connects again (nothing is retried automatically).
//
// Waiting: the socket is non-blocking; every wait (connecting, each reply)
// polls it beside taskstore::interrupt_fd() under a deadline (the timeout,
// from the start of the wait: one connect, one read(), one round_trip()).
// A request_interrupt() ends the wait at once: the connection is closed and
// StorageError (backend, unavailable) "interrupted ..." is thrown.
//
// TLS (rediss://): after the TCP connect, a TlsSession (tls.hpp) is put on
// the same socket; the handshake and every read and write go through it,
// under the same waits. Nothing else differs.

#include "taskstore/registry.hpp"

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstddef>
#include <exception>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace taskstore::redis_detail {

class TlsContext; // tls.hpp
class TlsSession;
enum class TlsWait;

inline constexpr std::string_view default_prefix = "pmcp";

// Settings taken from the URI and the open options.
struct Settings
{
  std::string address; // the redacted URI: safe in any message
  bool unix_socket = false;
  std::string host;
  int port = 6379;
  std::string socket_path;
  std::string user; // "" = the default user
  std::optional<std::string> password;
  long db = 0;
  std::string prefix{default_prefix};
  std::chrono::milliseconds timeout{5000}; // 0 = none
  std::shared_ptr<const TlsContext> tls;   // rediss://: the TLS configuration; null = plain
};

// Returns the settings of a redis://, rediss://, redis+unix:// URI (for
// rediss://, with its TLS context loaded; options.warn is told when
// certificate verification is off). Throws InvalidArgument for a malformed
// URI, an unknown parameter or a TLS parameter on a plain URI; ConfigError
// for a user given without a password or a TLS file that cannot be used;
// StorageError::backend when rediss:// is asked for and libssl cannot be
// loaded.
Settings settings_from(const StoreUri& uri, const OpenOptions& options);

// Where a failure happened, which decides how it is translated.
enum class Stage
{
  connect,   // opening the socket
  handshake, // AUTH, SELECT
  command,   // everything else
};

struct ReplyFree
{
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

inline bool
is_error(const redisReply* r)
{
  return r != nullptr && r->type == REDIS_REPLY_ERROR;
}

inline std::string_view
reply_text(const redisReply* r)
{
  return r->str == nullptr ? std::string_view() : std::string_view(r->str, r->len);
}

// The first word of an error reply ("WRONGPASS", "ERR", "NOSCRIPT", ...).
inline std::string_view
error_code(std::string_view text)
{
  return text.substr(0, text.find(' '));
}

// A command with owned, binary-safe arguments.
class Command
{
public:
  Command() = default;
  Command(std::initializer_list<std::string_view> args)
  {
    for (auto a : args) {
      args_.emplace_back(a);
    }
  }
  Command& operator<<(std::string_view a)
  {
    args_.emplace_back(a);
    return *this;
  }
  Command& operator<<(std::string&& a)
  {
    args_.push_back(std::move(a));
    return *this;
  }
  const std::vector<std::string>& args() const { return args_; }
  std::string key; // the record key for messages ("" = none)

private:
  std::vector<std::string> args_;
};

struct ContextFree
{
  void operator()(redisContext* c) const noexcept { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextFree>;

// One hiredis connection: connected, authenticated and on its database.
// Every method that talks to the server throws the translated StorageError
// (or ConfigError) on failure; after an I/O failure the connection is broken.
class Connection
{
public:
  // Connects, then AUTH and SELECT as the settings say. Throws
  // StorageError::backend (unavailable) when the server cannot be reached and
  // ConfigError when it rejects the credentials or the setup. settings must
  // outlive the connection.
  explicit Connection(const Settings& settings);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // True when the connection cannot be reused: it failed, or replies to
  // commands sent are still unread.
  bool broken() const { return broken_ || outstanding_ != 0; }

  // Queues a command without waiting (sent by the next read()).
  void append(const Command& command, Stage stage = Stage::command);

  // Queues HMGET hash version data (the hot path of every walk: no Command).
  void append_hmget(const std::string& hash, const std::string& key);

  // Sends what is queued and reads the next reply. Throws on I/O failure
  // (the connection is then broken: it may hold unread replies).
  Reply read(const std::string& key = std::string(), Stage stage = Stage::command);

  // Reads and drops the replies still due (after a walk stopped early).
  void drain();

  // Writes every command, then reads every reply, returned in order. Error
  // replies are returned, not thrown (check them with checked()). Any I/O
  // failure marks the connection broken and throws.
  std::vector<Reply> round_trip(const std::vector<Command>& commands, Stage stage = Stage::command);

  // One command; the reply is checked: an error reply throws.
  Reply run(const Command& command);

  // Returns reply, or throws the translated error when it is an error reply.
  Reply checked(Reply reply, const std::string& key) const;

  // Throws StorageError::backend for an unexpected reply (message, about key).
  [[noreturn]] void fail(const std::string& message, const std::string& key) const;

private:
  using Deadline = std::optional<std::chrono::steady_clock::time_point>; // nullopt = none

  // The deadline of a wait starting now (nullopt when the timeout is 0).
  Deadline deadline() const;
  // Waits until the non-blocking connect completes; throws as the constructor does.
  void await_connected(const Deadline& until);
  // rediss://: puts a TLS session on the socket and completes its handshake
  // under until; throws the translated TLS failure, a timeout or an interrupt.
  void await_tls(const Deadline& until);
  // Writes what hiredis queued as far as the socket takes it; throws on
  // failure (the connection is then broken).
  void send(Stage stage, const std::string& key);
  // The same through the TLS session; returns the TlsError it met (nullptr:
  // none), for the caller to raise after reading what the server sent.
  std::exception_ptr send_tls();
  // Marks the connection broken and throws the translated TLS failure
  // (a std::exception_ptr to a TlsError).
  [[noreturn]] void tls_failure(Stage stage, const std::string& key, std::exception_ptr error);
  // Sends what is queued and reads until the next reply is complete, under
  // until; throws the translated failure, a timeout or an interrupt (each
  // leaves the connection broken).
  Reply await_reply(const Deadline& until, const std::string& key, Stage stage);
  // Closes the connection and throws StorageError::backend (unavailable):
  // the wait was interrupted by request_interrupt().
  [[noreturn]] void interrupted(const std::string& key);
  // Marks the connection broken and throws the hiredis failure now in ctx_.
  [[noreturn]] void io_failure(Stage stage, const std::string& key, int sys_errno);

  // Queues one command already in RESP form; throws when the connection failed.
  void append_formatted(std::string_view resp, Stage stage, const std::string& key);
  // Reads what the socket has into in_ (nothing on EAGAIN); throws on EOF or an error.
  // Over TLS, reads until the session has no more or in_ is full (more_ then true).
  void receive(Stage stage, const std::string& key);
  // Hands hiredis's reader the next k_feed_chunk bytes of in_; false when
  // in_ is used up. Fed a little at a time, the reader's buffer stays small:
  // it moves its unread rest to the front after each 1 KiB consumed, and fed
  // 16 KiB reads (redisBufferRead) those moves copied ~8x the bytes received.
  bool feed_reader(Stage stage, const std::string& key);

  static constexpr std::size_t k_read_size = 64 * 1024;
  static constexpr std::size_t k_feed_chunk = 2048;

  const Settings& s_;
  ContextPtr ctx_;
  std::unique_ptr<TlsSession> tls_; // rediss://; after ctx_, so destroyed before its socket is closed
  TlsWait tls_read_wait_{};         // what the last TLS read waits for (none = the socket readable)
  TlsWait tls_write_wait_{};        // what the last TLS write waits for (none = the socket writable)
  bool more_ = false;               // TLS: in_ filled up, the session may hold more
  std::exception_ptr tls_error_;    // TLS: a failure met after bytes still to be read
  std::string out_;                 // TLS: commands taken from hiredis' output buffer, sent from out_pos_
  std::size_t out_pos_ = 0;
  bool replied_ = false;            // a reply was received (else a failure may mean a TLS port)
  std::unique_ptr<char[]> in_; // bytes read from the socket (in_len_), fed to the reader from in_pos_
  std::size_t in_len_ = 0;
  std::size_t in_pos_ = 0;
  std::string format_scratch_; // the command being formatted
  bool broken_ = false;
  std::size_t outstanding_ = 0; // commands appended whose replies are unread
};

// The connections of one backend: idle ones are kept (a few) for reuse.
class Pool
{
public:
  // A leased connection; returned to the pool unless it failed.
  class Lease
  {
  public:
    Lease(Pool& owner, std::unique_ptr<Connection> c) : owner_(owner), c_(std::move(c)) {}
    ~Lease()
    {
      if (c_ && !c_->broken()) {
        owner_.release(std::move(c_));
      }
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection* operator->() { return c_.get(); }
    Connection& operator*() { return *c_; }

  private:
    Pool& owner_;
    std::unique_ptr<Connection> c_;
  };

  explicit Pool(Settings settings) : settings_(std::move(settings)) {}
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // An idle connection, or a new one (which throws as Connection does).
  Lease acquire();

  const Settings& settings() const { return settings_; }

private:
  void release(std::unique_ptr<Connection> c);

  const Settings settings_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

} // namespace taskstore::redis_detail
