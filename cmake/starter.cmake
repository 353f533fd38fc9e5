# The starter code for students, derived from the solution (docs/student-track.md).
#
# A piece of src/minimodel that this chapter teaches is marked in the solution itself:
#
#     // STARTER-BEGIN 1 · LayerNorm forward | labs/00-block-by-hand/README.md § Step 1 · LN1
#     // | computes: ...            (optional "// |" lines: the piece's description)
#     ... the solution ...
#     // STARTER-END
#
# The text before "|" names the piece, its number first (the order a student writes the pieces
# in, bottom-up: the labs list missing pieces in this order), the text after it is the chapter
# file (from the repository root) and the heading of the section that explains it. The
# starter copy of the file keeps everything outside the markers and replaces each marked
# region by
#
#     // TODO(student): 1 · LayerNorm forward. Read labs/00-block-by-hand/README.md § Step 1 · LN1,
#     // write it here, and delete the throw below.
#     // | computes: ...            (the description, as written under the marker)
#     throw ::minimodel::NotImplemented("1 · LayerNorm forward", "labs/00-block-by-hand/README.md § Step 1 · LN1");
#
# so there is one source of truth: the solution, and the stripped copies are generated from it.
#
# Used two ways:
#   include(cmake/starter.cmake)   defines the functions below (the top-level CMakeLists.txt);
#   cmake -P cmake/starter.cmake   runs one of them from the command line or a test:
#     -DMODE=strip      -DIN=<file> -DOUT=<file>         one file
#     -DMODE=generate   -DSOURCE_DIR=<repo> -DOUT_DIR=<dir> [-DKEEP_EXISTING=ON]
#                                                        every marked file of src/minimodel
#     -DMODE=references -DSOURCE_DIR=<repo>              every marker's chapter § heading exists
#     -DMODE=list       -DSOURCE_DIR=<repo>              prints the marked files and their pieces
# A malformed marker (no "|" or "§", an unterminated or nested region, an END without a BEGIN,
# a marker that shares its line with code) stops with one message naming the file and line.

cmake_policy(VERSION 3.21)  # also when run with -P, which starts with no policies set

set(STARTER_BEGIN "// STARTER-BEGIN")
set(STARTER_END "// STARTER-END")

# The 1-based line number of character offset `offset` in `text`.
function(_starter_line_of text offset out)
  string(SUBSTRING "${text}" 0 ${offset} before)
  string(REGEX MATCHALL "\n" newlines "${before}")
  list(LENGTH newlines count)
  math(EXPR line "${count} + 1")
  set(${out} ${line} PARENT_SCOPE)
endfunction()

# Parses the text after "// STARTER-BEGIN " into a piece and its chapter reference.
function(_starter_parse_marker marker where_for_errors out_what out_file out_section)
  string(REGEX MATCH "^([^|]+[^| ]) +\\| +([^ ]+) +§ +(.+[^ ])$" matched "${marker}")
  if(NOT matched)
    message(FATAL_ERROR "${where_for_errors}: malformed marker '${STARTER_BEGIN} ${marker}'; write "
                        "'${STARTER_BEGIN} <what> | <chapter file> § <section heading>'")
  endif()
  set(what "${CMAKE_MATCH_1}")
  set(file "${CMAKE_MATCH_2}")
  set(section "${CMAKE_MATCH_3}")
  foreach(part IN ITEMS what file section)
    if("${${part}}" MATCHES "[\"\\\\]")
      message(FATAL_ERROR "${where_for_errors}: the marker's ${part} may not hold a quote or a "
                          "backslash (it becomes a C++ string literal)")
    endif()
  endforeach()
  set(${out_what} "${what}" PARENT_SCOPE)
  set(${out_file} "${file}" PARENT_SCOPE)
  set(${out_section} "${section}" PARENT_SCOPE)
endfunction()

