// Code as a student writes it in a piece (ctest starter.student_warnings_not_fatal, and
// scripts/handout-check.sh, which adds it to a handout's layer_norm.cpp): natural C++ that the
// project's warnings flag. -Wconversion warns that `mean /= d` converts a std::size_t to float.
// As a student's file it must build, the warning shown; as a file of the solution (-Werror) it
// must not.
#include <cstddef>

float student_style_mean(const float* x, std::size_t d) {
  float mean = 0.0f;
  for (std::size_t j = 0; j < d; ++j) mean += x[j];
  mean /= d;
  return mean;
}
