#include "namespaces.hpp"

#include "output.hpp"

#include "taskstore/backend.hpp"

#include <fmt/format.h>

namespace taskctl {

namespace {

constexpr std::size_t k_named = 10;

// "\"pmcp\"": a namespace as the warning names it (JSON-quoted, so that an
// empty or odd one shows).
std::string
quoted(const std::string& name)
{
  return dump_json(Json(name));
}

} // namespace

std::string
namespace_warning(std::string_view backend, const taskstore::NamespaceSearch& search)
{
  if (!search.applies || search.own_found || (search.cut_short && search.others.empty())) {
    return {};
  }
  std::string text;
  if (search.cut_short) {
    text = fmt::format("{} prefix {}: no pmcp-tasks key ({}) among the first {} keys examined (the search was "
                       "cut short)",
                       backend, quoted(search.own), search.own_pattern, search.examined);
  } else {
    text = fmt::format("{} prefix {} holds no pmcp-tasks keys (no key matches {})", backend, quoted(search.own),
                       search.own_pattern);
  }
  if (search.others.empty()) {
    return text + ", nor does any other prefix in this database";
  }
  text += search.cut_short ? "; prefixes seen with such keys: " : "; prefixes with such keys: ";
  for (std::size_t i = 0; i < search.others.size() && i < k_named; ++i) {
    text += (i == 0 ? "" : ", ") + quoted(search.others[i]);
  }
  if (search.others.size() > k_named) {
    text += fmt::format(" and {} more", search.others.size() - k_named);
  }
  return text + " (name one with ?prefix= in the store URI)";
}

std::string
namespace_advice(const Context& ctx, taskstore::StorageBackend& store)
{
  if (ctx.global.quiet) {
    return {};
  }
  try {
    return namespace_warning(store.name(), store.search_namespaces());
  } catch (const std::exception&) {
    return {}; // advice only: the read already said what it found
  }
}

void
warn_if_namespace_empty(const Context& ctx, taskstore::StorageBackend& store)
{
  if (const std::string text = namespace_advice(ctx, store); !text.empty()) {
    warn(ctx, text);
  }
}

} // namespace taskctl
