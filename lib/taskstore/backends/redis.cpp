// The Redis backend, byte-compatible with the stores pmcp-tasks' RedisBackend
// writes (facts §5.2):
//
//   {prefix}:tasks:{owner}:{task}  hash: version (decimal), data (record JSON),
//                                  expires_at (epoch seconds, floor of expiresAt;
//                                  only when the record expires) + EXPIREAT
//                                  (PERSIST when it does not)
//   {prefix}:idx:{owner}           sorted set: member task id, score createdAt in
//                                  epoch ms (0 when unparsable), added with ZADD NX
//
// Differences from the anchor, all deliberate:
// * get and scan report expired records (Redis itself deletes a hash at its
//   EXPIREAT); no "expires_at <= now seconds" filtering.
// * EXPIREAT is the first whole second not before expiresAt (the anchor: the
//   floored second, up to 1 s early), and is not set at all when that second
//   has passed, so a record written already expired is kept (and reported)
//   until cleanup_expired removes it, instead of vanishing (see write_values).
// * remove always ZREMs the index entry, even when the hash already expired.
// * cleanup_expired does work: it removes hashes whose record expiresAt is
//   strictly past CleanupOptions.now (with a per-key version check) and the
//   orphaned index entries whose hash is gone. Orphans are debris, not records:
//   they are not counted, not reported to on_removed, and left alone on a dry run.
// * Versions are compared and incremented as decimal strings in Lua, never as
//   Lua numbers (doubles), so they stay exact beyond 2^53.
// * Listings and cleanup are pipelined (see walk): HMGET version data for up
//   to 1000 records per round trip (fewer for large records: about 4 MiB of
//   data per round trip), two round trips in flight, the next index page or
//   SCAN step riding along. Memory stays constant whatever the record count.
//
// Listing order: for a prefix containing ':' (one owner, "owner:" or
// "owner:taskprefix") the owner index order, createdAt ms ascending then task
// id (as the anchor); for any other prefix ("" or an owner prefix without
// ':'), SCAN MATCH {prefix}:tasks:{escaped prefix}* order (arbitrary). Hashes
// whose index entry is missing are only seen by the SCAN path. A hash that
// disappears between the index/SCAN and its HMGET is skipped.
//
// Visiting each key at most once. The one-owner path reads the index by rank,
// checking in the same MULTI that the entry before each page has not moved
// (else it locates the page again), and drops anything not strictly after the
// last (score, member) yielded: no key is visited twice and none present
// throughout is skipped (a task deleted and re-created with a later createdAt
// during the walk is a new record and may be reported in its new place). The
// SCAN path keeps no per-key memory (constant memory is required): Redis' SCAN
// never repeats a key unless the database's key table shrinks during the
// iteration (Redis' dict.c), which Redis only does when it falls below 10%
// full, i.e. after most of the database's keys were deleted or expired while
// the scan ran. In that case only, a key may be reported twice. We chose that
// over a set of seen keys (memory proportional to the record count).
// cleanup_expired is immune: a removal is counted only when the
// version-checked delete actually deleted the hash.
//
// Connections: a small pool of hiredis contexts. Every operation leases one, so
// the backend may be used from several threads, and a scan visitor may call
// back into the same backend. A connection that failed is dropped; the next
// operation connects again (nothing is retried automatically).

#include "taskstore/backends/redis.hpp"

#include "taskstore/error.hpp"
#include "taskstore/key.hpp"
#include "taskstore/time.hpp"
#include "taskstore/uri.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <signal.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/time.h>
#include <utility>
#include <vector>