# Walks the marked regions of `text`. Sets in the caller:
#   <prefix>_STRIPPED   the text with every region replaced by its TODO and throw;
#   <prefix>_PIECES     "what|file|section|line" for every region, a list (";" in a piece is
#                       written "<semicolon>": a heading may hold one).
function(_starter_walk text name prefix)
  set(done "")        # output so far
  set(rest "${text}") # input not yet read
  set(consumed 0)     # characters of `text` before `rest`, for line numbers
  set(pieces "")
  while(TRUE)
    string(FIND "${rest}" "${STARTER_BEGIN}" begin_at)
    string(FIND "${rest}" "${STARTER_END}" end_at)
    if(begin_at EQUAL -1)
      if(NOT end_at EQUAL -1)
        math(EXPR at "${consumed} + ${end_at}")
        _starter_line_of("${text}" ${at} line)
        message(FATAL_ERROR "${name}:${line}: '${STARTER_END}' without a '${STARTER_BEGIN}' before it")
      endif()
      break()
    endif()
    math(EXPR at "${consumed} + ${begin_at}")
    _starter_line_of("${text}" ${at} line)
    if(NOT end_at EQUAL -1 AND end_at LESS begin_at)
      math(EXPR at "${consumed} + ${end_at}")
      _starter_line_of("${text}" ${at} end_line)
      message(FATAL_ERROR "${name}:${end_line}: '${STARTER_END}' without a '${STARTER_BEGIN}' before it")
    endif()

    # The marker must stand alone on its line: only indentation before it.
    string(SUBSTRING "${rest}" 0 ${begin_at} before)
    string(FIND "${before}" "\n" last_newline REVERSE)
    math(EXPR line_start "${last_newline} + 1")
    string(SUBSTRING "${before}" ${line_start} -1 indent)
    if(NOT indent MATCHES "^[ \t]*$")
      message(FATAL_ERROR "${name}:${line}: '${STARTER_BEGIN}' must stand alone on its line")
    endif()
    string(SUBSTRING "${before}" 0 ${line_start} head)

    string(LENGTH "${STARTER_BEGIN}" begin_length)
    math(EXPR marker_start "${begin_at} + ${begin_length}")
    string(SUBSTRING "${rest}" ${marker_start} -1 tail)
    string(FIND "${tail}" "\n" eol)
    if(eol EQUAL -1)
      message(FATAL_ERROR "${name}:${line}: region opened on the last line and never closed")
    endif()
    string(SUBSTRING "${tail}" 0 ${eol} marker)
    string(STRIP "${marker}" marker)
    _starter_parse_marker("${marker}" "${name}:${line}" what file section)

    math(EXPR body_start "${eol} + 1")
    string(SUBSTRING "${tail}" ${body_start} -1 body_and_after)
    # The piece's description: the comment lines "// | ..." right under the marker. They stay
    # in the starter copy, between the TODO and the throw: what the piece computes, its shapes,
    # the NumPy line, the checks it unlocks.
    set(details "")
    while(body_and_after MATCHES "^([ \t]*// \\|[^\n]*\n)")
      set(detail_line "${CMAKE_MATCH_1}")
      string(APPEND details "${detail_line}")
      string(LENGTH "${detail_line}" detail_length)
      string(SUBSTRING "${body_and_after}" ${detail_length} -1 body_and_after)
      math(EXPR body_start "${body_start} + ${detail_length}")
    endwhile()
    string(FIND "${body_and_after}" "${STARTER_END}" close_at)
    string(FIND "${body_and_after}" "${STARTER_BEGIN}" nested_at)
    if(close_at EQUAL -1)
      message(FATAL_ERROR "${name}:${line}: '${STARTER_BEGIN} ${what}' is never closed by '${STARTER_END}'")
    endif()
    if(NOT nested_at EQUAL -1 AND nested_at LESS close_at)
      message(FATAL_ERROR "${name}:${line}: '${STARTER_BEGIN} ${what}' holds another "
                          "'${STARTER_BEGIN}' before its '${STARTER_END}' (regions do not nest)")
    endif()
    # The END marker alone on its line too.
    string(SUBSTRING "${body_and_after}" 0 ${close_at} body_and_indent)
    string(FIND "${body_and_indent}" "\n" body_last_newline REVERSE)
    math(EXPR end_indent_start "${body_last_newline} + 1")
    string(SUBSTRING "${body_and_indent}" ${end_indent_start} -1 end_indent)
    string(LENGTH "${STARTER_END}" end_length)
    math(EXPR after_end "${close_at} + ${end_length}")
    string(SUBSTRING "${body_and_after}" ${after_end} -1 after)
    string(FIND "${after}" "\n" after_eol)
    if(after_eol EQUAL -1)
      string(LENGTH "${after}" after_eol)
    endif()
    string(SUBSTRING "${after}" 0 ${after_eol} end_rest)
    if(NOT end_indent MATCHES "^[ \t]*$" OR NOT end_rest MATCHES "^[ \t]*$")
      math(EXPR at "${consumed} + ${marker_start} + ${body_start} + ${close_at}")
      _starter_line_of("${text}" ${at} end_line)
      message(FATAL_ERROR "${name}:${end_line}: '${STARTER_END}' must stand alone on its line")
    endif()

    set(reference "${file} § ${section}")
    string(APPEND done "${head}"
           "${indent}// TODO(student): ${what}. Read ${reference},\n"
           "${indent}// write it here, and delete the throw below.\n"
           "${details}"
           "${indent}throw ::minimodel::NotImplemented(\"${what}\", \"${reference}\");\n")
    string(REPLACE ";" "<semicolon>" piece "${what}|${file}|${section}|${line}")
    list(APPEND pieces "${piece}")

    # Continue after the END line (its newline included).
    math(EXPR skip "${after_eol} + 1")
    string(LENGTH "${after}" after_length)
    if(skip GREATER after_length)
      set(skip ${after_length})
    endif()
    string(SUBSTRING "${after}" ${skip} -1 next)
    string(LENGTH "${rest}" rest_length)
    string(LENGTH "${next}" next_length)
    math(EXPR consumed "${consumed} + ${rest_length} - ${next_length}")
    set(rest "${next}")
  endwhile()
  string(APPEND done "${rest}")
  set(${prefix}_STRIPPED "${done}" PARENT_SCOPE)
  set(${prefix}_PIECES "${pieces}" PARENT_SCOPE)
