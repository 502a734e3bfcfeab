#pragma once
// The machinery of the repair commands (cancel, set-status, vars, expire,
// edit): one record changed through taskstore::TaskStore::modify — read,
// check, apply, CAS on the version read, retried on a conflict — with the
// CLI's rules on top: every record written is one `put` would accept, an
// illegal transition is refused (exit 6) unless --force, lastUpdatedAt is
// bumped, --dry-run prints a unified diff, and each key gets a result object.

#include "context.hpp" // Json, CliError
#include "write.hpp"   // LimitOptions

#include "taskstore/record.hpp"
#include "taskstore/status.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}
namespace taskstore {
class StorageBackend;
class TaskError;
}

namespace taskctl {

// The options every repair command shares.
struct RepairOptions
{
  unsigned retries = 3;  // --retries N: re-reads after a version conflict
  bool dry_run = false;  // -n/--dry-run
  bool force = false;    // --force: write a transition pmcp-tasks forbids, or change an expired task
  LimitOptions limits;   // the checks of the record written, as put's

  // Adds --retries, -n/--dry-run, --force (described by force_help) and the limits.
  void add_to(CLI::App& app, const std::string& force_help);
};

// What a repair did to one key.
struct RepairResult
{
  std::string key;
  std::string result;             // "updated", "unchanged", "would_update"
  std::uint64_t old_version = 0;
  std::uint64_t new_version = 0;  // = old_version when unchanged
  std::string old_status;
  std::string new_status;
  bool dry_run = false;
  bool forced = false;            // an illegal transition or an expired task was forced
  unsigned attempts = 0;
  std::string old_pretty;         // the pretty record before and after (for the diff)
  std::string new_pretty;
};

// A change to the record read (called again on every attempt, on the fresh
// read). It sets the status only through Repair::transition.
using Change = std::function<void(taskstore::TaskRecord& record)>;

class Repair
{
public:
  Repair(const Context& ctx, taskstore::StorageBackend& store, const RepairOptions& options);

  // Applies change to the record under key. Returns the result; throws
  // CliError with the exit status of the failure: not_found 3,
  // version_conflict 4 (retries exhausted; the attempts in extra),
  // invalid_transition / expired / validation_failed / damaged_record 6;
  // a backend failure as the StorageError it is. check_expiry false lets the
  // change apply to an expired task (expire does).
  RepairResult apply(const std::string& key, const Change& change, bool check_expiry = true);

  // In a change: moves record to status, when pmcp-tasks' table allows it
  // or --force was given (then warns once); otherwise throws
  // TaskError invalid_transition.
  void transition(taskstore::TaskRecord& record, taskstore::TaskStatus status);

private:
  const Context& m_ctx;
  taskstore::StorageBackend& m_store;
  const RepairOptions& m_options;
  bool m_forced = false;
};

// Prints results: table "cancelled KEY (version 3 -> 4, working -> cancelled)"
// per key (a dry run prints the diff on stdout and the plan on stderr);
// jsonl one object per key; json one document (a "results" array when
// several is true, else the object itself); raw the new version.
// verb: the table's past tense ("cancelled", "updated").
class RepairPrinter
{
public:
  RepairPrinter(const Context& ctx, std::string verb, bool several);
  void result(const RepairResult& result);
  // A key that failed (cancel of several keys): printed as an error on
  // stderr, and as {"key","result":"failed","error":{...}} in JSON.
  // Returns its exit status.
  int failure(const std::string& key, const std::exception_ptr& error);
  // Ends the json document.
  void finish();

private:
  const Context& m_ctx;
  std::string m_verb;
  bool m_several;
  Json m_results = Json::array();
};

// The result object of one key: {"key","result","old_version","new_version",
// "old_status","new_status","dry_run","forced","attempts"[,"diff"]}.
Json repair_result_json(const RepairResult& result, bool with_diff);

// The refusal of an illegal transition (exit 6): names the legal targets and --force.
CliError transition_error(const std::string& key, taskstore::TaskStatus from, taskstore::TaskStatus to);
// Warns (unless quiet) that key is being moved from -> to against the table.
void warn_forced_transition(const Context& ctx, const std::string& key, taskstore::TaskStatus from,
                            taskstore::TaskStatus to);

// The CliError for a TaskError of a repair of key; rethrows the nested
// StorageError of a backend failure instead (so it keeps its exit status).
CliError repair_error(const std::string& key, const taskstore::TaskError& error, unsigned attempts);

// Returns "pretty" JSON of record bytes for display and diffs (2-space
// indent, keys in stored order), or the bytes themselves when they are not JSON.
std::string pretty_record(std::string_view bytes);

// Runs the command in TASKCTL_FAILPOINT_BEFORE_WRITE (when set) through
// /bin/sh with TASKCTL_FAILPOINT_KEY and TASKCTL_FAILPOINT_ATTEMPT set: a
// test hook for a write that lands between a repair's read and its CAS.
void run_failpoint(const std::string& key, unsigned attempt);

} // namespace taskctl
