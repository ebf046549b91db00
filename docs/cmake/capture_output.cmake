# Runs one walkthrough program and stores what it printed, for the docs to show verbatim.
#   cmake -DPROGRAM=<exe> -DOUTPUT=<file> -P capture_output.cmake
# Exit code 0 = the step's checks held; 77 = the step skipped (no GPU), shown as such. Anything
# else fails the docs build: the site must never show the output of a step that is broken.
execute_process(COMMAND ${PROGRAM} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
get_filename_component(name ${PROGRAM} NAME)
if(rc EQUAL 77)
  set(out "${out}${err}[${name} exited with 77: skipped]\n")
elseif(NOT rc EQUAL 0)
  message(FATAL_ERROR "${name} failed (exit ${rc}); its output:\n${out}${err}")
else()
  set(out "${out}${err}")
endif()
file(WRITE ${OUTPUT} "$ build/walkthrough/${name}\n${out}")
