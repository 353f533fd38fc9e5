// The vectorised kernels (src/minimodel/kernels/simd_math.hpp, pieces_simd.hpp) against the
// definitions they replace in the forward, on every instruction set this CPU can run: GELU
// against gelu_exact (the student piece, gelu.cpp), LayerNorm and its row statistics against
// the piece LayerNorm::forward, the softmax's exponential against double std::exp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "minimodel/gelu.hpp"
#include "minimodel/layer_norm.hpp"
#include "minimodel/random.hpp"
#include "minimodel/registry.hpp"
#include "minimodel/kernels/pieces_simd.hpp"
#include "minimodel/kernels/simd_math.hpp"

using namespace minimodel;
using kernels::Isa;

namespace {

std::vector<Isa> runnable_isas() {
  std::vector<Isa> isas;
  for (const Isa isa : {Isa::sse2, Isa::avx2_fma, Isa::avx512f}) {
    if (kernels::isa_available(isa)) isas.push_back(isa);
  }
  return isas;
}

// x = −12, −11.999, ..., 12: 24,001 values, an odd count, so every vector width leaves a tail.
std::vector<float> sweep() {
  std::vector<float> x;
  for (int i = -12000; i <= 12000; ++i) x.push_back(static_cast<float>(i) * 1e-3f);
  return x;
}

}  // namespace

// Bound: 3 ulp of the result, times 1 + x² in the negative tail. There erfc(−x/√2) has condition
// number about x² (half an ulp of rounding in the argument −x/√2 moves erfc by x²/2 ulp), so
// neither float formula is nearer the truth than that: both gelu_exact and the kernel are ~100
// ulp from double precision at x = −12 (values of 1e-32), and within 3 ulp of each other near 0.
TEST_CASE("the GELU kernel computes gelu_exact to 3 ulp (x^2 ulp in the tail) on every instruction set", "[simd][gelu]") {
  const std::vector<float> x = sweep();
  for (const Isa isa : runnable_isas()) {
    INFO("instruction set " << kernels::isa_name(isa));
    std::vector<float> y = x;
    kernels::gelu_exact_inplace(isa, y.data(), y.size());
    double worst = 0;
    int differing = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const float g = gelu_exact(x[i]);
      // Units of the result's last place, 2⁻²³·|g|, floored at the smallest normal float's.
      const double ulp = std::max(double(std::abs(g)), double(std::numeric_limits<float>::min())) * 0x1p-23;
      const double err = std::abs(double(y[i]) - double(g)) / ulp;
      worst = std::max(worst, err);
      differing += y[i] != g;
      INFO("x = " << x[i] << ": kernel " << y[i] << ", gelu_exact " << g);
      REQUIRE(err <= 3.0 * (1.0 + double(x[i]) * double(x[i])));
    }
    INFO("worst error " << worst << " ulp; " << differing << " of " << x.size() << " values differ");
    CHECK(differing > 0);  // a different algorithm: not trivially the same code
  }
}

TEST_CASE("the GELU kernel gives a value the same result wherever it sits in the buffer", "[simd][gelu]") {
  // The tail (n mod the vector width) goes through the vector code too: shifting the buffer by
  // one value changes nothing.
  const std::vector<float> x = sweep();
  for (const Isa isa : runnable_isas()) {
    std::vector<float> a = x, b(x.begin() + 1, x.end());
    kernels::gelu_exact_inplace(isa, a.data(), a.size());
    kernels::gelu_exact_inplace(isa, b.data(), b.size());
    for (std::size_t i = 0; i + 1 < a.size(); ++i) REQUIRE(a[i + 1] == b[i]);
  }
}

TEST_CASE("the GELU kernel at the extremes: x far right, 0 far left, NaN stays NaN", "[simd][gelu]") {
  for (const Isa isa : runnable_isas()) {
    std::vector<float> v = {1e4f, -1e4f, std::nanf(""), 0.0f, 1.0f, -1.0f};
    kernels::gelu_exact_inplace(isa, v.data(), v.size());
    CHECK(v[0] == 1e4f);
    CHECK(std::abs(v[1]) < 1e-30f);
    CHECK(std::isnan(v[2]));
    CHECK(v[3] == 0.0f);
    // GELU(±1) = 0.8413447, −0.1586553 (test_layers.cpp derives them)
    CHECK(v[4] == Approx(0.8413447460685429).margin(1e-6));
    CHECK(v[5] == Approx(-0.15865525393145707).margin(1e-6));
  }
}

