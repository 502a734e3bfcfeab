// taskctl copy SRC_URI DST_URI [--owner OWNER | PREFIX]: stream the records
// of one store into another, in constant memory.

#include "app.hpp"
#include "context.hpp"
#include "damage.hpp"
#include "listing.hpp"
#include "output.hpp"
#include "store.hpp"
#include "transfer.hpp"

#include "taskstore/backend.hpp"
#include "taskstore/json/peek.hpp"
#include "taskstore/key.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>

namespace taskctl {

namespace {

struct CopyOptions
{
  std::string source;
  std::string target;
  std::string prefix;
  std::string owner;
  bool if_absent = false;
  bool overwrite = false;
  bool include_expired = false;
  bool dry_run = false;
  std::string source_password_file;
  std::string target_password_file;
};

int
run_copy(Context& ctx, CopyOptions& options)
{
  ctx.resolve_format(Format::table);
  const std::string prefix = scope_prefix(options.prefix, options.owner);
  auto source = open_store_at(ctx, options.source, StoreAccess::read, options.source_password_file);
  auto target = open_store_at(ctx, options.target, options.dry_run ? StoreAccess::read : StoreAccess::write,
                              options.target_password_file);
  const taskstore::Timestamp now = taskstore::now_utc();
  Loader loader(ctx, *target, on_existing(options.if_absent, options.overwrite), options.dry_run, "copy");
  std::uint64_t damaged = 0;
  source->scan(
    prefix,
    [&](const std::string& key, const taskstore::VersionedRecord& record) {
      if (interrupted()) {
        return false;
      }
      if (!options.include_expired &&
          taskstore::is_expired_at(taskstore::extract_expires_at(record.data), now)) {
        loader.left_out();
        return true;
      }
      loader.add(key, record.data, 0);
      return true;
    },
    [&](const taskstore::DamagedRecord& d) {
      ++damaged;
      warn_damaged(ctx, d, "not copied");
      return !interrupted();
    });
  const int status = loader.finish(interrupted());
  return status != exit_ok ? status : damaged_exit(ctx, damaged);
}

} // namespace

Command
register_copy(CLI::App& root)
{
  auto options = std::make_shared<CopyOptions>();
  CLI::App* app = root.add_subcommand("copy", "Copy records from one store into another (streamed, batched)");
  app->add_option("SRC_URI", options->source, "The store to read (its URI)")->required()->type_name("SRC_URI");
  app->add_option("DST_URI", options->target, "The store to write (its URI)")->required()->type_name("DST_URI");
  add_scope_options(app, options->prefix, options->owner);
  add_existing_options(app, options->if_absent, options->overwrite);
  app->add_flag("--include-expired", options->include_expired, "Copy expired records too (left out by default)");
  app->add_flag("-n,--dry-run", options->dry_run, "Read the source and report what would be written; write nothing");
  app->add_option("--src-password-file", options->source_password_file, "The source store's password, from FILE")
    ->type_name("FILE");
  app->add_option("--dst-password-file", options->target_password_file, "The target store's password, from FILE")
    ->type_name("FILE");
  app->footer(
    "Streams the source's records (in its listing order) into the target in constant\n"
    "memory, in the target's batches (as import writes them), each record's bytes exactly\n"
    "and so its expiry. A record already expired is left out unless --include-expired.\n"
    "Versions cannot be carried: each write gives the record the target's own next version.\n"
    "A key that exists in the target is refused by default (exit 4): --if-absent skips it,\n"
    "--overwrite replaces it. Records are copied as stored, without put's checks (import\n"
    "checks them). Output, progress and Ctrl-C as import's; re-run an interrupted copy with\n"
    "--if-absent to finish it. --store and TASKCTL_STORE are not used: both stores are named\n"
    "here; put passwords in files (--src-password-file / --dst-password-file) rather than in\n"
    "the URIs.\n"
    "\n"
    "Examples:\n"
    "  taskctl copy redis://10.0.0.5:6379/0?prefix=pmcp sqlite:///backup/tasks.db\n"
    "  taskctl copy --owner user-123 --if-absent sqlite:///a.db dynamodb://pmcp_tasks?region=eu-west-1");
  return {app, [options](Context& ctx) { return run_copy(ctx, *options); }};
}

} // namespace taskctl
