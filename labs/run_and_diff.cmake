# Runs a lab with its default arguments and compares its output, with labdiff, with the
# reference output (-DEXPECTED=...). -DHANDOUT=ON: the student's repository, where a difference
# is the student's to find, not a reference output to regenerate.
get_filename_component(out_dir ${OUT} DIRECTORY)
file(MAKE_DIRECTORY ${out_dir})
execute_process(COMMAND ${LAB} OUTPUT_FILE ${OUT} RESULT_VARIABLE lab_status)
if(NOT lab_status EQUAL 0)
  if(HANDOUT AND lab_status EQUAL 1)
    message(FATAL_ERROR "${LAB} exited with status 1: a check fails; its [FAIL] lines and what it "
                        "still needs are in ${OUT}")
  endif()
  message(FATAL_ERROR "${LAB} exited with status ${lab_status}; its output is in ${OUT}")
endif()
execute_process(COMMAND ${LABDIFF} ${EXPECTED} ${OUT} RESULT_VARIABLE diff_status)
if(NOT diff_status EQUAL 0)
  if(HANDOUT)
    message(FATAL_ERROR "the output of ${LAB} differs from its reference ${EXPECTED} (labdiff's "
                        "lines above): the numbers of a piece it runs are not yet the reference's")
  endif()
  message(FATAL_ERROR "the output of ${LAB} differs (labdiff exit ${diff_status}); to accept an "
                      "intended change run scripts/regen-expected.sh and read the diff")
endif()
