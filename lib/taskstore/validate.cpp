// Placeholder: being written.
#include "taskstore/validate.hpp"
