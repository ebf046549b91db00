# Run by zipserv's test `downstream.install_build_check` (cmake -P), never by the downstream
# project: the route of a kernel developer in another repository, step by step.
#   1. cmake --install the built zipserv into a fresh prefix
#   2. configure this folder (its own project) against that prefix only, build it out of the
#      source tree, and run check_engines: the reference and the project's engine must pass
#   3. run it on the deliberately broken engine: the oracle must catch it (exit status 1)
#
# Variables: ZIPSERV_BUILD_DIR (the built zipserv), WORK_DIR (scratch, emptied first),
# SOURCE_DIR (this folder), MODEL (a safetensors file), CXX_COMPILER, BUILD_TYPE, LAUNCHER
# (a compiler launcher such as ccache, or empty).
foreach(v ZIPSERV_BUILD_DIR WORK_DIR SOURCE_DIR MODEL CXX_COMPILER BUILD_TYPE)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "install_and_check.cmake: -D${v}=... is missing")
  endif()
endforeach()

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "downstream: ${what} failed (${rc})")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
run_step("installing zipserv into ${prefix}"
         ${CMAKE_COMMAND} --install ${ZIPSERV_BUILD_DIR} --prefix ${prefix})

set(build ${WORK_DIR}/build)
set(launcher_arg "")
if(LAUNCHER)
  set(launcher_arg -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
endif()
# CMAKE_FIND_USE_PACKAGE_REGISTRY off and only the fresh prefix on the path: the package must
# come from the installation, not from anything this machine remembers.
run_step("configuring the downstream project"
         ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${build} -DCMAKE_PREFIX_PATH=${prefix}
         -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
         -DCMAKE_BUILD_TYPE=${BUILD_TYPE} ${launcher_arg})
run_step("building the downstream project" ${CMAKE_COMMAND} --build ${build})
run_step("check_engines (reference and split-k2)" ${build}/check_engines ${MODEL})

execute_process(COMMAND ${build}/check_engines --engine split-k2-broken RESULT_VARIABLE rc)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "downstream: the broken engine gave exit status ${rc}, not 1: the oracle missed it")
endif()
message(STATUS "downstream: the broken engine was caught (exit status 1), as it must be")
