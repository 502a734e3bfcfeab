# put of a 1 MiB-variables record through taskctl vs a bare nlohmann parse (bench/put.sh).
add_executable(put_bench ${CMAKE_CURRENT_LIST_DIR}/put_bench.cpp)
target_link_libraries(put_bench PRIVATE nlohmann_json::nlohmann_json taskctl_warnings)
