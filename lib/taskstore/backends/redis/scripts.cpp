#include "taskstore/backends/redis/scripts.hpp"

#include <iterator>
#include <utility>

namespace taskstore::redis_detail {
namespace {

// ---------------------------------------------------------------------------
// Lua scripts. Keys and values arrive binary-safe in KEYS/ARGV. Versions are
// canonical decimal strings throughout.

// Shared helpers: canonical(v) strips leading zeros (nil when v is not all
// digits); incr(v) adds one to a canonical decimal string; at_max(v) says
// whether a canonical version is the maximum, u64 max (or beyond it), which
// no write may go past. Versions are compared as strings, never as Lua
// numbers (doubles, exact only to 2^53): a longer canonical string is larger,
// and equal-length digit strings compare as numbers.
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
  "local function at_max(v)\n"                                                                     \
  "  return #v > 20 or (#v == 20 and v >= '18446744073709551615')\n"                               \
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
// EXPIREAT second, task id, score ms. Returns the new version (a string), or
// the integer 0 when the record is at the maximum version (nothing written).
constexpr const char* lua_put = TASKSTORE_LUA_HELPERS
  "local cur = redis.call('HGET', KEYS[1], 'version')\n"
  "local new = '1'\n"
  "if cur then\n"
  "  local c = canonical(cur)\n"
  "  if not c then return redis.error_reply('ERR invalid version field: ' .. cur) end\n"
  "  if at_max(c) then return 0 end\n"
  "  new = incr(c)\n"
  "end\n"
  "write(new)\n"
  "return new\n";

// put_if_version. KEYS: hash, index. ARGV: as put, then expected (canonical). Returns {1, new} or {0, actual} (actual "0" when absent),
// or {2, actual} when the record is at the maximum version (nothing written; the
// caller refuses expected == max before sending, this guards the rest).
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
  "if at_max(c) then return {2, c} end\n"
  "local new = incr(c)\n"
  "write(new)\n"
  "return {1, new}\n";

// remove. KEYS: hash, index. ARGV: task id. Returns 1 when the hash existed.
// The index entry goes either way (the anchor keeps it when the hash expired).
constexpr const char* lua_delete =
  "local n = redis.call('DEL', KEYS[1])\n"
  "redis.call('ZREM', KEYS[2], ARGV[1])\n"
  "return n\n";

// remove_if_version, and cleanup's per-key check: delete the hash and its
// index entry only when the version is still expected. KEYS: hash, index.
// ARGV: expected version (canonical), task id. Returns the integer 1 when it
// deleted, else the current version as a string ('0' when absent: nothing is
// written then, not even an orphaned index entry removed); an error reply for
// an invalid version field, as the write scripts.
constexpr const char* lua_delete_if_version = TASKSTORE_LUA_HELPERS
  "local cur = redis.call('HGET', KEYS[1], 'version')\n"
  "if not cur then return '0' end\n"
  "local c = canonical(cur)\n"
  "if not c then return redis.error_reply('ERR invalid version field: ' .. cur) end\n"
  "if c ~= ARGV[1] then return c end\n"
  "redis.call('DEL', KEYS[1])\n"
  "redis.call('ZREM', KEYS[2], ARGV[2])\n"
  "return 1\n";

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

// cleanup's remove_damaged: delete the key and its index entry only while it
// is still damaged (not a hash, or a hash without data or without a version
// from 1 to u64 max), so a record repaired meanwhile survives. KEYS: hash,
// index. ARGV: task id. Returns 1 when it deleted, else 0.
constexpr const char* lua_remove_damaged = TASKSTORE_LUA_HELPERS
  "local t = redis.call('TYPE', KEYS[1])['ok']\n"
  "if t == 'none' then return 0 end\n"
  "if t == 'hash' then\n"
  "  local f = redis.call('HMGET', KEYS[1], 'version', 'data')\n"
  "  local c = canonical(f[1])\n"
  "  if f[2] and c and c ~= '0' and (#c < 20 or (#c == 20 and c <= '18446744073709551615')) then\n"
  "    return 0\n"
  "  end\n"
  "end\n"
  "redis.call('DEL', KEYS[1])\n"
  "redis.call('ZREM', KEYS[2], ARGV[1])\n"
  "return 1\n";

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

constexpr const char* script_source[] = {lua_put,           lua_cas,
                                         lua_delete,        lua_delete_if_version,
                                         lua_remove_orphans, lua_locate, lua_remove_damaged};
static_assert(std::size(script_source) == static_cast<std::size_t>(ScriptId::count_));

// The command c sent again as EVAL of its script's source.
Command
as_eval(const Command& c, ScriptId id)
{
  Command e{"EVAL", script_source[static_cast<std::size_t>(id)]};
  for (std::size_t i = 2; i < c.args().size(); ++i) {
    e << c.args()[i];
  }
  e.key = c.key;
  return e;
}

} // namespace

void
Scripts::load(Connection& c)
{
  std::vector<Command> loads;
  for (const char* source : script_source) {
    loads.push_back(Command{"SCRIPT", "LOAD", source});
  }
  std::vector<Reply> replies = c.round_trip(loads);
  for (std::size_t j = 0; j < replies.size(); ++j) {
    Reply r = c.checked(std::move(replies[j]), "");
    if (r->type != REDIS_REPLY_STRING) {
      c.fail("unexpected reply to SCRIPT LOAD", "");
    }
    sha_[j] = std::string(reply_text(r.get()));
  }
}

Command
Scripts::command(ScriptId id, std::initializer_list<std::string_view> keys,
                 std::initializer_list<std::string_view> args) const
{
  Command c = head(id, keys.size());
  for (auto k : keys) {
    c << k;
  }
  for (auto a : args) {
    c << a;
  }
  return c;
}

Command
Scripts::head(ScriptId id, std::size_t key_count) const
{
  return Command{"EVALSHA", sha_[static_cast<std::size_t>(id)], std::to_string(key_count)};
}

std::vector<Reply>
Scripts::pipeline(Connection& c, const std::vector<Command>& commands) const
{
  std::vector<Reply> replies = c.round_trip(commands);
  retry_noscript(c, commands, replies);
  return replies;
}

Reply
Scripts::run(Connection& c, const Command& command) const
{
  c.append(command);
  std::vector<Reply> replies;
  replies.push_back(c.read(command.key));
  retry_noscript(c, std::span(&command, 1), replies);
  return c.checked(std::move(replies.front()), command.key);
}

void
Scripts::retry_noscript(Connection& c, std::span<const Command> commands, std::vector<Reply>& replies) const
{
  std::vector<Command> again;
  std::vector<std::size_t> where;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (!is_noscript(replies[i].get())) {
      continue;
    }
    if (auto id = script_of(commands[i])) {
      again.push_back(as_eval(commands[i], *id));
      where.push_back(i);
    }
  }
  if (!again.empty()) {
    std::vector<Reply> retried = c.round_trip(again);
    for (std::size_t j = 0; j < where.size(); ++j) {
      replies[where[j]] = std::move(retried[j]);
    }
  }
}

std::optional<ScriptId>
Scripts::script_of(const Command& c) const
{
  const std::vector<std::string>& args = c.args();
  if (args.size() < 2 || args[0] != "EVALSHA") {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < std::size(sha_); ++i) {
    if (args[1] == sha_[i]) {
      return static_cast<ScriptId>(i);
    }
  }
  return std::nullopt;
}

} // namespace taskstore::redis_detail
