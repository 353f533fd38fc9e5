// The kernels of simd_math.hpp for xsimd::sse2. Compiled with that instruction set's flags
// (src/minimodel/CMakeLists.txt) and outside the unity build, so the flags stay in this file;
// called only after the CPU is known to have it (simd_math.cpp).
#include "minimodel/kernels/simd_math_impl.hpp"

MINIMODEL_SIMD_MATH_DEFINE(sse2, xsimd::sse2)
