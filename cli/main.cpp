// taskctl: the executable. Everything it does is in the taskctl_cli library
// (cli/app.cpp), so that its units have unit tests.

#include "app.hpp"

#include <malloc.h>

int
main(int argc, char** argv)
{
  // A listing frees and allocates its batches over and over: keep freed
  // memory (up to 64 MiB) instead of handing it back to the kernel after
  // each batch and faulting it in again for the next.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_MMAP_THRESHOLD, 16 << 20);
  return taskctl::run_taskctl(argc, argv);
}
