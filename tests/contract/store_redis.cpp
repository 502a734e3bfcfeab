// Placeholder: the redis test store is being written.
#include "contract/stores.hpp"
#include <stdexcept>
namespace taskstore::testing {
TestStore make_redis_test_store() { throw std::runtime_error("redis test store not written yet"); }
}