endfunction()

# starter_strip(<in> <out> <name>): writes the starter copy of one marked file. `name` is how
# the file is named in messages and in the generated banner (e.g. src/minimodel/ffn.cpp).
function(starter_strip in out name)
  if(NOT EXISTS "${in}")
    message(FATAL_ERROR "starter: cannot read '${in}': no such file")
  endif()
  file(READ "${in}" text)
  _starter_walk("${text}" "${name}" walk)
  if(NOT walk_PIECES)
    message(FATAL_ERROR "${name}: no '${STARTER_BEGIN}' marker, nothing to strip")
  endif()
  # A stub leaves its function's arguments (and helpers only the solution calls) unused until
  # the student writes the code: those three warnings are off in these copies only.
  set(banner
      "// Starter copy of ${name}, generated from the solution by cmake/starter.cmake.\n"
      "// This is YOUR copy: fill in every TODO(student). To start one file over, delete it and\n"
      "// run `cmake --preset starter` again (docs/student-track.md).\n"
      "#pragma GCC diagnostic push\n"
      "#pragma GCC diagnostic ignored \"-Wunused-parameter\"\n"
      "#pragma GCC diagnostic ignored \"-Wunused-variable\"\n"
      "#pragma GCC diagnostic ignored \"-Wunused-function\"\n")
  string(CONCAT content ${banner} "${walk_STRIPPED}" "#pragma GCC diagnostic pop\n")
  file(WRITE "${out}" "${content}")
endfunction()

# The files of src/minimodel that hold at least one marker, as paths relative to it.
function(starter_marked_files source_dir out)
  file(GLOB candidates RELATIVE "${source_dir}/src/minimodel"
       "${source_dir}/src/minimodel/*.cpp" "${source_dir}/src/minimodel/*.hpp")
  list(SORT candidates)
  set(marked "")
  foreach(candidate IN LISTS candidates)
    file(READ "${source_dir}/src/minimodel/${candidate}" text)
    string(FIND "${text}" "${STARTER_BEGIN}" at)
    if(NOT at EQUAL -1)
      list(APPEND marked "${candidate}")
    endif()
  endforeach()
  set(${out} "${marked}" PARENT_SCOPE)
endfunction()

