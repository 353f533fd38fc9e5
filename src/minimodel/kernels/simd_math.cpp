#include "minimodel/kernels/simd_math.hpp"

#include <cstdio>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string_view>

#include <xsimd/config/xsimd_cpuid.hpp>  // what the running CPU supports

namespace minimodel::kernels {

namespace detail {
// Defined in simd_math_<isa>.cpp, each compiled for its instruction set.
float exp_shifted_sse2(float* values, std::size_t n, float shift);
float max_of_sse2(const float* values, std::size_t n);
float exp_shifted_avx2(float* values, std::size_t n, float shift);
float max_of_avx2(const float* values, std::size_t n);
float exp_shifted_avx512(float* values, std::size_t n, float shift);
float max_of_avx512(const float* values, std::size_t n);
}  // namespace detail

namespace {

// The best set this CPU has, or the one MINIMODEL_SIMD names. A name this CPU cannot run, or
// no such name, stops the program: a test that asked for a path must not get another silently.
Isa choose() {
  const char* forced = std::getenv("MINIMODEL_SIMD");
  if (forced == nullptr || *forced == '\0') {
    if (isa_available(Isa::avx512f)) return Isa::avx512f;
    if (isa_available(Isa::avx2_fma)) return Isa::avx2_fma;
    return Isa::sse2;
  }
  const std::string_view name(forced);
  if (name == "scalar") return Isa::sse2;  // and kernels_enabled() is false
  for (const Isa isa : {Isa::sse2, Isa::avx2_fma, Isa::avx512f}) {
    if (name == isa_name(isa) || (isa == Isa::avx2_fma && name == "avx2") || (isa == Isa::avx512f && name == "avx512")) {
      if (isa_available(isa)) return isa;
      std::fprintf(stderr, "MINIMODEL_SIMD=%s: this CPU cannot run %s\n", forced, isa_name(isa));
      std::exit(2);
    }
  }
  std::fprintf(stderr, "MINIMODEL_SIMD=%s: unknown; use sse2, avx2, avx512 or scalar\n", forced);
  std::exit(2);
}

}  // namespace

bool isa_available(Isa isa) {
  // xsimd's run-time detection (cpuid).
  const auto cpu = xsimd::available_architectures();
  switch (isa) {
    case Isa::sse2: return true;  // part of x86-64
    case Isa::avx2_fma: return cpu.fma3_avx2 != 0;
    case Isa::avx512f: return cpu.avx512f != 0 && cpu.avx512dq != 0;  // xsimd 8.1's avx512f uses DQ too
  }
  return false;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::sse2: return "sse2";
    case Isa::avx2_fma: return "avx2+fma";
    case Isa::avx512f: return "avx512f";
  }
  return "?";
}

Isa active_isa() {
  static const Isa isa = choose();
  return isa;
}

namespace {
std::atomic<bool>& enabled_flag() {
  static std::atomic<bool> enabled = [] {
    const char* forced = std::getenv("MINIMODEL_SIMD");
    (void)active_isa();  // an unknown name stops the program here already
    return forced == nullptr || std::string_view(forced) != "scalar";
  }();
  return enabled;
}
}  // namespace

bool kernels_enabled() { return enabled_flag().load(std::memory_order_relaxed); }
void set_kernels_enabled(bool enabled) { enabled_flag().store(enabled, std::memory_order_relaxed); }

float exp_shifted_inplace(Isa isa, float* values, std::size_t n, float shift) {
  switch (isa) {
    case Isa::sse2: return detail::exp_shifted_sse2(values, n, shift);
    case Isa::avx2_fma: return detail::exp_shifted_avx2(values, n, shift);
    case Isa::avx512f: return detail::exp_shifted_avx512(values, n, shift);
  }
  return 0.0f;
}

float max_of(const float* values, std::size_t n) {
  switch (active_isa()) {
    case Isa::sse2: return detail::max_of_sse2(values, n);
    case Isa::avx2_fma: return detail::max_of_avx2(values, n);
    case Isa::avx512f: return detail::max_of_avx512(values, n);
  }
  return values[0];
}

float exp_shifted_inplace(float* values, std::size_t n, float shift) {
  return exp_shifted_inplace(active_isa(), values, n, shift);
}

}  // namespace minimodel::kernels
