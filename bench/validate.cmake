# Streaming validation benchmark: validate_file against `jq empty` on a
# generated ~100 MB variables document (run it with bench/validate.sh).
add_executable(bench_validate ${CMAKE_CURRENT_LIST_DIR}/validate_bench.cpp)
target_link_libraries(bench_validate PRIVATE taskstore::taskstore taskctl_warnings)
