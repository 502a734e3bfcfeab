// Placeholder: the dynamodb test store is being written.
#include "contract/stores.hpp"
#include <stdexcept>
namespace taskstore::testing {
TestStore make_dynamodb_test_store() { throw std::runtime_error("dynamodb test store not written yet"); }
}
