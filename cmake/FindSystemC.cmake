# Finds Debian's SystemC 2.3.4 (libsystemc-dev ships systemc.pc but no CMake package config).
# Creates the imported target SystemC::systemc and sets SYSTEMC_INCLUDE / SYSTEMC_LIBDIR in the
# environment so Verilator's CMake support (find_package(verilator), SYSTEMC mode) finds it too.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_SYSTEMC QUIET systemc)
endif()

find_path(SystemC_INCLUDE_DIR NAMES systemc.h HINTS ${PC_SYSTEMC_INCLUDE_DIRS} $ENV{SYSTEMC_INCLUDE}
          PATH_SUFFIXES systemc)
find_library(SystemC_LIBRARY NAMES systemc HINTS ${PC_SYSTEMC_LIBRARY_DIRS} $ENV{SYSTEMC_LIBDIR})
set(SystemC_VERSION ${PC_SYSTEMC_VERSION})

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(SystemC REQUIRED_VARS SystemC_INCLUDE_DIR SystemC_LIBRARY
                                  VERSION_VAR SystemC_VERSION)

if(SystemC_FOUND AND NOT TARGET SystemC::systemc)
  add_library(SystemC::systemc UNKNOWN IMPORTED)
  set_target_properties(SystemC::systemc PROPERTIES
    IMPORTED_LOCATION "${SystemC_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${SystemC_INCLUDE_DIR}")
  # SystemC's headers and the library must agree on this; Debian builds it for C++17 and later.
  # Debian builds the library as C++17: headers compiled as C++20 must say so (SC_CPLUSPLUS),
  # or the link fails on sc_api_version_2_3_4_cxx202002L.
  target_compile_definitions(SystemC::systemc INTERFACE SC_INCLUDE_DYNAMIC_PROCESSES
                             SC_CPLUSPLUS=201703L)
  get_filename_component(_sc_libdir "${SystemC_LIBRARY}" DIRECTORY)
  set(ENV{SYSTEMC_INCLUDE} "${SystemC_INCLUDE_DIR}")
  set(ENV{SYSTEMC_LIBDIR} "${_sc_libdir}")
  set(SYSTEMC_INCLUDE "${SystemC_INCLUDE_DIR}")
  set(SYSTEMC_LIBDIR "${_sc_libdir}")
endif()
mark_as_advanced(SystemC_INCLUDE_DIR SystemC_LIBRARY)
