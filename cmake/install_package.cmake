# The installed CMake package. Every library part adds its targets to the export set
# `zipservTargets` and installs its public headers (install() in its own CMakeLists.txt); this
# file writes the package files that make them findable:
#   <prefix>/lib/cmake/zipserv/zipservTargets.cmake         the imported targets zipserv::*
#   <prefix>/lib/cmake/zipserv/zipservConfig.cmake          finds their dependencies, then includes it
#   <prefix>/lib/cmake/zipserv/zipservConfigVersion.cmake   which versions a request accepts
include(CMakePackageConfigHelpers)

set(ZIPSERV_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/zipserv)
install(EXPORT zipservTargets
        NAMESPACE zipserv::
        DESTINATION ${ZIPSERV_INSTALL_CMAKEDIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/zipservConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/zipservConfig.cmake
                              INSTALL_DESTINATION ${ZIPSERV_INSTALL_CMAKEDIR})
# 0.x: a minor version may change the API, so only the same major.minor is compatible.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/zipservConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION}
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/zipservConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/zipservConfigVersion.cmake
        DESTINATION ${ZIPSERV_INSTALL_CMAKEDIR})