namespace taskstore {
namespace {

constexpr std::string_view default_prefix = "pmcp";
constexpr std::size_t batch_size = 1000;     // most records fetched per round trip
constexpr std::size_t batch_bytes = 4u << 20; // about this much data per round trip
constexpr std::size_t first_chunk = 32;      // records in the first round trip of a walk
constexpr std::size_t min_chunk = 4;         // fewest records per round trip
constexpr std::size_t page_size = 1000;      // owner-index entries per page
constexpr std::size_t scan_count = 1000;     // SCAN COUNT hint
constexpr std::size_t anchor_candidates = 32;// members passed to the locate script
constexpr std::size_t max_idle_connections = 4;

// ---------------------------------------------------------------------------
// Lua scripts. Keys and values arrive binary-safe in KEYS/ARGV. Versions are
// canonical decimal strings throughout.

// Shared helpers: canonical(v) strips leading zeros (nil when v is not all
// digits); incr(v) adds one to a canonical decimal string.
#define TASKSTORE_LUA_HELPERS                                                                      \
  "local function canonical(v)\n"                                                                  \
  "  if not v or not string.find(v, '^%d+$') then return nil end\n"                               \
  "  local s = string.gsub(v, '^0+', '')\n"                                                        \
  "  if s == '' then return '0' end\n"                                                             \
  "  return s\n"                                                                                   \
  "end\n"                                                                                          \
  "local function incr(v)\n"                                                                       \
  "  local head, nines = string.match(v, '^(.-)(9*)$')\n"                                          \
  "  local zeros = string.rep('0', #nines)\n"                                                      \
  "  if head == '' then return '1' .. zeros end\n"                                                 \
  "  return string.sub(head, 1, #head - 1) .. string.char(string.byte(head, #head) + 1) .. zeros\n" \
  "end\n"                                                                                          \
  "local function write(new)\n"                                                                    \
  "  redis.call('HSET', KEYS[1], 'version', new, 'data', ARGV[1])\n"                               \
  "  if ARGV[2] ~= '' then\n"                                                                      \
  "    redis.call('HSET', KEYS[1], 'expires_at', ARGV[2])\n"                                       \
  "    if tonumber(ARGV[3]) > tonumber(redis.call('TIME')[1]) then\n"                               \
  "      redis.call('EXPIREAT', KEYS[1], ARGV[3])\n"                                               \
  "    else\n"                                                                                     \
  "      redis.call('PERSIST', KEYS[1])\n"                                                         \
  "    end\n"                                                                                      \
  "  else\n"                                                                                       \
  "    redis.call('HDEL', KEYS[1], 'expires_at')\n"                                                \
  "    redis.call('PERSIST', KEYS[1])\n"                                                           \
  "  end\n"                                                                                        \
  "  redis.call('ZADD', KEYS[2], 'NX', ARGV[5], ARGV[4])\n"                                        \
  "end\n"

// put. KEYS: hash, index. ARGV: data, expires_at field (epoch s, floor) or "",
// EXPIREAT second, task id, score ms. Returns the new version (a string).
constexpr const char* lua_put = TASKSTORE_LUA_HELPERS
  "local cur = redis.call('HGET', KEYS[1], 'version')\n"
  "local new = '1'\n"
  "if cur then\n"
  "  local c = canonical(cur)\n"
  "  if not c then return redis.error_reply('ERR invalid version field: ' .. cur) end\n"
  "  new = incr(c)\n"
  "end\n"
  "write(new)\n"
  "return new\n";

// put_if_version. KEYS: hash, index. ARGV: as put, then expected (canonical). Returns {1, new} or {0, actual} (actual "0" when absent).
// Expected "0" matches only an absent key: create-if-absent, version 1.
constexpr const char* lua_cas = TASKSTORE_LUA_HELPERS
  "local cur = redis.call('HGET', KEYS[1], 'version')\n"
  "if not cur then\n"
  "  if ARGV[6] ~= '0' then return {0, '0'} end\n"
  "  write('1')\n"
  "  return {1, '1'}\n"
  "end\n"
  "local c = canonical(cur)\n"
  "if not c then return redis.error_reply('ERR invalid version field: ' .. cur) end\n"
  "if c ~= ARGV[6] then return {0, c} end\n"
  "local new = incr(c)\n"
  "write(new)\n"
  "return {1, new}\n";

// remove. KEYS: hash, index. ARGV: task id. Returns 1 when the hash existed.
// The index entry goes either way (the anchor keeps it when the hash expired).
constexpr const char* lua_delete =
  "local n = redis.call('DEL', KEYS[1])\n"
  "redis.call('ZREM', KEYS[2], ARGV[1])\n"
  "return n\n";

// cleanup: delete only when the version is still the one judged expired.
// KEYS: hash, index. ARGV: version (canonical), task id. Returns 1 or 0.
constexpr const char* lua_delete_if_version = TASKSTORE_LUA_HELPERS
  "if canonical(redis.call('HGET', KEYS[1], 'version')) == ARGV[1] then\n"
  "  redis.call('DEL', KEYS[1])\n"
  "  redis.call('ZREM', KEYS[2], ARGV[2])\n"
  "  return 1\n"
  "end\n"
  "return 0\n";

// cleanup: remove the index entries whose hash does not exist. KEYS: index,
// hash 1..n. ARGV: member 1..n. Returns how many entries were removed.
constexpr const char* lua_remove_orphans =
  "local removed = 0\n"
  "for i = 1, #ARGV do\n"
  "  if redis.call('EXISTS', KEYS[i + 1]) == 0 then\n"
  "    removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])\n"
  "  end\n"
  "end\n"
  "return removed\n";

// Where the next page of an owner index starts, when the last member read is
// gone. KEYS: index. ARGV: last score, then candidate members (the last ones
// read, most recent first). Returns {rank after the first candidate still
// present, that member}, or {number of entries scored below the last score}
// (the caller drops what it has already seen).
constexpr const char* lua_locate =
  "for i = 2, #ARGV do\n"
  "  local r = redis.call('ZRANK', KEYS[1], ARGV[i])\n"
  "  if r then return {r + 1, ARGV[i]} end\n"
  "end\n"
  "return {redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. ARGV[1])}\n";

#undef TASKSTORE_LUA_HELPERS

enum class ScriptId
{
  put,
  cas,
  remove,
  remove_if_version,
  remove_orphans,
  locate,
  count_
};

constexpr const char* script_source[] = {lua_put,           lua_cas,
                                         lua_delete,        lua_delete_if_version,
                                         lua_remove_orphans, lua_locate};

// ---------------------------------------------------------------------------
// Settings taken from the URI and the open options.

struct Settings
{
  std::string address;            // the redacted URI: safe in any message
  bool unix_socket = false;
  std::string host;
  int port = 6379;
  std::string socket_path;
  std::string user;               // "" = the default user
  std::optional<std::string> password;
  long db = 0;
  std::string prefix{default_prefix};
  std::chrono::milliseconds timeout{5000}; // 0 = none
};

// ---------------------------------------------------------------------------
// Error translation: the ONE place where hiredis and Redis failures become
// taskstore errors.

enum class Stage
{
  connect,   // opening the socket
  handshake, // AUTH, SELECT
  command,   // everything else
};

struct Failure
{
  Stage stage = Stage::command;
  int io_error = 0;      // hiredis redisContext::err; 0 for an error reply
  int sys_errno = 0;     // errno right after the failure
  std::string text;      // hiredis errstr, or the error reply
  std::string key;       // the record key concerned ("" when none)
};

// The first word of an error reply ("WRONGPASS", "ERR", ...).
std::string_view
error_code(std::string_view text)
{
  return text.substr(0, text.find(' '));
}

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
    if (is_timeout(f)) {
      with_cause(StorageError::backend("Redis at " + at + " did not answer within " +
                                         std::to_string(s.timeout.count()) + " ms (timed out)",
                                       true));
    }
    if (f.io_error == REDIS_ERR_EOF) {
      with_cause(StorageError::backend("the connection to Redis at " + at + " was closed", true));
    }
    if (f.stage == Stage::connect) {
      with_cause(StorageError::backend("cannot connect to Redis at " + at + ": " + f.text, true));
    }
    if (f.io_error == REDIS_ERR_IO) {
      with_cause(StorageError::backend("lost the connection to Redis at " + at + ": " + f.text, true));
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

// ---------------------------------------------------------------------------
// hiredis RAII.

struct ReplyFree
{
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

struct ContextFree
{
  void operator()(redisContext* c) const noexcept { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextFree>;

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
  std::string key;       // the record key for messages ("" = none)
  std::optional<ScriptId> script; // set for EVALSHA commands (NOSCRIPT fallback)

private:
  std::vector<std::string> args_;
};

timeval
to_timeval(std::chrono::milliseconds ms)
{
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

bool
is_error(const redisReply* r)
{
  return r != nullptr && r->type == REDIS_REPLY_ERROR;
}

std::string_view
reply_text(const redisReply* r)
{
  return r->str == nullptr ? std::string_view() : std::string_view(r->str, r->len);
}

// Shared by the connections of one backend: settings and script digests.
struct Shared
{
  Settings settings;
  std::mutex mutex;                     // guards sha
  std::string sha[static_cast<std::size_t>(ScriptId::count_)];
};

// One hiredis connection: connected, authenticated and on its database.
class Connection
{
public:
  explicit Connection(Shared& shared) : shared_(shared), s_(shared.settings)
  {
    SigpipeGuard guard;
    redisContext* raw = nullptr;
    if (s_.unix_socket) {
      raw = s_.timeout.count() > 0
              ? redisConnectUnixWithTimeout(s_.socket_path.c_str(), to_timeval(s_.timeout))
              : redisConnectUnix(s_.socket_path.c_str());
    } else {
      raw = s_.timeout.count() > 0
              ? redisConnectWithTimeout(s_.host.c_str(), s_.port, to_timeval(s_.timeout))
              : redisConnect(s_.host.c_str(), s_.port);
    }
    const int saved_errno = errno;
    if (raw == nullptr) {
      raise(s_, Failure{Stage::connect, REDIS_ERR_OOM, 0, "cannot allocate a redis context", ""});
    }
    ctx_.reset(raw);
    if (ctx_->err != 0) {
      raise(s_, Failure{Stage::connect, ctx_->err, saved_errno, ctx_->errstr, ""});
    }
    if (s_.timeout.count() > 0 && redisSetTimeout(ctx_.get(), to_timeval(s_.timeout)) != REDIS_OK) {
      raise(s_, Failure{Stage::connect, REDIS_ERR_IO, errno, "cannot set the socket timeout", ""});
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

  // True when the connection cannot be reused: it failed, or replies to
  // commands sent are still unread.
  bool broken() const { return broken_ || outstanding_ != 0; }

  // Sends the commands in one pipeline and returns their replies in order.
  // Error replies are returned, not thrown (check them with checked()); an
  // EVALSHA answered NOSCRIPT is sent again as EVAL. Throws on I/O failure.
  std::vector<Reply> pipeline(const std::vector<Command>& commands)
  {
    std::vector<Reply> replies = round_trip(commands, Stage::command);
    retry_noscript(commands, replies);
    return replies;
  }

  // Queues a command without waiting (sent by the next read()).
  void append(const Command& command, Stage stage = Stage::command)
  {
    if (broken_) {
      raise(s_, Failure{stage, REDIS_ERR_EOF, 0, "connection already failed", ""});
    }
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    argv.reserve(command.args().size());
    lens.reserve(command.args().size());
    for (const std::string& a : command.args()) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_.get(), static_cast<int>(argv.size()), argv.data(),
                               lens.data()) != REDIS_OK) {
      broken_ = true;
      raise(s_, Failure{stage, ctx_->err != 0 ? ctx_->err : REDIS_ERR_OOM, errno, ctx_->errstr,
                        command.key});
    }
    ++outstanding_;
  }

  // Queues HMGET hash version data (the hot path of every walk: no Command).
  void append_hmget(const std::string& hash, const std::string& key)
  {
    if (broken_) {
      raise(s_, Failure{Stage::command, REDIS_ERR_EOF, 0, "connection already failed", key});
    }
    const char* argv[4] = {"HMGET", hash.data(), "version", "data"};
    const std::size_t lens[4] = {5, hash.size(), 7, 4};
    if (redisAppendCommandArgv(ctx_.get(), 4, argv, lens) != REDIS_OK) {
      broken_ = true;
      raise(s_, Failure{Stage::command, ctx_->err != 0 ? ctx_->err : REDIS_ERR_OOM, errno,
                        ctx_->errstr, key});
    }
    ++outstanding_;
  }

  // Sends what is queued and reads the next reply. Throws on I/O failure
  // (the connection is then broken: it may hold unread replies).
  Reply read(const std::string& key = std::string(), Stage stage = Stage::command)
  {
    // Only a read that first sends queued commands can raise SIGPIPE.
    std::optional<SigpipeGuard> guard;
    if (sdslen(ctx_->obuf) > 0) {
      guard.emplace();
    }
    void* raw = nullptr;
    if (redisGetReply(ctx_.get(), &raw) != REDIS_OK || raw == nullptr) {
      const int saved_errno = errno;
      broken_ = true;
      raise(s_, Failure{stage, ctx_->err != 0 ? ctx_->err : REDIS_ERR_IO, saved_errno,
                        ctx_->errstr, key});
    }
    --outstanding_;
    return Reply(static_cast<redisReply*>(raw));
  }

  // Reads and drops the replies still due (after a walk stopped early).
  void drain()
  {
    while (outstanding_ > 0 && !broken_) {
      read();
    }
  }

  // Replaces the NOSCRIPT replies of EVALSHA commands by the replies of the
  // same scripts sent as EVAL (which also caches them again). Nothing else
  // may be outstanding.
  void retry_noscript(const std::vector<Command>& commands, std::vector<Reply>& replies)
  {
    std::vector<Command> again;
    std::vector<std::size_t> where;
    for (std::size_t i = 0; i < replies.size(); ++i) {
      if (commands[i].script && is_error(replies[i].get()) &&
          error_code(reply_text(replies[i].get())) == "NOSCRIPT") {
        again.push_back(as_eval(commands[i]));
        where.push_back(i);
      }
    }
    if (!again.empty()) {
      std::vector<Reply> retried = round_trip(again, Stage::command);
      for (std::size_t j = 0; j < where.size(); ++j) {
        replies[where[j]] = std::move(retried[j]);
      }
    }
  }

  // One command; the reply is returned unchecked.
  Reply send(Command command)
  {
    std::vector<Command> one;
    one.push_back(std::move(command));
    return std::move(pipeline(one).front());
  }

  // One command; the reply is checked: an error reply throws.
  Reply run(Command command)
  {
    std::string key = command.key;
    return checked(send(std::move(command)), key);
  }

  // Returns reply, or throws the translated error when it is an error reply.
  Reply checked(Reply reply, const std::string& key) const
  {
    if (is_error(reply.get())) {
      raise(s_, Failure{Stage::command, 0, 0, std::string(reply_text(reply.get())), key});
    }
    return reply;
  }

  // An EVALSHA command for a script (digest loaded on first use).
  Command script(ScriptId id, std::initializer_list<std::string_view> keys,
                 std::initializer_list<std::string_view> args)
  {
    Command c = script_head(id, keys.size());
    for (auto k : keys) {
      c << k;
    }
    for (auto a : args) {
      c << a;
    }
    return c;
  }

  Command script_head(ScriptId id, std::size_t key_count)
  {
    Command c{"EVALSHA", digest(id), std::to_string(key_count)};
    c.script = id;
    return c;
  }

  [[noreturn]] void fail(const std::string& message, const std::string& key) const
  {
    raise(s_, Failure{Stage::command, 0, 0, message, key});
  }

  // SCRIPT LOAD of every script, their digests kept for every connection.
  void load_scripts()
  {
    std::vector<Command> loads;
    for (const char* source : script_source) {
      loads.push_back(Command{"SCRIPT", "LOAD", source});
    }
    std::vector<Reply> replies = round_trip(loads, Stage::command);
    std::lock_guard lock(shared_.mutex);
    for (std::size_t j = 0; j < replies.size(); ++j) {
      Reply r = checked(std::move(replies[j]), "");
      if (r->type != REDIS_REPLY_STRING) {
        fail("unexpected reply to SCRIPT LOAD", "");
      }
      shared_.sha[j] = std::string(reply_text(r.get()));
    }
  }

private:
  // The script's SHA1 (loaded by load_scripts when the backend opened).
  std::string digest(ScriptId id)
  {
    std::lock_guard lock(shared_.mutex);
    return shared_.sha[static_cast<std::size_t>(id)];
  }

  static Command as_eval(const Command& c)
  {
    Command e{"EVAL", script_source[static_cast<std::size_t>(*c.script)]};
    for (std::size_t i = 2; i < c.args().size(); ++i) {
      e << c.args()[i];
    }
    e.key = c.key;
    return e;
  }

  // Writes every command, then reads every reply. Any I/O failure marks the
  // connection broken (it may hold unread replies) and throws.
  std::vector<Reply> round_trip(const std::vector<Command>& commands, Stage stage)
  {
    for (const Command& c : commands) {
      append(c, stage);
    }
    std::vector<Reply> replies;
    replies.reserve(commands.size());
    for (const Command& c : commands) {
      replies.push_back(read(c.key, stage));
    }
    return replies;
  }

  Shared& shared_;
  const Settings& s_;
  ContextPtr ctx_;
  bool broken_ = false;
  std::size_t outstanding_ = 0; // commands appended whose replies are unread
};

// ---------------------------------------------------------------------------
// Helpers on values.

// Rust's std::str::from_utf8 rules and its Utf8Error text (the anchor's
// "data is not valid UTF-8: {e}"). Returns nullopt when s is valid UTF-8.
std::optional<std::string>
utf8_error(std::string_view s)
{
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  auto invalid = [](std::size_t at, int len) {
    return "invalid utf-8 sequence of " + std::to_string(len) + " bytes from index " +
           std::to_string(at);
  };
  auto incomplete = [](std::size_t at) {
    return "incomplete utf-8 byte sequence from index " + std::to_string(at);
  };
  auto cont = [](unsigned char b) { return (b & 0xC0u) == 0x80u; };
  std::size_t i = 0;
  while (i < n) {
    const unsigned char b = p[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    const int width = (b >= 0xC2 && b <= 0xDF) ? 2 : (b >= 0xE0 && b <= 0xEF) ? 3
                                                   : (b >= 0xF0 && b <= 0xF4) ? 4
                                                                              : 0;
    if (width == 0) {
      return invalid(i, 1);
    }
    if (i + 1 >= n) {
      return incomplete(i);
    }
    const unsigned char b1 = p[i + 1];
    bool ok = cont(b1);
    if (b == 0xE0) {
      ok = b1 >= 0xA0 && b1 <= 0xBF;
    } else if (b == 0xED) {
      ok = b1 >= 0x80 && b1 <= 0x9F;
    } else if (b == 0xF0) {
      ok = b1 >= 0x90 && b1 <= 0xBF;
    } else if (b == 0xF4) {
      ok = b1 >= 0x80 && b1 <= 0x8F;
    }
    if (!ok) {
      return invalid(i, 1);
    }
    for (int k = 2; k < width; ++k) {
      if (i + static_cast<std::size_t>(k) >= n) {
        return incomplete(i);
      }
      if (!cont(p[i + static_cast<std::size_t>(k)])) {
        return invalid(i, k);
      }
    }
    i += static_cast<std::size_t>(width);
  }
  return std::nullopt;
}

// A stored version: decimal digits only (leading zeros allowed), within u64.
std::optional<std::uint64_t>
parse_version(std::string_view text)
{
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return v;
}

// Escapes the glob characters of SCAN MATCH (* ? [ ] \).
std::string
glob_escape(std::string_view text)
{
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out;
}

// The values pmcp-tasks extracts on every write: the expires_at field (floored
// epoch seconds, "" when none) and the index score (createdAt epoch ms, "0"
// when none); plus the EXPIREAT second.
//
// EXPIREAT: the anchor sets it at the floored second, so Redis deletes a record
// up to a second before its expiresAt (facts §11.27), and a record written
// already expired vanishes at once while put reports success (§11.28). We set
// it at the first whole second not before expiresAt (= floor when expiresAt is
// a whole second), so Redis never deletes a record early, and the write
// script skips it (PERSIST) when that second has already passed on the server:
// such a record stays, is reported like any expired record, and is removed by
// cleanup_expired. pmcp-tasks cannot tell the difference: it judges expiry by
// the expires_at field (<= now), which is exactly the anchor's value.
struct WriteValues
{
  std::string expires;   // the hash field
  std::string expire_at; // the EXPIREAT argument
  std::string score;
};

WriteValues
write_values(std::string_view data)
{
  WriteValues v;
  if (auto e = extract_expires_at(data)) {
    v.expires = std::to_string(e->seconds);
    v.expire_at = std::to_string(e->seconds + (e->nanos > 0 ? 1 : 0));
  }
  auto c = extract_created_at(data);
  v.score = c ? std::to_string(c->epoch_millis()) : "0";
  return v;
}

// One index entry (member, score).
struct IndexEntry
{
  std::string member;
  double score = 0;
  std::string score_text;
};

// Walks one owner index in (score, member) order, a page of page_size
// entries per request, never yielding an entry that is not strictly after the
// last one yielded.
//
// A page is read by rank: MULTI, a check that the entry before the page is
// still where it was (ZRANK of the last member read), ZRANGE by rank, EXEC.
// When the check fails (entries before the page were added or removed), the
// start is located again with a script (ZRANK of the last members read, or
// ZCOUNT below the last score when all of them are gone) and the page is read
// from there. No Lua runs on the common path: converting a page through Lua
// costs more than the page itself.
class IndexWalk
{
public:
  explicit IndexWalk(std::string index_key) : index_key_(std::move(index_key)) {}

  bool done() const { return done_; }
  const std::string& index_key() const { return index_key_; }

  // The request for what comes next.
  std::vector<Command> next(Connection& c) const
  {
    const std::string from = std::to_string(start_);
    const std::string to = std::to_string(start_ + page_size - 1);
    if (locate_) {
      Command cmd = c.script_head(ScriptId::locate, 1);
      cmd << index_key_ << last_.score_text;
      for (std::size_t i = 0; i < recent_.size(); ++i) {
        cmd << recent_[recent_.size() - 1 - i];
      }
      return {std::move(cmd)};
    }
    Command range{"ZRANGE", index_key_, from, to, "WITHSCORES"};
    if (check_.empty()) {
      return {std::move(range)};
    }
    Command check = check_by_rank_ ? Command{"ZRANK", index_key_, check_}
                                   : Command{"ZCOUNT", index_key_, "-inf", "(" + check_};
    return {Command{"MULTI"}, std::move(check), std::move(range), Command{"EXEC"}};
  }

  // Takes the replies to next(): returns the entries not yet seen (maybe
  // none while the walk goes on).
  std::vector<IndexEntry> accept(Connection& c, std::vector<Reply> replies)
  {
    if (locate_) {
      Reply r = c.checked(std::move(replies.back()), "");
      if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
          r->element[0]->type != REDIS_REPLY_INTEGER) {
        c.fail("unexpected reply locating a page of the index " + index_key_, "");
      }
      start_ = r->element[0]->integer;
      if (r->elements > 1) {
        check_by_rank_ = true;
        check_ = std::string(reply_text(r->element[1]));
        check_value_ = start_ - 1;
      } else {
        check_by_rank_ = false;
        check_ = last_.score_text;
        check_value_ = start_;
      }
      locate_ = false;
      return {};
    }
    Reply holder;
    const redisReply* range = nullptr;
    if (check_.empty()) {
      holder = c.checked(std::move(replies.back()), "");
      range = holder.get();
    } else {
      for (Reply& r : replies) {
        r = c.checked(std::move(r), "");
      }
      Reply exec = std::move(replies.back());
      if (exec->type != REDIS_REPLY_ARRAY || exec->elements != 2) {
        c.fail("unexpected reply reading the index " + index_key_, "");
      }
      const redisReply* check = exec->element[0];
      if (check->type != REDIS_REPLY_INTEGER || check->integer != check_value_) {
        locate_ = true; // moved: find the start again
        return {};
      }
      range = exec->element[1];
      holder = std::move(exec);
    }
    return page(c, range);
  }

private:
  std::vector<IndexEntry> page(Connection& c, const redisReply* reply)
  {
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2 != 0) {
      c.fail("unexpected reply reading the index " + index_key_, "");
    }
    const std::size_t count = reply->elements / 2;
    done_ = count < page_size;
    std::vector<IndexEntry> out;
    out.reserve(count);
    if (count > 0) {
      recent_.clear();
    }
    for (std::size_t i = 0; i < count; ++i) {
      IndexEntry e;
      e.member = std::string(reply_text(reply->element[2 * i]));
      e.score_text = std::string(reply_text(reply->element[2 * i + 1]));
      e.score = std::strtod(e.score_text.c_str(), nullptr);
      if (count - i <= anchor_candidates) {
        recent_.push_back(e.member);
      }
      if (i + 1 == count) {
        check_ = e.member;
        check_by_rank_ = true;
      }
      const bool after = !started_ || e.score > last_.score ||
                         (e.score == last_.score && e.member > last_.member);
      if (after) {
        last_ = e;
        started_ = true;
        out.push_back(std::move(e));
      }
    }
    start_ += static_cast<long long>(count);
    check_value_ = start_ - 1;
    return out;
  }

  std::string index_key_;
  bool started_ = false;
  bool done_ = false;
  bool locate_ = false;      // the next request locates the start
  long long start_ = 0;      // rank of the next page
  std::string check_;        // the member (or, by score, the score) checked before a page
  bool check_by_rank_ = true;
  long long check_value_ = 0;// what the check must answer
  IndexEntry last_;          // the last entry yielded
  std::vector<std::string> recent_; // the last members read, in order
};

// One SCAN iteration over a MATCH pattern.
class KeyScan
{
public:
  explicit KeyScan(std::string pattern) : pattern_(std::move(pattern)) {}
  bool done() const { return done_; }
  std::vector<Command> next() const
  {
    return {Command{"SCAN", cursor_, "MATCH", pattern_, "COUNT", std::to_string(scan_count)}};
  }
  // Takes the reply to next(): returns the keys of this step.
  std::vector<std::string> accept(Connection& c, std::vector<Reply> replies)
  {
    Reply reply = c.checked(std::move(replies.back()), "");
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[1]->type != REDIS_REPLY_ARRAY) {
      c.fail("unexpected reply to SCAN", "");
    }
    cursor_ = std::string(reply_text(reply->element[0]));
    done_ = cursor_ == "0";
    std::vector<std::string> keys;
    keys.reserve(reply->element[1]->elements);
    for (std::size_t i = 0; i < reply->element[1]->elements; ++i) {
      keys.emplace_back(reply_text(reply->element[1]->element[i]));
    }
    return keys;
  }

private:
  std::string pattern_;
  std::string cursor_ = "0";
  bool done_ = false;
};

// ---------------------------------------------------------------------------

class RedisBackend final : public StorageBackend
{
public:
  explicit RedisBackend(Settings settings)
  {
    shared_.settings = std::move(settings);
    // Connect now: an unreachable server or rejected credentials surface at
    // open. The scripts are loaded once, here (a flushed script cache is
    // handled by the NOSCRIPT fallback).
    Lease lease = acquire();
    lease->load_scripts();
  }

  VersionedRecord get(std::string_view key) override
  {
    const KeyParts parts = split_key(key);
    Lease c = acquire();
    Command cmd{"HMGET", hash_key(parts), "version", "data"};
    cmd.key = std::string(key);
    Reply r = c->run(cmd);
    std::optional<VersionedRecord> rec = to_record(*c, r.get(), cmd.key);
    if (!rec) {
      throw StorageError::not_found(std::string(key));
    }
    return std::move(*rec);
  }

  std::uint64_t put(std::string_view key, std::string_view data) override
  {
    const KeyParts parts = split_key(key);
    check_utf8(data);
    const WriteValues v = write_values(data);
    Lease c = acquire();
    Command cmd = c->script(ScriptId::put, {hash_key(parts), index_key(parts.owner_id)},
                            {data, v.expires, v.expire_at, parts.task_id, v.score});
    cmd.key = std::string(key);
    Reply r = c->run(cmd);
    return version_of(*c, r.get(), cmd.key);
  }

  std::uint64_t put_if_version(std::string_view key, std::string_view data,
                               std::uint64_t expected) override
  {
    const KeyParts parts = split_key(key);
    check_utf8(data);
    const WriteValues v = write_values(data);
    Lease c = acquire();
    Command cmd = c->script(ScriptId::cas, {hash_key(parts), index_key(parts.owner_id)},
                            {data, v.expires, v.expire_at, parts.task_id, v.score,
                             std::to_string(expected)});
    cmd.key = std::string(key);
    Reply r = c->run(cmd);
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER) {
      c->fail("unexpected reply to the CAS script", cmd.key);
    }
    const std::uint64_t version = version_of(*c, r->element[1], cmd.key);
    if (r->element[0]->integer != 1) {
      throw StorageError::version_conflict(std::string(key), expected, version);
    }
    return version;
  }

  bool remove(std::string_view key) override
  {
    const KeyParts parts = split_key(key);
    Lease c = acquire();
    Command cmd = c->script(ScriptId::remove, {hash_key(parts), index_key(parts.owner_id)},
                            {parts.task_id});
    cmd.key = std::string(key);
    Reply r = c->run(cmd);
    if (r->type != REDIS_REPLY_INTEGER) {
      c->fail("unexpected reply to the delete script", cmd.key);
    }
    return r->integer == 1;
  }

  void scan(std::string_view prefix, const ScanVisitor& visit) override
  {
    Lease c = acquire();
    if (auto parts = parse_key(prefix)) {
      scan_owner(*c, *parts, visit);
    } else {
      scan_keys(*c, prefix, visit);
    }
  }

  std::string_view name() const override { return "redis"; }

protected:
  std::size_t do_cleanup_expired(const CleanupOptions& options) override
  {
    Lease c = acquire();
    Cleanup job{*this, *c, options};
    if (auto parts = parse_key(options.prefix)) {
      job.owner(*parts);
    } else {
      job.keys(options.prefix);
      if (!options.dry_run) {
        job.orphans(options.prefix);
      }
    }
    return job.removed;
  }

private:
  // A leased connection; returned to the pool unless it failed.
  class Lease
  {
  public:
    Lease(RedisBackend& owner, std::unique_ptr<Connection> c) : owner_(owner), c_(std::move(c)) {}
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
    RedisBackend& owner_;
    std::unique_ptr<Connection> c_;
  };

  Lease acquire()
  {
    {
      std::lock_guard lock(pool_mutex_);
      if (!idle_.empty()) {
        std::unique_ptr<Connection> c = std::move(idle_.back());
        idle_.pop_back();
        return Lease(*this, std::move(c));
      }
    }
    return Lease(*this, std::make_unique<Connection>(shared_));
  }

  void release(std::unique_ptr<Connection> c)
  {
    std::lock_guard lock(pool_mutex_);
    if (idle_.size() < max_idle_connections) {
      idle_.push_back(std::move(c));
    }
  }

  const std::string& prefix() const { return shared_.settings.prefix; }
  std::string tasks_prefix() const { return prefix() + ":tasks:"; }
  std::string hash_key(const KeyParts& p) const { return tasks_prefix() + p.owner_id + ":" + p.task_id; }
  std::string index_key(std::string_view owner) const { return prefix() + ":idx:" + std::string(owner); }

  static void check_utf8(std::string_view data)
  {
    if (auto e = utf8_error(data)) {
      throw StorageError::backend("data is not valid UTF-8: " + *e);
    }
  }

  // A version carried in a reply (string or integer).
  static std::uint64_t version_of(Connection& c, const redisReply* r, const std::string& key)
  {
    if (r->type == REDIS_REPLY_INTEGER && r->integer >= 0) {
      return static_cast<std::uint64_t>(r->integer);
    }
    if (r->type == REDIS_REPLY_STRING) {
      if (auto v = parse_version(reply_text(r))) {
        return *v;
      }
    }
    c.fail("invalid version in the reply for key " + key, key);
  }

  // The record in an HMGET version data reply; nullopt when the hash is gone.
  // Throws StorageError backend for a hash lacking a valid version or data.
  static std::optional<VersionedRecord> to_record(Connection& c, const redisReply* r,
                                                  const std::string& key)
  {
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
      c.fail("unexpected reply to HMGET", key);
    }
    const redisReply* version = r->element[0];
    const redisReply* data = r->element[1];
    if (version->type == REDIS_REPLY_NIL && data->type == REDIS_REPLY_NIL) {
      return std::nullopt;
    }
    std::optional<std::uint64_t> v;
    if (version->type == REDIS_REPLY_STRING) {
      v = parse_version(reply_text(version));
    }
    if (!v) {
      throw StorageError::backend("missing or invalid version field for key " + key);
    }
    if (data->type != REDIS_REPLY_STRING) {
      throw StorageError::backend("missing data field for key " + key);
    }
    return VersionedRecord{std::string(reply_text(data)), *v};
  }

  // An item of a walk: a record key and where it lives.
  struct Item
  {
    std::string key;    // the composite key "owner:task"
    std::string hash;   // its Redis hash
    std::string member; // its owner-index member (task id); "" from SCAN
  };

  // Where a walk's items come from: an owner index or a SCAN of the hashes.
  class Source
  {
  public:
    virtual ~Source() = default;
    virtual bool done() const = 0;
    // The request for more items (one or more commands).
    virtual std::vector<Command> next(Connection& c) const = 0;
    // The items in the replies to next() (maybe none while not done).
    virtual std::vector<Item> accept(Connection& c, std::vector<Reply> replies) = 0;
  };

  // The members of one owner index whose task id starts with a prefix.
  class OwnerSource final : public Source
  {
  public:
    OwnerSource(const RedisBackend& self, KeyParts parts)
      : self_(self), parts_(std::move(parts)), walk_(self.index_key(parts_.owner_id))
    {
    }
    bool done() const override { return walk_.done(); }
    std::vector<Command> next(Connection& c) const override { return walk_.next(c); }
    std::vector<Item> accept(Connection& c, std::vector<Reply> replies) override
    {
      std::vector<Item> items;
      for (IndexEntry& e : walk_.accept(c, std::move(replies))) {
        if (e.member.starts_with(parts_.task_id)) {
          std::string hash = self_.hash_key(KeyParts{parts_.owner_id, e.member});
          items.push_back(Item{parts_.owner_id + ":" + e.member, std::move(hash), std::move(e.member)});
        }
      }
      return items;
    }
    const std::string& index_key() const { return walk_.index_key(); }

  private:
    const RedisBackend& self_;
    KeyParts parts_;
    IndexWalk walk_;
  };

  // The record hashes whose key starts with a prefix, by SCAN MATCH.
  class KeySource final : public Source
  {
  public:
    KeySource(const RedisBackend& self, std::string_view prefix)
      : self_(self), prefix_(prefix),
        scan_(glob_escape(self.tasks_prefix()) + glob_escape(prefix) + "*")
    {
    }
    bool done() const override { return scan_.done(); }
    std::vector<Command> next(Connection&) const override { return scan_.next(); }
    std::vector<Item> accept(Connection& c, std::vector<Reply> replies) override
    {
      std::vector<Item> items;
      for (std::string& h : scan_.accept(c, std::move(replies))) {
        if (auto k = self_.composite_of(h, prefix_)) {
          items.push_back(Item{std::move(*k), std::move(h), std::string()});
        }
      }
      return items;
    }

  private:
    const RedisBackend& self_;
    std::string prefix_;
    KeyScan scan_;
  };

  // Writes that ride along with a walk's reads (cleanup's deletes): take()
  // hands over the commands for the next round trip, settle() their replies,
  // once per non-empty take(), in the same order.
  struct Rider
  {
    std::function<std::vector<Command>()> take;
    std::function<void(std::vector<Reply>)> settle;
  };

  // How many hashes one round trip fetches: up to batch_size, fewer when the
  // records are large, so that a round trip holds about batch_bytes of data.
  // The estimate is the largest record of the previous round trip; the count
  // at most doubles from one round trip to the next. (A run of records far
  // larger than any before can exceed batch_bytes, for one round trip.)
  class Sizer
  {
  public:
    std::size_t chunk() const { return chunk_; }
    void observe(std::size_t largest)
    {
      const std::size_t fit = batch_bytes / std::max<std::size_t>(largest, 1);
      chunk_ = std::clamp<std::size_t>(std::min(fit, chunk_ * 2), min_chunk, batch_size);
    }

  private:
    std::size_t chunk_ = first_chunk;
  };

  // One pipelined round trip of a walk: the rider's writes, HMGETs for a chunk
  // of items, and maybe the source's next request, sent in that order.
  struct Flight
  {
    std::vector<Command> writes;
    std::vector<Item> items;
    std::vector<Command> ask;   // the source's request
    std::vector<Reply> replies; // filled by collect()
    bool collected = false;
    std::size_t size() const { return writes.size() + items.size() + ask.size(); }
  };

  // Reads the replies of a flight (once), fixing NOSCRIPT replies; later
  // flights are read first when a script must be sent again.
  static void collect(Connection& c, std::deque<Flight>& flights, std::size_t index)
  {
    Flight& f = flights[index];
    if (f.collected) {
      return;
    }
    f.collected = true;
    f.replies.reserve(f.size());
    for (const Command& cmd : f.writes) {
      f.replies.push_back(c.read(cmd.key));
    }
    for (const Item& item : f.items) {
      f.replies.push_back(c.read(item.key));
    }
    for (const Command& cmd : f.ask) {
      f.replies.push_back(c.read(cmd.key));
    }
    const bool noscript = std::any_of(f.replies.begin(), f.replies.end(), [](const Reply& r) {
      return is_error(r.get()) && error_code(reply_text(r.get())) == "NOSCRIPT";
    });
    if (noscript) {
      for (std::size_t later = index + 1; later < flights.size(); ++later) {
        collect(c, flights, later);
      }
      // The commands aligned with the replies (HMGETs need no retry).
      std::vector<Command> aligned = f.writes;
      aligned.resize(f.writes.size() + f.items.size());
      aligned.insert(aligned.end(), f.ask.begin(), f.ask.end());
      c.retry_noscript(aligned, f.replies);
    }
  }

  // Streams the records of a source: HMGET version data in pipelined round
  // trips, two in flight so the client works while the server does. The
  // source's next request rides with a round trip as soon as the previous one
  // has been answered; a rider's writes ride with every round trip. visit gets
  // nullopt for a hash that is gone; it returns false to stop.
  void walk(Connection& c, Source& src, const Rider* rider,
            const std::function<bool(const Item&, const std::optional<VersionedRecord>&)>& visit)
  {
    std::deque<Item> queue;
    bool asking = false; // a source request is in flight
    std::deque<Flight> flights;
    Sizer sizer;
    struct Drain
    {
      Connection& c;
      ~Drain()
      {
        try {
          c.drain(); // a visitor stopped or threw: leave the connection clean
        } catch (...) {
        }
      }
    } drain{c};

    for (;;) {
      while (flights.size() < 2) {
        Flight f;
        if (rider != nullptr) {
          f.writes = rider->take();
        }
        const std::size_t n = std::min(queue.size(), sizer.chunk());
        f.items.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
          f.items.push_back(std::move(queue.front()));
          queue.pop_front();
        }
        // Keys run a round trip ahead of the HMGETs (two chunks' worth), so the
        // next round trip can leave before this one's answer is back.
        if (!asking && !src.done() && queue.size() < 2 * batch_size) {
          f.ask = src.next(c);
          asking = true;
        }
        if (f.size() == 0) {
          break;
        }
        for (const Command& cmd : f.writes) {
          c.append(cmd);
        }
        for (const Item& item : f.items) {
          c.append_hmget(item.hash, item.key);
        }
        for (const Command& cmd : f.ask) {
          c.append(cmd);
        }
        const bool reads = !f.items.empty() || !f.ask.empty();
        flights.push_back(std::move(f));
        if (!reads) {
          break; // writes only: nothing more to read for now
        }
      }
      if (flights.empty()) {
        return;
      }

      collect(c, flights, 0);
      Flight f = std::move(flights.front());
      flights.pop_front();
      const std::size_t writes = f.writes.size();
      if (writes > 0) {
        std::vector<Reply> settled;
        for (std::size_t i = 0; i < writes; ++i) {
          settled.push_back(std::move(f.replies[i]));
        }
        rider->settle(std::move(settled));
      }
      std::vector<std::optional<VersionedRecord>> records;
      records.reserve(f.items.size());
      std::size_t largest = 0;
      for (std::size_t i = 0; i < f.items.size(); ++i) {
        Reply r = c.checked(std::move(f.replies[writes + i]), f.items[i].key);
        records.push_back(to_record(c, r.get(), f.items[i].key));
        if (records.back()) {
          largest = std::max(largest, records.back()->data.size());
        }
      }
      if (!f.ask.empty()) {
        asking = false;
        std::vector<Reply> answer;
        for (std::size_t i = writes + f.items.size(); i < f.replies.size(); ++i) {
          answer.push_back(std::move(f.replies[i]));
        }
        for (Item& item : src.accept(c, std::move(answer))) {
          queue.push_back(std::move(item));
        }
      }
      f.replies.clear();
      if (!f.items.empty()) {
        sizer.observe(largest);
      }
      for (std::size_t i = 0; i < f.items.size(); ++i) {
        if (!visit(f.items[i], records[i])) {
          return;
        }
      }
    }
  }

