// The replay driver of a fuzz target when it is not built with libFuzzer:
// calls LLVMFuzzerTestOneInput on every regular file under each directory (or
// file) named on the command line, in name order, and prints how many it ran.
// A finding aborts inside the target (fuzz_support.hpp); an exception that
// escapes the target is reported and fails the run.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int
main(int argc, char** argv)
{
  namespace fs = std::filesystem;
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " DIR|FILE...\n";
    return 2;
  }
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    const fs::path root = argv[i];
    if (fs::is_regular_file(root)) {
      files.push_back(root);
      continue;
    }
    if (!fs::is_directory(root)) {
      std::cerr << "error: " << root.string() << " is neither a file nor a directory\n";
      return 2;
    }
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      if (entry.is_regular_file()) {
        files.push_back(entry.path());
      }
    }
  }
  std::sort(files.begin(), files.end());
  std::size_t ran = 0;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      std::cerr << "error: cannot read " << path.string() << "\n";
      return 1;
    }
    try {
      LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
    } catch (const std::exception& e) {
      std::cerr << "error: " << path.string() << ": exception escaped the target: " << e.what() << "\n";
      return 1;
    }
    ++ran;
  }
  if (ran == 0) {
    std::cerr << "error: no input files found\n";
    return 1;
  }
  std::cout << "replayed " << ran << " inputs\n";
  return 0;
}
