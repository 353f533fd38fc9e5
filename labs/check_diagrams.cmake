# The diagrams' regeneration test (ctest: diagrams.regenerate) and the --svg
# refusal test (ctest: diagrams.bad_directory), run with cmake -P.
#
#   -DBIN_DIR=...       where the lab binaries are
#   -DLABS_DIR=...      the labs/ folder (its NN-* subfolders name the binaries)
#   -DLABDIFF=...       the labdiff binary
#   -DDIAGRAMS=...      the committed diagrams/ folder
#   -DOUT=...           a scratch folder, emptied first
#   -DMODE=regenerate | bad_directory
#   -DHANDOUT=ON        the student's repository: a difference is the student's pieces', not a
#                       diagram to draw again
#
# Every lab whose --help offers --svg draws into OUT; the set of SVG files must be the same
# as in diagrams/, and each file must match its committed version under labdiff with
#   --abs 0.015 --rel 0
# Why not byte equality: the data-driven numbers in an SVG (a cell's fill-opacity, 3 decimals;
# the value written in a cell or on a scale, 2 decimals) come from fp32 sums whose last bits
# depend on the CPU, the OpenBLAS kernel and the thread count, so a value that sits on a
# rounding edge can print one unit higher in its last decimal on another machine. 0.015 lets
# exactly one such flip of a 2-decimal label (0.01) through. Everything else is compared
# exactly by labdiff: words, element and attribute names, colours (they are constants; the
# data lives only in opacities), and integers (image sizes, counts, shapes, ids).
# Coordinates never depend on floating-point data, so they do not move at all.
# The lab's stdout with --svg must also still match its expected.txt: drawing changes no
# printed line.
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
file(STRINGS ${LABS_DIR}/labs.txt lab_folders)  # the list of the labs

set(drawing_labs "")
foreach(folder ${lab_folders})
  set(lab ${BIN_DIR}/lab${folder})
  execute_process(COMMAND ${lab} --help OUTPUT_VARIABLE help RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${lab} --help exited with status ${status}")
  endif()
  if(help MATCHES "--svg")
    list(APPEND drawing_labs ${folder})
  endif()
endforeach()
if(NOT drawing_labs)
  message(FATAL_ERROR "no lab offers --svg")
endif()

if(MODE STREQUAL "bad_directory")
  # A missing directory and a file in place of a directory: exit status 2, a message that
  # names the path, and no file written anywhere.
  file(WRITE ${OUT}/not-a-directory "")
  foreach(folder ${drawing_labs})
    foreach(bad ${OUT}/no-such-dir ${OUT}/not-a-directory)
      execute_process(COMMAND ${BIN_DIR}/lab${folder} --svg ${bad} OUTPUT_VARIABLE out ERROR_VARIABLE err
                      RESULT_VARIABLE status)
      if(NOT status EQUAL 2)
        message(FATAL_ERROR "lab${folder} --svg ${bad}: exit status ${status}, expected 2")
      endif()
      string(FIND "${err}" "${bad}" named)
      if(named EQUAL -1)
        message(FATAL_ERROR "lab${folder} --svg ${bad}: the error does not name the path: ${err}")
      endif()
    endforeach()
  endforeach()
  file(GLOB_RECURSE written ${OUT}/*)
  if(NOT written STREQUAL "${OUT}/not-a-directory")
    message(FATAL_ERROR "a refused --svg left files behind: ${written}")
  endif()
  return()
endif()

foreach(folder ${drawing_labs})
  set(lab ${BIN_DIR}/lab${folder})
  execute_process(COMMAND ${lab} --svg ${OUT} OUTPUT_FILE ${OUT}/lab${folder}.txt ERROR_VARIABLE err
                  RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${lab} --svg ${OUT} exited with status ${status}: ${err}")
  endif()
  execute_process(COMMAND ${LABDIFF} ${LABS_DIR}/${folder}/expected.txt ${OUT}/lab${folder}.txt
                  RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "lab${folder}: --svg changed what the lab prints (see the labdiff report above)")
  endif()
endforeach()

file(GLOB expected RELATIVE ${DIAGRAMS} ${DIAGRAMS}/*.svg)
file(GLOB actual RELATIVE ${OUT} ${OUT}/*.svg)
list(SORT expected)
list(SORT actual)
if(NOT expected STREQUAL actual)
  message(FATAL_ERROR "the labs draw [${actual}] but diagrams/ holds [${expected}]; run "
                      "scripts/regen-diagrams.sh and commit the result")
endif()
set(failed "")
foreach(name ${expected})
  execute_process(COMMAND ${LABDIFF} --abs 0.015 --rel 0 --max-shown 5 ${DIAGRAMS}/${name} ${OUT}/${name}
                  RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    list(APPEND failed ${name})
  endif()
endforeach()
if(failed)
  if(HANDOUT)  # the student's repository: the drawings follow the numbers of the student's pieces
    message(FATAL_ERROR "the labs draw ${failed} otherwise than diagrams/ (labdiff's report above): "
                        "the numbers they are drawn from are not yet the reference's")
  endif()
  message(FATAL_ERROR "regenerating changes ${failed} (labdiff's report above). If the change is "
                      "intended, run scripts/regen-diagrams.sh, look at the pictures and commit them")
endif()
message(STATUS "regenerated ${expected}: each matches diagrams/")
