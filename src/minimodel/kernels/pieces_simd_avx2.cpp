// The kernels of pieces_simd.hpp for xsimd::fma3<xsimd::avx2>. Compiled with that instruction set's flags
// (src/minimodel/CMakeLists.txt), outside any unity build and precompiled header, so the flags
// stay in this file; called only after the CPU is known to have it (simd_math.cpp's dispatch).
#include "minimodel/kernels/pieces_simd_impl.hpp"

MINIMODEL_PIECES_SIMD_DEFINE(avx2, xsimd::fma3<xsimd::avx2>)