  // One owner: walk the owner index, fetch the hashes of the matching members.
  void scan_owner(Connection& c, const KeyParts& parts, const ScanVisitor& visit)
  {
    OwnerSource src(*this, parts);
    walk(c, src, nullptr, [&](const Item& item, const std::optional<VersionedRecord>& rec) {
      return !rec || visit(item.key, *rec);
    });
  }

  // Composite key of a hash key found by SCAN, or nullopt for a key that is
  // not a record key (no ':' after the task prefix).
  std::optional<std::string> composite_of(const std::string& hash, std::string_view prefix) const
  {
    const std::string tp = tasks_prefix();
    if (!std::string_view(hash).starts_with(tp)) {
      return std::nullopt;
    }
    std::string key = hash.substr(tp.size());
    if (key.find(':') == std::string::npos || !std::string_view(key).starts_with(prefix)) {
      return std::nullopt;
    }
    return key;
  }

  // Every owner (or owners starting with prefix): SCAN the hashes.
  void scan_keys(Connection& c, std::string_view prefix, const ScanVisitor& visit)
  {
    KeySource src(*this, prefix);
    walk(c, src, nullptr, [&](const Item& item, const std::optional<VersionedRecord>& rec) {
      return !rec || visit(item.key, *rec);
    });
  }

