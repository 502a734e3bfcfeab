#pragma once
// The Redis backend's Lua scripts (private to backends/redis/): their sources,
// loading them (SCRIPT LOAD when the backend opens), the EVALSHA commands that
// run them, and the NOSCRIPT fallback (a flushed script cache: the command is
// sent again as EVAL, which also caches the script again).
//
// Keys and values reach the scripts binary-safe in KEYS/ARGV. Versions are
// compared and incremented as canonical decimal strings, never as Lua numbers
// (doubles), so they stay exact beyond 2^53.

#include "taskstore/backends/redis/connection.hpp"

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace taskstore::redis_detail {

enum class ScriptId
{
  put,               // KEYS hash, index; ARGV data, expires_at field, EXPIREAT second, task id, score
  cas,               // as put, then the expected version
  remove,            // KEYS hash, index; ARGV task id
  remove_if_version, // KEYS hash, index; ARGV version, task id (remove_if_version, cleanup)
  remove_orphans,    // KEYS index, hash 1..n; ARGV member 1..n (cleanup)
  locate,            // KEYS index; ARGV last score, candidate members (IndexWalk)
  remove_damaged,    // KEYS hash, index; ARGV task id (cleanup's remove_damaged)
  count_
};

// The digests of the scripts on one server, and the commands that run them.
class Scripts
{
public:
  // SCRIPT LOAD of every script over c, keeping the digests. Called once,
  // before the Scripts is shared between threads: the digests never change
  // afterwards (a flushed cache is handled by the NOSCRIPT fallback), so
  // reading them needs no lock. Throws what the connection throws.
  void load(Connection& c);

  // An EVALSHA command for a script with its keys and arguments.
  Command command(ScriptId id, std::initializer_list<std::string_view> keys,
                  std::initializer_list<std::string_view> args) const;

  // "EVALSHA digest key_count", for the caller to add the keys and arguments.
  Command head(ScriptId id, std::size_t key_count) const;

  // Connection::round_trip, then the NOSCRIPT fallback (retry_noscript).
  std::vector<Reply> pipeline(Connection& c, const std::vector<Command>& commands) const;

  // One command, with the NOSCRIPT fallback; the reply is checked: an error
  // reply throws.
  Reply run(Connection& c, const Command& command) const;

  // Replaces the NOSCRIPT replies of EVALSHA commands by the replies of the
  // same scripts sent as EVAL, in one round trip. commands[i] is the command
  // replies[i] answers (a default Command where no retry can be due); nothing
  // else may be outstanding on c.
  void retry_noscript(Connection& c, std::span<const Command> commands, std::vector<Reply>& replies) const;

  // True for the NOSCRIPT error reply.
  static bool is_noscript(const redisReply* r) { return is_error(r) && error_code(reply_text(r)) == "NOSCRIPT"; }

private:
  // The script an EVALSHA command runs; nullopt for any other command.
  std::optional<ScriptId> script_of(const Command& c) const;

  std::string sha_[static_cast<std::size_t>(ScriptId::count_)];
};

} // namespace taskstore::redis_detail
