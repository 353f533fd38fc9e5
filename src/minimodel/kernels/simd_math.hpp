#pragma once
// The softmax's elementwise maths on whole rows, vectorised with xsimd (the SIMD library
// xtensor brings) for the widest instruction set the running CPU has. Each kernel is compiled
// once per instruction set (simd_math_<isa>.cpp, each with its own target flags) and the set is
// chosen at run time, once per process: the CPU's best, or the one the environment variable
// MINIMODEL_SIMD names (sse2, avx2, avx512 or scalar), which the ctest variants use to run the labs on
// the baseline path. Default builds need no -march flag.
//
// Here: the dispatch and the softmax's kernels (attention.cpp is not a student piece, so every
// build has them, a handout too). The vectorised copies of the student pieces GELU and LayerNorm
// are in pieces_simd.hpp, which a handout leaves out. tests/test_simd_math.cpp compares every
// kernel with its definition on every instruction set this CPU can run, over a dense sweep.
#include <cstddef>

namespace minimodel::kernels {

enum class Isa { sse2, avx2_fma, avx512f };

// The instruction set the kernels below run on in this process.
Isa active_isa();

// Whether the forward runs the GELU and LayerNorm kernels below in place of the student pieces'
// own scalar code (gelu_exact, the piece of LayerNorm::forward). True unless MINIMODEL_SIMD is
// "scalar" (the softmax's exponentials then run on sse2); a build that defines
// MINIMODEL_SCALAR_PIECES (a student's) never runs them. Tests switch it to compare the two.
bool kernels_enabled();
void set_kernels_enabled(bool enabled);
// Whether this CPU can run `isa` (sse2 always can on x86-64).
bool isa_available(Isa isa);
// "sse2", "avx2+fma", "avx512f".
const char* isa_name(Isa isa);

// values[i] = e^(values[i] − shift), in place; an entry of −∞ gives exactly 0 and a NaN stays
// NaN. Returns their sum (in float, summed per vector lane, then across). The softmax's
// exponentials (shift = the row maximum) and their sum.
float exp_shifted_inplace(float* values, std::size_t n, float shift);
float exp_shifted_inplace(Isa isa, float* values, std::size_t n, float shift);

// The largest of values[0..n), n >= 1 (exact, whatever the order).
float max_of(const float* values, std::size_t n);

}  // namespace minimodel::kernels
