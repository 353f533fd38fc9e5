# How the files a student edits are compiled (docs/student-track.md). They are the files of
# src/minimodel that hold a piece marked for the starter (cmake/starter.cmake):
#   - in the instructor's starter build (preset "starter"), the student's copies in
#     MINIMODEL_STUDENT_DIR/minimodel/ (student/ by default), written by cmake/starter.cmake;
#   - in a handout (scripts/handout.sh), src/minimodel's own files: the handout has no solution,
#     and cmake/handout.cmake names them.
# The solution's build (every other preset) compiles src/minimodel as it is, with -Werror.

# minimodel_student_sources(<target> <source>...): a student's files among <target>'s sources
# show their warnings but do not stop on them (-Wno-error, after the project's -Werror on the
# command line): natural code such as `mean /= d` with a std::size_t d warns under -Wconversion
# and still builds (ctest starter.student_warnings_not_fatal). Every other file keeps -Werror.
function(minimodel_student_sources target)
  set_source_files_properties(${ARGN} TARGET_DIRECTORY ${target} PROPERTIES COMPILE_OPTIONS -Wno-error)
endfunction()

# minimodel_student_library(<target> <source>...): the library of a student's build, fast to
# build once and to rebuild after an edit (docs/build.md):
#  - the student's files (absolute paths) leave <target> for an object library of their own,
#    <target>_pieces, whose objects <target> still holds. They compile one by one, so an edit
#    recompiles one file, and read the headers they all parse (xtensor, most of their compile
#    time) from a precompiled header: about 1 s less per file (model.cpp 2.6 s -> 1.4 s of CPU),
#    most of a rebuild;
#  - the rest of <target>, which a student never edits, compiles as one unity file (the
#    student's build only; the solution's builds compile every file on its own) with no
#    precompiled header to wait for, from the first second of the build;
#  - after an edit every lab links again: whatever links <target> links with gold when the
#    compiler can (binutils has it), 0.35 s per lab instead of about 1 s with the default ld.bfd,
#    four labs on two cores.
include(CheckLinkerFlag)

# _minimodel_remove_sources(<target> <absolute path>...): <target>'s sources without those files.
function(_minimodel_remove_sources target)
  get_target_property(sources ${target} SOURCES)
  get_target_property(target_dir ${target} SOURCE_DIR)
  set(rest "")
  foreach(source IN LISTS sources)
    get_filename_component(absolute "${source}" ABSOLUTE BASE_DIR "${target_dir}")
    if(NOT absolute IN_LIST ARGN)
      list(APPEND rest "${source}")
    endif()
  endforeach()
  set_property(TARGET ${target} PROPERTY SOURCES "${rest}")
endfunction()

function(minimodel_student_library target)
  set(pieces "")
  foreach(source IN LISTS ARGN)
    get_filename_component(source "${source}" ABSOLUTE)
    list(APPEND pieces "${source}")
  endforeach()
  _minimodel_remove_sources(${target} ${pieces})
  set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 0)

  add_library(${target}_pieces OBJECT ${pieces})
  # Files of <target>: its include path, options, dependencies and warnings.
  target_include_directories(${target}_pieces PRIVATE $<TARGET_PROPERTY:${target},INCLUDE_DIRECTORIES>)
  target_compile_options(${target}_pieces PRIVATE $<TARGET_PROPERTY:${target},COMPILE_OPTIONS>)
  get_target_property(libraries ${target} LINK_LIBRARIES)
  target_link_libraries(${target}_pieces PRIVATE ${libraries})
  target_precompile_headers(${target}_pieces PRIVATE <xtensor/xarray.hpp> <xtensor/xtensor.hpp>
                                                     <fmt/format.h> <string> <vector> <cmath> <span>)
  minimodel_student_sources(${target}_pieces ${pieces})
  target_sources(${target} PRIVATE $<TARGET_OBJECTS:${target}_pieces>)
  # The forward runs the student's gelu_exact and LayerNorm, not the solution's vectorised
  # copies of them (src/minimodel/gelu_rows.cpp, layer_norm.cpp).
  target_compile_definitions(${target} PRIVATE MINIMODEL_SCALAR_PIECES)
  target_compile_definitions(${target}_pieces PRIVATE MINIMODEL_SCALAR_PIECES)
  check_linker_flag(CXX -fuse-ld=gold MINIMODEL_LINKER_GOLD)
  if(MINIMODEL_LINKER_GOLD)
    target_link_options(${target} INTERFACE -fuse-ld=gold)
  endif()
endfunction()

# minimodel_use_student_copies(<target> <student_dir>): the starter build. Writes the student's
# copies of the marked files into <student_dir>/minimodel/ where they are missing (never over
# the student's work: cmake/starter.cmake's starter_generate), compiles them instead of the
# solution's (as above), and puts <student_dir> first on the include path, so that a marked
# header would be the student's in every file that includes it.
function(minimodel_use_student_copies target student_dir)
  starter_generate("${PROJECT_SOURCE_DIR}" "${student_dir}" ON marked)
  set(copies "")
  set(solution "")
  foreach(file IN LISTS marked)
    list(APPEND copies "${student_dir}/minimodel/${file}")
    list(APPEND solution "${PROJECT_SOURCE_DIR}/src/minimodel/${file}")
  endforeach()
  # The solution's files leave <target>; the student's copies come in.
  _minimodel_remove_sources(${target} ${solution})
  target_include_directories(${target} BEFORE PUBLIC "${student_dir}")
  minimodel_student_library(${target} ${copies})
  list(JOIN marked ", " names)
  message(STATUS "starter: ${target} compiles ${names} from ${student_dir}/minimodel")
endfunction()
