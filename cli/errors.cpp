#include "errors.hpp"

#include "context.hpp"
#include "store.hpp"

#include "taskstore/error.hpp"

#include <fmt/format.h>

namespace taskctl {

namespace {

ErrorReport
report_for(const std::exception& e, int exit_code, std::string code)
{
  ErrorReport r;
  r.code = std::move(code);
  r.exit_code = exit_code;
  auto chain = taskstore::error_chain(e);
  r.message = chain.front();
  r.causes.assign(chain.begin() + 1, chain.end());
  return r;
}

ErrorReport
interrupted_report()
{
  ErrorReport r;
  r.code = "interrupted";
  r.exit_code = interrupt_exit_code();
  r.message = "interrupted";
  return r;
}

// Whether e is a SQLite store found locked for the whole busy timeout (the
// one "unavailable" a SQLite store has): its remedy is waiting, not the network.
bool
locked_sqlite_store(const taskstore::StorageError& e)
{
  const std::string_view text = e.what();
  return text.find("sqlite store ") != std::string_view::npos &&
         text.find(" is locked by another process") != std::string_view::npos;
}

ErrorReport
storage_report(const Context& ctx, const taskstore::StorageError& e)
{
  ErrorReport r;
  switch (e.kind()) {
  case taskstore::StorageErrorKind::not_found:
    r = report_for(e, exit_not_found, "not_found");
    r.extra["key"] = e.key();
    break;
  case taskstore::StorageErrorKind::version_conflict:
    r = report_for(e, exit_conflict, "version_conflict");
    r.extra["key"] = e.key();
    r.extra["expected_version"] = e.expected();
    r.extra["current_version"] = e.actual();
    r.hint =
      fmt::format("the current version is {}; read it with `taskctl get {}` and retry", e.actual(), e.key());
    break;
  case taskstore::StorageErrorKind::capacity_exceeded:
    // A precondition of the write failed (e.g. the record is at the maximum
    // version), nothing was written: exit 4, as for a conflict.
    r = report_for(e, exit_conflict, "capacity_exceeded");
    break;
  case taskstore::StorageErrorKind::backend:
    if (e.unavailable() && locked_sqlite_store(e)) {
      r = report_for(e, exit_unavailable, "unavailable");
      r.hint = fmt::format("--timeout sets how long taskctl waits for the lock (now {}): retry when the other "
                           "process is done, or raise it",
                           ctx.global.timeout);
    } else if (e.unavailable()) {
      r = report_for(e, exit_unavailable, "unavailable");
      r.hint = fmt::format("is the store reachable? store: {}; --timeout {} (raise it to wait longer)",
                           store_display(ctx), ctx.global.timeout);
    } else {
      r = report_for(e, exit_failure, "backend");
      r.hint = fmt::format("store: {}", store_display(ctx));
    }
    break;
  }
  return r;
}

} // namespace

ErrorReport
failure_report(const Context& ctx, std::exception_ptr error)
{
  try {
    std::rethrow_exception(error);
  } catch (const Interrupted&) {
    return interrupted_report();
  } catch (const CliError& e) {
    if (interrupted()) {
      return interrupted_report();
    }
    ErrorReport r = report_for(e, e.exit_code(), e.code());
    r.causes.insert(r.causes.begin(), e.causes.begin(), e.causes.end());
    r.details = e.details;
    r.hint = e.hint;
    r.extra = e.extra;
    return r;
  } catch (const taskstore::StorageError& e) {
    if (interrupted()) {
      return interrupted_report();
    }
    return storage_report(ctx, e);
  } catch (const taskstore::InvalidArgument& e) {
    return report_for(e, exit_usage, "invalid_argument");
  } catch (const taskstore::ConfigError& e) {
    ErrorReport r = report_for(e, exit_config, "config");
    r.hint = fmt::format("store: {}", store_display(ctx));
    return r;
  } catch (const taskstore::TaskError& e) {
    switch (e.kind()) {
    case taskstore::TaskErrorKind::not_found:
      return report_for(e, exit_not_found, "not_found");
    case taskstore::TaskErrorKind::concurrent_modification:
      return report_for(e, exit_conflict, "version_conflict");
    case taskstore::TaskErrorKind::storage_full: // the store's capacity_exceeded, as put reports it
      return report_for(e, exit_conflict, "capacity_exceeded");
    case taskstore::TaskErrorKind::invalid_transition:
    case taskstore::TaskErrorKind::expired:
    case taskstore::TaskErrorKind::variable_size_exceeded:
      return report_for(e, exit_invalid, "task_error");
    default:
      return report_for(e, exit_failure, "task_error");
    }
  } catch (const std::exception& e) {
    if (interrupted()) {
      return interrupted_report();
    }
    return report_for(e, exit_failure, "internal");
  }
}

} // namespace taskctl
