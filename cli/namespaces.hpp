#pragma once
// A read that found nothing on a store whose namespace is empty (a mistyped
// Redis ?prefix=pcmp looks like an empty store): one warning naming the
// namespaces that do hold records. Advice only: the exit status is the
// read's own.

#include "context.hpp"

#include <string>
#include <string_view>

namespace taskstore {
class StorageBackend;
struct NamespaceSearch;
} // namespace taskstore

namespace taskctl {

// The warning for a search's outcome, or "" when there is nothing to say:
// the store's own namespace was seen, the backend has none, or the search
// was cut short before it saw any record (it cannot tell). Names at most 10
// namespaces, then how many more.
std::string namespace_warning(std::string_view backend, const taskstore::NamespaceSearch& search);

// After a read that found nothing: runs store.search_namespaces() (bounded:
// Redis ~10,000 keys or 200 ms) and returns namespace_warning's text; ""
// under --quiet (no search then) and when the search fails (the read's own
// outcome stands). Never throws.
std::string namespace_advice(const Context& ctx, taskstore::StorageBackend& store);

// The same advice as a warning on stderr (warn(): --quiet silences it).
void warn_if_namespace_empty(const Context& ctx, taskstore::StorageBackend& store);

} // namespace taskctl
