// taskctl: the executable. Everything it does is in the taskctl_cli library
// (cli/app.cpp), so that its units have unit tests.

#include "app.hpp"

int
main(int argc, char** argv)
{
  return taskctl::run_taskctl(argc, argv);
}
