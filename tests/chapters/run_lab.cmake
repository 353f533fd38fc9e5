# Runs a lab with the given arguments and keeps its output, for the chapters that quote a run
# other than the default one (tests/CMakeLists.txt, "Chapters without a lab of their own").
#   -DLAB=<binary> -DARGS=<arg;arg;...> -DOUT=<file>
get_filename_component(out_dir ${OUT} DIRECTORY)
file(MAKE_DIRECTORY ${out_dir})
execute_process(COMMAND ${LAB} ${ARGS} OUTPUT_FILE ${OUT} RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${LAB} ${ARGS} exited with status ${status}; its output is in ${OUT}")
endif()
