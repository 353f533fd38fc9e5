# Finds every dependency with find_package; a missing one stops configuration with the name
# of the Debian package that provides it (scripts/setup.sh installs them all).

function(require_package name debian_package)
  find_package(${name} ${ARGN} QUIET)
  if(NOT ${name}_FOUND)
    message(FATAL_ERROR
      "Missing dependency '${name}'. On Debian 12 install it with:\n"
      "  sudo apt-get install ${debian_package}\n"
      "or run scripts/setup.sh, which installs everything the workbook needs.")
  endif()
endfunction()

# Ask for OpenBLAS by name: otherwise Debian's alternatives may hand over the slow netlib BLAS.
set(BLA_VENDOR OpenBLAS)
require_package(BLAS libopenblas-dev)
require_package(xtl xtl-dev)
require_package(xtensor xtensor-dev)
require_package(xtensor-blas libxtensor-blas-dev)
require_package(xsimd libxsimd-dev)
require_package(OpenMP libgomp1)
# libxsmm (small products generated for the running CPU) has a pkg-config file, no CMake package.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(LIBXSMM QUIET IMPORTED_TARGET libxsmm)
endif()
if(NOT LIBXSMM_FOUND)
  message(FATAL_ERROR
    "Missing dependency 'libxsmm'. On Debian 12 install it with:\n"
    "  sudo apt-get install libxsmm-dev pkg-config\n"
    "or run scripts/setup.sh, which installs everything the workbook needs.")
endif()
require_package(fmt libfmt-dev)
require_package(CLI11 libcli11-dev)
require_package(nlohmann_json nlohmann-json3-dev)
require_package(Catch2 catch2)
# Catch2 v2 keeps Catch.cmake (catch_discover_tests) beside its package config.
list(APPEND CMAKE_MODULE_PATH ${Catch2_DIR})
