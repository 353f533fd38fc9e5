// Forward benchmarks with their roofline: for each (config, T, OpenBLAS threads), the forward
// and a plain sgemm of the model's largest products, measured in the same run. The summary at
// the end divides the forward's GFLOP/s by the best sgemm GFLOP/s of the same shapes.
// For the locked config it also replays the forward's own products on bare BLAS ("products"):
// the time those calls take with nothing else around them, the floor BLAS sets for a forward.
// After the benchmarks, the same model and weights run through a NumPy float32 forward
// (bench/numpy_forward.py, on as many OpenBLAS threads), timed in the same run, with the
// speed-up beside each row.
#include <benchmark/benchmark.h>
#include <cblas.h>  // OpenBLAS: cblas_sgemm and openblas_set_num_threads

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "minimodel/attention.hpp"
#include "minimodel/flops.hpp"
#include "gemm_recorder.hpp"
#include "minimodel/matmul.hpp"
#include "minimodel/kernels/simd_math.hpp"
#include "minimodel/kernels/small_gemm.hpp"
#include "minimodel/model.hpp"
#include "minimodel/io/weights_io.hpp"
#include "shapes.hpp"

namespace {

using minimodel::MiniGPT;
using minimodel::MiniGPTConfig;

enum class Which { locked, gpt2_small };

const MiniGPT& model(Which which) {
  // Built once, on first use: the GPT-2-small shape takes a few seconds to initialise.
  static std::map<Which, std::unique_ptr<MiniGPT>> models;
  auto& m = models[which];
  if (!m) m = std::make_unique<MiniGPT>(which == Which::locked ? bench::locked() : bench::gpt2_small());
  return *m;
}

const char* label(Which which) { return which == Which::locked ? "locked" : "gpt2_small"; }

void set_threads(benchmark::State& state) {
  openblas_set_num_threads(static_cast<int>(state.range(1)));
}

// T token ids spread over the vocabulary, the same for every benchmark of the same length.
std::vector<minimodel::TokenId> benchmark_tokens(const MiniGPT& m, std::size_t T) {
  std::vector<minimodel::TokenId> tokens(T);
  for (std::size_t t = 0; t < T; ++t) tokens[t] = static_cast<int>((7 * t + 3) % m.config().vocab_size());
  return tokens;
}

void forward(benchmark::State& state, Which which) {
  set_threads(state);
  const MiniGPT& m = model(which);
  const std::size_t T = static_cast<std::size_t>(state.range(0));
  const std::vector<minimodel::TokenId> tokens = benchmark_tokens(m, T);
  minimodel::ForwardWorkspace workspace;
  m.forward(tokens, workspace);  // the first call of this length sizes the buffers
  for (auto _ : state) {
    const minimodel::Matrix& logits = m.forward(tokens, workspace);
    benchmark::DoNotOptimize(logits.data());
    benchmark::ClobberMemory();
  }
  const double flops = minimodel::forward_flops(m.config(), T).total();
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(T), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// c (M, N) = a (M, K) · op(b), op(b) = bᵀ with b (N, K) when transpose, else b (K, N): the
// layouts of the model's products (x·W for the FFN, h·Eᵀ for the head).
void sgemm(benchmark::State& state, std::size_t K, std::size_t N, bool transpose) {
  set_threads(state);
  const std::size_t M = static_cast<std::size_t>(state.range(0));
  std::vector<float> a(M * K, 0.01f), b(K * N, 0.02f), c(M * N);
  // On the BLAS's own cblas_sgemm, not through this program's recording one.
  const minimodel::bench::GemmCall call{false, transpose, M, N, K, K, transpose ? K : N, N, 1.0f, 0.0f};
  for (auto _ : state) {
    minimodel::bench::replay(call, a.data(), b.data(), c.data());
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(M) * double(K) * double(N) * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

// Every product one forward makes (recorded by GemmRecorder, gemm_recorder.hpp), replayed as bare
// cblas_sgemm calls with the same shapes, strides, transposes, alpha and beta, each on buffers
// of its own. Time per replay of all of them = what the forward's products cost on their own.
void products(benchmark::State& state, Which which) {
  set_threads(state);
  const MiniGPT& m = model(which);
  const std::size_t T = static_cast<std::size_t>(state.range(0));
  const std::vector<minimodel::TokenId> tokens = benchmark_tokens(m, T);
  minimodel::ForwardWorkspace workspace;
  std::vector<minimodel::bench::GemmCall> calls;
  {
    minimodel::bench::GemmRecorder recorder;
    m.forward(tokens, workspace);
    calls = recorder.calls();
  }
  struct Operands {
    std::vector<float> a, b, c;
  };
  std::vector<Operands> operands;
  double flops = 0;
  for (const minimodel::bench::GemmCall& g : calls) {
    const std::size_t a_rows = g.transpose_a ? g.k : g.m, b_rows = g.transpose_b ? g.n : g.k;
    operands.push_back({std::vector<float>(a_rows * g.lda, 0.01f), std::vector<float>(b_rows * g.ldb, 0.02f),
                        std::vector<float>(g.m * g.ldc, 0.0f)});
    flops += 2.0 * double(g.m) * double(g.n) * double(g.k);
  }
  for (auto _ : state) {
    for (std::size_t i = 0; i < calls.size(); ++i) {
      const minimodel::bench::GemmCall& g = calls[i];
      Operands& o = operands[i];
      minimodel::bench::replay(g, o.a.data(), o.b.data(), o.c.data());
    }
    benchmark::ClobberMemory();
  }
  state.counters["calls"] = static_cast<double>(calls.size());
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// Keeps the median GFLOP/s of every benchmark, for the summary.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type == Run::RT_Aggregate) {
        auto it = run.counters.find("GFLOP/s");
        if (it == run.counters.end()) continue;
        stats_[run.run_name.str()][run.aggregate_name] = {double(it->second), run.GetAdjustedRealTime(),
                                                          run.time_unit};
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }

  struct Stat {
    double gflops, time;
    benchmark::TimeUnit unit;
  };
  std::map<std::string, std::map<std::string, Stat>> stats_;
};

void register_all() {
  using benchmark::RegisterBenchmark;
  const std::vector<std::int64_t> threads = {1, 2};
  for (const auto& [which, lengths, unit, reps] :
       {std::tuple{Which::locked, std::vector<std::int64_t>{8, 32}, benchmark::kMicrosecond, 10},
        std::tuple{Which::gpt2_small, std::vector<std::int64_t>{128, 1024}, benchmark::kMillisecond, 3}}) {
    const MiniGPTConfig config = which == Which::locked ? bench::locked() : bench::gpt2_small();
    const std::size_t d = config.d_model(), f = config.d_ff(), V = config.vocab_size();
    const Which w = which;
    RegisterBenchmark((std::string("forward/") + label(which)).c_str(), [w](benchmark::State& s) { forward(s, w); })
        ->ArgsProduct({lengths, threads})->ArgNames({"T", "threads"})->UseRealTime()->Unit(unit)
        ->Repetitions(reps)->ReportAggregatesOnly(true);
    RegisterBenchmark((std::string("sgemm_ffn/") + label(which)).c_str(),
                      [d, f](benchmark::State& s) { sgemm(s, d, f, false); })
        ->ArgsProduct({lengths, threads})->ArgNames({"T", "threads"})->UseRealTime()->Unit(unit)
        ->Repetitions(reps)->ReportAggregatesOnly(true);
    RegisterBenchmark((std::string("sgemm_head/") + label(which)).c_str(),
                      [d, V](benchmark::State& s) { sgemm(s, d, V, true); })
        ->ArgsProduct({lengths, threads})->ArgNames({"T", "threads"})->UseRealTime()->Unit(unit)
        ->Repetitions(reps)->ReportAggregatesOnly(true);
    if (which == Which::locked) {  // the GPT-2 shape would need a second copy of its weights
      RegisterBenchmark((std::string("products/") + label(which)).c_str(),
                        [w](benchmark::State& s) { products(s, w); })
          ->ArgsProduct({lengths, threads})->ArgNames({"T", "threads"})->UseRealTime()->Unit(unit)
          ->Repetitions(reps)->ReportAggregatesOnly(true);
    }
  }
}

const char* unit_name(benchmark::TimeUnit u) {
  switch (u) {
    case benchmark::kNanosecond: return "ns";
    case benchmark::kMicrosecond: return "us";
    case benchmark::kMillisecond: return "ms";
    case benchmark::kSecond: return "s";
  }
  return "?";
}

// The forward benchmarks of one config, ordered by (T, threads) rather than as text ("T:32"
// sorts before "T:8"), each with the "/T:8/threads:1/..." part of its name.
struct ForwardRun {
  unsigned T = 0, threads = 0;
  std::string name, suffix;
};
std::vector<ForwardRun> forward_runs(const SummaryReporter& r, const std::string& which) {
  std::vector<ForwardRun> runs;
  const std::string prefix = "forward/" + which + "/";
  for (const auto& [name, aggregates] : r.stats_) {
    if (name.rfind(prefix, 0) != 0 || !aggregates.count("median")) continue;
    ForwardRun run{0, 0, name, name.substr(prefix.size() - 1)};
    std::sscanf(run.suffix.c_str(), "/T:%u/threads:%u", &run.T, &run.threads);
    runs.push_back(run);
  }
  std::sort(runs.begin(), runs.end(),
            [](const ForwardRun& a, const ForwardRun& b) { return std::tie(a.T, a.threads) < std::tie(b.T, b.threads); });
  return runs;
}

// The NumPy forward of one (config, T, threads), run by bench/numpy_forward.py in a child
// process with OPENBLAS_NUM_THREADS = threads, on the weights and tokens of the C++ forward.
struct NumpyRun {
  bool ok = false;
  double median_s = 0, stddev_s = 0, max_abs_diff = 0;
};

class NumpyComparison {
 public:
  NumpyComparison() : dir_(std::filesystem::temp_directory_path() / fmt::format("minimodel-bench-{}", getpid())) {
    std::filesystem::create_directories(dir_);
  }
  ~NumpyComparison() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  NumpyRun run(Which which, unsigned T, unsigned threads) {
    const MiniGPT& m = model(which);
    const std::filesystem::path weights = dir_ / (std::string(label(which)) + ".safetensors");
    if (!std::filesystem::exists(weights)) minimodel::save_safetensors(m, weights);
    const std::filesystem::path logits = dir_ / fmt::format("{}-{}.f32", label(which), T);
    if (!std::filesystem::exists(logits)) {
      const minimodel::Matrix out = m.forward(benchmark_tokens(m, T));
      std::ofstream(logits, std::ios::binary)
          .write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size() * sizeof(float)));
    }
    // As many repetitions as the C++ side's (10 and 3), each the mean of several forwards for
    // the small ones (the C++ side's are of thousands).
    const unsigned repetitions = which == Which::locked ? 10 : 3;
    const unsigned iterations = which == Which::locked ? 100 : (T >= 1024 ? 1 : 3);
    const char* python = std::getenv("MINIMODEL_PYTHON");
    const std::string command =
        fmt::format("OPENBLAS_NUM_THREADS={} OMP_NUM_THREADS={} '{}' '{}' '{}' {} {} {} '{}'", threads, threads,
                    python != nullptr ? python : "python3", MINIMODEL_BENCH_DIR "/numpy_forward.py",
                    weights.string(), T, repetitions, iterations, logits.string());
    NumpyRun result;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return result;
    char line[512] = {};
    const bool read = std::fgets(line, sizeof line, pipe) != nullptr;
    const int status = pclose(pipe);
    if (!read || status != 0) return result;
    result.ok = std::sscanf(line, "{\"median_s\": %lf, \"stddev_s\": %lf, \"repetitions\": %*d, \"max_abs_diff\": %lf}",
                            &result.median_s, &result.stddev_s, &result.max_abs_diff) == 3;
    return result;
  }

 private:
  std::filesystem::path dir_;
};

void print_summary(const SummaryReporter& r) {
  std::printf("\nSummary (medians; spread = stddev / median over the repetitions)\n");
  // OpenBLAS picks its kernels for the CPU at load time; the roofline depends on that choice.
  std::printf("%s; kernels for core %s\n", openblas_get_config(), openblas_get_corename());
  std::printf("GELU, LayerNorm, softmax: xsimd kernels for %s; attention's per-head products: libxsmm "
              "kernels for %s below %zu multiply-adds a block (the locked config), OpenBLAS from there (the "
              "GPT-2 shape from T = 64); the other products: OpenBLAS (%s)\n",
              minimodel::kernels::isa_name(minimodel::kernels::active_isa()), minimodel::kernels::small_gemm_target(),
              minimodel::CausalSelfAttention::kBlasWork, openblas_get_corename());
  std::printf("NumPy: the same model, weights and tokens in NumPy float32 (bench/numpy_forward.py), same "
              "OpenBLAS thread count; max |diff| = largest difference of its logits from ours\n");
  std::printf("%-12s %6s %8s %14s %8s %12s %10s %16s %8s %14s %8s %9s %10s\n", "config", "T", "threads",
              "time/forward", "spread", "tokens/s", "GFLOP/s", "sgemm GFLOP/s", "ratio", "NumPy", "spread",
              "speed-up", "max |diff|");
  NumpyComparison numpy;
  for (const char* which : {"locked", "gpt2_small"}) {
    for (const ForwardRun& run : forward_runs(r, which)) {
      const auto& aggregates = r.stats_.at(run.name);
      const std::string& suffix = run.suffix;
      const auto median = aggregates.find("median"), stddev = aggregates.find("stddev");
      double roofline = 0;
      for (const char* gemm : {"sgemm_ffn/", "sgemm_head/"}) {
        const auto it = r.stats_.find(std::string(gemm) + which + suffix);
        if (it != r.stats_.end() && it->second.count("median")) {
          roofline = std::max(roofline, it->second.at("median").gflops);
        }
      }
      const double t = median->second.time;
      const double spread = stddev != aggregates.end() ? stddev->second.time / t : 0.0;
      const unsigned T = run.T, threads = run.threads;
      const double seconds = t * (median->second.unit == benchmark::kMillisecond ? 1e-3 : 1e-6);
      // A filter that left out the sgemm benchmarks leaves no roofline to divide by.
      const std::string ratio =
          roofline > 0 ? fmt::format("{:.1f}%", 100 * median->second.gflops / roofline) : "n/a";
      const NumpyRun np = numpy.run(std::string(which) == "locked" ? Which::locked : Which::gpt2_small, T, threads);
      const double np_time = np.median_s / (seconds / t);  // in the unit of t
      std::printf("%-12s %6u %8u %11.3f %-2s %7.1f%% %12.0f %10.2f %16.2f %8s", which, T, threads, t,
                  unit_name(median->second.unit), 100 * spread, T / seconds, median->second.gflops, roofline,
                  ratio.c_str());
      if (np.ok) {
        std::printf(" %11.3f %-2s %7.1f%% %8.1fx %10.2e\n", np_time, unit_name(median->second.unit),
                    100 * np.stddev_s / np.median_s, np.median_s / seconds, np.max_abs_diff);
      } else {
        std::printf(" %14s\n", "NumPy failed");
      }
    }
  }

  // The forward beside its own BLAS products on bare BLAS: what BLAS alone costs, and the rest
  // (attention's libxsmm products, LayerNorm, RoPE, softmax, GELU, bias adds, the embedding
  // lookup, the calls between).
  bool header = false;
  for (const ForwardRun& run : forward_runs(r, "locked")) {
    const auto& aggregates = r.stats_.at(run.name);
    const auto it = r.stats_.find("products/locked" + run.suffix);
    if (it == r.stats_.end() || !it->second.count("median")) continue;
    if (!header) {
      std::printf("\n%-12s %6s %8s %14s %18s %10s %14s\n", "config", "T", "threads", "time/forward",
                  "its BLAS products", "share", "the rest");
      header = true;
    }
    const unsigned T = run.T, threads = run.threads;
    const double forward_time = aggregates.at("median").time, products_time = it->second.at("median").time;
    const char* unit = unit_name(aggregates.at("median").unit);
    std::printf("%-12s %6u %8u %11.3f %-2s %15.3f %-2s %9.1f%% %11.3f %-2s\n", "locked", T, threads, forward_time,
                unit, products_time, unit, 100 * products_time / forward_time, forward_time - products_time, unit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_all();
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  print_summary(reporter);
  benchmark::Shutdown();
  return 0;
}