  // cleanup_expired, one batch per round trip: the writes decided on the
  // previous batch travel with the reads of the next one.
  struct Cleanup
  {
    Cleanup(RedisBackend& backend, Connection& connection, const CleanupOptions& opts)
      : self(backend), c(connection), options(opts)
    {
    }

    RedisBackend& self;
    Connection& c;
    const CleanupOptions& options;
    std::size_t removed = 0;

    struct Candidate
    {
      std::string key;
      std::uint64_t version;
      Timestamp expires_at;
    };
    std::vector<Candidate> pending;  // deletes sent in the next round trip
    std::vector<Command> pending_writes;
    std::vector<bool> pending_is_delete; // per pending write: a delete (vs orphan removal)

    // Judges one fetched record: expired -> candidate (reported at once on a dry run).
    void judge(const std::string& key, const VersionedRecord& rec)
    {
      const std::optional<Timestamp> exp = extract_expires_at(rec.data);
      if (!is_expired_at(exp, options.now)) {
        return;
      }
      if (options.dry_run) {
        ++removed;
        if (options.on_removed) {
          options.on_removed(key, rec.version, *exp);
        }
        return;
      }
      const KeyParts parts = split_key(key);
      Command cmd = c.script(ScriptId::remove_if_version,
                             {self.hash_key(parts), self.index_key(parts.owner_id)},
                             {std::to_string(rec.version), parts.task_id});
      cmd.key = key;
      pending_writes.push_back(std::move(cmd));
      pending_is_delete.push_back(true);
      pending.push_back(Candidate{key, rec.version, *exp});
    }

