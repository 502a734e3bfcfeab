// Placeholder: being written.
#include "taskstore/record.hpp"