TEST_CASE("the exp kernel is within 2 ulp of e^x and gives exactly 0 for the mask's -inf", "[simd][attention]") {
  std::vector<float> x;
  for (int i = -8700; i <= 8800; ++i) x.push_back(static_cast<float>(i) * 1e-2f);
  for (const Isa isa : runnable_isas()) {
    INFO("instruction set " << kernels::isa_name(isa));
    std::vector<float> y = x;
    kernels::exp_shifted_inplace(isa, y.data(), y.size(), 0.0f);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double truth = std::exp(double(x[i]));
      INFO("x = " << x[i]);
      REQUIRE(std::abs(double(y[i]) - truth) <= 2.0 * 0x1p-23 * truth);
    }
    // Shifted by the maximum, as the softmax does, the returned sum is the outputs' (17,501
    // terms: a float sum's rounding, well below 1e-4).
    std::vector<float> z = x;
    const float sum = kernels::exp_shifted_inplace(isa, z.data(), z.size(), 88.0f);
    double outputs = 0;
    for (const float e : z) outputs += double(e);
    CHECK(double(sum) == Approx(outputs).epsilon(1e-4));
    // The shift is subtracted first: e^(3 − 1) = e².
    std::vector<float> v = {3.0f, 1.0f, -std::numeric_limits<float>::infinity(), std::nanf("")};
    CHECK(std::isnan(kernels::exp_shifted_inplace(isa, v.data(), v.size(), 1.0f)));
    CHECK(v[0] == Approx(7.38905609893065).epsilon(1e-6));
    CHECK(v[1] == 1.0f);
    CHECK(v[2] == 0.0f);  // the causal mask: a future key's weight is exactly 0
    CHECK(std::isnan(v[3]));
  }
}

TEST_CASE("the kernels run on the instruction set MINIMODEL_SIMD names, or the CPU's best", "[simd]") {
  kernels::set_kernels_enabled(std::getenv("MINIMODEL_SIMD") == nullptr ||
                               std::string(std::getenv("MINIMODEL_SIMD")) != "scalar");  // as the process began
  const char* forced = std::getenv("MINIMODEL_SIMD");
  if (forced == nullptr || *forced == '\0') {
    const Isa best = kernels::isa_available(Isa::avx512f) ? Isa::avx512f
                     : kernels::isa_available(Isa::avx2_fma) ? Isa::avx2_fma : Isa::sse2;
    CHECK(kernels::active_isa() == best);
  } else if (std::string(forced) == "scalar") {
    CHECK(kernels::active_isa() == Isa::sse2);
    CHECK_FALSE(kernels::kernels_enabled());
  } else {
    CHECK(std::string(kernels::isa_name(kernels::active_isa())).rfind(std::string(forced).substr(0, 4), 0) == 0);
  }
}

