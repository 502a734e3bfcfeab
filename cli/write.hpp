#pragma once
// The write path of put and cas: the input is read, prepared by
// taskstore::prepare_record (every problem becomes one CliError
// validation_failed) and written under the version rule the request asks for.

#include "input.hpp" // k_default_max_record_size

#include "taskstore/validate.hpp" // taskstore::StoreConfig

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace CLI {
class App;
}
namespace taskstore {
class StorageBackend;
}

namespace taskctl {

struct Context;

// The limits options shared by put, cas and validate.
struct LimitOptions
{
  std::size_t max_depth = taskstore::StoreConfig{}.max_variable_depth;
  std::size_t max_string_length = taskstore::StoreConfig{}.max_string_length;
  std::size_t max_size = taskstore::StoreConfig{}.max_variable_size_bytes;
  std::size_t max_record_size = k_default_max_record_size;

  // Adds --max-depth, --max-string-length and --max-size (group "Limits").
  void add_to(CLI::App& app);
  // Adds --max-record-size (put and cas, which read a record).
  void add_record_size_to(CLI::App& app);
  // Returns the library's limits with these three figures.
  taskstore::StoreConfig config() const;
};

struct WriteRequest
{
  std::string key;
  std::string input;                         // "", "-" or a file
  bool no_validate = false;
  bool dry_run = false;
  bool if_absent = false;                    // put --if-absent
  std::optional<std::uint64_t> expect_version; // cas --expect-version
  bool force = false;                        // --force: write a transition pmcp-tasks forbids
  // The status of the record being written; "" = not known (--no-validate):
  // then no transition is checked.
  std::string new_status;
  LimitOptions limits;
};

// What a write did, or for a dry run would do.
struct WriteOutcome
{
  std::string key;
  std::uint64_t version = 0;  // the version written (dry run: the one the write would get)
  std::uint64_t previous = 0; // the version it replaced; 0 = the key was new
  bool dry_run = false;
  std::size_t bytes = 0;      // the size of what is (or would be) stored
  std::string old_status;     // the replaced record's status ("" = new key, unknown or unchecked)
  bool forced = false;        // the transition old_status -> new_status is one pmcp-tasks forbids
};

// Returns the bytes to store for data under key: the canonical compact form
// pmcp-tasks writes. Throws CliError validation_failed (exit 6) listing every
// problem taskstore::prepare_record found (details: one format_violation line
// each; extra: key, violations, total_violations); InvalidArgument for a key
// without ':'. Warns (unless quiet) about each unknown field, which is not
// stored (pmcp-tasks ignores them).
std::string prepare_for_write(const Context& ctx, const std::string& key, std::string_view data,
                              const LimitOptions& limits);

// Writes bytes under request.key in store: a plain put, put --if-absent (an
// atomic create), or a cas on request.expect_version (0: create). With
// request.dry_run only reads the current version and checks the same rules.
// When request.new_status is known, the status transition from the stored
// record is checked against pmcp-tasks' table, and the write is conditional
// on the version checked (a plain put re-reads and re-checks up to 4 times
// when the record changes meanwhile). Returns what was (would be) written.
// Throws CliError already_exists (exit 4), not_found (exit 3),
// version_conflict (exit 4, current version in extra) or invalid_transition
// (exit 6, unless request.force) when a rule fails; otherwise what the
// backend throws.
WriteOutcome apply_write(taskstore::StorageBackend& store, const WriteRequest& request, const std::string& bytes);

// Prints an outcome: table "stored KEY (version N)" (dry run: what would be
// written); json/jsonl {"key","version","previous_version","dry_run","bytes"};
// raw the version alone.
void print_write_outcome(const Context& ctx, const WriteOutcome& outcome);

// Reads, prepares (unless no_validate), writes and prints one record: put
// and cas. Returns the exit status; throws for failures.
int run_write(Context& ctx, const WriteRequest& request);

// KEY, FILE, --no-validate, -n/--dry-run, --force and the limits, for put and cas.
void add_write_options(CLI::App& app, WriteRequest& request);

} // namespace taskctl
