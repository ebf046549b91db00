// The kernels' launchers for cuda-sim (namespace on_sim): launches.inl, with the kernels it
// includes, compiled by the host C++ compiler.
#include "launches.inl"