    void orphan_removal(const std::string& index, const std::vector<std::string>& members,
                        const std::vector<std::string>& hashes)
    {
      if (members.empty() || options.dry_run) {
        return;
      }
      Command cmd = c.script_head(ScriptId::remove_orphans, 1 + hashes.size());
      cmd << index;
      for (const auto& h : hashes) {
        cmd << h;
      }
      for (const auto& m : members) {
        cmd << m;
      }
      pending_writes.push_back(std::move(cmd));
      pending_is_delete.push_back(false);
    }

    // Orphans found by an owner walk, removed with the next round trip.
    std::string orphan_index;
    std::vector<std::string> orphan_members;
    std::vector<std::string> orphan_hashes;

    // Writes taken but not yet settled, oldest first: what each one was.
    struct Taken
    {
      std::vector<Candidate> deletes;
      std::vector<bool> is_delete;
    };
    std::deque<Taken> taken;

    // The writes for the next round trip: the pending deletes, then the
    // orphans found since the last one. Every non-empty take is settled, in
    // the order taken.
    std::vector<Command> take_writes()
    {
      if (!orphan_members.empty()) {
        orphan_removal(orphan_index, orphan_members, orphan_hashes);
        orphan_members.clear();
        orphan_hashes.clear();
      }
      if (pending_writes.empty()) {
        return {};
      }
      taken.push_back(Taken{std::exchange(pending, {}), std::exchange(pending_is_delete, {})});
      return std::exchange(pending_writes, {});
    }

