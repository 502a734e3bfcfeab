// Placeholder: being written.
#include "taskstore/time.hpp"
