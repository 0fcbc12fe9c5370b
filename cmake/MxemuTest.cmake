# mxemu_add_test(NAME name SOURCES a.cpp ... [LIBS lib ...] [LABELS l ...] [TIMEOUT s] [ARGS ...]
#                [SYSTEMC])   SYSTEMC: the binary links SystemC (adds an unused sc_main)
# Builds a Catch2 2 test binary (sharing one precompiled Catch main) and registers it with ctest.
# Tests run with the project root as working directory and MXEMU_VECTORS_DIR in the environment.
if(NOT TARGET mxemu_catch_main)
  add_library(mxemu_catch_main STATIC ${CMAKE_CURRENT_LIST_DIR}/catch_main.cpp)
  target_link_libraries(mxemu_catch_main PUBLIC Catch2::Catch2)
endif()

function(mxemu_add_test)
  cmake_parse_arguments(T "SYSTEMC" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
  if(T_SYSTEMC)
    list(APPEND T_SOURCES ${PROJECT_SOURCE_DIR}/cmake/sc_main_stub.cpp)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE mxemu_catch_main ${T_LIBS})
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR})
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} ${T_ARGS} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "MXEMU_VECTORS_DIR=${MXEMU_VECTORS_DIR};MXEMU_BUILD_DIR=${PROJECT_BINARY_DIR}")
  if(T_LABELS)
    set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()
