# ctest starter.student_warnings_not_fatal: tests/starter/student_style.cpp, copied twice into
# -DDIR=<dir> by tests/CMakeLists.txt, is compiled by the build in -DBUILD=<dir>
#   - as a student's file (cmake/student.cmake, minimodel_student_sources): it must build and
#     show the -Wconversion warning;
#   - as a file of the solution (project_warnings, -Werror): it must not build, on that warning.
# Each copy is touched first, so that ninja compiles it again and prints its diagnostics.
cmake_policy(VERSION 3.21)  # -P starts with no policies set
foreach(kind student solution)
  file(TOUCH ${DIR}/${kind}.cpp)
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD} --target student_style_${kind}
                  RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(kind STREQUAL "student")
    if(NOT status EQUAL 0)
      message(FATAL_ERROR "a student's file with `mean /= d` does not build (exit ${status}):\n${output}")
    endif()
    if(NOT output MATCHES "warning: [^\n]*\\[-Wconversion\\]")
      message(FATAL_ERROR "a student's file with `mean /= d` built without showing the -Wconversion "
                          "warning:\n${output}")
    endif()
    message(STATUS "as a student's file: builds, and shows the warning")
  else()
    if(status EQUAL 0 OR NOT output MATCHES "error: [^\n]*\\[-Werror=conversion\\]")
      message(FATAL_ERROR "as a file of the solution, `mean /= d` should stop the build on "
                          "-Werror=conversion (exit ${status}):\n${output}")
    endif()
    message(STATUS "as a file of the solution: refused by -Werror")
  endif()
endforeach()
