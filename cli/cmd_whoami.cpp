// taskctl whoami: what the run's store authenticates with, without a request
// to the store: for DynamoDB the credential source the AWS chain chose (and
// every source it tried first), the masked access key id, expiry, identity,
// profile, region and endpoint with where each came from; for Redis the user
// and where the password comes from. Never a secret.

#include "app.hpp"
#include "context.hpp"
#include "output.hpp"
#include "store.hpp"

#include "taskstore/identity.hpp"
#include "taskstore/uri.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>

namespace taskctl {

namespace {

int
run_whoami(Context& ctx)
{
  ctx.resolve_format(Format::table);
  const ResolvedStore store = resolve_store(ctx);
  taskstore::OpenOptions options;
  options.timeout = parse_timeout(ctx);
  options.create_if_missing = false;
  // A ConfigError (exit 7) carries the chain's list of every source tried.
  taskstore::StoreIdentity identity = taskstore::describe_identity(store.uri, options);
  if (identity.backend == "redis") {
    for (auto& [name, value] : identity.facts) {
      if (name == "password") {
        value = password_origin(store.uri.password.has_value(), store.entry ? &*store.entry : nullptr, true);
      }
    }
  }
  const std::string shown = store_display(ctx);
  switch (ctx.format) {
  case Format::json:
  case Format::jsonl: {
    Json doc = ctx.format == Format::json ? new_document(ctx) : Json::object();
    doc["store"] = shown;
    doc["backend"] = identity.backend;
    Json facts = Json::object();
    for (const auto& [name, value] : identity.facts) {
      facts[name] = value;
    }
    doc["facts"] = facts;
    doc["tried"] = identity.tried;
    if (ctx.format == Format::json) {
      print_document(ctx, doc);
    } else {
      write_stdout(dump_json(doc) + "\n");
    }
    break;
  }
  case Format::raw:
    for (const auto& [name, value] : identity.facts) {
      if (name == "credentials" || name == "user") {
        write_stdout(value + "\n");
      }
    }
    break;
  default: {
    std::string out = fmt::format("{:<16} {}\n{:<16} {}\n", "store", shown, "backend", identity.backend);
    for (const auto& [name, value] : identity.facts) {
      out += fmt::format("{:<16} {}\n", name, value);
    }
    for (std::size_t i = 0; i < identity.tried.size(); ++i) {
      out += fmt::format("{:<16} {}\n", i == 0 ? "tried first" : "", identity.tried[i]);
    }
    write_stdout(out);
    break;
  }
  }
  return exit_ok;
}

} // namespace

Command
register_whoami(CLI::App& root)
{
  CLI::App* app =
    root.add_subcommand("whoami", "Show what the store authenticates with: the credential source, never a secret");
  app->footer(
    "Nothing is sent to the store. For DynamoDB the AWS credential chain runs as it does for every\n"
    "command (environment, web identity, the profile with its role, SSO or credential_process,\n"
    "container credentials, instance metadata) and whoami shows the source it chose, the access key\n"
    "id masked (AKIA************MPLE), when temporary credentials expire, the assumed role's ARN, the profile,\n"
    "the region and the endpoint with where each came from, and the sources tried first. When no\n"
    "source applies it exits 7 listing every source tried and why. For Redis it shows the user and\n"
    "where the password comes from; local stores need no credentials.\n"
    "Output (default table): FIELD VALUE lines; json {\"schema_version\":1,\"store\",\"backend\",\n"
    "\"facts\":{...},\"tried\":[...]}; jsonl the same object on one line; raw the credential source.\n"
    "\n"
    "Examples:\n"
    "  taskctl -s dynamodb://pmcp_tasks whoami\n"
    "  AWS_PROFILE=ops taskctl -s dynamodb://pmcp_tasks?region=eu-west-1 -o json whoami\n"
    "  taskctl -s @prod whoami\n");
  return {app, [](Context& ctx) { return run_whoami(ctx); }};
}

} // namespace taskctl
