# Run by zipserv's test `downstream.install_build_check` (cmake -P), never by the downstream
# project: the route of a kernel developer in another repository, step by step.
#   1. cmake --install the built zipserv into a fresh prefix
#   2. configure this folder (its own project) against that prefix only, build it out of the
#      source tree, and run check_engines: the reference and the project's engine must pass
#   3. run it on the deliberately broken engine: the oracle must catch it (exit status 1)
#   4. the installed `zipserv generate` runs a model with no tokenizer beside it on the
#      tokenizer installed in share/zipserv (found through ZIPSERV_DATA_DIR, since the prefix
#      is not the one the build was configured with)
#
# Variables: ZIPSERV_BUILD_DIR (the built zipserv), WORK_DIR (scratch, emptied first),
# SOURCE_DIR (this folder), MODEL (a safetensors file), DATADIR (share, relative to the
# prefix), CXX_COMPILER, BUILD_TYPE, LAUNCHER
# (a compiler launcher such as ccache, or empty).
foreach(v ZIPSERV_BUILD_DIR WORK_DIR SOURCE_DIR MODEL DATADIR CXX_COMPILER BUILD_TYPE)
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
# The bundled weights and their licence note are installed, and the oracle reads them from there.
set(installed_data ${prefix}/${DATADIR}/zipserv)
foreach(f stories260K.safetensors use-lite-en.safetensors tok512.bin PROVENANCE.md)
  if(NOT EXISTS ${installed_data}/${f})
    message(FATAL_ERROR "downstream: ${installed_data}/${f} was not installed")
  endif()
endforeach()
run_step("check_engines (reference and split-k2)" ${build}/check_engines ${installed_data}/stories260K.safetensors)

execute_process(COMMAND ${build}/check_engines --engine split-k2-broken RESULT_VARIABLE rc)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "downstream: the broken engine gave exit status ${rc}, not 1: the oracle missed it")
endif()
message(STATUS "downstream: the broken engine was caught (exit status 1), as it must be")

# Step 4: a model alone in its folder; its tokenizer (tok512.bin) comes from the installation.
set(alone ${WORK_DIR}/model_alone)
file(MAKE_DIRECTORY ${alone})
file(COPY ${MODEL} DESTINATION ${alone})
get_filename_component(model_name ${MODEL} NAME)
run_step("the installed zipserv generate with the installed tokenizer"
         ${CMAKE_COMMAND} -E env ZIPSERV_DATA_DIR=${installed_data}
         ${prefix}/bin/zipserv generate ${alone}/${model_name} --steps 8)
execute_process(COMMAND ${CMAKE_COMMAND} -E env ZIPSERV_DATA_DIR=${alone}
                        ${prefix}/bin/zipserv generate ${alone}/${model_name} --steps 8
                RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
if(rc EQUAL 0 OR NOT err MATCHES "no tokenizer found")
  message(FATAL_ERROR "downstream: with no tokenizer anywhere, zipserv generate gave exit status ${rc} and said: ${err}")
endif()
message(STATUS "downstream: the installed tokenizer was found, and its absence named")
