# ctest starter.strip_fixture: cmake/starter.cmake on fixtures.
#   cmake -DSOURCE_DIR=<repository> -DWORK=<scratch dir> -P tests/starter/check_strip.cmake
# 1. fixture.cpp is stripped into exactly fixture.expected.cpp (two regions, indentation kept,
#    a ";" in a piece's name survives);
# 2. every malformed marker (bad_*.cpp) stops the stripper with its own message and a file:line;
# 3. a chapter reference to a missing file or a missing heading is refused.
cmake_policy(VERSION 3.21)  # -P starts with no policies set
include(${SOURCE_DIR}/cmake/starter.cmake)
set(here ${SOURCE_DIR}/tests/starter)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

starter_strip(${here}/fixture.cpp ${WORK}/fixture.cpp "fixture.cpp")
file(READ ${WORK}/fixture.cpp got)
file(READ ${here}/fixture.expected.cpp want)
if(NOT got STREQUAL want)
  message(FATAL_ERROR "the stripped fixture differs from fixture.expected.cpp; got:\n${got}")
endif()
message(STATUS "fixture.cpp stripped as expected")

function(expect_refusal mode input pattern)
  execute_process(COMMAND ${CMAKE_COMMAND} -DMODE=${mode} ${input} -DOUT=${WORK}/refused.cpp
                          -P ${SOURCE_DIR}/cmake/starter.cmake
                  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(code EQUAL 0)
    message(FATAL_ERROR "${mode} ${input}: accepted, but it should be refused with '${pattern}'")
  endif()
  string(REGEX REPLACE "[ \n]+" " " err "${err}")  # CMake wraps long messages
  if(NOT err MATCHES "${pattern}")
    message(FATAL_ERROR "${mode} ${input}: refused, but the message does not match '${pattern}':\n${err}")
  endif()
  message(STATUS "${mode} ${input}: refused as expected")
endfunction()

expect_refusal(strip -DIN=${here}/bad_no_bar.cpp "bad_no_bar.cpp:2: malformed marker")
expect_refusal(strip -DIN=${here}/bad_unterminated.cpp "bad_unterminated.cpp:2: .*never closed")
expect_refusal(strip -DIN=${here}/bad_nested.cpp "bad_nested.cpp:2: .*do not nest")
expect_refusal(strip -DIN=${here}/bad_stray_end.cpp "bad_stray_end.cpp:3: .*without a")
expect_refusal(strip -DIN=${here}/bad_inline.cpp "bad_inline.cpp:2: .*must stand alone")
expect_refusal(strip -DIN=${here}/bad_quote.cpp "bad_quote.cpp:2: .*quote")
expect_refusal(strip -DIN=${here}/no_such_file.cpp "cannot read")

# A repository whose one marker points to a heading its chapter does not have, then to a file
# that does not exist.
set(fake ${WORK}/fake-repository)
file(MAKE_DIRECTORY ${fake}/src/minimodel ${fake}/theory)
file(WRITE ${fake}/theory/chapter.md "# Chapter\n\n## A section\n\ntext\n")
file(WRITE ${fake}/src/minimodel/a.cpp
     "void f() {\n  // STARTER-BEGIN a piece | theory/chapter.md § A section\n  // STARTER-END\n}\n")
execute_process(COMMAND ${CMAKE_COMMAND} -DMODE=references -DSOURCE_DIR=${fake} -P ${SOURCE_DIR}/cmake/starter.cmake
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "a reference to an existing heading was refused:\n${err}")
endif()
file(WRITE ${fake}/src/minimodel/a.cpp
     "void f() {\n  // STARTER-BEGIN a piece | theory/chapter.md § No such section\n  // STARTER-END\n}\n")
expect_refusal(references -DSOURCE_DIR=${fake} "a.cpp:2: .*has no such heading")
file(WRITE ${fake}/src/minimodel/a.cpp
     "void f() {\n  // STARTER-BEGIN a piece | theory/missing.md § A section\n  // STARTER-END\n}\n")
expect_refusal(references -DSOURCE_DIR=${fake} "a.cpp:2: .*does not exist")
# "text" is not a heading: a line that merely holds the words does not count.
file(WRITE ${fake}/src/minimodel/a.cpp
     "void f() {\n  // STARTER-BEGIN a piece | theory/chapter.md § text\n  // STARTER-END\n}\n")
expect_refusal(references -DSOURCE_DIR=${fake} "a.cpp:2: .*has no such heading")
message(STATUS "starter.cmake: fixture stripped, every malformed marker and bad reference refused")
