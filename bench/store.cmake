# Store throughput benchmark (bench/store.sh builds it in Release and runs it).
add_executable(store_bench ${CMAKE_CURRENT_LIST_DIR}/store_bench.cpp)
target_link_libraries(store_bench PRIVATE taskstore::taskstore taskctl_warnings)
