// The kernels' launchers for the GPU (namespace on_gpu): launches.inl compiled by nvcc.
#include "launches.inl"
