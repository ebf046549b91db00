/*! \file host_device.h
 *  \brief One macro that lets the format's small functions compile for the host and the GPU.
 *
 *  The reference, the CPU emulation and the CUDA kernels include the same headers for the lane
 *  map and the element decode rule. Under nvcc those functions must be `__host__ __device__`;
 *  under a plain C++ compiler the attributes do not exist.
 */
#pragma once

#if defined(__CUDACC__)
#define ZIPSERV_HD __host__ __device__
#else
#define ZIPSERV_HD
#endif
