// Numerical guards: a non-finite value is caught where it appears, and extreme but finite
// inputs stay finite.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "minimodel/errors.hpp"
#include "minimodel/finite_guard.hpp"
#include "minimodel/model.hpp"
#include "helpers.hpp"

using namespace minimodel;
using Catch::Matchers::Contains;

namespace {

using test_support::canonical;
}  // namespace

TEST_CASE("the guard passes a healthy forward, mask included, and passes events on", "[guard]") {
  const MiniGPT model;
  TraceRecorder recorder;
  FiniteGuard guard(&recorder);
  const Matrix logits = model.forward(canonical(), {.tracer = &guard});
  CHECK(recorder.entries().size() == 37);  // every event reached the next tracer
  CHECK(logits == model.forward(canonical()));  // guarding changes no value
}

TEST_CASE("the guard names the first operation that produces a non-finite value", "[guard]") {
  MiniGPT model;
  FiniteGuard guard;
  SECTION("a NaN in the embedding row of 'he' (id 6) shows up at embed, position 7") {
    model.parameters().at("E").value(6, 3) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_AS(model.forward(canonical(), {.tracer = &guard}), NumericalError);
    CHECK_THROWS_WITH(model.forward(canonical(), {.tracer = &guard}),
                      Contains("embed produced nan at [7, 3]"));
  }
  SECTION("an infinite FFN weight shows up at block_1.ffn.pre") {
    model.parameters().at("block_1.ffn.W_1").value(0, 5) = std::numeric_limits<float>::infinity();
    CHECK_THROWS_WITH(model.forward(canonical(), {.tracer = &guard}), Contains("block_1.ffn.pre produced"));
  }
  SECTION("a plain forward finds the same operation on its own (check_finite, the default)") {
    model.parameters().at("block_0.attn.W_v").value(2, 9) = std::numeric_limits<float>::infinity();
    CHECK_THROWS_WITH(model.forward(canonical()), Contains("block_0.attn.v produced"));
  }
  SECTION("with check_finite off, the NaN reaches the logits silently") {
    model.parameters().at("E").value(6, 3) = std::numeric_limits<float>::quiet_NaN();
    const Matrix logits = model.forward(canonical(), {.check_finite = false});
    CHECK(std::isnan(logits(7, 0)));
  }
}

TEST_CASE("extreme but finite inputs stay finite", "[guard]") {
  MiniGPT model;
  FiniteGuard guard;
  SECTION("embedding values of ±1e4") {
    auto& E = model.parameters().at("E").value;
    for (std::size_t i = 0; i < E.size(); ++i) E.flat(i) = (i % 2 == 0 ? 1e4f : -1e4f);
    CHECK_NOTHROW(model.forward(canonical(), {.tracer = &guard}));
  }
  SECTION("all-equal rows into LayerNorm (a constant embedding)") {
    auto& E = model.parameters().at("E").value;
    std::fill(E.begin(), E.end(), 3.0f);
    CHECK_NOTHROW(model.forward(canonical(), {.tracer = &guard}));
  }
}