TEST_CASE("the LayerNorm kernel computes the piece's LayerNorm, RMSNorm and row statistics to a few ulp", "[simd][layernorm]") {
  // The piece (layer_norm.cpp) sums in order, the kernel over the vector lanes: the mean and
  // the variance differ in their last bits, by the rounding of a float sum of d terms, which
  // grows like √d ulp (measured: 8.5 ulp at d = 768 for these rows of mean 3, σ about 1), so
  // the outputs (O(1)) agree to 2·(1 + √d) ulp of max(|y|, 1): 6 at d = 5, 57 at d = 768. The
  // statistics (mean about 3, 1/σ about 1) are held to the same bound at their own scale.
  // d = 5 and 77 leave tails on every width; 768 is GPT-2's.
  const auto within = [](float kernel, float piece, std::size_t d) {
    const double bound = 2 * (1 + std::sqrt(double(d))) * 0x1p-23 * std::max(1.0, double(std::abs(piece)));
    return std::abs(double(kernel) - double(piece)) <= bound;
  };
  for (const NormKind kind : {NormKind::layer_norm, NormKind::rms_norm}) {
    for (const std::size_t d : {5u, 64u, 77u, 768u}) {
      ParameterRegistry registry;
      const LayerNorm norm(registry, "ln", d, 1e-5, kind);
      registry.initialize(7);
      // gamma and beta away from 1 and 0, and rows with an offset, so every term matters.
      Parameter& gamma = registry.at("ln.gamma");
      for (std::size_t j = 0; j < d; ++j) gamma.data()[j] = 0.5f + 0.01f * static_cast<float>(j % 17);
      const float* beta = nullptr;
      if (kind == NormKind::layer_norm) {
        Parameter& b = registry.at("ln.beta");
        for (std::size_t j = 0; j < d; ++j) b.data()[j] = 0.1f * static_cast<float>(j % 5) - 0.2f;
        beta = b.data();
      }
      const bool rms = kind == NormKind::rms_norm;
      const std::size_t T = 9;
      Matrix x({T, d});
      for (std::size_t i = 0; i < x.size(); ++i) {
        x.data()[i] = 3.0f + std::sin(0.37f * static_cast<float>(i)) * static_cast<float>(1 + i % 3);
      }
      Matrix scalar, vectorised;
      NormStatistics piece_stats, kernel_stats;
      kernels::set_kernels_enabled(false);
      norm.forward(x, scalar, piece_stats);
      REQUIRE(piece_stats.mean.size() == T);
      REQUIRE(piece_stats.rstd.size() == T);
      for (const Isa isa : runnable_isas()) {
        INFO("d = " << d << (rms ? ", RMSNorm" : ", LayerNorm") << ", instruction set " << kernels::isa_name(isa));
        vectorised = Matrix({T, d});
        std::vector<float> mean(T, -1.0f), rstd(T, -1.0f);
        kernels::layer_norm(isa, x.data(), vectorised.data(), T, d, gamma.data(), beta, 1e-5f, rms, mean.data(),
                            rstd.data());
        for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(within(vectorised.data()[i], scalar.data()[i], d));
        for (std::size_t t = 0; t < T; ++t) {
          INFO("row " << t << ": kernel mean " << mean[t] << ", rstd " << rstd[t] << "; piece mean "
                      << piece_stats.mean[t] << ", rstd " << piece_stats.rstd[t]);
          if (rms) {
            REQUIRE(mean[t] == 0.0f);  // RMSNorm subtracts no mean
          } else {
            REQUIRE(within(mean[t], piece_stats.mean[t], d));
          }
          REQUIRE(within(rstd[t], piece_stats.rstd[t], d));
        }
      }
      // And the forward, with the kernels on, runs the kernel (same numbers as called directly)
      // and keeps the kernel's statistics, which the backward reads.
      kernels::set_kernels_enabled(true);
      norm.forward(x, vectorised, kernel_stats);
      Matrix direct({T, d});
      std::vector<float> mean(T), rstd(T);
      kernels::layer_norm(x.data(), direct.data(), T, d, gamma.data(), beta, 1e-5f, rms, mean.data(), rstd.data());
      CHECK(std::equal(direct.begin(), direct.end(), vectorised.begin()));
      CHECK(kernel_stats.mean == mean);
      CHECK(kernel_stats.rstd == rstd);
    }
  }
}

TEST_CASE("the softmax's maximum and sum: exact maximum, and the tail adds nothing", "[simd][attention]") {
  // 1, 2, ..., 37 in a scrambled order: the maximum is 37 wherever it sits; e^(x − 37) summed
  // over a length that leaves a tail on every width equals the sum of the outputs.
  std::vector<float> v;
  for (int i = 0; i < 37; ++i) v.push_back(static_cast<float>((i * 11) % 37 + 1));
  CHECK(kernels::max_of(v.data(), v.size()) == 37.0f);
  CHECK(kernels::max_of(v.data(), 1) == v[0]);
  for (const Isa isa : runnable_isas()) {
    std::vector<float> e = v;
    const float sum = kernels::exp_shifted_inplace(isa, e.data(), e.size(), 37.0f);
    double outputs = 0;
    for (const float x : e) outputs += double(x);
    // Σ_{k=0}^{36} e^(−k) = (1 − e^(−37)) / (1 − e^(−1)) = 1.5819767
    CHECK(double(sum) == Approx(outputs).epsilon(1e-6));
    CHECK(double(sum) == Approx(1.5819767068693265).epsilon(1e-6));
  }
}
