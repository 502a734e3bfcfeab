// Placeholder: memory and sqlite test stores are being written.
#include "contract/stores.hpp"
#include <stdexcept>
namespace taskstore::testing {
TestStore make_memory_test_store() { throw std::runtime_error("memory test store not written yet"); }
TestStore make_sqlite_test_store() { throw std::runtime_error("sqlite test store not written yet"); }
}