# starter_generate(<source_dir> <out_dir> <keep_existing>): the starter copy of every marked
# file, as <out_dir>/minimodel/<file>. With keep_existing, a copy that exists is left alone:
# that is the student's work. Sets <out_var> in the caller to the marked files' names.
function(starter_generate source_dir out_dir keep_existing out_var)
  starter_marked_files("${source_dir}" marked)
  if(NOT marked)
    message(FATAL_ERROR "starter: no '${STARTER_BEGIN}' marker in ${source_dir}/src/minimodel")
  endif()
  file(MAKE_DIRECTORY "${out_dir}/minimodel")
  foreach(file IN LISTS marked)
    set(target "${out_dir}/minimodel/${file}")
    if(keep_existing AND EXISTS "${target}")
      continue()
    endif()
    starter_strip("${source_dir}/src/minimodel/${file}" "${target}" "src/minimodel/${file}")
  endforeach()
  set(${out_var} "${marked}" PARENT_SCOPE)
endfunction()

# Every marker's "<file> § <section>" must name an existing file with a heading "#... <section>".
function(starter_check_references source_dir)
  starter_marked_files("${source_dir}" marked)
  set(count 0)
  foreach(file IN LISTS marked)
    file(READ "${source_dir}/src/minimodel/${file}" text)
    _starter_walk("${text}" "src/minimodel/${file}" walk)
    foreach(piece IN LISTS walk_PIECES)
      string(REPLACE "|" ";" fields "${piece}")
      list(GET fields 0 what)
      list(GET fields 1 chapter)
      list(GET fields 2 section)
      list(GET fields 3 line)
      string(REPLACE "<semicolon>" ";" what "${what}")
      string(REPLACE "<semicolon>" ";" section "${section}")
      set(where "src/minimodel/${file}:${line}")
      if(NOT EXISTS "${source_dir}/${chapter}" OR IS_DIRECTORY "${source_dir}/${chapter}")
        message(FATAL_ERROR "${where}: '${what}' points to ${chapter}, which does not exist")
      endif()
      file(READ "${source_dir}/${chapter}" chapter_text)
      # A heading line of any level: "\n", one to four "#", " <section>", end of line.
      set(heading_found FALSE)
      foreach(level IN ITEMS "#" "##" "###" "####")
        string(FIND "\n${chapter_text}\n" "\n${level} ${section}\n" found)
        if(NOT found EQUAL -1)
          set(heading_found TRUE)
        endif()
      endforeach()
      if(NOT heading_found)
        message(FATAL_ERROR "${where}: '${what}' points to the section '${section}' of ${chapter}, "
                            "which has no such heading")
      endif()
      math(EXPR count "${count} + 1")
      message(STATUS "${where}: ${what} -> ${chapter} § ${section}")
    endforeach()
  endforeach()
  if(count EQUAL 0)
    message(FATAL_ERROR "starter: no '${STARTER_BEGIN}' marker in ${source_dir}/src/minimodel")
  endif()
  message(STATUS "starter: all ${count} chapter references resolve")
endfunction()

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  if(MODE STREQUAL "strip")
    if(NOT DEFINED IN OR NOT DEFINED OUT)
      message(FATAL_ERROR "starter: MODE=strip needs -DIN=<file> -DOUT=<file>")
    endif()
    starter_strip("${IN}" "${OUT}" "${IN}")
  elseif(MODE STREQUAL "generate")
    if(NOT DEFINED SOURCE_DIR OR NOT DEFINED OUT_DIR)
      message(FATAL_ERROR "starter: MODE=generate needs -DSOURCE_DIR=<repository> -DOUT_DIR=<dir>")
    endif()
    starter_generate("${SOURCE_DIR}" "${OUT_DIR}" "${KEEP_EXISTING}" marked)
    list(JOIN marked ", " names)
    message(STATUS "starter: wrote ${names} into ${OUT_DIR}/minimodel")
  elseif(MODE STREQUAL "references")
    if(NOT DEFINED SOURCE_DIR)
      message(FATAL_ERROR "starter: MODE=references needs -DSOURCE_DIR=<repository>")
    endif()
    starter_check_references("${SOURCE_DIR}")
  elseif(MODE STREQUAL "list")
    starter_marked_files("${SOURCE_DIR}" marked)
    foreach(file IN LISTS marked)
      file(READ "${SOURCE_DIR}/src/minimodel/${file}" text)
      _starter_walk("${text}" "src/minimodel/${file}" walk)
      foreach(piece IN LISTS walk_PIECES)
        message(STATUS "src/minimodel/${file}: ${piece}")
      endforeach()
    endforeach()
  else()
    message(FATAL_ERROR "starter: give -DMODE=strip, generate, references or list")
  endif()
endif()
