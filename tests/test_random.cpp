// The portable generator and the normal sampler (CONVENTIONS.md §10).
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "minimodel/random.hpp"

using namespace minimodel;

TEST_CASE("SplitMix64 gives the published sequence", "[random]") {
  // The first outputs for state 1234567, as listed with the algorithm's public test vectors
  // (and recomputed by hand from the three mixing steps in random.cpp).
  SplitMix64 g(1234567);
  CHECK(g.next() == 6457827717110365317ULL);
  CHECK(g.next() == 3203168211198807973ULL);
  CHECK(g.next() == 9817491932198370423ULL);
  CHECK(g.next() == 4593380528125082431ULL);
  CHECK(g.next() == 16408922859458223821ULL);
}

TEST_CASE("FNV-1a gives its published values", "[random]") {
  CHECK(fnv1a64("") == 0xCBF29CE484222325ULL);   // the offset basis
  CHECK(fnv1a64("a") == 0xAF63DC4C8601EC8CULL);  // FNV's own test vector
  CHECK(fnv1a64("foobar") == 0x85944171F73967E8ULL);
}

TEST_CASE("uniform() stays within 0 inclusive and 1 exclusive", "[random]") {
  SplitMix64 g(7);
  for (int i = 0; i < 100000; ++i) {
    const double u = g.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
  }
}

TEST_CASE("the normal sampler has mean 0 and variance 1", "[random]") {
  // 200,000 draws: the standard error of the mean is 1/√200000 ≈ 0.0022 and of the variance
  // √(2/200000) ≈ 0.0032, so 0.01 is more than 3 standard errors for both.
  NormalSampler normal(99);
  const int n = 200000;
  double sum = 0.0, squares = 0.0;
  for (int i = 0; i < n; ++i) {
    const double z = normal.next();
    REQUIRE(std::isfinite(z));
    sum += z;
    squares += z * z;
  }
  const double mean = sum / n;
  CHECK(std::abs(mean) < 0.01);
  CHECK(std::abs(squares / n - mean * mean - 1.0) < 0.01);
}

TEST_CASE("parameter streams depend on the seed and the name, not on order", "[random]") {
  std::vector<float> a(16), b(16), c(16), d(16);
  fill_normal(a, 1.0, 42, "block_0.attn.W_q");
  fill_normal(c, 1.0, 42, "block_0.attn.W_k");   // drawn in between: must not matter
  fill_normal(b, 1.0, 42, "block_0.attn.W_q");
  CHECK(a == b);
  CHECK(a != c);
  fill_normal(d, 1.0, 43, "block_0.attn.W_q");
  CHECK(a != d);
}