    // Accounts for the replies to the oldest writes taken by take_writes().
    void settle(std::vector<Reply> replies)
    {
      std::size_t d = 0;
      Taken batch = std::move(taken.front());
      taken.pop_front();
      std::vector<Candidate>& done = batch.deletes;
      std::vector<bool>& kinds = batch.is_delete;
      if (kinds.size() != replies.size()) {
        c.fail("internal error: cleanup writes and replies differ", "");
      }
      for (std::size_t i = 0; i < replies.size(); ++i) {
        const std::string& key = kinds[i] ? done[d].key : std::string();
        Reply r = c.checked(std::move(replies[i]), key);
        if (!kinds[i]) {
          continue;
        }
        const Candidate& cand = done[d++];
        if (r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
          ++removed;
          if (options.on_removed) {
            options.on_removed(cand.key, cand.version, cand.expires_at);
          }
        }
      }
    }

    // Sends the pending writes alone (end of a walk).
    void flush()
    {
      std::vector<Command> writes = take_writes();
      if (!writes.empty()) {
        settle(c.pipeline(writes));
      }
    }

    Rider rider()
    {
      return Rider{[this] { return take_writes(); },
                   [this](std::vector<Reply> replies) { settle(std::move(replies)); }};
    }

    // One owner: expired records and orphaned entries of its index.
    void owner(const KeyParts& parts)
    {
      OwnerSource src(self, parts);
      const Rider r = rider();
      orphan_index = src.index_key();
      self.walk(c, src, &r, [&](const Item& item, const std::optional<VersionedRecord>& rec) {
        if (rec) {
          judge(item.key, *rec);
        } else if (!options.dry_run) {
          orphan_members.push_back(item.member);
          orphan_hashes.push_back(item.hash);
        }
        return true;
      });
      flush();
    }

