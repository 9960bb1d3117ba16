// What a run's numbers depend on: the gps version and commit, the versions
// of LibTorch (and its CUDA), FAISS and OpenCV, the CPU model and the flags
// that matter for speed, cores and threads, the BLAS libraries, the CUDA
// devices and driver, and the process groups available. `gps --version`,
// `gps info` and every run directory's env.json print it.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace gps {

// "gps 0.1.0 (commit 1a2b3c4d5e6f) · LibTorch 2.11.0 (CUDA 13.0) · FAISS 1.7.3 · OpenCV 4.6.0"
std::string version_text();

// Everything above as JSON:
//   {"gps": {version, commit, dirty}, "libraries": {libtorch, torch_cuda, cudnn, faiss, opencv, torch_blas,
//    faiss_blas}, "cpu": {model, flags: {avx2, avx512f, avx512_bf16, amx_bf16, amx_tile}, cores, torch_threads,
//    torch_capability}, "cuda": {available, driver, devices: [{index, name, memory_mib, compute_capability}]},
//    "distributed": {gloo, nccl}}
nlohmann::json environment_info();

// environment_info() as aligned plain text, one fact a line.
std::string format_environment(const nlohmann::json& env);

// One line for next to a figure: "Intel(R) Xeon(R) Processor (AVX2 AVX-512 AVX512-BF16 AMX), 2 cores,
// 2 threads; GPU: none" (or the GPU's name and memory).
std::string hardware_line(const nlohmann::json& env);

}  // namespace gps
