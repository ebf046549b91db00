# Runs one walkthrough step as a test and checks how it talks, not only what it checks:
#   cmake -DPROGRAM=<exe> [-DMODEL=<file> -DTENSOR=<name>] -DMAX_COLUMNS=100 -P run_step.cmake
#   1. the step (on MODEL and TENSOR when given) exits 0 (its CHECK lines held) and no line it prints is wider than
#      MAX_COLUMNS characters (stdout and stderr), so the output reads in a terminal and on the
#      docs pages;
#   2. the step given an option it does not know exits 2 and prints its usage line.
# A failure names the step, the rule and the offending line.
get_filename_component(_name "${PROGRAM}" NAME)

set(_args "")
if(DEFINED MODEL)
  set(_args "${MODEL}" "${TENSOR}")
endif()
execute_process(COMMAND "${PROGRAM}" ${_args} OUTPUT_VARIABLE _out ERROR_VARIABLE _err RESULT_VARIABLE _rc)
message("${_out}${_err}")
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "${_name} ${_args}: exit status ${_rc}, expected 0 (see the CHECK lines above)")
endif()
# Line by line with string(FIND): the output holds '[' and ';', which CMake lists would mangle.
set(_rest "${_out}${_err}")
set(_number 0)
while(NOT _rest STREQUAL "")
  math(EXPR _number "${_number} + 1")
  string(FIND "${_rest}" "\n" _end)
  if(_end EQUAL -1)
    set(_line "${_rest}")
    set(_rest "")
  else()
    string(SUBSTRING "${_rest}" 0 ${_end} _line)
    math(EXPR _next "${_end} + 1")
    string(SUBSTRING "${_rest}" ${_next} -1 _rest)
  endif()
  string(LENGTH "${_line}" _width)
  if(_width GREATER MAX_COLUMNS)
    message(FATAL_ERROR "${_name}: output line ${_number} is ${_width} columns wide (at most ${MAX_COLUMNS}):\n${_line}")
  endif()
endwhile()

execute_process(COMMAND "${PROGRAM}" --no-such-option OUTPUT_VARIABLE _out ERROR_VARIABLE _err RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 2)
  message(FATAL_ERROR "${_name} --no-such-option: exit status ${_rc}, expected 2; it printed:\n${_out}${_err}")
endif()
if(NOT "${_err}" MATCHES "usage: ${_name} ")
  message(FATAL_ERROR "${_name} --no-such-option: no usage line on stderr; it printed:\n${_out}${_err}")
endif()