    // Every owner (or owners starting with prefix): SCAN the hashes.
    void keys(std::string_view prefix)
    {
      KeySource src(self, prefix);
      const Rider r = rider();
      self.walk(c, src, &r, [&](const Item& item, const std::optional<VersionedRecord>& rec) {
        if (rec) {
          judge(item.key, *rec);
        }
        return true;
      });
      flush();
    }

    // Orphaned index entries of every owner starting with prefix: each index
    // page goes to the orphan script, which checks the hashes server-side.
    void orphans(std::string_view prefix)
    {
      const std::string idx_prefix = self.prefix() + ":idx:";
      KeyScan scan(glob_escape(idx_prefix) + glob_escape(prefix) + "*");
      while (!scan.done()) {
        for (const std::string& index : scan.accept(c, c.pipeline(scan.next()))) {
          const std::string owner = index.substr(idx_prefix.size());
          if (owner.find(':') != std::string::npos) {
            continue; // not an index this layout writes
          }
          IndexWalk walk(index);
          std::vector<IndexEntry> entries = walk.accept(c, c.pipeline(walk.next(c)));
          while (!entries.empty() || !walk.done()) {
            std::vector<std::string> members;
            std::vector<std::string> hashes;
            for (IndexEntry& e : entries) {
              hashes.push_back(self.hash_key(KeyParts{owner, e.member}));
              members.push_back(std::move(e.member));
            }
            orphan_removal(index, members, hashes);
            std::vector<Command> cmds = take_writes();
            const std::size_t writes = cmds.size();
            if (!walk.done()) {
              for (Command& cmd : walk.next(c)) {
                cmds.push_back(std::move(cmd));
              }
            }
            if (cmds.empty()) {
              break;
            }
            std::vector<Reply> replies = c.pipeline(cmds);
            std::vector<Reply> write_replies;
            std::vector<Reply> page_replies;
            for (std::size_t i = 0; i < replies.size(); ++i) {
              (i < writes ? write_replies : page_replies).push_back(std::move(replies[i]));
            }
            if (writes > 0) {
              settle(std::move(write_replies));
            }
            entries = page_replies.empty() ? std::vector<IndexEntry>()
                                           : walk.accept(c, std::move(page_replies));
          }
        }
      }
    }
  };

  Shared shared_;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

// ---------------------------------------------------------------------------
// URI -> settings.

Settings
settings_from(const StoreUri& uri, const OpenOptions& options)
{
  Settings s;
  s.address = uri.redacted();
  if (uri.scheme == "rediss") {
    throw InvalidArgument("rediss:// (Redis over TLS) is not supported: this build's hiredis "
                          "(0.14) has no TLS. Reach the server through a TLS tunnel (e.g. "
                          "stunnel) with redis://, or over a local socket with redis+unix://");
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
    uri.require_params({"prefix", "timeout"});
    if (!uri.has_authority || uri.host.empty()) {
      throw InvalidArgument("redis:// needs a host: redis://[user[:pass]@]host[:port][/db] (got " +
                            s.address + ")");
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
  return s;
}

} // namespace

std::unique_ptr<StorageBackend>
open_redis(const StoreUri& uri, const OpenOptions& options)
{
  return std::make_unique<RedisBackend>(settings_from(uri, options));
}

} // namespace taskstore
