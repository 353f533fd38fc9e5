// gelu_inplace (gelu.hpp): GELU over a whole buffer, the FFN's activation. Not a student's
// file, so that the route below is the build's choice and not the student's code:
//  - the solution's build runs the exact form through the vectorised kernel
//    (kernels/pieces_simd.hpp), the same formula as gelu_exact (gelu.cpp), which
//    tests/test_simd_math.cpp checks against gelu_exact on every instruction set the CPU has
//    (MINIMODEL_SIMD=scalar runs gelu_exact instead);
//  - a student's build (the starter, a handout: cmake/student.cmake) and the mistakes harness
//    (scripts/mistakes.sh) define MINIMODEL_SCALAR_PIECES, and the forward calls the student's
//    gelu_exact on every value, so a mistake in the piece shows in the forward's output.
// The tanh form is not used by the model's configurations for speed; it stays scalar.
#include "minimodel/gelu.hpp"

#ifndef MINIMODEL_SCALAR_PIECES
#include "minimodel/kernels/pieces_simd.hpp"  // the solution's only: a handout has no such file
#endif

namespace minimodel {

void gelu_inplace(float* values, std::size_t n, GeluForm form) {
#ifndef MINIMODEL_SCALAR_PIECES
  if (form == GeluForm::exact && kernels::kernels_enabled()) {
    kernels::gelu_exact_inplace(values, n);
    return;
  }
#endif
  for (std::size_t i = 0; i < n; ++i) values[i] = gelu(values[i], form);
}

}  // namespace minimodel
